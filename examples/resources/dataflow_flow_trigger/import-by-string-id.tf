# Adopt an existing run with an import block (Terraform 1.5 or later). With
# the configuration that started the run, write-only parameters included, the
# plan shows the import and an in-place update that calls nothing; the plan
# after that apply is empty.
import {
  to = dataflow_flow_trigger.imported_load
  id = "3377-20240101080000"
}

resource "dataflow_flow_trigger" "imported_load" {
  flow_id      = 3377
  trigger_time = "2024-01-01T00:00:00Z"
  parameters = {
    bizdate = "20240101"
  }
  parameters_wo         = { db_password = var.db_password }
  parameters_wo_version = 1
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Adopt an existing run with an import block (Terraform 1.5 or later). With a
# configuration that matches the run, the plan shows the import and no change.
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
}

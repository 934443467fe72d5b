# Adopt an existing run by its identity (Terraform 1.12 or later). With a
# configuration that matches the run, the plan shows the import and no change.
import {
  to = dataflow_flow_trigger.adopted_load
  identity = {
    flow_instance_id = "3377-20240102080000"
  }
}

resource "dataflow_flow_trigger" "adopted_load" {
  flow_id      = 3377
  trigger_time = "2024-01-02T00:00:00Z"
  parameters = {
    bizdate = "20240102"
  }
}

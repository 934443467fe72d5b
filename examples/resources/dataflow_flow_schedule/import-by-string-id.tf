# Adopt a flow's schedule with an import block (Terraform 1.5 or later). With
# active matching the service, the plan shows the import and no change.
import {
  to = dataflow_flow_schedule.imported
  id = "1001"
}

resource "dataflow_flow_schedule" "imported" {
  flow_id = 1001
  active  = true
}

terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

provider "dataflow" {}

# A run started by hand (or elsewhere) becomes this resource at the next
# apply. With Terraform 1.12 and later, `identity = { flow_instance_id =
# "1001-20240601080000" }` may stand for the id.
import {
  to = dataflow_flow_trigger.june_first
  id = "1001-20240601080000"
}

# The configuration that started the run (same trigger time, same
# parameters) adopts it in place; any other would start a new run, and the
# plan names the parameters that differ.
resource "dataflow_flow_trigger" "june_first" {
  flow_id      = 1001
  trigger_time = "2024-06-01T00:00:00Z"
  parameters   = { region = "eu" }
}

terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

# ENOS_* environment variables configure the provider: in CI they point at
# the emulator.
provider "dataflow" {}

variable "business_date" {
  description = "The day to load, as a trigger time at midnight UTC."
  type        = string
}

resource "dataflow_flow_trigger" "daily_load" {
  flow_id       = 1001
  trigger_time  = var.business_date
  parameters    = { region = "eu" }
  poll_interval = "1s"
}

output "run" {
  value = {
    id     = dataflow_flow_trigger.daily_load.flow_instance_id
    status = dataflow_flow_trigger.daily_load.status
  }
}

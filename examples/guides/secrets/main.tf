terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

# Ephemeral and sensitive: kept out of state, plan files and the output.
variable "enos_secret_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "dataflow" {
  secret_key = var.enos_secret_key # the other settings from ENOS_* variables
}

resource "dataflow_flow_trigger" "load" {
  flow_id      = 1001
  trigger_time = "2024-06-01T00:00:00Z"
  parameters   = { region = "eu" } # stored in state, shown in plans

  # Sent with the trigger, stored nowhere. Bump the version to send a new
  # value: a changed value alone starts no new run.
  parameters_wo         = { db_password = var.db_password }
  parameters_wo_version = 1
}

# The service echoes every parameter of a run, write-only ones included:
# the data source stores values only when asked.
data "dataflow_flow_instance" "load" {
  flow_instance_id = dataflow_flow_trigger.load.flow_instance_id
}

output "parameter_keys" {
  value = data.dataflow_flow_instance.load.parameter_keys
}

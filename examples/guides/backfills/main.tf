terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

# ENOS_* environment variables configure the provider.
provider "dataflow" {}

variable "backfill_days" {
  description = "Business dates to (re-)run, as trigger times at midnight UTC."
  type        = set(string)
  default     = ["2024-06-01T00:00:00Z", "2024-06-02T00:00:00Z", "2024-06-03T00:00:00Z"]
}

# One run per business date. trigger_time fixes the date the flow's time
# parameters see; the run's instance id is the flow id and that time, so a
# date already run is never triggered again by accident.
resource "dataflow_flow_trigger" "day" {
  for_each = var.backfill_days

  flow_id      = 1001
  trigger_time = each.value
  parameters   = { region = "eu" }

  # Re-run one date on purpose: change its entry here (or apply with
  # -replace='dataflow_flow_trigger.day["2024-06-02T00:00:00Z"]').
  triggers = { attempt = "1" }

  poll_interval = "30s"
  timeouts = {
    create = "2h"
  }
}

output "runs" {
  value = { for day, run in dataflow_flow_trigger.day : day => "${run.flow_instance_id} ${run.status}" }
}

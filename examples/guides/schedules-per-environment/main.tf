terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

provider "dataflow" {}

variable "schedule_active" {
  description = "Whether the flow runs on its own schedule in this environment (workspace)."
  type        = bool
  default     = true
}

variable "backfill_days" {
  type    = set(string)
  default = []
}

# Paused while a backfill of the same flow runs, so that its schedule does
# not take the slots the backfill needs; started again once none is left.
resource "dataflow_flow_schedule" "daily_sales" {
  flow_id = 1001
  active  = var.schedule_active && length(var.backfill_days) == 0

  # restore (the default) puts the schedule back as Terraform found it on
  # destroy; keep leaves it as it is.
  on_destroy = "restore"
}

resource "dataflow_flow_trigger" "backfill" {
  for_each     = var.backfill_days
  flow_id      = dataflow_flow_schedule.daily_sales.flow_id
  trigger_time = each.value
}

# Basic: run flow 3377 once for a business date, and wait for it to succeed.
# A failed run fails the apply and leaves the resource tainted, so the next
# apply runs the flow again.
resource "dataflow_flow_trigger" "daily_load" {
  flow_id = 3377

  parameters = {
    bizdate = "20240101"
  }
}

# Backfill: one run per date. Without trigger_time, runs of one flow started
# in the same apply get distinct trigger minutes, so none collides with
# another. Adding a date later runs only that date.
resource "dataflow_flow_trigger" "backfill" {
  for_each = toset(["20240101", "20240102", "20240103"])

  flow_id = 3377
  parameters = {
    bizdate = each.key
  }

  # Start all runs and return; the service runs them one after the other.
  wait_for_completion = false
}

# Re-run: a new run whenever the input table's schema changes. Any change of
# a triggers value replaces the resource, which starts a new run.
variable "sales_table_schema_version" {
  type    = string
  default = "7"
}

resource "dataflow_flow_trigger" "rebuild_report" {
  flow_id = 3380

  triggers = {
    schema_version = var.sales_table_schema_version
  }

  poll_interval = "30s"
  on_destroy    = "cancel" # destroying the resource stops a run still in progress

  timeouts = {
    create = "2h"
    delete = "15m"
  }
}

# Write-only secret: parameters_wo is sent with the trigger but never stored
# in plan or state (Terraform 1.11 or later). Bump parameters_wo_version to
# run again with a new secret.
variable "source_db_password" {
  type      = string
  sensitive = true
}

resource "dataflow_flow_trigger" "sync" {
  flow_id = 3390

  parameters = {
    source_host = "db.internal.example.com"
  }
  parameters_wo = {
    source_password = var.source_db_password
  }
  parameters_wo_version = 1

  # A fixed trigger time feeds the flow's time parameters; a past time runs
  # at once, a future time schedules the run.
  trigger_time = "2024-01-01T00:00:00Z"
}

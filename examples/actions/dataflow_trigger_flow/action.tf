# An ad-hoc run: `terraform apply -invoke=action.dataflow_trigger_flow.reload`
# starts one run of the flow each time, waits for it and reports progress.
action "dataflow_trigger_flow" "reload" {
  config {
    flow_id    = 1001
    parameters = { bizdate = "20240101" }
    timeout    = "30m"
  }
}

# A run each time the table is (re)created: the action_trigger invokes the
# action after terraform_data is created or replaced. A failed run fails the
# apply; ignore_run_result = true would report it as a warning instead.
resource "terraform_data" "table" {
  input = var.table_version

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.dataflow_trigger_flow.refresh_reports]
    }
  }
}

action "dataflow_trigger_flow" "refresh_reports" {
  config {
    flow_id       = 1002
    poll_interval = "30s"
  }
}

variable "table_version" {
  type = string
}

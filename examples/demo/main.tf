# The configuration `make demo` applies against the local emulator
# (cmd/dataflow-emulator) and its built-in flows. The provider block is empty:
# the endpoint and credentials come from the ENOS_* environment variables the
# emulator prints when it starts.

terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

provider "dataflow" {}

# Read the flow's definition first: its name and global parameters.
data "dataflow_flow" "daily" {
  flow_id = 1001 # "daily_sales_load": two tasks that succeed in about a second each
}

# A backfill: one run per business date. A trigger time in the past starts the
# run at once and feeds the flow's time parameters. The service runs one
# instance of a flow at a time, so these queue and run one after the other.
resource "dataflow_flow_trigger" "backfill" {
  for_each = toset(["2024-03-01", "2024-03-02", "2024-03-03"])

  flow_id      = data.dataflow_flow.daily.flow_id
  trigger_time = "${each.key}T06:00:00+08:00"
  parameters = {
    bizdate = each.key
    region  = "eu"
  }

  poll_interval = "1s" # the default, 10s, suits real runs of minutes or hours
}

# A long run (flow 1004 takes five minutes) that the apply does not wait for.
# Destroying it cancels the run instead of just forgetting it.
resource "dataflow_flow_trigger" "monthly" {
  flow_id             = 1004
  parameters          = { months = "1" }
  wait_for_completion = false
  on_destroy          = "cancel"
  poll_interval       = "1s" # how often destroy checks that the cancelled run stopped
}

# Read the runs back through the data sources, as a later step of a pipeline would.
data "dataflow_flow_instance" "backfill" {
  for_each         = dataflow_flow_trigger.backfill
  flow_instance_id = each.value.flow_instance_id
}

# The latest successful run of the flow. depends_on makes Terraform read it
# after the runs above, not during the plan before they exist.
data "dataflow_flow_instances" "latest_success" {
  flow_id     = data.dataflow_flow.daily.flow_id
  statuses    = ["SUCCESS"]
  sort        = { by = "trigger_time", order = "desc" }
  max_results = 1

  depends_on = [dataflow_flow_trigger.backfill]
}

locals {
  # Terraform has no time arithmetic; seconds since midnight are enough for
  # runs shorter than a day.
  seconds_of_day = {
    for date, run in data.dataflow_flow_instance.backfill : date => {
      started  = tonumber(formatdate("h", run.started_at)) * 3600 + tonumber(formatdate("m", run.started_at)) * 60 + tonumber(formatdate("s", run.started_at))
      finished = tonumber(formatdate("h", run.finished_at)) * 3600 + tonumber(formatdate("m", run.finished_at)) * 60 + tonumber(formatdate("s", run.finished_at))
    }
  }
}

output "flow" {
  description = "The flow the backfill ran, as the dataflow_flow data source read it."
  value = {
    name       = data.dataflow_flow.daily.name
    parameters = data.dataflow_flow.daily.parameters
    tasks      = [for task in data.dataflow_flow.daily.tasks : task.name]
  }
}

output "backfill_runs" {
  description = "One run per date: instance id, final status and duration, read back with dataflow_flow_instance."
  value = {
    for date, run in data.dataflow_flow_instance.backfill : date => {
      flow_instance_id = run.flow_instance_id
      status           = run.status
      duration         = "${(local.seconds_of_day[date].finished - local.seconds_of_day[date].started + 86400) % 86400}s"
      tasks            = { for task in run.tasks : task.name => task.status }
    }
  }
}

output "latest_successful_run" {
  description = "The newest successful run of the flow, from a dataflow_flow_instances search."
  value       = one(data.dataflow_flow_instances.latest_success.instances[*].flow_instance_id)
}

output "monthly_run" {
  description = "The long run, still going when the apply returns."
  value       = dataflow_flow_trigger.monthly.flow_instance_id
}

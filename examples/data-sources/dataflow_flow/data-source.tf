# Read a flow's definition, e.g. to check its global parameters before triggering it.
data "dataflow_flow" "daily_load" {
  flow_id = 1001
}

output "daily_load_parameters" {
  value = data.dataflow_flow.daily_load.parameters
}

# Fail the plan when the flow cannot be triggered.
check "daily_load_triggerable" {
  assert {
    condition     = !data.dataflow_flow.daily_load.locked && length(data.dataflow_flow.daily_load.tasks) > 0
    error_message = "Flow ${data.dataflow_flow.daily_load.name} is locked or has no tasks."
  }
}

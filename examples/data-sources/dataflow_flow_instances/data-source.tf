# The latest successful run of flow 1001.
data "dataflow_flow_instances" "latest_success" {
  flow_id     = 1001
  statuses    = ["SUCCESS"]
  sort        = { by = "trigger_time", order = "desc" }
  max_results = 1
}

output "latest_success_id" {
  # null when the flow has no successful run yet.
  value = try(data.dataflow_flow_instances.latest_success.instances[0].flow_instance_id, null)
}

# Every failed run of the last week, oldest first.
data "dataflow_flow_instances" "failed_this_week" {
  statuses        = ["FAIL", "TIMEOUT", "INTERNAL_ERROR"]
  triggered_after = timeadd(plantimestamp(), "-168h")
  sort            = { order = "asc" }
}

output "failed_this_week" {
  value = [for i in data.dataflow_flow_instances.failed_this_week.instances : "${i.flow_name} ${i.trigger_time}"]
}

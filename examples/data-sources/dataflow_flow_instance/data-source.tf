# Read a run triggered by this configuration, or by anything else, by its id.
resource "dataflow_flow_trigger" "backfill" {
  flow_id    = 1001
  parameters = { bizdate = "2024-05-01" }
}

data "dataflow_flow_instance" "backfill" {
  flow_instance_id = dataflow_flow_trigger.backfill.flow_instance_id
}

output "backfill_tasks" {
  value = {
    for t in data.dataflow_flow_instance.backfill.tasks : t.name => t.status
  }
}

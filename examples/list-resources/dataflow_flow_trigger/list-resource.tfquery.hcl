# The failed runs of a flow in May 2024, newest first. Run
#   terraform query
# to list them, or
#   terraform query -generate-config-out=runs.tf
# to write an import block and a configuration for each, which adopt the
# runs as they are (the configuration sets no parameters: no run's values
# are ever written out).
list "dataflow_flow_trigger" "failed_loads" {
  provider = dataflow
  limit    = 20

  config {
    flow_id          = 1001
    statuses         = ["FAIL", "INTERNAL_ERROR", "TIMEOUT"]
    triggered_after  = "2024-05-01T00:00:00+08:00"
    triggered_before = "2024-06-01T00:00:00+08:00"
  }
}

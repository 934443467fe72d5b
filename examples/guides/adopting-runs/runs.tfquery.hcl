# terraform query -generate-config-out=adopted.tf writes an import block and
# a configuration for each run found (Terraform 1.14 and later).
list "dataflow_flow_trigger" "june" {
  provider = dataflow
  config {
    flow_id          = 1001
    statuses         = ["SUCCESS", "FAIL"]
    triggered_after  = "2024-06-01T00:00:00Z"
    triggered_before = "2024-06-30T23:59:59Z"
  }
}

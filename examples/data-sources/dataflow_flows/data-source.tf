variable "environment" {
  description = "Where this configuration is applied: staging or production."
  type        = string
  default     = "staging"
}

# The provider's user's flows whose name contains "nightly_".
data "dataflow_flows" "nightly" {
  search = "nightly_"
}

# Each of them that the user may change runs by its schedule in production
# only. Keying by flow id keeps one dataflow_flow_schedule per flow.
resource "dataflow_flow_schedule" "nightly" {
  for_each = { for f in data.dataflow_flows.nightly.flows : tostring(f.flow_id) => f if f.editable }

  flow_id = each.value.flow_id
  active  = var.environment == "production"
}

# Every flow of the organization: names, by flow id (names need not be unique).
data "dataflow_flows" "organization" {
  scope = "organization"
}

output "organization_flows" {
  value = { for f in data.dataflow_flows.organization.flows : tostring(f.flow_id) => f.name }
}

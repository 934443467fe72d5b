variable "environment" {
  description = "Where this configuration is applied: staging or production."
  type        = string
  default     = "staging"
}

# The nightly load runs by its schedule in production and is paused in
# staging. Destroying the resource puts the schedule back as it was found.
resource "dataflow_flow_schedule" "nightly_load" {
  flow_id = 1001
  active  = var.environment == "production"
}

# Pause a flow's schedule while a backfill of it runs, and leave it
# paused when the resource is removed.
resource "dataflow_flow_schedule" "backfill_pause" {
  flow_id    = 1004
  active     = false
  on_destroy = "keep"
}

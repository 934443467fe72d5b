# `terraform test` (or `tofu test`) applies the module against the emulator
# and checks the run it started; the emulator's flow 1001 succeeds within a
# few seconds.
variables {
  business_date = "2024-06-01T00:00:00Z"
}

run "loads_the_day" {
  command = apply

  assert {
    condition     = dataflow_flow_trigger.daily_load.status == "SUCCESS"
    error_message = "the daily load did not succeed: ${dataflow_flow_trigger.daily_load.status}"
  }

  # The run's id names the flow and the trigger time in the service's zone
  # (GMT+8 in the emulator): the business date's run, in a minute of that
  # day that was free.
  assert {
    condition     = startswith(output.run.id, "1001-20240601")
    error_message = "the run is not one of the business date: ${output.run.id}"
  }
}

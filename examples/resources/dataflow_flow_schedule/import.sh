# Import a flow's schedule by the flow's id. The schedule is adopted as it
# is: initial_active is its state at import, which on_destroy = "restore"
# (the default) puts back.
terraform import dataflow_flow_schedule.nightly_load 1001

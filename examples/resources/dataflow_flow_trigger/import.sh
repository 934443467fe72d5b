# Import an existing run by its flow instance id. parameters are set to the
# run's values that differ from the flow's global defaults, trigger_time is
# stored in UTC, and the behaviour settings take their defaults.
terraform import dataflow_flow_trigger.daily_load 3377-20240101080000

# Import an existing run by its flow instance id. Import stores flow_id,
# trigger_time (in UTC) and the run's status, but no parameter value (any may
# have been write-only): the next plan with the configuration that started the
# run is an in-place update that calls nothing, and one with other parameters
# starts a new run.
terraform import dataflow_flow_trigger.daily_load 3377-20240101080000

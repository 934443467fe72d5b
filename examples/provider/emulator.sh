# Terminal 1: start the emulator, from the provider's release archive
# dataflow-emulator_<version>_<os>_<arch> (or `go run ./cmd/dataflow-emulator`
# in a clone of its repository). It prints the export lines of the settings
# below, then one line per request.
./dataflow-emulator --listen 127.0.0.1:8090

# Terminal 2: point the provider at it, then plan and apply as usual.
export ENOS_ENDPOINT=http://127.0.0.1:8090
export ENOS_ACCESS_KEY=emulator-access-key
export ENOS_SECRET_KEY=emulator-secret-key
export ENOS_ORG_ID=o15000000000001
export ENOS_USER_ID=u15426865866571
terraform apply # or: tofu apply

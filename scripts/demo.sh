#!/usr/bin/env bash
# `make demo`: builds the provider and the emulator, starts the emulator on a
# free loopback port, applies examples/demo/ against it, shows that a second
# plan is empty, destroys, and stops the emulator. Everything happens in a
# temporary directory that is removed at the end, also on failure.
# TF names the CLI to run (default terraform; `make demo TF=tofu` passes the
# path of the OpenTofu it builds).
set -euo pipefail

cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
# Settings of the caller's own Terraform work that would change what the demo does.
unset TF_CLI_CONFIG_FILE TF_DATA_DIR TF_WORKSPACE TF_CLI_ARGS TF_CLI_ARGS_apply TF_CLI_ARGS_plan TF_CLI_ARGS_destroy ENOS_API_VERSION

work=""
emulator_pid=""
step="checking the prerequisites"
# Colors only on a terminal, for the CLI and for the demo's own headings.
color=(-no-color) bold="" red="" plain=""
if [[ -t 1 ]]; then
	color=() bold=$'\033[1m' red=$'\033[1;31m' plain=$'\033[0m'
fi

# served counts the requests of one operation the emulator has served so far.
served() { grep -c " $1 " "$work/emulator.log" || true; }

say() { printf '\n%s==> %s%s\n' "$bold" "$1" "$plain"; }
explain() { printf '    %s\n' "$@"; }
begin() {
	step="$1"
	say "$1"
}

stop_emulator() {
	[[ -n $emulator_pid ]] || return 0
	if kill -0 "$emulator_pid" 2>/dev/null; then
		kill -TERM "$emulator_pid" 2>/dev/null || true
		# Give it five seconds to shut down cleanly, then insist.
		for _ in $(seq 50); do
			kill -0 "$emulator_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$emulator_pid" 2>/dev/null || true
	fi
	wait "$emulator_pid" 2>/dev/null || true
	emulator_pid=""
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	stop_emulator
	if ((status != 0)); then
		printf '\n%smake demo failed while %s (exit status %d).%s\n' "$red" "$step" "$status" "$plain" >&2
		if [[ -s $work/emulator.log ]]; then
			echo "The emulator's last log lines:" >&2
			tail -n 15 "$work/emulator.log" >&2
		fi
		echo "The emulator is stopped and the temporary directory removed." >&2
	fi
	[[ -z $work ]] || rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tf=${TF:-terraform}
for tool in go "$tf"; do
	command -v "$tool" >/dev/null || {
		echo "$tool is not on PATH: the demo needs Go 1.26+ and Terraform 1.11+ (or OpenTofu 1.11+, with TF=tofu)." >&2
		exit 1
	}
done
# The CLI's own name for itself ("Terraform v1.11.4", "OpenTofu v1.12.6"), and
# the command name in the headings.
tf_version=$("$tf" version)
tf_version=$(grep -m 1 -E '^(Terraform|OpenTofu) v' <<<"$tf_version") || tf_version="$tf"
client=${tf_version%% *} cli=$(basename "$tf")
start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/dataflow-demo.XXXXXX")

begin "building the provider and the emulator"
explain "into $work/bin (nothing is written to the repository)"
go build -o "$work/bin/terraform-provider-dataflow" .
go build -o "$work/bin/dataflow-emulator" ./cmd/dataflow-emulator
explain "Built in $((SECONDS - start))s (the first build downloads and compiles the dependencies; later ones take seconds)."

begin "starting the emulator"
explain "cmd/dataflow-emulator serves the EnOS API gateway and the Dataflow Batch Service in memory," \
	"with built-in flows. Port 0 lets the system pick a free loopback port."
"$work/bin/dataflow-emulator" --listen 127.0.0.1:0 >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do
	grep -q '^export ENOS_ENDPOINT=' "$work/emulator.log" && break
	kill -0 "$emulator_pid" 2>/dev/null || {
		echo "the emulator exited at start" >&2
		exit 1
	}
	sleep 0.1
done
settings=$(grep -E '^export ENOS_[A-Z_]+=' "$work/emulator.log") || {
	echo "the emulator printed no 'export ENOS_...' lines within ten seconds" >&2
	exit 1
}
eval "$settings"
explain "It printed the provider's settings, which the demo exports:"
grep -E '^export ENOS_' "$work/emulator.log" | sed -E 's/(SECRET_KEY=)[^ ]*/\1(hidden)/; s/^/      /'

begin "pointing $tf_version at the provider just built"
cat >"$work/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "enos-community/dataflow" = "$work/bin"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$work/terraformrc"
explain "A CLI configuration with dev_overrides makes $client use $work/bin/terraform-provider-dataflow" \
	"without '$cli init' ($client warns about the override below: that is expected)."

cp -R examples/demo "$work/config"
cd "$work/config"

begin "$cli apply: triggering the flows"
explain "examples/demo/main.tf reads flow 1001, triggers it once per date of a backfill (for_each)," \
	"waits for each run to succeed, starts a five-minute run of flow 1004 without waiting," \
	"and reads the runs back through the data sources. $client shows its plan, the progress," \
	"and at the end the outputs: instance ids, statuses and durations of the runs."
"$tf" apply -auto-approve -input=false "${color[@]}"
triggered=$(served flows/updateAndTrigger)
explain "The emulator received $triggered trigger requests: one per run."

begin "$cli plan: a second plan must be empty"
explain "Finished runs are not re-triggered, and $client calls the service only for the run still going."
plan_status=0
"$tf" plan -detailed-exitcode -input=false "${color[@]}" || plan_status=$?
case $plan_status in
0) explain "No changes: applying the same configuration again starts no run." ;;
2)
	echo "the second plan is not empty: it would change something (see above)" >&2
	exit 1
	;;
*) exit "$plan_status" ;;
esac
if (($(served flows/updateAndTrigger) != triggered)); then
	echo "the emulator received trigger requests during the plan" >&2
	exit 1
fi

begin "$cli destroy"
explain "Destroy forgets the finished runs (run history cannot be deleted) and cancels" \
	"the flow 1004 run, which has on_destroy = \"cancel\"."
explain "Only $client's progress lines are shown here (all of its output if destroy fails)."
if ! "$tf" destroy -auto-approve -input=false "${color[@]}" >"$work/destroy.log" 2>&1; then
	cat "$work/destroy.log"
	exit 1
fi
grep -E 'Destroying|Still destroying|Destruction complete|Destroy complete' "$work/destroy.log"
explain "The emulator received $(served flowInstances/cancel) cancel request: the flow 1004 run was cancelled, and destroy waited until it stopped."

begin "stopping the emulator"
stop_emulator

step="cleaning up"
say "Done in $((SECONDS - start))s. The emulator is stopped and $work is removed."

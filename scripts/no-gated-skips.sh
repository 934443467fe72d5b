#!/usr/bin/env bash
# Runs a verbose `go test` (the arguments) and fails when it fails or when a
# version-gated test (TestAccNew*) skipped: against the CLI `make testacc-new`
# chose, a skip means a gated test did not run, which must not pass unseen.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
skipped=$(grep -E -e '--- SKIP: TestAccNew' "$log" || true)
if [ -n "$skipped" ]; then
	printf '\nversion-gated tests skipped against this CLI:\n%s\n' "$skipped" >&2
	exit 1
fi
ran=$(grep -c -E -e '--- PASS: TestAccNew' "$log" || true)
echo "version-gated tests passed: $ran"
exit "$status"

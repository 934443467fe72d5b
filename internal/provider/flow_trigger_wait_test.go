package provider

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// A refresh that sees the run of an interrupted wait finished settles it:
// a success leaves nothing to do (empty plan), a failure plans the
// replacement that a failed create would get. Neither triggers anything.
func TestAccFlowTriggerWait_refreshSettlesAnInterruptedWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		outcome  emulator.Outcome
		exitCode int    // of plan -detailed-exitcode
		output   string // in the plan's output
	}{
		{emulator.OutcomeSuccess, 0, "No changes."},
		{emulator.OutcomeFail, 2, "must be replaced"},
	} {
		t.Run(string(tc.outcome), func(t *testing.T) {
			t.Parallel()
			srv, clock, dir, cliConfig := longRunSetup(t, tc.outcome)
			interruptWhileWaiting(t, srv, clock, dir, cliConfig)
			clock.Advance(6 * time.Minute)

			plan := acctest.Start(t, cliConfig, dir, "plan", "-detailed-exitcode", "-no-color")
			err := plan.Wait(t)
			var exit *exec.ExitError
			code := 0
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
			if code != tc.exitCode || !strings.Contains(plan.Output(), tc.output) {
				t.Fatalf("plan after the run ended: exit %d, want %d with %q:\n%s", code, tc.exitCode, tc.output, plan.Output())
			}
			if tc.outcome == emulator.OutcomeFail && !strings.Contains(plan.Output(), "Flow run ended with status FAIL") {
				t.Fatalf("the plan does not say why the run is replaced:\n%s", plan.Output())
			}
			if n := srv.Count(triggerOperation); n != 1 {
				t.Fatalf("%d trigger requests, want the first one only", n)
			}
		})
	}
}

// A run that the service no longer knows when the next apply follows it is
// kept in state with a warning and never triggered again; the wait is then
// over, so the plan after is empty.
func TestAccFlowTriggerWait_vanishedRunIsNotTriggeredAgain(t *testing.T) {
	t.Parallel()
	srv, clock, dir, cliConfig := longRunSetup(t, emulator.OutcomeSuccess)
	id := interruptWhileWaiting(t, srv, clock, dir, cliConfig)
	if !srv.ForgetInstance(id) {
		t.Fatalf("emulator does not know %s", id)
	}

	apply := acctest.StartApply(t, cliConfig, dir)
	if err := apply.Wait(t); err != nil {
		t.Fatalf("apply after the run vanished: %v\n%s", err, apply.Output())
	}
	if out := apply.Output(); !strings.Contains(out, "Modifying... [id="+id+"]") || !strings.Contains(out, "Flow run no longer known to the service") {
		t.Fatalf("the apply did not follow the run and warn that it is gone:\n%s", out)
	}
	expectStateRun(t, dir, id, unfinished, apply.Output())

	plan := acctest.Start(t, cliConfig, dir, "plan", "-detailed-exitcode", "-no-color")
	if err := plan.Wait(t); err != nil {
		t.Fatalf("plan after the wait gave the run up is not empty (%v):\n%s", err, plan.Output())
	}
	if n := srv.Count(triggerOperation); n != 1 {
		t.Fatalf("%d trigger requests, want the first one only", n)
	}
}

// A failed task's log tail is its last lines, and at most logTailBytes of
// them: a task that prints a few long lines does not flood the CI log.
func TestLogTailIsBoundedInLinesAndBytes(t *testing.T) {
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	if got, want := logTail(strings.Join(lines, "\n")+"\n", 20), strings.Join(lines[10:], "\n"); got != want {
		t.Errorf("last 20 lines: got %q, want %q", got, want)
	}
	long := strings.Repeat("é", logTailBytes) + "\nend"
	got := logTail(long, 20)
	if len(got) > logTailBytes+len("...") || !strings.HasPrefix(got, "...") || !strings.HasSuffix(got, "\nend") || !utf8.ValidString(got) {
		t.Errorf("a %d-byte tail gave %d bytes, prefix %q, suffix %q", len(long), len(got), got[:min(8, len(got))], got[max(0, len(got)-8):])
	}
}

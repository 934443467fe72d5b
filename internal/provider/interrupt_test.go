package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

const (
	emulatorRunning = 2
	emulatorSuccess = 1
)

// TestInterruptedApplyKeepsTheRunInState sends SIGINT to terraform while it
// waits for a long run (flow 1004, five minutes of the emulator's manual
// clock), then applies again. The interrupted apply leaves exactly one run,
// in state and not tainted; the next apply starts nothing and follows that
// run to its end: a success completes it, a failure fails that apply and
// the apply after starts exactly one new run.
func TestInterruptedApplyKeepsTheRunInState(t *testing.T) {
	t.Parallel()
	t.Run("run succeeds", func(t *testing.T) { t.Parallel(); testInterruptedApply(t, emulator.OutcomeSuccess) })
	t.Run("run fails", func(t *testing.T) { t.Parallel(); testInterruptedApply(t, emulator.OutcomeFail) })
}

func testInterruptedApply(t *testing.T, outcome emulator.Outcome) {
	srv, clock, dir, cliConfig := longRunSetup(t, outcome)
	id := interruptWhileWaiting(t, srv, clock, dir, cliConfig)
	triggers := srv.Count(triggerOperation)

	// 2. The next apply follows the same run; the test lets it end once
	// the apply waits on it.
	second := acctest.StartApply(t, cliConfig, dir)
	second.WaitFor(t, "the update that follows the run", func() bool {
		return strings.Contains(second.Output(), "Modifying... [id="+id+"]")
	})
	reads := statusReads(srv)
	second.WaitFor(t, "a status read of the update", func() bool { return statusReads(srv) > reads })
	clock.Advance(6 * time.Minute)
	err := second.Wait(t)
	if got := srv.Count(triggerOperation); got != triggers {
		t.Fatalf("the apply after the interrupt sent %d trigger(s)\n%s", got-triggers, second.Output())
	}
	if outcome == emulator.OutcomeSuccess {
		if err != nil {
			t.Fatalf("the apply that followed the run failed: %v\n%s", err, second.Output())
		}
		expectStateRun(t, dir, id, "SUCCESS", second.Output())
		if srv.Instances()[0].Status != emulatorSuccess {
			t.Fatalf("the emulator's run is not SUCCESS: %+v", srv.Instances()[0])
		}
		return
	}
	if err == nil || !acctest.ErrorText("Flow run ended with status FAIL", "Failed task(s): backfill", "next apply replaces the resource").MatchString(second.Output()) {
		t.Fatalf("the apply that followed a failing run did not fail with the run's error (exit %v):\n%s", err, second.Output())
	}
	expectStateRun(t, dir, id, "FAIL", second.Output())

	// 3. The apply after replaces the failed run: exactly one new run.
	if err := srv.SetTask(1004, "backfill", 240*time.Second, emulator.OutcomeSuccess); err != nil {
		t.Fatal(err)
	}
	third := acctest.StartApply(t, cliConfig, dir)
	third.WaitFor(t, "the new run", func() bool { return len(srv.Instances()) == 2 })
	reads = statusReads(srv)
	third.WaitFor(t, "a status read of the new run", func() bool { return statusReads(srv) > reads })
	clock.Advance(6 * time.Minute)
	if err := third.Wait(t); err != nil {
		t.Fatalf("the apply that re-runs the failed run failed: %v\n%s", err, third.Output())
	}
	instances := srv.Instances()
	if len(instances) != 2 || instances[1].Status != emulatorSuccess {
		t.Fatalf("want the failed run and one new successful run, got %+v", instances)
	}
	expectStateRun(t, dir, instances[1].ID, "SUCCESS", third.Output())
}

// longRunSetup starts an emulator on a manual clock whose flow 1004 ends
// with outcome, and writes a configuration that triggers it and waits.
func longRunSetup(t *testing.T, outcome emulator.Outcome) (srv *emulator.Server, clock *emulator.ManualClock, dir, cliConfig string) {
	t.Helper()
	// The clock starts behind the provider's (real) one, so the run waits
	// for its trigger time until the test moves the clock.
	clock = emulator.NewManualClock(time.Now())
	srv = acctest.StartEmulator(t, emulator.Options{Clock: clock})
	if err := srv.SetTask(1004, "backfill", 240*time.Second, outcome); err != nil {
		t.Fatal(err)
	}
	config := acctest.RequiredProvidersBlock + acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1004
  poll_interval = "1s"
}
`
	dir = acctest.ConfigDir(t, config)
	return srv, clock, dir, acctest.CLIConfig(t)
}

// interruptWhileWaiting runs `terraform apply` in dir and sends it SIGINT
// once the provider waits on the running run. It checks that exactly one
// run exists, RUNNING and untainted in state, and returns its id.
func interruptWhileWaiting(t *testing.T, srv *emulator.Server, clock *emulator.ManualClock, dir, cliConfig string) string {
	t.Helper()
	apply := acctest.StartApply(t, cliConfig, dir)
	apply.WaitFor(t, "the run", func() bool { return len(srv.Instances()) == 1 })
	clock.Set(time.Now().Add(5 * time.Second)) // past the trigger time and the READY phase
	apply.WaitFor(t, "the run RUNNING", func() bool { return srv.Instances()[0].Status == emulatorRunning })
	reads := statusReads(srv)
	apply.WaitFor(t, "a status read of the running run", func() bool { return statusReads(srv) > reads })
	apply.Interrupt(t)
	_ = apply.Wait(t) // terraform exits non-zero after an interrupt, whatever the provider says
	if out := apply.Output(); !strings.Contains(out, "Waiting for the flow run was interrupted") || !strings.Contains(out, "goes on") {
		t.Fatalf("the interrupted apply does not say that the run goes on:\n%s", out)
	}
	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	// The interrupt may cut short the read that would have seen RUNNING.
	expectStateRun(t, dir, id, unfinished, apply.Output())
	return id
}

// statusReads counts the emulator's status reads of runs.
func statusReads(srv *emulator.Server) int {
	return srv.Count("flowInstances/get") + srv.Count("flowInstances/search")
}

package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	skipWithoutCLI(t)
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
	second := startApply(t, cliConfig, dir)
	second.waitFor(t, "the update that follows the run", func() bool {
		return strings.Contains(second.output(), "Modifying... [id="+id+"]")
	})
	reads := statusReads(srv)
	second.waitFor(t, "a status read of the update", func() bool { return statusReads(srv) > reads })
	clock.Advance(6 * time.Minute)
	err := second.wait(t)
	if got := srv.Count(triggerOperation); got != triggers {
		t.Fatalf("the apply after the interrupt sent %d trigger(s)\n%s", got-triggers, second.output())
	}
	if outcome == emulator.OutcomeSuccess {
		if err != nil {
			t.Fatalf("the apply that followed the run failed: %v\n%s", err, second.output())
		}
		expectStateRun(t, dir, id, "SUCCESS", second.output())
		if srv.Instances()[0].Status != emulatorSuccess {
			t.Fatalf("the emulator's run is not SUCCESS: %+v", srv.Instances()[0])
		}
		return
	}
	if err == nil || !errorText("Flow run ended with status FAIL", "Failed task(s): backfill", "next apply replaces the resource").MatchString(second.output()) {
		t.Fatalf("the apply that followed a failing run did not fail with the run's error (exit %v):\n%s", err, second.output())
	}
	expectStateRun(t, dir, id, "FAIL", second.output())

	// 3. The apply after replaces the failed run: exactly one new run.
	if err := srv.SetTask(1004, "backfill", 240*time.Second, emulator.OutcomeSuccess); err != nil {
		t.Fatal(err)
	}
	third := startApply(t, cliConfig, dir)
	third.waitFor(t, "the new run", func() bool { return len(srv.Instances()) == 2 })
	reads = statusReads(srv)
	third.waitFor(t, "a status read of the new run", func() bool { return statusReads(srv) > reads })
	clock.Advance(6 * time.Minute)
	if err := third.wait(t); err != nil {
		t.Fatalf("the apply that re-runs the failed run failed: %v\n%s", err, third.output())
	}
	instances := srv.Instances()
	if len(instances) != 2 || instances[1].Status != emulatorSuccess {
		t.Fatalf("want the failed run and one new successful run, got %+v", instances)
	}
	expectStateRun(t, dir, instances[1].ID, "SUCCESS", third.output())
}

// longRunSetup starts an emulator on a manual clock whose flow 1004 ends
// with outcome, and writes a configuration that triggers it and waits.
func longRunSetup(t *testing.T, outcome emulator.Outcome) (srv *emulator.Server, clock *emulator.ManualClock, dir, cliConfig string) {
	t.Helper()
	// The clock starts behind the provider's (real) one, so the run waits
	// for its trigger time until the test moves the clock.
	clock = emulator.NewManualClock(time.Now())
	srv = startTestEmulator(t, emulator.Options{Clock: clock})
	if err := srv.SetTask(1004, "backfill", 240*time.Second, outcome); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	config := requiredProvidersBlock + testProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1004
  poll_interval = "1s"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, clock, dir, builtProviderCLIConfig(t)
}

// interruptWhileWaiting runs `terraform apply` in dir and sends it SIGINT
// once the provider waits on the running run. It checks that exactly one
// run exists, RUNNING and untainted in state, and returns its id.
func interruptWhileWaiting(t *testing.T, srv *emulator.Server, clock *emulator.ManualClock, dir, cliConfig string) string {
	t.Helper()
	apply := startApply(t, cliConfig, dir)
	apply.waitFor(t, "the run", func() bool { return len(srv.Instances()) == 1 })
	clock.Set(time.Now().Add(5 * time.Second)) // past the trigger time and the READY phase
	apply.waitFor(t, "the run RUNNING", func() bool { return srv.Instances()[0].Status == emulatorRunning })
	reads := statusReads(srv)
	apply.waitFor(t, "a status read of the running run", func() bool { return statusReads(srv) > reads })
	if err := apply.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = apply.wait(t) // terraform exits non-zero after an interrupt, whatever the provider says
	if out := apply.output(); !strings.Contains(out, "Waiting for the flow run was interrupted") || !strings.Contains(out, "goes on") {
		t.Fatalf("the interrupted apply does not say that the run goes on:\n%s", out)
	}
	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	// The interrupt may cut short the read that would have seen RUNNING.
	expectStateRun(t, dir, id, unfinished, apply.output())
	return id
}

// runningApply is a `terraform apply` the test started.
type runningApply struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	exited chan error
}

func startApply(t *testing.T, cliConfig, dir string) *runningApply {
	t.Helper()
	return startTerraform(t, cliConfig, dir, "apply", "-auto-approve", "-no-color")
}

// startTerraform starts terraform with args in dir.
func startTerraform(t *testing.T, cliConfig, dir string, args ...string) *runningApply {
	t.Helper()
	a := &runningApply{exited: make(chan error, 1)}
	a.cmd = terraformCLI(t, cliConfig, dir, nil, args...)
	a.cmd.Stdout, a.cmd.Stderr = &a.out, &a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exited <- a.cmd.Wait() }()
	return a
}

func (a *runningApply) output() string { return a.out.String() }

// waitFor polls cond until it holds; terraform ending first fails the test.
func (a *runningApply) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for !cond() {
		select {
		case err := <-a.exited:
			t.Fatalf("terraform ended (%v) before %s:\n%s", err, what, a.output())
		case <-ticker.C:
		}
	}
}

// wait returns terraform's exit error.
func (a *runningApply) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-a.exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("terraform: %v", err)
		}
		return err
	case <-t.Context().Done():
		t.Fatalf("test ended while terraform ran:\n%s", a.output())
		return nil
	}
}

// lockedBuffer is a bytes.Buffer that the test reads while terraform writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// statusReads counts the emulator's status reads of runs.
func statusReads(srv *emulator.Server) int {
	return srv.Count("flowInstances/get") + srv.Count("flowInstances/search")
}

// stateFileTrigger is a trigger instance of a state file.
type stateFileTrigger struct {
	Status     string // "tainted", or empty
	Attributes struct {
		ID     string
		Status string
	}
}

// stateFileTriggers lists the trigger resource instances of a state file.
func stateFileTriggers(t *testing.T, raw []byte) []stateFileTrigger {
	t.Helper()
	var state struct {
		Resources []struct {
			Type      string
			Instances []stateFileTrigger
		}
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatalf("state file: %v", err)
	}
	var out []stateFileTrigger
	for _, r := range state.Resources {
		if r.Type == "dataflow_flow_trigger" {
			out = append(out, r.Instances...)
		}
	}
	return out
}

// unfinished stands for any status of a run that has not ended.
const unfinished = "unfinished"

// expectStateRun checks that dir's state holds exactly the run id, not
// tainted, with the given status (or unfinished).
func expectStateRun(t *testing.T, dir, id, status, output string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("no state: %v\n%s", err, output)
	}
	triggers := stateFileTriggers(t, raw)
	if len(triggers) == 1 && status == unfinished && slices.Contains([]string{"INIT", "WAIT", "READY", "RUNNING"}, triggers[0].Attributes.Status) {
		status = triggers[0].Attributes.Status
	}
	if len(triggers) != 1 || triggers[0].Attributes.ID != id || triggers[0].Status != "" || triggers[0].Attributes.Status != status {
		t.Fatalf("state holds %+v, want run %s, status %s, not tainted\n%s", triggers, id, status, output)
	}
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
	"github.com/enos-community/terraform-provider-dataflow/internal/runwait"
)

// fakeTaskLogs answers every log read with the same log.
type fakeTaskLogs struct{ log string }

func (f fakeTaskLogs) GetTaskInstanceLog(context.Context, string, int) (string, error) {
	return f.log, nil
}

// renderDiagnostics writes diagnostics as "severity: summary | detail".
func renderDiagnostics(diags diag.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, fmt.Sprintf("%s: %s | %s", d.Severity(), d.Summary(), d.Detail()))
	}
	return out
}

// Every way a wait can end, for every watcher: the exact severity, summary
// and detail users see, and the wait mark the resource keeps.
func TestDescribeWaitEnd(t *testing.T) {
	run := enos.RunRef{InstanceID: "1004-20240101080000", FlowID: 1004}
	running := &enos.FlowInstance{InstanceID: run.InstanceID, FlowID: 1004, FlowName: "long_backfill", Status: enos.StatusRunning}
	failed := &enos.FlowInstance{InstanceID: run.InstanceID, FlowID: 1004, FlowName: "long_backfill", Status: enos.StatusFail,
		Parameters: []enos.Parameter{{Key: "bizdate", Value: "20240101"}, {Key: "token", Value: "s3cret"}},
		Tasks:      []enos.TaskInstance{{TaskName: "extract", TaskInstID: "t1", Status: "SUCCESS"}, {TaskName: "load", TaskInstID: "t2", Status: "FAIL"}}}
	logs := fakeTaskLogs{"line 1\nbizdate=20240101 token=s3cret\n"}
	shown := map[string]string{"bizdate": "20240101"} // token is write-only: masked in the log tail
	results := map[runwait.Outcome]runwait.Result[*enos.FlowInstance]{
		runwait.Succeeded:   {Outcome: runwait.Succeeded, Seen: true, Status: &enos.FlowInstance{InstanceID: run.InstanceID, FlowID: 1004, Status: enos.StatusSuccess}},
		runwait.Failed:      {Outcome: runwait.Failed, Seen: true, Status: failed},
		runwait.TimedOut:    {Outcome: runwait.TimedOut, Seen: true, Status: running, Err: context.DeadlineExceeded},
		runwait.Interrupted: {Outcome: runwait.Interrupted, Seen: true, Status: running, Err: context.Canceled},
		runwait.NotFound:    {Outcome: runwait.NotFound, Seen: true, Status: running, Err: errors.New("code 62110: instance not found")},
		runwait.Errored:     {Outcome: runwait.Errored, Err: errors.New("code 1004: timestamp refused")},
	}
	watches := map[string]runWatch{
		"create":           {by: watchCreate, run: run, shown: shown},
		"resumed":          {by: watchResumed, run: run, shown: shown},
		"cancel":           {by: watchCancel, run: run},
		"action":           {by: watchAction, run: run, shown: shown, actionTimeout: time.Hour},
		"action, ignoring": {by: watchAction, run: run, shown: shown, actionTimeout: time.Hour, ignoreRunResult: true},
	}

	const (
		failure = "Run 1004-20240101080000 of flow 1004 (long_backfill) ended with status FAIL (code -1).\nFailed task(s): load (task instance t2, FAIL).\n\n" +
			"Last lines of the log of task load:\nline 1\nbizdate=20240101 token=(sensitive value)\n\n"
		timedOut      = "Waiting for run 1004-20240101080000 of flow 1004: the run was still RUNNING when "
		interrupted   = "Waiting for run 1004-20240101080000 of flow 1004 was interrupted while the run was RUNNING. "
		errored       = "Waiting for run 1004-20240101080000 of flow 1004: reading the run's status failed: code 1004: timestamp refused\n\n"
		notFound      = "3 consecutive reads did not find run 1004-20240101080000 of flow 1004 (code 62110: instance not found). "
		keptInState   = "It was started, so it stays in state with its last known status RUNNING and is not triggered again. To start a new run, use `terraform apply -replace` on this resource or change its triggers."
		stopWaiting   = "set wait_for_completion = false to stop waiting once the run is started."
		tainted       = "The run goes on in the service. The resource is tainted: the next apply replaces it with a new run (on_destroy decides whether this run is cancelled or left to go on)."
		followedAgain = "The run goes on in the service and stays in state: the next apply follows it again, without starting another."
		notTainted    = "The run goes on in the service and stays in state, not tainted. The next plan shows an in-place update that follows this same run to its end and reports it, " +
			"without starting another run; set wait_for_completion = false to stop following it."
		actionGoesOn = "The run goes on in the service; nothing records it in state. Follow it with the dataflow_flow_instance data source " +
			"(flow_instance_id = \"1004-20240101080000\") or in the Dataflow console. Invoking the action again starts another run."
		notStopped   = "Run 1004-20240101080000 was cancelled but is not seen finished. "
		cancelAgain  = `It stays in state, and the next destroy cancels it again. Raise timeouts.delete, or destroy with on_destroy = "detach".`
		actionFailed = "Error: Flow run ended with status FAIL | " + failure + "Set ignore_run_result = true to report a failed run as a warning instead."
	)
	for _, tc := range []struct {
		watch   string
		outcome runwait.Outcome
		want    []string // rendered by renderDiagnostics
		mark    waitMark // for the resource's create and resumed waits
	}{
		{"create", runwait.Succeeded, nil, waitOver},
		{"create", runwait.Failed, []string{"Error: Flow run ended with status FAIL | " + failure + "The resource is tainted: the next apply starts a new run."}, waitFailed},
		{"create", runwait.TimedOut, []string{"Error: Flow run did not finish | " + timedOut + "timeouts.create expired. " + tainted + " Raise timeouts.create, or " + stopWaiting}, waitOver},
		{"create", runwait.Interrupted, []string{"Warning: Waiting for the flow run was interrupted | " + interrupted + notTainted}, waitPending},
		{"create", runwait.NotFound, []string{"Warning: Flow run no longer known to the service | " + notFound + keptInState}, waitPending},
		{"create", runwait.Errored, []string{"Error: Flow run did not finish | " + errored + tainted}, waitOver},

		{"resumed", runwait.Succeeded, nil, waitOver},
		{"resumed", runwait.Failed, []string{"Error: Flow run ended with status FAIL | " + failure + "The next apply replaces the resource: it starts a new run."}, waitFailed},
		{"resumed", runwait.TimedOut, []string{"Error: Flow run did not finish | " + timedOut + "timeouts.update expired. " + followedAgain + " Raise timeouts.update, or " + stopWaiting}, waitPending},
		{"resumed", runwait.Interrupted, []string{"Warning: Waiting for the flow run was interrupted | " + interrupted + notTainted}, waitPending},
		{"resumed", runwait.NotFound, []string{"Warning: Flow run no longer known to the service | " + notFound + keptInState}, waitOver},
		{"resumed", runwait.Errored, []string{"Error: Flow run did not finish | " + errored + followedAgain}, waitPending},

		{"cancel", runwait.Succeeded, nil, ""},
		{"cancel", runwait.Failed, nil, ""}, // a cancelled run ends so
		{"cancel", runwait.TimedOut, []string{"Error: Cancelled flow run did not stop | " + notStopped + timedOut + "timeouts.delete expired. " + cancelAgain}, ""},
		{"cancel", runwait.Interrupted, []string{"Error: Cancelled flow run did not stop | " + notStopped + interrupted + cancelAgain}, ""},
		{"cancel", runwait.NotFound, []string{"Warning: Flow run no longer known to the service | " + notFound + "Its cancel had been sent, so whether it stopped is unknown. It is forgotten."}, ""},
		{"cancel", runwait.Errored, []string{"Error: Cancelled flow run did not stop | " + notStopped + errored + cancelAgain}, ""},

		{"action", runwait.Succeeded, nil, ""},
		{"action", runwait.Failed, []string{actionFailed}, ""},
		{"action", runwait.TimedOut, []string{"Error: Flow run did not finish | " + timedOut + "the action's timeout (1h0m0s) expired. " + actionGoesOn + " Raise timeout, or " + stopWaiting}, ""},
		{"action", runwait.Interrupted, []string{"Error: Waiting for the flow run was interrupted | " + interrupted + actionGoesOn}, ""},
		{"action", runwait.NotFound, []string{"Error: Flow run no longer known to the service | " + notFound + "How it ended is unknown; its last known status was RUNNING."}, ""},
		{"action", runwait.Errored, []string{"Error: Flow run did not finish | " + errored + actionGoesOn}, ""},

		{"action, ignoring", runwait.Succeeded, nil, ""},
		{"action, ignoring", runwait.Failed, []string{"Warning: Flow run ended with status FAIL | " + failure + "ignore_run_result is true, so the failed run does not fail the invocation."}, ""},
		// ignore_run_result is about the run's result: a wait that did
		// not see one is still an error.
		{"action, ignoring", runwait.TimedOut, []string{"Error: Flow run did not finish | " + timedOut + "the action's timeout (1h0m0s) expired. " + actionGoesOn + " Raise timeout, or " + stopWaiting}, ""},
		{"action, ignoring", runwait.Interrupted, []string{"Error: Waiting for the flow run was interrupted | " + interrupted + actionGoesOn}, ""},
		{"action, ignoring", runwait.NotFound, []string{"Error: Flow run no longer known to the service | " + notFound + "How it ended is unknown; its last known status was RUNNING."}, ""},
		{"action, ignoring", runwait.Errored, []string{"Error: Flow run did not finish | " + errored + actionGoesOn}, ""},
	} {
		t.Run(tc.watch+"/"+tc.outcome.String(), func(t *testing.T) {
			w := watches[tc.watch]
			got := renderDiagnostics(describeWaitEnd(t.Context(), logs, w, results[tc.outcome]))
			if !slices.Equal(got, tc.want) {
				t.Errorf("diagnostics:\n got %q\nwant %q", got, tc.want)
			}
			if w.by == watchCreate || w.by == watchResumed {
				if mark := markAfterWait(tc.outcome, w.by); mark != tc.mark {
					t.Errorf("wait mark %q, want %q", mark, tc.mark)
				}
			}
		})
	}
}

// A run that one read does not find: the refresh keeps it, a destroy that
// was to cancel it forgets it.
func TestVanishedRun_singleRead(t *testing.T) {
	run := enos.RunRef{InstanceID: "1004-20240101080000", FlowID: 1004}
	gone := "Warning: Flow run no longer known to the service | The service does not know run 1004-20240101080000 of flow 1004 any more (code 62110: instance not found). "
	for by, want := range map[watcher]string{
		watchRefresh: gone + "It was started, so it stays in state with its last known status RUNNING and is not triggered again. " +
			"To start a new run, use `terraform apply -replace` on this resource or change its triggers.",
		watchDestroy: gone + "It was not cancelled, and is forgotten.",
	} {
		got := renderDiagnostics(diag.Diagnostics{vanishedRun(by, run, 1, errors.New("code 62110: instance not found"), "RUNNING")})
		if !slices.Equal(got, []string{want}) {
			t.Errorf("watcher %d:\n got %q\nwant %q", by, got, want)
		}
	}
}

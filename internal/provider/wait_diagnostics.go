package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
	"github.com/enos-community/terraform-provider-dataflow/internal/runwait"
)

// One builder of the diagnostics that say how a wait for a run ended, for
// the resource's create, the update that resumes a wait, the destroy that
// cancels, and the action, and of the report of a run the service no
// longer knows. What differs between them is data (runWatch); the texts
// live here only. The resource decides its wait mark itself (markAfterWait).

// watcher is what watched a run: it decides what becomes of the run after
// a watch that did not see it succeed, and so what the reports say.
type watcher int

const (
	// watchCreate is the resource's create: state holds the run, and an
	// error taints the resource.
	watchCreate watcher = iota
	// watchResumed is the resource's update that follows a run whose
	// earlier wait did not see it end: state holds the run, untainted.
	watchResumed
	// watchRefresh is the resource's refresh of an unfinished run: one
	// read, no wait.
	watchRefresh
	// watchDestroy is the resource's destroy reading the run before it
	// cancels it.
	watchDestroy
	// watchCancel is the resource's destroy waiting for the run it
	// cancelled to stop.
	watchCancel
	// watchAction is the action: nothing holds the run.
	watchAction
)

// runWatch is what the reports of a watch's end need besides its result.
type runWatch struct {
	by  watcher
	run enos.RunRef
	// actionTimeout is the action's timeout, which its report of a
	// timed-out wait names; the resource's is in its timeouts block.
	actionTimeout time.Duration
	// shown are the parameters plan and state show, which the log tail of
	// a failed run shows unmasked (see failureDetail).
	shown map[string]string
	// ignoreRunResult makes the action's failed run a warning.
	ignoreRunResult bool
}

// taskLogReader reads a task's log, for the report of a failed run.
type taskLogReader interface {
	GetTaskInstanceLog(ctx context.Context, taskInstID string, maxLength int) (string, error)
}

// Summaries of a wait's end.
const (
	runVanished         = "Flow run no longer known to the service"
	runUnfinished       = "Flow run did not finish"
	waitInterrupted     = "Waiting for the flow run was interrupted"
	cancelledNotStopped = "Cancelled flow run did not stop"
)

// runEndedSummary is the summary of a run seen ending without success.
func runEndedSummary(status string) string {
	return "Flow run ended with status " + status
}

// describeWaitEnd reports how w's wait ended with res: nothing for a
// success (or a cancelled run's end), a failed run with its failed tasks
// and their log tails (read with logs), and for any other end what
// becomes of the run and what to do.
func describeWaitEnd(ctx context.Context, logs taskLogReader, w runWatch, res runwait.Result[*enos.FlowInstance]) diag.Diagnostics {
	var diags diag.Diagnostics
	id, flowID, status := w.run.InstanceID, w.run.FlowID, lastStatusName(res)
	// How an unfinished wait ended, and what separates that from what
	// follows: a paragraph after an error, which is long.
	ended, sep := "", " "
	switch res.Outcome {
	case runwait.Succeeded:
		return diags
	case runwait.Failed:
		if w.by == watchCancel {
			return diags // a cancelled run ends so
		}
		summary, detail := runEndedSummary(status), failureDetail(ctx, logs, res.Status, w.shown)
		switch {
		case w.by == watchCreate:
			diags.AddError(summary, detail+"\n\nThe resource is tainted: the next apply starts a new run.")
		case w.by == watchResumed:
			diags.AddError(summary, detail+"\n\nThe next apply replaces the resource: it starts a new run.")
		case w.ignoreRunResult:
			diags.AddWarning(summary, detail+"\n\nignore_run_result is true, so the failed run does not fail the invocation.")
		default:
			diags.AddError(summary, detail+"\n\nSet ignore_run_result = true to report a failed run as a warning instead.")
		}
		return diags
	case runwait.NotFound:
		diags.Append(vanishedRun(w.by, w.run, notFoundReads, res.Err, status))
		return diags
	case runwait.TimedOut:
		ended = fmt.Sprintf("Waiting for run %s of flow %d: the run was still %s when %s expired.", id, flowID, status, w.timeoutName())
	case runwait.Interrupted:
		ended = fmt.Sprintf("Waiting for run %s of flow %d was interrupted while the run was %s.", id, flowID, status)
	default:
		ended = fmt.Sprintf("Waiting for run %s of flow %d: reading the run's status failed: %s", id, flowID, res.Err)
		sep = "\n\n"
	}
	// What to do about a timed-out wait; a cancel's report says its own.
	fix := ""
	if res.Outcome == runwait.TimedOut {
		fix = " Raise " + w.timeoutAttribute() + ", or set wait_for_completion = false to stop waiting once the run is started."
	}
	switch w.by {
	case watchCreate, watchResumed:
		if res.Outcome == runwait.Interrupted {
			diags.AddWarning(waitInterrupted, ended+sep+"The run goes on in the service and stays in state, not tainted. "+
				"The next plan shows an in-place update that follows this same run to its end and reports it, without starting another run; "+
				"set wait_for_completion = false to stop following it.")
			return diags
		}
		then := "The run goes on in the service. The resource is tainted: the next apply replaces it with a new run " +
			"(on_destroy decides whether this run is cancelled or left to go on)."
		if w.by == watchResumed {
			then = "The run goes on in the service and stays in state: the next apply follows it again, without starting another."
		}
		diags.AddError(runUnfinished, ended+sep+then+fix)
	case watchCancel:
		diags.AddError(cancelledNotStopped, fmt.Sprintf("Run %s was cancelled but is not seen finished. ", id)+ended+sep+
			`It stays in state, and the next destroy cancels it again. Raise timeouts.delete, or destroy with on_destroy = "detach".`)
	default:
		summary := runUnfinished
		if res.Outcome == runwait.Interrupted {
			summary = waitInterrupted
		}
		goesOn := fmt.Sprintf("The run goes on in the service; nothing records it in state. Follow it with the dataflow_flow_instance data source "+
			"(flow_instance_id = %q) or in the Dataflow console. Invoking the action again starts another run.", id)
		diags.AddError(summary, ended+sep+goesOn+fix)
	}
	return diags
}

// timeoutAttribute is the attribute that bounds a watch's wait.
func (w runWatch) timeoutAttribute() string {
	switch w.by {
	case watchCreate:
		return "timeouts.create"
	case watchResumed:
		return "timeouts.update"
	case watchCancel:
		return "timeouts.delete"
	}
	return "timeout"
}

// timeoutName names the bound of a watch's wait in the report of its
// expiry: the action's with its value, which no block in the plan shows.
func (w runWatch) timeoutName() string {
	if w.by == watchAction {
		return fmt.Sprintf("the action's timeout (%s)", w.actionTimeout)
	}
	return w.timeoutAttribute()
}

// vanishedRun is the report of a run the service no longer knows, after
// misses consecutive reads that did not find it (1 for a single read, the
// last failing with err), as by watched it with lastStatus last seen.
func vanishedRun(by watcher, run enos.RunRef, misses int, err error, lastStatus string) diag.Diagnostic {
	seen := fmt.Sprintf("The service does not know run %s of flow %d any more (%s).", run.InstanceID, run.FlowID, err)
	if misses > 1 {
		seen = fmt.Sprintf("%d consecutive reads did not find run %s of flow %d (%s).", misses, run.InstanceID, run.FlowID, err)
	}
	switch by {
	case watchDestroy:
		return diag.NewWarningDiagnostic(runVanished, seen+" It was not cancelled, and is forgotten.")
	case watchCancel:
		return diag.NewWarningDiagnostic(runVanished, seen+" Its cancel had been sent, so whether it stopped is unknown. It is forgotten.")
	case watchAction:
		return diag.NewErrorDiagnostic(runVanished, seen+fmt.Sprintf(" How it ended is unknown; its last known status was %s.", lastStatus))
	}
	return diag.NewWarningDiagnostic(runVanished, seen+fmt.Sprintf(" It was started, so it stays in state with its last known status %s and is not triggered again. "+
		"To start a new run, use `terraform apply -replace` on this resource or change its triggers.", lastStatus))
}

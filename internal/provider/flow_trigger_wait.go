package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
	"github.com/enos-community/terraform-provider-dataflow/internal/runwait"
)

const (
	// maxPollBackoff is how far the poll interval grows unless the
	// configured interval is already longer.
	maxPollBackoff = time.Minute
	// pollGrowth is the factor by which the interval grows after a check,
	// so that long runs cost few requests.
	pollGrowth = 1.5
	// notFoundReads is how many consecutive reads that do not find a
	// started run end a wait: one read that misses it is no verdict.
	notFoundReads = 3
	// logTailLines and logTailBytes bound how much of a failed task's log
	// an error shows: a few long lines must not flood a CI log.
	logTailLines = 20
	logTailBytes = 4 << 10
	// logFetchLength is the log length requested; the tail is cut locally
	// because the service reference does not say which end maxLength keeps.
	logFetchLength = 1 << 20
	// maxLoggedFailedTasks bounds the log calls after a failed run.
	maxLoggedFailedTasks = 3
)

// runPolicy checks a run first after firstCheck, then every pollInterval,
// growing by half after each check up to max(pollInterval,
// maxPollBackoff). Checks fall on whole seconds: see waitForRun.
func runPolicy(firstCheck, pollInterval time.Duration) runwait.Policy {
	return runwait.Policy{
		InitialDelay: firstCheck, Interval: pollInterval, Growth: pollGrowth,
		Ceiling: max(pollInterval, maxPollBackoff), AlignToSecond: true,
	}
}

// waitForRun follows a run until it ends, ctx ends (timeout or interrupt),
// or the service keeps not knowing it. The resource's create, the update
// that resumes an interrupted wait, a delete that cancels, and the action
// share it. A transient failure that outlasts the client's retries is
// logged and the next check tries again: the run goes on at the service
// whatever the network does. onChange, when not nil, is called with each
// status read that differs from the one before in the run's or a task's
// status (the first read always does).
func waitForRun(ctx context.Context, client *enos.Client, run enos.RunRef, policy runwait.Policy, onChange func(*enos.FlowInstance)) runwait.Result[*enos.FlowInstance] {
	var last *enos.FlowInstance
	return runwait.Wait(ctx, runwait.Config[*enos.FlowInstance]{
		Status: func(ctx context.Context, due time.Time) (*enos.FlowInstance, error) {
			// RunStatus answers with an instance search of the run's
			// trigger hour started at or after due, so runs waited on
			// together share one search per check; the policy aligns
			// checks to whole seconds so that their due times match.
			inst, err := client.RunStatus(ctx, run, due)
			if err != nil {
				tflog.Warn(ctx, "reading the run's status failed", map[string]any{"flow_instance_id": run.InstanceID, "error": err.Error()})
				return nil, err
			}
			return inst, nil
		},
		OnStatus: func(inst *enos.FlowInstance) {
			tasks := taskSummary(inst.Tasks)
			fields := map[string]any{"flow_instance_id": run.InstanceID, "status": inst.Status.Name(), "tasks": tasks}
			changed := last == nil || last.Status != inst.Status || taskSummary(last.Tasks) != tasks
			last = inst
			if !changed {
				tflog.Debug(ctx, "flow run status unchanged", fields)
				return
			}
			tflog.Info(ctx, "flow run status", fields)
			if onChange != nil {
				onChange(inst)
			}
		},
		Phase: func(inst *enos.FlowInstance) runwait.Phase {
			switch {
			case inst.Status.Succeeded():
				return runwait.Success
			case inst.Status.Terminal():
				return runwait.Failure
			}
			return runwait.Pending
		},
		Transient:     enos.IsTransient,
		IsNotFound:    enos.IsNotFound,
		NotFoundAfter: notFoundReads,
		Policy:        policy,
	})
}

// lastStatusName is the status a wait last saw, INIT when none.
func lastStatusName(res runwait.Result[*enos.FlowInstance]) string {
	if res.Seen {
		return res.Status.Status.Name()
	}
	return enos.StatusInit.Name()
}

// taskSummary renders tasks as "name=STATUS, ..." for logs and errors.
func taskSummary(tasks []enos.TaskInstance) string {
	parts := make([]string, len(tasks))
	for i, t := range tasks {
		parts[i] = t.TaskName + "=" + t.Status
	}
	return strings.Join(parts, ", ")
}

// failedTask reports whether the task's status makes a run fail (not
// cancelled or skipped ones).
func failedTask(t enos.TaskInstance) bool {
	status, ok := enos.ParseStatusName(t.Status)
	return ok && status.Outcome() == enos.OutcomeFailed
}

// failureDetail explains a run that finished without success: its status,
// its failed tasks and the last lines of their logs (read with client).
//
// The log tail is what a task printed, and a task may print its input:
// the values of the run's parameters other than those of shown (the
// configured, non-secret parameters: write-only values are among the
// others) are masked; the client has taken its own secrets out.
func failureDetail(ctx context.Context, client *enos.Client, inst *enos.FlowInstance, shown map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s of flow %d (%s) ended with status %s (code %d).", inst.InstanceID, inst.FlowID, inst.FlowName, inst.Status.Name(), int(inst.Status))
	var failed []enos.TaskInstance
	for _, t := range inst.Tasks {
		if failedTask(t) {
			failed = append(failed, t)
		}
	}
	if len(failed) == 0 {
		fmt.Fprintf(&b, "\nNo task reports a failure; tasks: %s.", taskSummary(inst.Tasks))
	} else {
		names := make([]string, len(failed))
		for i, t := range failed {
			names[i] = fmt.Sprintf("%s (task instance %s, %s)", t.TaskName, t.TaskInstID, t.Status)
		}
		fmt.Fprintf(&b, "\nFailed task(s): %s.", strings.Join(names, ", "))
	}
	for _, t := range failed[:min(len(failed), maxLoggedFailedTasks)] {
		log, err := client.GetTaskInstanceLog(ctx, t.TaskInstID, logFetchLength)
		if err != nil {
			fmt.Fprintf(&b, "\n\nThe log of task %s is not available: %s", t.TaskName, err)
			continue
		}
		fmt.Fprintf(&b, "\n\nLast lines of the log of task %s:\n%s", t.TaskName, maskParameterValues(logTail(log, logTailLines), inst.Parameters, shown))
	}
	return b.String()
}

// shownParameters are the configured parameters, which plan and state show.
func (m *flowTriggerModel) shownParameters(ctx context.Context) map[string]string {
	shown := map[string]string{}
	_ = m.Parameters.ElementsAs(ctx, &shown, false) // validated at plan; an element that is not text is masked
	return shown
}

// runVanished is the summary of every report of a run the service no
// longer knows.
const runVanished = "Flow run no longer known to the service"

// vanishedRunKept is the detail of such a report where the resource keeps
// the run: what was seen, then what the provider does about it.
func vanishedRunKept(seen, lastStatus string) string {
	return seen + fmt.Sprintf(" It was started, so it stays in state with its last known status %s and is not triggered again. "+
		"To start a new run, use `terraform apply -replace` on this resource or change its triggers.", lastStatus)
}

// maskedValue stands for a value a log tail must not show.
const maskedValue = "(sensitive value)"

// maskParameterValues replaces in text the values of params whose key is
// not in shown, or whose value differs from the shown one; longer values
// first, so that a value holding a shorter one is masked whole.
func maskParameterValues(text string, params []enos.Parameter, shown map[string]string) string {
	var secrets []string
	for _, p := range params {
		if v, ok := shown[p.Key]; (!ok || v != p.Value) && p.Value != "" {
			secrets = append(secrets, p.Value)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, v := range secrets {
		text = strings.ReplaceAll(text, v, maskedValue)
	}
	return text
}

// logTail returns the last n lines of log, at most logTailBytes of them
// (cut at the front, marked "...").
func logTail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	tail := strings.Join(lines[max(0, len(lines)-n):], "\n")
	if len(tail) > logTailBytes {
		tail = "..." + strings.ToValidUTF8(tail[len(tail)-logTailBytes:], "")
	}
	return tail
}

// waitStage says which operation waited: an error in create taints the
// resource, one in the update that resumes a wait does not.
type waitStage string

const (
	stageCreate waitStage = "create"
	stageUpdate waitStage = "update"
)

// endWait records in state what the wait saw and in private the mark the
// resource keeps (see waitMark), and reports how the wait ended.
func (r *flowTriggerResource) endWait(ctx context.Context, m *flowTriggerModel, res runwait.Result[*enos.FlowInstance], stage waitStage, state *tfsdk.State, private privateSetter) diag.Diagnostics {
	var diags diag.Diagnostics
	if res.Seen {
		diags.Append(m.setInstance(ctx, res.Status)...)
	}
	diags.Append(state.Set(ctx, m)...)
	mark, reported := r.describeWaitEnd(ctx, m, res, stage)
	diags.Append(reported...)
	diags.Append(setWaitMark(ctx, private, mark)...)
	return diags
}

// describeWaitEnd says how a wait ended and which mark the resource keeps.
func (r *flowTriggerResource) describeWaitEnd(ctx context.Context, m *flowTriggerModel, res runwait.Result[*enos.FlowInstance], stage waitStage) (waitMark, diag.Diagnostics) {
	var diags diag.Diagnostics
	id, flowID, status := m.ID.ValueString(), m.FlowID.ValueInt64(), lastStatusName(res)
	// What the next apply does with a run whose wait ended in an error.
	next := "The resource is tainted: the next apply replaces it with a new run (on_destroy decides whether this run is cancelled or left to go on)."
	mark := waitOver
	if stage == stageUpdate {
		next = "The run stays in state: the next apply follows it again, without starting another."
		mark = waitPending
	}
	switch res.Outcome {
	case runwait.Succeeded:
		return waitOver, diags
	case runwait.Failed:
		detail := failureDetail(ctx, r.data.client, res.Status, m.shownParameters(ctx))
		if stage == stageCreate {
			detail += "\n\nThe resource is tainted: the next apply starts a new run."
		} else {
			detail += "\n\nThe next apply replaces the resource: it starts a new run."
		}
		diags.AddError(fmt.Sprintf("Flow run ended with status %s", status), detail)
		return waitFailed, diags
	case runwait.Interrupted:
		diags.AddWarning("Waiting for the flow run was interrupted", fmt.Sprintf(
			"Waiting for run %s of flow %d was interrupted while the run was %s. The run goes on in the service and stays in state, not tainted. "+
				"The next plan shows an in-place update that follows this same run to its end and reports it, without starting another run; "+
				"set wait_for_completion = false to stop following it.", id, flowID, status))
		return waitPending, diags
	case runwait.NotFound:
		diags.AddWarning(runVanished, vanishedRunKept(fmt.Sprintf("%d consecutive reads did not find run %s of flow %d (%s).",
			notFoundReads, id, flowID, res.Err), status))
		if stage == stageCreate {
			// A run that was just started may yet appear: follow it again.
			return waitPending, diags
		}
		return waitOver, diags
	case runwait.TimedOut:
		diags.AddError("Flow run did not finish", fmt.Sprintf(
			"Waiting for run %s of flow %d: the run was still %s when timeouts.%s expired; it goes on in the service. %s "+
				"Raise timeouts.%s, or set wait_for_completion = false to stop waiting once the run is started.",
			id, flowID, status, stage, next, stage))
	default:
		diags.AddError("Flow run did not finish", fmt.Sprintf(
			"Waiting for run %s of flow %d: reading the run's status: %s\n\n%s", id, flowID, res.Err, next))
	}
	return mark, diags
}

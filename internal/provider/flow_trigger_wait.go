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
// its failed tasks and the last lines of their logs (read with logs).
//
// The log tail is what a task printed, and a task may print its input:
// the values of the run's parameters other than those of shown (the
// configured, non-secret parameters: write-only values are among the
// others) are masked; the client has taken its own secrets out.
func failureDetail(ctx context.Context, logs taskLogReader, inst *enos.FlowInstance, shown map[string]string) string {
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
		log, err := logs.GetTaskInstanceLog(ctx, t.TaskInstID, logFetchLength)
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

// endWait records in state what the wait of by (watchCreate or
// watchResumed) saw and in private the mark the resource keeps, and
// reports how the wait ended.
func (r *flowTriggerResource) endWait(ctx context.Context, m *flowTriggerModel, res runwait.Result[*enos.FlowInstance], by watcher, state *tfsdk.State, private privateSetter) diag.Diagnostics {
	var diags diag.Diagnostics
	if res.Seen {
		diags.Append(m.setInstance(ctx, res.Status)...)
	}
	diags.Append(state.Set(ctx, m)...)
	diags.Append(describeWaitEnd(ctx, r.data.client, runWatch{by: by, run: m.runRef(), shown: m.shownParameters(ctx)}, res)...)
	diags.Append(setWaitMark(ctx, private, markAfterWait(res.Outcome, by))...)
	return diags
}

// markAfterWait is the mark a resource keeps after a wait of by that
// ended with outcome (see waitMark).
func markAfterWait(outcome runwait.Outcome, by watcher) waitMark {
	switch outcome {
	case runwait.Succeeded:
		return waitOver
	case runwait.Failed:
		return waitFailed
	case runwait.Interrupted:
		return waitPending
	case runwait.NotFound:
		if by == watchCreate {
			// A run that was just started may yet appear: follow it again.
			return waitPending
		}
		return waitOver
	}
	// A create's error taints the resource, whose replacement is a new
	// run; an update's leaves it, and the next apply follows it again.
	if by == watchCreate {
		return waitOver
	}
	return waitPending
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

const (
	// maxPollBackoff is how far the poll interval grows unless the
	// configured interval is already longer.
	maxPollBackoff = time.Minute
	// logTailLines is how much of a failed task's log an error shows.
	logTailLines = 20
	// logFetchLength is the log length requested; the tail is cut locally
	// because the spec does not say which end maxLength keeps.
	logFetchLength = 1 << 20
	// maxLoggedFailedTasks bounds the log calls after a failed run.
	maxLoggedFailedTasks = 3
)

// waitForTerminal polls the run until it reaches a terminal status. The
// first check comes after firstCheck; then the interval starts at
// pollInterval and grows by half after each check up to
// max(pollInterval, maxPollBackoff), so long runs cost few requests. Checks
// fall on whole seconds, so that runs waited on together are read together
// (the client answers them with one request per flow). A transient failure
// that outlasts the client's retries is logged and the next check tries
// again: the run goes on at the service whatever the network does. It
// returns the last instance read (nil if none) with an error when ctx ends
// first; timeoutName names the timeout for that message.
func (r *flowTriggerResource) waitForTerminal(ctx context.Context, run enos.RunRef, firstCheck, pollInterval time.Duration, timeoutName string) (*enos.FlowInstance, error) {
	var last *enos.FlowInstance
	delay, ceiling := pollInterval, max(pollInterval, maxPollBackoff)
	due := time.Now().Add(firstCheck)
	timer := time.NewTimer(firstCheck)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return last, waitExpired(ctx, last, timeoutName)
		case <-timer.C:
		}
		// Runs polled at the same due time share one status request.
		inst, err := r.data.client.RunStatus(ctx, run, due)
		switch {
		case ctx.Err() != nil:
			return last, waitExpired(ctx, last, timeoutName)
		case enos.IsTransient(err):
			tflog.Warn(ctx, "reading the run's status failed; trying again at the next check", map[string]any{
				"flow_instance_id": run.InstanceID, "error": err.Error()})
		case err != nil:
			return last, fmt.Errorf("reading the run's status: %w", err)
		default:
			fields := map[string]any{"flow_instance_id": run.InstanceID, "status": inst.Status.Name(), "tasks": taskSummary(inst.Tasks)}
			if last == nil || last.Status != inst.Status {
				tflog.Info(ctx, "flow run status", fields)
			} else {
				tflog.Debug(ctx, "flow run status unchanged", fields)
			}
			last = inst
			if inst.Status.Terminal() {
				return inst, nil
			}
		}
		due = wholeSecondAfter(time.Now().Add(delay))
		timer.Reset(time.Until(due))
		delay = min(delay*3/2, ceiling)
	}
}

// wholeSecondAfter is t rounded up to a whole second.
func wholeSecondAfter(t time.Time) time.Time {
	if rounded := t.Truncate(time.Second); rounded.Before(t) {
		return rounded.Add(time.Second)
	}
	return t
}

// waitExpired says why waiting stopped: the timeout, or an interrupt
// (Ctrl-C, or a CI job cancelled) that Terraform passed on.
func waitExpired(ctx context.Context, last *enos.FlowInstance, timeoutName string) error {
	status := enos.StatusInit.Name()
	if last != nil {
		status = last.Status.Name()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the run was still %s when timeouts.%s expired", status, timeoutName)
	}
	return fmt.Errorf("waiting was interrupted while the run was %s; the run goes on in the service", status)
}

// taskSummary renders tasks as "name=STATUS, ..." for logs and errors.
func taskSummary(tasks []enos.TaskInstance) string {
	parts := make([]string, len(tasks))
	for i, t := range tasks {
		parts[i] = t.TaskName + "=" + t.Status
	}
	return strings.Join(parts, ", ")
}

// failedTaskStatuses are the task statuses that make a run fail.
var failedTaskStatuses = map[string]bool{"FAIL": true, "TIMEOUT": true, "INTERNAL_ERROR": true}

// failureDetail explains a run that finished without success: its status,
// its failed tasks and the last lines of their logs.
func (r *flowTriggerResource) failureDetail(ctx context.Context, inst *enos.FlowInstance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s of flow %d (%s) ended with status %s (code %d).", inst.InstanceID, inst.FlowID, inst.FlowName, inst.Status.Name(), int(inst.Status))
	var failed []enos.TaskInstance
	for _, t := range inst.Tasks {
		if failedTaskStatuses[t.Status] {
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
		log, err := r.data.client.GetTaskInstanceLog(ctx, t.TaskInstID, logFetchLength)
		if err != nil {
			fmt.Fprintf(&b, "\n\nThe log of task %s is not available: %s", t.TaskName, err)
			continue
		}
		fmt.Fprintf(&b, "\n\nLast lines of the log of task %s:\n%s", t.TaskName, logTail(log, logTailLines))
	}
	b.WriteString("\n\nThe resource is tainted: the next apply starts a new run.")
	return b.String()
}

// logTail returns the last n lines of log.
func logTail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

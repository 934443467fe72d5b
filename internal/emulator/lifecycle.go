package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status codes of flow instances (SERVICE.md §4.3).
const (
	statusFail    = -1
	statusInit    = 0
	statusSuccess = 1
	statusRunning = 2
	statusWait    = 5
	statusReady   = 6
	statusTimeout = 7
	statusCancel  = 8
)

var statusNames = map[int]string{
	-1: "FAIL", 0: "INIT", 1: "SUCCESS", 2: "RUNNING", 3: "SUSPEND", 4: "INTERNAL_ERROR",
	5: "WAIT", 6: "READY", 7: "TIMEOUT", 8: "CANCEL", 9: "RERUN", 10: "SKIP",
}

func terminal(status int) bool {
	switch status {
	case statusFail, statusSuccess, 4, statusTimeout, statusCancel, 10:
		return true
	}
	return false
}

// readyPhase is how long a run shows READY after it gets its flow's run slot
// and before its first task starts, so that clients can observe READY.
const readyPhase = time.Second

// endOfTime stands for "never" when asking when a run ends.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// instance is one run of a flow. Its progress is not stored: view derives it
// from the times below and the clock, so runs advance lazily.
type instance struct {
	id          string
	seq         int64
	flow        *flow
	triggerTime time.Time
	created     time.Time
	params      []Parameter
	owners      []string // the flow's owners at trigger time
	tasks       []taskRun
	readyAt     time.Time // when the run slot was granted; zero while queued
	cancelledAt time.Time
}

// taskRun is a task as it was defined when the run was triggered.
type taskRun struct {
	TaskSpec
	instID  string
	skipped bool // before the start task of triggerFromTask
}

type taskRef struct {
	in    *instance
	index int
}

type taskView struct {
	status     string
	start, end time.Time // zero when not reached
}

type instanceView struct {
	status     int
	start, end time.Time // zero when not reached
	tasks      []taskView
}

// view computes the run's state at now.
func (in *instance) view(now time.Time) instanceView {
	v := instanceView{tasks: make([]taskView, len(in.tasks))}
	cancelled := !in.cancelledAt.IsZero()
	limit := now
	if cancelled {
		limit = in.cancelledAt // nothing progresses after a cancel
	}
	if in.readyAt.IsZero() || limit.Before(in.readyAt.Add(readyPhase)) {
		for i, t := range in.tasks {
			v.tasks[i].status = unreachedTaskStatus(t.skipped, cancelled)
		}
		switch {
		case cancelled:
			v.status, v.end = statusCancel, in.cancelledAt
		case !in.readyAt.IsZero():
			v.status = statusReady
		case in.triggerTime.After(now):
			v.status = statusInit
		default:
			v.status = statusWait
		}
		return v
	}
	v.start = in.readyAt.Add(readyPhase)
	v.status = statusSuccess
	at := v.start
	const (
		flowing = iota
		unfinished
		ended
	)
	phase := flowing
	for i, t := range in.tasks {
		tv := &v.tasks[i]
		switch {
		case t.skipped || phase == ended:
			tv.status = "NONE"
			continue
		case phase == unfinished || at.After(limit):
			tv.status = unreachedTaskStatus(false, cancelled)
			phase = unfinished
			continue
		}
		tv.start = at
		end := at.Add(time.Duration(t.Duration))
		if t.Outcome == OutcomeHang || end.After(limit) {
			tv.status = "RUNNING"
			if cancelled {
				tv.status, tv.end = "CANCEL", in.cancelledAt
			}
			phase = unfinished
			continue
		}
		tv.end, at = end, end
		switch t.Outcome {
		case OutcomeFail:
			tv.status, v.status, phase = "FAIL", statusFail, ended
		case OutcomeTimeout:
			tv.status, v.status, phase = "TIMEOUT", statusTimeout, ended
		default:
			tv.status = "SUCCESS"
		}
	}
	switch {
	case phase == unfinished && cancelled:
		v.status, v.end = statusCancel, in.cancelledAt
	case phase == unfinished:
		v.status = statusRunning
	default:
		v.end = at
	}
	return v
}

func unreachedTaskStatus(skipped, cancelled bool) string {
	switch {
	case skipped:
		return "NONE"
	case cancelled:
		return "CANCEL"
	}
	return "INIT"
}

// endAt is when the run releases its flow's slot; false while unknown (not
// started, or a hanging task).
func (in *instance) endAt() (time.Time, bool) {
	if !in.cancelledAt.IsZero() {
		return in.cancelledAt, true
	}
	if in.readyAt.IsZero() {
		return time.Time{}, false
	}
	v := in.view(endOfTime)
	return v.end, !v.end.IsZero()
}

// advance brings every flow's queue up to now.
func (e *Emulator) advance(now time.Time) {
	for _, f := range e.flows {
		e.advanceFlow(f, now)
	}
}

// advanceFlow replays, up to now, the flow's single run slot: the current run
// ends, then the queued run that could start earliest takes the slot.
// Every state change calls it first, so all decisions happen in time order.
func (e *Emulator) advanceFlow(f *flow, now time.Time) {
	for {
		if f.current != nil {
			end, ok := f.current.endAt()
			if !ok || end.After(now) {
				return
			}
			f.current, f.freeAt = nil, end
		}
		next, at := f.nextToStart()
		if next == nil || at.After(now) {
			return
		}
		next.readyAt, f.current = at, next
		f.pending = slices.DeleteFunc(f.pending, func(x *instance) bool { return x == next })
	}
}

// nextToStart picks the queued run that can start first (not before its
// trigger time, its creation, or the slot's release), ties going by trigger
// time, then creation.
func (f *flow) nextToStart() (*instance, time.Time) {
	var best *instance
	var bestAt time.Time
	for _, p := range f.pending {
		at := latest(p.triggerTime, p.created, f.freeAt)
		if best == nil || at.Before(bestAt) || at.Equal(bestAt) && queuedBefore(p, best) {
			best, bestAt = p, at
		}
	}
	return best, bestAt
}

func queuedBefore(a, b *instance) bool {
	if !a.triggerTime.Equal(b.triggerTime) {
		return a.triggerTime.Before(b.triggerTime)
	}
	return a.seq < b.seq
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// instanceSuffix is the trigger time in the server zone cut to the minute,
// or to the hour for flows with hour ids (§4.5).
func (e *Emulator) instanceSuffix(f *flow, trigger time.Time) string {
	if f.spec.InstanceIDFormat == IDHour {
		return trigger.In(e.zone).Format("2006010215")
	}
	return trigger.In(e.zone).Format("200601021504") + "00"
}

// instanceID is the ID a trigger of f at trigger gets.
func (e *Emulator) instanceID(f *flow, trigger time.Time) string {
	return fmt.Sprintf("%d-%s", f.spec.ID, e.instanceSuffix(f, trigger))
}

// createInstance queues a new run of f; tasks before startTask are skipped.
func (e *Emulator) createInstance(f *flow, trigger, now time.Time, params []Parameter, startTask int) *instance {
	suffix := e.instanceSuffix(f, trigger)
	e.seq++
	in := &instance{
		id:          e.instanceID(f, trigger),
		seq:         e.seq,
		flow:        f,
		triggerTime: trigger,
		created:     now,
		params:      params,
		owners:      slices.Clone(f.spec.Owners),
	}
	for i, t := range f.spec.Tasks {
		tr := taskRun{TaskSpec: t, instID: fmt.Sprintf("%d-%s", t.ID, suffix), skipped: i < startTask}
		in.tasks = append(in.tasks, tr)
		e.taskInstances[tr.instID] = taskRef{in: in, index: i}
	}
	e.instances[in.id] = in
	e.instanceOrder = append(e.instanceOrder, in)
	f.pending = append(f.pending, in)
	e.advanceFlow(f, now)
	return in
}

// cancel stops a run that has not finished; a finished one is left alone.
func (e *Emulator) cancel(in *instance, now time.Time) {
	if terminal(in.view(now).status) {
		return
	}
	in.cancelledAt = now
	f := in.flow
	f.pending = slices.DeleteFunc(f.pending, func(x *instance) bool { return x == in })
	e.advanceFlow(f, now)
}

// maxLogLines bounds the progress lines of a long or hanging task.
const maxLogLines = 600

// taskLog renders the synthetic log of a task that has started, one
// time-stamped line per second of its run so far. A failed task prints the
// run's parameters, as a script that dumps its input on failure does: the
// provider must mask the secret ones in what it shows.
func (e *Emulator) taskLog(t taskRun, tv taskView, now time.Time, params []Parameter) string {
	stamp := func(at time.Time) string { return at.In(e.zone).Format("2006-01-02 15:04:05") }
	var b strings.Builder
	fmt.Fprintf(&b, "%s INFO  [%s] task %s started\n", stamp(tv.start), t.instID, t.Name)
	until := now
	if !tv.end.IsZero() {
		until = tv.end
	}
	for i, at := 1, tv.start.Add(time.Second); !at.After(until) && i <= maxLogLines; i, at = i+1, at.Add(time.Second) {
		if !tv.end.IsZero() && at.Equal(tv.end) {
			break
		}
		fmt.Fprintf(&b, "%s INFO  [%s] task %s running, %ds elapsed\n", stamp(at), t.instID, t.Name, i)
	}
	switch tv.status {
	case "SUCCESS":
		fmt.Fprintf(&b, "%s INFO  [%s] task %s finished: SUCCESS\n", stamp(tv.end), t.instID, t.Name)
	case "FAIL":
		fmt.Fprintf(&b, "%s ERROR [%s] task %s failed: exit code 1\n", stamp(tv.end), t.instID, t.Name)
		for _, p := range params {
			fmt.Fprintf(&b, "%s ERROR [%s]   %s=%s\n", stamp(tv.end), t.instID, p.Key, p.Value)
		}
	case "TIMEOUT":
		fmt.Fprintf(&b, "%s ERROR [%s] task %s timed out\n", stamp(tv.end), t.instID, t.Name)
	case "CANCEL":
		fmt.Fprintf(&b, "%s WARN  [%s] task %s cancelled\n", stamp(tv.end), t.instID, t.Name)
	}
	return b.String()
}

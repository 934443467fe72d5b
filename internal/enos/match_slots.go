package enos

import (
	"sync"
	"time"
)

// A flow's slot is the span of trigger times that share one instance id:
// the service names a run after the flow and its trigger time cut to the
// minute, or to the hour for some flows (SERVICE.md §4.5, "8435-2021020211"), and
// refuses or merges a second trigger in the same slot (§4.6). A Client
// assumes minute slots until the service's answers show hour slots.
const (
	minuteSlot = time.Minute
	hourSlot   = time.Hour
)

// slotStart is the start of the slot of size that holds t, in the server's
// zone loc (hours are cut in the server's zone, which may be off the hour
// from UTC).
func slotStart(t time.Time, size time.Duration, loc *time.Location) time.Time {
	if loc == nil {
		loc = t.Location()
	}
	lt := t.In(loc)
	if size == hourSlot {
		return time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, loc)
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), 0, 0, loc)
}

// runRegistry remembers, per Client, the trigger times used per flow, each
// flow's slot size once learned, and the instance ids handed out, so that
// one process never starts two runs of a flow in one slot nor hands one run
// to two callers.
type runRegistry struct {
	mu    sync.Mutex
	flows map[int64]*flowSlots
	ids   map[string]handedOut
	// unsettled are the triggers whose outcome StartRun returned unknown
	// without an id to claim (the server's zone unknown).
	unsettled []handedOut
	// answered are the ids the service answered triggers with.
	answered map[string]bool
}

type flowSlots struct {
	size     time.Duration // minuteSlot until hour slots are learned
	reserved []time.Time   // trigger times chosen or sent for the flow
}

// handedOut is a run StartRun has returned, or is verifying.
type handedOut struct {
	flowID      int64
	triggerTime time.Time
	// verifying is open while the claimant reads the run back to tell
	// whether it is the one it started; it is closed when the claim is kept
	// or given up, and nil once kept.
	verifying chan struct{}
}

func (r *runRegistry) flowLocked(flowID int64) *flowSlots {
	if r.flows == nil {
		r.flows = map[int64]*flowSlots{}
	}
	f := r.flows[flowID]
	if f == nil {
		f = &flowSlots{size: minuteSlot}
		r.flows[flowID] = f
	}
	return f
}

// slotSize is the flow's slot size as known so far.
func (r *runRegistry) slotSize(flowID int64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flowLocked(flowID).size
}

// learnHourSlots records that the flow's instance ids name hours.
func (r *runRegistry) learnHourSlots(flowID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flowLocked(flowID).size = hourSlot
}

func (f *flowSlots) freeLocked(start time.Time) bool {
	end := start.Add(f.size)
	for _, t := range f.reserved {
		if !t.Before(start) && t.Before(end) {
			return false
		}
	}
	return true
}

// reserveNow returns now when its slot is free for the flow, else the start
// of the next free slot, and reserves it.
func (r *runRegistry) reserveNow(flowID int64, now time.Time, loc *time.Location) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.flowLocked(flowID)
	if f.freeLocked(slotStart(now, f.size, loc)) {
		f.reserved = append(f.reserved, now)
		return now
	}
	return r.nextFreeLocked(f, now, loc)
}

// reserveAfter reserves and returns the start of the first free slot after t's.
func (r *runRegistry) reserveAfter(flowID int64, t time.Time, loc *time.Location) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextFreeLocked(r.flowLocked(flowID), t, loc)
}

func (r *runRegistry) nextFreeLocked(f *flowSlots, after time.Time, loc *time.Location) time.Time {
	s := slotStart(slotStart(after, f.size, loc).Add(f.size), f.size, loc)
	for !f.freeLocked(s) {
		s = slotStart(s.Add(f.size), f.size, loc)
	}
	f.reserved = append(f.reserved, s)
	return s
}

// reserve records t as used for the flow.
func (r *runRegistry) reserve(flowID int64, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.flowLocked(flowID)
	f.reserved = append(f.reserved, t)
}

// reservedIn reports whether this client used a trigger time of the flow in
// [start, end).
func (r *runRegistry) reservedIn(flowID int64, start, end time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.flowLocked(flowID).reserved {
		if !t.Before(start) && t.Before(end) {
			return true
		}
	}
	return false
}

// claim records id as handed out for a run of flowID triggered at t; it
// fails when it already was.
func (r *runRegistry) claim(id string, flowID int64, t time.Time) bool {
	_, held := r.claimUnlessHeld(id, flowID, t, false)
	return !held
}

// claimUnlessHeld claims id as claim does, or returns the run it is held
// for. Checking and claiming at once keeps two triggers answered with one
// id at the same time from both taking it. A verifying claim is kept or
// given up later (keep, release). A claim another caller is still
// verifying is waited for: until that caller's read-back decides, the
// claim is no evidence that the run is not the caller's own (the run's
// starter may be the second to be answered).
func (r *runRegistry) claimUnlessHeld(id string, flowID int64, t time.Time, verifying bool) (handedOut, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, held := r.settledLocked(id); held {
		return h, true
	}
	if r.ids == nil {
		r.ids = map[string]handedOut{}
	}
	h := handedOut{flowID: flowID, triggerTime: t}
	if verifying {
		h.verifying = make(chan struct{})
	}
	r.ids[id] = h
	return handedOut{}, false
}

// settledLocked returns id's claim once no caller is verifying it. The
// wait is bounded by the verifier's read-back, which the request timeout
// bounds.
func (r *runRegistry) settledLocked(id string) (handedOut, bool) {
	for {
		h, held := r.ids[id]
		if !held || h.verifying == nil {
			return h, held
		}
		r.mu.Unlock()
		<-h.verifying
		r.mu.Lock()
	}
}

// keep makes a verifying claim of id final: the run is the claimant's.
func (r *runRegistry) keep(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.ids[id]; ok && h.verifying != nil {
		close(h.verifying)
		h.verifying = nil
		r.ids[id] = h
	}
}

// release gives up a claim: the answered run proved to be an older one.
func (r *runRegistry) release(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.ids[id]; ok && h.verifying != nil {
		close(h.verifying)
	}
	delete(r.ids, id)
}

// held reports whether id was handed out, once no caller is verifying it.
func (r *runRegistry) held(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, held := r.settledLocked(id)
	return held
}

// heldAt returns a run of the flow, other than except, that this client
// handed out for trigger time t (see mayBeTriggerOf), or "(unknown id)"
// for a trigger of t recorded unsettled; "" when there is none.
func (r *runRegistry) heldAt(flowID int64, t time.Time, except string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, h := range r.ids {
		if id != except && h.flowID == flowID && isTriggerOf(t, h.triggerTime) {
			return id
		}
	}
	for _, u := range r.unsettled {
		if u.flowID == flowID && isTriggerOf(t, u.triggerTime) {
			return "(unknown id)"
		}
	}
	return ""
}

// heldIn reports whether this client handed out a run of the flow triggered
// in [start, end).
func (r *runRegistry) heldIn(flowID int64, start, end time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.ids {
		if h.flowID == flowID && !h.triggerTime.Before(start) && h.triggerTime.Before(end) {
			return true
		}
	}
	return false
}

// recordUnsettled records a trigger of the flow at t whose outcome is
// unknown and whose run's id is not known.
func (r *runRegistry) recordUnsettled(flowID int64, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unsettled = append(r.unsettled, handedOut{flowID: flowID, triggerTime: t})
}

// firstAnswer records that the service answered a trigger with id and
// reports whether it never did before in this process.
func (r *runRegistry) firstAnswer(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answered == nil {
		r.answered = map[string]bool{}
	}
	first := !r.answered[id]
	r.answered[id] = true
	return first
}

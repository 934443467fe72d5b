package enos

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	size      time.Duration // minuteSlot until hour slots are learned
	sizeKnown bool          // an instance id of the flow has shown its slot size
	reserved  []time.Time   // trigger times chosen or sent for the flow
}

// handedOut is a run StartRun has returned, or is verifying, or the
// expected id of a trigger whose outcome it returned unknown.
type handedOut struct {
	flowID      int64
	triggerTime time.Time
	// expected says that the id is only the documented form the run of an
	// unknown outcome would have (the slot size perhaps not yet learnt): its
	// run may have another form of it.
	expected bool
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
	f := r.flowLocked(flowID)
	f.size, f.sizeKnown = hourSlot, true
}

// learnFromID learns the flow's slot size from one of its instance ids in
// a documented form (see documentedIDs): 12 or 14 digits name a minute, 10
// an hour. Other ids teach nothing.
func (r *runRegistry) learnFromID(flowID int64, id string) {
	digits, ok := strings.CutPrefix(id, strconv.FormatInt(flowID, 10)+"-")
	if !ok || strings.Trim(digits, "0123456789") != "" {
		return
	}
	switch len(digits) {
	case 10:
		r.learnHourSlots(flowID)
	case 12, 14:
		r.mu.Lock()
		defer r.mu.Unlock()
		r.flowLocked(flowID).sizeKnown = true
	}
}

// turnSpan is the span of trigger times whose sends take turns (see
// slotTurns): the flow's slot once an id has shown its size, else an hour,
// the largest slot.
func (r *runRegistry) turnSpan(flowID int64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.flowLocked(flowID); f.sizeKnown {
		return f.size
	}
	return hourSlot
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
	return r.reservationsIn(flowID, start, end) > 0
}

// reservationsIn counts the trigger times of the flow this client used in
// [start, end).
func (r *runRegistry) reservationsIn(flowID int64, start, end time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.flowLocked(flowID).reserved {
		if !t.Before(start) && t.Before(end) {
			n++
		}
	}
	return n
}

// claim records id as handed out for a run of flowID triggered at t; it
// fails when it already was.
func (r *runRegistry) claim(id string, flowID int64, t time.Time) bool {
	_, held := r.claimUnlessHeld(id, flowID, t, false)
	return !held
}

// claimExpected claims the expected id of a trigger whose outcome is
// unknown, as claim does.
func (r *runRegistry) claimExpected(id string, flowID int64, t time.Time) bool {
	if !r.claim(id, flowID, t) {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.ids[id]
	h.expected = true
	r.ids[id] = h
	return true
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

// heldOf returns the first of ids, other than except, that this client
// holds for a run (once no caller is verifying it), or "".
func (r *runRegistry) heldOf(ids []string, except string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if _, held := r.settledLocked(id); held && id != except {
			return id
		}
	}
	return ""
}

// recordedFor returns the expected id of a trigger of the flow whose
// outcome this client returned unknown and whose run may be runID (one of
// the documented forms of its trigger time in the server's zone loc, and,
// when the run's trigger time runAt is known, a form of that time), or
// "(unknown id)" for such a trigger recorded without an id; "" when there
// is none. except is the caller's own claim.
func (r *runRegistry) recordedFor(flowID int64, runID string, runAt time.Time, loc *time.Location, except string) string {
	if loc == nil {
		return ""
	}
	mayHaveStarted := func(h handedOut) bool {
		return h.flowID == flowID && slices.Contains(documentedIDs(flowID, h.triggerTime, loc), runID) &&
			(runAt.IsZero() || mayBeTriggerOf(runAt, h.triggerTime))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, h := range r.ids {
		if h.expected && id != except && mayHaveStarted(h) {
			return id
		}
	}
	for _, u := range r.unsettled {
		if mayHaveStarted(u) {
			return "(unknown id)"
		}
	}
	return ""
}

// documentedIDs are the ids a run of the flow triggered at t has in the
// service's documented forms (API-INFERENCES.md, instance ids): the flow
// id and the trigger time in the server's zone cut to the minute (14 or 12
// digits) or to the hour (10 digits).
func documentedIDs(flowID int64, t time.Time, loc *time.Location) []string {
	lt := t.In(loc)
	prefix := fmt.Sprintf("%d-", flowID)
	return []string{prefix + lt.Format("200601021504") + "00", prefix + lt.Format("200601021504"), prefix + lt.Format("2006010215")}
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

// slotTurns lets one StartRun of a Client at a time send into a slot of a
// flow. Two triggers of one slot (two resources with the same flow and
// trigger_time, or two minutes of an hour-id flow's hour) would otherwise
// race for the slot's one run: the service may act on one send and answer
// the other first, or lose the first's answer while the other's look-up
// finds its run, and either could take that run for its own, leaving the
// trigger that started it to start another elsewhere with its parameters.
// Taking turns, the second sends once the first's outcome in the slot is
// settled (its run held, its expected id recorded, or the slot left) and
// meets the slot taken. Until an id of the flow shows its slot size, the
// turn spans the hour.
type slotTurns struct {
	mu   sync.Mutex
	busy map[slotTurnKey]chan struct{} // closed when the turn is given back
}

type slotTurnKey struct {
	flowID int64
	start  time.Time // the span's start
	span   time.Duration
}

// take waits for the turn of the span key names (asked again after each
// wait: the span may have been learnt meanwhile) and returns the function
// that gives it back; an error when ctx ends first (nothing has been sent
// then). Spans of one flow overlap when one is an hour: a turn waits for
// every busy turn of the flow that overlaps it.
func (s *slotTurns) take(ctx context.Context, key func() slotTurnKey) (func(), error) {
	for {
		k := key()
		s.mu.Lock()
		var held chan struct{}
		for other, done := range s.busy {
			if other.flowID == k.flowID && other.start.Before(k.start.Add(k.span)) && k.start.Before(other.start.Add(other.span)) {
				held = done
				break
			}
		}
		if held == nil {
			done := make(chan struct{})
			if s.busy == nil {
				s.busy = map[slotTurnKey]chan struct{}{}
			}
			s.busy[k] = done
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.busy, k)
				s.mu.Unlock()
				close(done)
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

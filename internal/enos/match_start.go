package enos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// RunStart is the result of StartRun.
type RunStart struct {
	InstanceID  string
	TriggerTime time.Time // the trigger time sent
	Adopted     bool      // the run was found after a trigger with an unknown outcome
	// Moved is set when the trigger time the caller chose was taken and the
	// run was triggered in another slot of the same period.
	Moved *TriggerMove
	// Warnings say where the run was kept on the service's word without
	// proof (a read-back that failed, a creation time unknown) and which
	// sent parameters the service stored otherwise; each names the run.
	Warnings []string
}

// TriggerMove says why a chosen trigger time was not the one sent.
type TriggerMove struct {
	From, To           time.Time // the caller's trigger time, and the one sent
	Period             Period    // the period of the flow's cycle both lie in
	SlotSize           time.Duration
	ExistingInstanceID string // the run that held From's slot; empty when unknown
}

// SlotName says "minute" or "hour".
func (m *TriggerMove) SlotName() string { return slotName(m.SlotSize) }

// maxSlotMoves bounds how often one StartRun moves to another slot after
// duplicate answers: a slot the client found free can still be taken by a
// run it cannot see (another process, the flow's schedule).
const maxSlotMoves = 3

// clockMargin absorbs the rounding of the service's times (creation times
// to a tenth of a second, trigger times to the second) and tells a zone
// shift (see zoneShift) from another instant.
const clockMargin = 2 * time.Second

// lateActMargin is how long after a trigger's last send and look-up the
// service may still act on it (a request held by the gateway, a clock
// rounding): a run of the slot created later than that is another
// trigger's. Only the settling of a recorded outcome uses it: within one
// StartRun no such run can be told from its own.
const lateActMargin = time.Minute

// lookUpGrace bounds the look-up for a run after the caller's context
// ended (an interrupt, a create timeout) while a send's answer was due: a
// CI runner grants a few seconds before it kills the process.
const lookUpGrace = 8 * time.Second

// startRun triggers one run of a flow so that one call never starts two
// runs and never takes an older run for the one it started (API-INFERENCES.md,
// duplicate triggers). It sends a second time in a slot, or moves to another
// slot, only on evidence that the slot was taken before its first send: a
// refusal (62102) of that send, or a run of the slot that this client or
// the caller (TriggerRequest.HeldIDs) holds, or that another trigger of
// this client recorded with an unknown outcome may have started, that was
// created before the server's time at the first send, or that has another
// trigger instant. Echoed parameters are no evidence: the service may store values
// otherwise than sent. Where evidence is missing the answer is trusted and
// RunStart.Warnings says so. It is a state machine:
//
//	chooseTime  defaulted time: now, or the start of the next slot of the flow
//	            this Client has not used; a chosen time: as given.      -> send
//	send        the first send in a slot, after the snapshot of its hour's
//	            runs (one search per hour and process). An id -> verify; a
//	            duplicate -> moveSlot; an unknown outcome -> lookUp; any other
//	            error -> failed.
//	verify      the answer names a run, claimed at once. Absent from the
//	            snapshot and never answered before -> done, unread. Else read
//	            back: evidence that it is older -> moveSlot (the claim given
//	            up); an id handed out for a run of another hour -> failed;
//	            else -> done. A read-back that
//	            fails for a reason that may pass is retried within the request
//	            timeout; when it keeps failing the answer is kept with a warning.
//	lookUp      look for the run sent: search by flow and slot, else get by the
//	            documented ids. A run without evidence of being older -> done
//	            (adopted); a run with it -> moveSlot (the slot was taken, so the
//	            send started nothing there); none -> resend, or failed (unknown)
//	            after a resend. A caller's context that ended is replaced by a
//	            detached one bounded by lookUpGrace, and nothing is sent again.
//	resend      the same request once more, same time. An id -> verify; a
//	            duplicate or any failure -> confirm; unknown -> lookUp.
//	confirm     after the resend: find the run as lookUp does -> done (adopted)
//	            or -> moveSlot on evidence, else failed (unknown).
//	moveSlot    on evidence that the slot was taken: learn the slot size (hour
//	            slots when the slot's run lies in another minute of the hour),
//	            then, for a defaulted time, the next free slot; for a chosen time,
//	            a free slot of the period of the flow's cycle that holds it (after
//	            it and not in the future, else before it) -> send; no slot left,
//	            or maxSlotMoves reached -> failed (*DuplicateTriggerError).
//
// A failure whose outcome stays unknown is a *TriggerOutcomeUnknownError
// naming the instance id the run would have, whether the request was sent
// and whether the run was looked for.
//
// A zero TriggerRequest.TriggerTime lets StartRun pick the time.
func (r *runMatcher) startRun(ctx context.Context, req TriggerRequest) (RunStart, error) {
	m := &startMachine{r: r, req: req, timeDefaulted: req.TriggerTime.IsZero(), configured: req.TriggerTime}
	defer m.giveTurnBack()
	for s := next(stateChooseTime); s.state != stateDone && s.state != stateFailed; {
		s = m.step(ctx, s)
	}
	return m.result, m.err
}

// step is the machine's next state with what that state needs of the one
// before it, and no more.
type step struct {
	state  startState
	answer string    // stateVerify: the id the service answered
	taken  slotTaken // stateMoveSlot: how the slot is known to be taken
}

func next(state startState) step { return step{state: state} }

// startState is a state of StartRun's machine (see StartRun).
type startState int

const (
	stateChooseTime startState = iota
	stateSend
	stateVerify
	stateLookUp
	stateResend
	stateConfirm
	stateMoveSlot
	stateDone
	stateFailed
)

var startStateNames = [...]string{"chooseTime", "send", "verify", "lookUp", "resend", "confirm", "moveSlot", "done", "failed"}

func (s startState) String() string { return startStateNames[s] }

// startMachine is one StartRun in progress.
type startMachine struct {
	r             *runMatcher
	req           TriggerRequest // the trigger time is the one being sent
	timeDefaulted bool
	configured    time.Time // the caller's trigger time

	sentAt   time.Time     // when the last send of the current slot left
	firstAt  time.Time     // when the first send of the current slot left
	since    serverReading // the server's time at the first send, no later (see ensureSince); zero when unknown
	snapshot *hourSnapshot // the runs of the slot's hour before the first send there; nil when unknown
	until    time.Time     // settling a recorded outcome: the server's time after its last send; else zero
	sent     bool          // a request may have reached the service
	lookedUp bool          // the current slot's run was looked for
	resent   bool          // the current slot's request was sent twice
	moves    int           // slots moved to after duplicates
	claimed  string        // the answer, claimed while it is verified
	cause    error         // the failures of the current slot's sends and look-ups
	moved    *TriggerMove
	warnings []string
	turn     func() // gives back the current slot's turn (see slotTurns); nil when none is held

	result RunStart
	err    error
}

// step performs s's action and returns the next step.
func (m *startMachine) step(ctx context.Context, s step) step {
	switch s.state {
	case stateChooseTime:
		return m.chooseTime(ctx)
	case stateSend, stateResend:
		return m.send(ctx, s.state == stateResend)
	case stateVerify:
		return m.verify(ctx, s.answer)
	case stateLookUp:
		return m.lookUp(ctx, !m.resent)
	case stateConfirm:
		return m.lookUp(ctx, false)
	case stateMoveSlot:
		return m.moveSlot(ctx, s.taken)
	}
	return m.fail(fmt.Errorf("StartRun: no action for state %s", s.state))
}

func (m *startMachine) fail(err error) step {
	m.err = err
	return next(stateFailed)
}

// turnKey names the turn the current trigger time's sends take.
func (m *startMachine) turnKey(ctx context.Context) func() slotTurnKey {
	return func() slotTurnKey {
		loc, err := m.r.svc.serverZone(ctx)
		if err != nil {
			loc = m.req.TriggerTime.Location()
		}
		span := m.r.slots.turnSpan(m.req.FlowID)
		return slotTurnKey{flowID: m.req.FlowID, start: slotStart(m.req.TriggerTime, span, loc), span: span}
	}
}

// giveTurnBack ends the current slot's turn, once the StartRun has left
// the slot or settled its outcome there.
func (m *startMachine) giveTurnBack() {
	if m.turn != nil {
		m.turn()
		m.turn = nil
	}
}

// leave moves on to another slot: the current one was taken before its
// first send.
func leave(taken slotTaken) step { return step{state: stateMoveSlot, taken: taken} }

func (m *startMachine) chooseTime(ctx context.Context) step {
	if m.timeDefaulted {
		m.req.TriggerTime = m.r.slots.reserveNow(m.req.FlowID, m.r.now(), m.hourZone(ctx))
	} else {
		m.r.slots.reserve(m.req.FlowID, m.req.TriggerTime)
	}
	return next(stateSend)
}

// hourZone is the server's zone when the flow has hour slots (cut in that
// zone), else nil: minutes need no zone.
func (m *startMachine) hourZone(ctx context.Context) *time.Location {
	if m.r.slots.slotSize(m.req.FlowID) != hourSlot {
		return nil
	}
	loc, _ := m.r.svc.serverZone(ctx) // nil: cut in the trigger time's zone
	return loc
}

func (m *startMachine) send(ctx context.Context, resend bool) step {
	if resend {
		m.resent = true
	} else {
		m.resent, m.lookedUp, m.cause = false, false, nil
	}
	if !resend {
		// Before the first send in the slot: the runs of its hour then,
		// which tell an answered run new without reading it back (and may
		// show the flow's slot size, which the turn spans).
		m.snapshot = m.r.snapshotBefore(ctx, m.req.TriggerTime)
		m.giveTurnBack()
		turn, err := m.r.turns.take(ctx, m.turnKey(ctx))
		if err != nil {
			return m.fail(fmt.Errorf("flow %d: waiting for another trigger of the same slot: %w", m.req.FlowID, err))
		}
		m.turn = turn
	}
	m.sentAt = m.r.now()
	if !resend {
		m.firstAt = m.sentAt
	}
	id, err := m.r.svc.trigger(ctx, m.req)
	unknown := errors.Is(err, ErrOutcomeUnknown)
	m.sent = m.sent || err == nil || unknown || IsDuplicateTrigger(err)
	switch {
	case err == nil:
		return step{state: stateVerify, answer: id}
	case unknown:
		m.cause = err
		return next(stateLookUp)
	case resend:
		// The first send's outcome is still unknown, whatever became of
		// the resend (a duplicate means the slot is taken, by that send's
		// run or an older one).
		m.cause = errors.Join(m.cause, err)
		return next(stateConfirm)
	case IsDuplicateTrigger(err):
		// A refused first send: the slot was taken before it.
		return leave(slotTaken{evidence: evidenceRefused})
	}
	return m.fail(err)
}

func (m *startMachine) verify(ctx context.Context, id string) step {
	m.r.slots.learnFromID(m.req.FlowID, id)
	if slices.Contains(m.req.HeldIDs, id) {
		return leave(slotTaken{evidence: evidenceHeldByCaller, runID: id, answered: true})
	}
	// Claimed before the read-back, so that a concurrent trigger answered
	// with the same id waits for this verification and then sees the run
	// held, or free again.
	if held, ok := m.r.slots.claimUnlessHeld(id, m.req.FlowID, m.req.TriggerTime, true); ok {
		loc, _ := m.r.svc.serverZone(ctx)
		sent := m.req.TriggerTime
		// Slots are at most an hour: a run held for another hour cannot be
		// the answer to a duplicate.
		if held.flowID == m.req.FlowID && slotStart(held.triggerTime, hourSlot, loc).Equal(slotStart(sent, hourSlot, loc)) {
			return leave(slotTaken{evidence: evidenceHeldByClient, runID: id, answered: true})
		}
		return m.fail(fmt.Errorf("flow %d: the service answered with instance %s, which this client already returned for another run", m.req.FlowID, id))
	}
	m.claimed = id
	loc, _ := m.r.svc.serverZone(ctx) // known when there is a snapshot: it needed it
	if m.r.slots.firstAnswer(id) && m.snapshot.lacks(id) && m.onlyTriggerOfItsHour(loc) &&
		m.r.slots.recordedFor(m.req.FlowID, id, time.Time{}, loc, id) == "" {
		// The run was not in its hour before the send, no earlier send of
		// this client was answered with it, no other send of this client
		// in its hour can have started it (answered to this one first),
		// and no trigger of this client recorded with an unknown outcome
		// may have, so it is this send's under every duplicate behaviour
		// (DESIGN.md, API budget): no read-back. Where a recorded trigger
		// may have, the read-back's trigger time tells the two apart.
		m.r.slots.keep(id)
		return m.finish(id, false)
	}
	m.ensureSince(ctx)
	inst, err := m.readBackWithin(ctx, id)
	switch {
	case err != nil:
		// The service said it started a run; a read that fails cannot
		// show otherwise, and dropping the id would forget the run.
		m.warn("the service answered the trigger of flow %d with run %s, which could not be read back to check that it is a new run (%v); it is kept on the service's answer", m.req.FlowID, id, err)
	case inst.InstanceID != id || inst.FlowID != m.req.FlowID:
		// A read that does not describe the answered run is no evidence.
		m.warn("the service answered the trigger of flow %d with run %s, whose read-back describes another run; it is kept on the service's answer", m.req.FlowID, id)
	default:
		loc, _ := m.r.svc.serverZone(ctx)
		if taken := m.takenBefore(inst, loc); taken.evidence != noEvidence {
			m.r.slots.release(id)
			taken.answered = true
			return leave(taken)
		}
		m.noteUnproven(inst)
	}
	m.r.slots.keep(id)
	return m.finish(id, false)
}

// onlyTriggerOfItsHour reports whether the time sent is the only one this
// client used for the flow in that hour of the server's zone (slots are at
// most an hour), so that no other of its sends can hold the answered run.
func (m *startMachine) onlyTriggerOfItsHour(loc *time.Location) bool {
	if loc == nil {
		return false
	}
	hour := slotStart(m.req.TriggerTime, hourSlot, loc)
	return m.r.slots.reservationsIn(m.req.FlowID, hour, hour.Add(time.Hour)) == 1
}

// maxReadBackRetries bounds the reads of an answered run after the first
// (each with the client's own retries).
const maxReadBackRetries = 3

// readBackWithin reads the answered run back, trying again within the
// request timeout while the reads fail for a reason that may pass: a run
// kept unverified costs a warning, one read more costs little.
func (m *startMachine) readBackWithin(ctx context.Context, id string) (*FlowInstance, error) {
	rctx, cancel := context.WithTimeout(ctx, m.r.timeout)
	defer cancel()
	ref := RunRef{InstanceID: id, FlowID: m.req.FlowID, TriggerTime: m.req.TriggerTime}
	// Triggers read back together share one search of their trigger hour;
	// any search since the send is fresh.
	inst, err := m.r.readBack(rctx, ref, m.sentAt)
	// Only failures that may pass are tried again: a definite refusal
	// (a bad clock, no privilege) would only repeat itself. Not found may
	// pass too: a run just started may not be readable yet.
	for retry := 1; err != nil && (IsTransient(err) || IsNotFound(err)) && rctx.Err() == nil && retry <= maxReadBackRetries; retry++ {
		if m.r.backoff.sleep(rctx, m.r.backoff.delay(retry, 0)) != nil {
			break
		}
		inst, err = m.r.svc.get(rctx, id)
	}
	return inst, err
}

func (m *startMachine) warn(format string, args ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, args...))
}

func (m *startMachine) done(id string, adopted bool) step {
	if !m.r.slots.claim(id, m.req.FlowID, m.req.TriggerTime) {
		return m.fail(fmt.Errorf("flow %d: the service answered with instance %s, which this client already returned for another run", m.req.FlowID, id))
	}
	return m.finish(id, adopted)
}

// finish returns the run id, claimed for this StartRun.
func (m *startMachine) finish(id string, adopted bool) step {
	m.result = RunStart{InstanceID: id, TriggerTime: m.req.TriggerTime, Adopted: adopted, Moved: m.moved, Warnings: m.warnings}
	return next(stateDone)
}

// takenBefore says how inst, a run of the flow in the current slot, shows
// that the slot was taken before this StartRun's first send there (so that
// send started no run in it), with no evidence when nothing does. Evidence
// is a run held for another (by this client or the caller) or that a
// trigger of unknown outcome of this client may have started, a creation
// before the server's time at the first send (both times are the server's),
// a creation well after a recorded outcome (settling only), or another
// trigger instant than the one sent beyond the forms the service may write
// it in.
// Parameters are no evidence: the service may store a value otherwise than
// it was sent.
func (m *startMachine) takenBefore(inst *FlowInstance, loc *time.Location) slotTaken {
	taken := func(e slotEvidence) slotTaken { return slotTaken{evidence: e, run: inst, runID: inst.InstanceID} }
	// The own claim first: held waits for claims being verified.
	if inst.InstanceID != m.claimed && m.r.slots.held(inst.InstanceID) {
		return taken(evidenceHeldByClient)
	}
	if slices.Contains(m.req.HeldIDs, inst.InstanceID) {
		return taken(evidenceHeldByCaller)
	}
	if other := m.r.slots.recordedFor(inst.FlowID, inst.InstanceID, inst.TriggerTime, loc, m.claimed); other != "" {
		// Another of this client's triggers, of unknown outcome, may have
		// started it (its expected id perhaps in another form, or unknown).
		t := taken(evidenceRecordedUnknown)
		t.other = other
		return t
	}
	if early := m.since.server.Sub(inst.CreatedAt); !m.since.server.IsZero() && !inst.CreatedAt.IsZero() && early > clockMargin && !zoneShift(early) {
		return taken(evidenceCreatedBefore)
	}
	if late := inst.CreatedAt.Sub(m.until); !m.until.IsZero() && !inst.CreatedAt.IsZero() && late > lateActMargin && !zoneShift(late) {
		return taken(evidenceCreatedAfter)
	}
	if !inst.TriggerTime.IsZero() && !mayBeTriggerOf(inst.TriggerTime, m.req.TriggerTime) {
		return taken(evidenceOtherInstant)
	}
	return slotTaken{}
}

// mayBeTriggerOf reports whether a run's trigger time t may be the
// trigger time sent, written to the second, in another zone, or cut to its
// slot's start.
func mayBeTriggerOf(t, sent time.Time) bool {
	if sameInstant(t, sent) {
		return true
	}
	for _, size := range []time.Duration{minuteSlot, hourSlot} {
		if sameInstant(t, slotStart(sent, size, t.Location())) {
			return true
		}
	}
	return false
}

// noteUnproven warns when inst, kept as the run sent, could not be told
// from an older run by its creation time, and names the sent parameters
// the service stored otherwise (keys only: values may be secret).
func (m *startMachine) noteUnproven(inst *FlowInstance) {
	if m.since.server.IsZero() || inst.CreatedAt.IsZero() {
		m.warn("run %s of flow %d is kept on the service's answer: the server's time or the run's creation time is unknown, so it could not be checked that the run is new", inst.InstanceID, m.req.FlowID)
	}
	stored := map[string]string{}
	for _, p := range inst.Parameters {
		stored[p.Key] = p.Value
	}
	var differ []string
	for k, v := range m.req.Parameters {
		if got, ok := stored[k]; !ok || got != v {
			differ = append(differ, k)
		}
	}
	if len(differ) > 0 {
		sort.Strings(differ)
		m.warn("run %s of flow %d holds parameter(s) %s otherwise than sent: the service stored the value(s) in another form, or left them out", inst.InstanceID, m.req.FlowID, strings.Join(differ, ", "))
	}
}

// sameInstant compares trigger times to the second, which the service
// keeps. A difference of whole half hours is taken as the service writing
// the time in another zone (API-INFERENCES.md notes one sample that does).
func sameInstant(a, b time.Time) bool {
	d := a.Truncate(time.Second).Sub(b.Truncate(time.Second))
	return d == 0 || zoneShift(d)
}

// zoneShift reports a difference of whole half hours up to 14 hours, give
// or take clockMargin: a zone-less time read in the wrong zone.
func zoneShift(d time.Duration) bool {
	d = d.Abs()
	if d < 30*time.Minute-clockMargin || d > 14*time.Hour+clockMargin {
		return false
	}
	off := d - d.Round(30*time.Minute)
	return off.Abs() <= clockMargin
}

// ensureSince learns the server's time at the first send of the slot, no
// later than it was (see serverReadingAt): a run created before it was in
// the slot before the send. It is read when first needed, not before the
// send: most triggers never need it.
func (m *startMachine) ensureSince(ctx context.Context) {
	if !m.since.server.IsZero() || m.firstAt.IsZero() {
		return
	}
	m.since = m.r.serverReadingAt(ctx, m.firstAt)
}

// lookUp looks for the run this StartRun sent for the current slot. After a
// first unknown outcome a miss leads to the resend; after the resend (or
// its duplicate answer: confirm) the outcome stays unknown. A run of the
// slot that was there before the first send means that send started
// nothing in it: -> moveSlot.
func (m *startMachine) lookUp(ctx context.Context, mayResend bool) step {
	lctx, ended := ctx, ctx.Err()
	if ended != nil {
		// The caller gave up while the answer was due; the run may exist
		// all the same, and finding it is what keeps it from being started
		// twice. Nothing is sent again.
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), lookUpGrace)
		defer cancel()
		mayResend = false
	}
	m.lookedUp = true
	m.ensureSince(lctx)
	own, taken, err := m.findOwnRun(lctx, false)
	switch {
	case own != nil:
		m.noteUnproven(own)
		return m.done(own.InstanceID, true)
	case taken.evidence != noEvidence && ended == nil:
		return leave(taken)
	case taken.evidence != noEvidence:
		return m.startedNothing(taken, ended)
	case ended != nil:
		return m.outcomeUnknown(ctx, errors.Join(ended, err))
	case mayResend:
		return next(stateResend)
	case err != nil:
		return m.outcomeUnknown(ctx, fmt.Errorf("looking for the run failed: %w", err))
	}
	return m.outcomeUnknown(ctx, errors.New("no new run of the flow was found for that time"))
}

// outcomeUnknown ends a StartRun whose send may or may not have started a
// run. The run's expected id is claimed, so that no other StartRun of this
// client takes that run for its own while the caller records the outcome;
// when another one already holds it, that run is not this send's: the
// slot was taken, so the send started nothing there (-> moveSlot).
func (m *startMachine) outcomeUnknown(ctx context.Context, last error) step {
	err := &TriggerOutcomeUnknownError{FlowID: m.req.FlowID, TriggerTime: m.req.TriggerTime,
		RequestSent: m.sent, LookedUp: m.lookedUp, Err: errors.Join(m.cause, last)}
	if !m.since.server.IsZero() {
		// Until is now in the server's time: after the last send and look-up.
		err.Since, err.Until = m.since.server, m.since.serverAt(m.r.now())
	}
	notMoved := ctx.Err() // why no other slot may be tried, if one may not
	if notMoved == nil && m.moves >= maxSlotMoves {
		notMoved = fmt.Errorf("%d other slots were tried and each was taken", m.moves)
	}
	// The id is worth one zone read even when the caller gave up: it is what
	// records the run.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.r.timeout)
	defer cancel()
	if !m.sent {
		return m.fail(err)
	}
	// A run this client holds under one of the run's documented ids holds
	// the slot, so the send started nothing there.
	var held string
	loc, locErr := m.r.svc.serverZone(ctx)
	if locErr == nil {
		forms := m.expectedIDs(loc)
		err.TriggerTime = m.req.TriggerTime.In(loc)
		err.ExpectedInstanceID = forms[0]
		if held = m.r.slots.heldOf(forms, m.claimed); held == "" && !m.r.slots.claimExpected(forms[0], m.req.FlowID, m.req.TriggerTime) {
			held = forms[0]
		}
	}
	switch {
	case held != "" && notMoved != nil:
		return m.startedNothing(slotTaken{evidence: evidenceHeldByClient, runID: held}, notMoved)
	case held != "":
		return leave(slotTaken{evidence: evidenceHeldByClient, runID: held})
	case locErr != nil:
		// No id to claim: the trigger time stands for the run, so that no
		// other StartRun of this client takes a run of it for its own.
		m.r.slots.recordUnsettled(m.req.FlowID, m.req.TriggerTime)
	}
	return m.fail(err)
}

// startedNothing ends a StartRun whose current slot was taken before its
// send, so that the send started no run, when no other slot may be tried:
// notMoved says why not. A definite failure, not an unknown outcome:
// recording one would let the next refresh adopt the slot's run, which is
// another's.
func (m *startMachine) startedNothing(taken slotTaken, notMoved error) step {
	return m.fail(fmt.Errorf("flow %d: the slot of %s was taken before the trigger was sent (%s), so the trigger started no run, and another slot was not tried: %w",
		m.req.FlowID, m.req.TriggerTime.Format(time.RFC3339), taken, notMoved))
}

// expectedIDs are the ids a run of the current request has in the
// service's documented forms (API-INFERENCES.md, instance ids): the flow id
// and the trigger time in the server's zone cut to the minute (14 or 12
// digits) or to the hour (10 digits), the form of the flow's known slot
// size first. They are only looked up and shown, never relied on.
func (m *startMachine) expectedIDs(loc *time.Location) []string {
	forms := documentedIDs(m.req.FlowID, m.req.TriggerTime, loc)
	if m.r.slots.slotSize(m.req.FlowID) == hourSlot {
		return []string{forms[2], forms[0], forms[1]}
	}
	return forms
}

// findOwnRun looks at the flow's runs of the current slot: own is one that
// may be the run this StartRun sent (no evidence that it is older), taken
// the evidence of one that shows the slot was taken before the first send
// (see takenBefore). It searches by flow and slot; when the search fails, or
// finds no run and everyForm is set, it reads the documented ids.
func (m *startMachine) findOwnRun(ctx context.Context, everyForm bool) (own *FlowInstance, taken slotTaken, err error) {
	loc, locErr := m.r.svc.serverZone(ctx)
	if locErr != nil {
		return nil, slotTaken{}, locErr
	}
	size := m.r.slots.slotSize(m.req.FlowID)
	from := slotStart(m.req.TriggerTime, size, loc)
	runs, err := m.r.runsBetween(ctx, m.req.FlowID, from, from.Add(size))
	if err != nil || (everyForm && len(runs) == 0) {
		runs = nil
		for _, id := range m.expectedIDs(loc) {
			inst, getErr := m.r.svc.get(ctx, id)
			if getErr == nil {
				runs = append(runs, *inst)
				break
			}
			if !IsNotFound(getErr) {
				err = errors.Join(err, getErr)
			}
		}
	}
	for i := range runs {
		r := &runs[i]
		if r.FlowID != m.req.FlowID {
			continue
		}
		switch t := m.takenBefore(r, loc); {
		case t.evidence != noEvidence:
			if taken.evidence == noEvidence {
				taken = t
			}
		case own == nil:
			own = r
		}
	}
	if own != nil || taken.evidence != noEvidence {
		err = nil
	}
	return own, taken, err
}

// runsBetween lists the flow's runs triggered in [from, to).
func (r *runMatcher) runsBetween(ctx context.Context, flowID int64, from, to time.Time) ([]FlowInstance, error) {
	found, err := r.svc.search(ctx, InstanceSearch{
		FlowID:          flowID,
		FromTriggerTime: from,
		ToTriggerTime:   to.Add(-time.Millisecond),
		SortDescending:  true,
	})
	if err != nil {
		return nil, err
	}
	// Keep only the runs whose trigger time the client can see in the window.
	runs := found[:0]
	for _, inst := range found {
		if !inst.TriggerTime.Before(from) && inst.TriggerTime.Before(to) {
			runs = append(runs, inst)
		}
	}
	return runs, nil
}

// moveSlot handles a duplicate answer to a first send: it learns the slot
// size from where the slot's run lies, then picks another slot.
func (m *startMachine) moveSlot(ctx context.Context, slot slotTaken) step {
	loc, locErr := m.r.svc.serverZone(ctx)
	sent := m.req.TriggerTime
	period := Period{Cycle: "mi"}
	var why string
	if !m.timeDefaulted {
		switch flow, err := m.r.svc.flowGlobals(ctx, m.req.FlowID); {
		case locErr != nil:
			why = "the server's time zone is unknown: " + locErr.Error()
		case err != nil:
			why = "reading the flow's cycle failed: " + err.Error()
		default:
			period.Cycle = flow.Cycle
		}
	}
	if locErr != nil {
		loc = sent.Location()
	}
	period = periodOf(period.Cycle, sent, loc)
	// The search spans the period and the hour of the sent time, so that
	// it shows both the free slots and where the slot's run lies.
	hour := slotStart(sent, hourSlot, loc)
	from, to := minTime(period.Start, hour), maxTime(period.End, hour.Add(time.Hour))
	runs, searchErr := m.r.runsBetween(ctx, m.req.FlowID, from, to)
	m.learnSlotSize(slot.run, runs, searchErr, loc)
	size := m.r.slots.slotSize(m.req.FlowID)
	taken := slotStart(sent, size, loc)

	existingID := slot.runID
	for _, r := range runs {
		if existingID == "" && slotStart(r.TriggerTime, size, loc).Equal(taken) {
			existingID = r.InstanceID
		}
	}
	dup := &DuplicateTriggerError{FlowID: m.req.FlowID, Slot: taken, SlotSize: size, Period: period, ExistingInstanceID: existingID, Why: why, Evidence: slot.String()}
	if m.moves >= maxSlotMoves {
		dup.Why = fmt.Sprintf("%d other slots were tried and each was taken", m.moves)
		dup.Period = periodOf(map[time.Duration]string{minuteSlot: "mi", hourSlot: "H"}[size], sent, loc)
		return m.fail(dup)
	}
	m.moves++
	if m.timeDefaulted {
		m.req.TriggerTime = m.r.slots.reserveAfter(m.req.FlowID, sent, loc)
		return next(stateSend)
	}
	if why != "" {
		return m.fail(dup)
	}
	free, ok := m.freeSlotInPeriod(period, taken, size, runs, loc)
	switch {
	case ok:
	case !period.Start.Before(taken) && !period.End.After(taken.Add(size)):
		dup.Why = "the period has no other " + dup.SlotName()
		return m.fail(dup)
	default:
		dup.Why = "every other " + dup.SlotName() + " of it that is not in the future is taken"
		return m.fail(dup)
	}
	if m.moved == nil {
		m.moved = &TriggerMove{From: m.configured, Period: period, ExistingInstanceID: existingID}
	}
	m.moved.To, m.moved.SlotSize = free, size
	m.req.TriggerTime = free
	m.r.slots.reserve(m.req.FlowID, free)
	return next(stateSend)
}

// learnSlotSize switches the flow to hour slots when the duplicate's run lies
// in another minute of the sent time's hour: the older run the service
// answered with, else the runs the search found (none in the sent minute,
// one in its hour), else, when the search failed, a run this client handed
// out in another minute of that hour.
func (m *startMachine) learnSlotSize(existing *FlowInstance, runs []FlowInstance, searchErr error, loc *time.Location) {
	if m.r.slots.slotSize(m.req.FlowID) == hourSlot {
		return
	}
	sent := m.req.TriggerTime
	minute, hour := slotStart(sent, minuteSlot, loc), slotStart(sent, hourSlot, loc)
	inMinute := func(t time.Time) bool { return !t.Before(minute) && t.Before(minute.Add(time.Minute)) }
	inHour := func(t time.Time) bool { return !t.Before(hour) && t.Before(hour.Add(time.Hour)) }
	hourly := false
	switch {
	case existing != nil && !existing.TriggerTime.IsZero():
		hourly = !inMinute(existing.TriggerTime) && inHour(existing.TriggerTime)
	case searchErr == nil:
		var minuteTaken, hourTaken bool
		for _, r := range runs {
			minuteTaken = minuteTaken || inMinute(r.TriggerTime)
			hourTaken = hourTaken || inHour(r.TriggerTime)
		}
		hourly = !minuteTaken && (hourTaken || m.r.slots.heldIn(m.req.FlowID, hour, hour.Add(time.Hour)))
	default:
		hourly = !m.r.slots.heldIn(m.req.FlowID, minute, minute.Add(time.Minute)) && m.r.slots.heldIn(m.req.FlowID, hour, hour.Add(time.Hour))
	}
	if hourly {
		m.r.slots.learnHourSlots(m.req.FlowID)
	}
}

// freeSlotInPeriod picks the slot a chosen trigger time moves to: the first
// free one after taken that is not in the future (when the chosen time is
// not in the future; any later one otherwise), else the nearest free one
// before it, within the period.
func (m *startMachine) freeSlotInPeriod(p Period, taken time.Time, size time.Duration, runs []FlowInstance, loc *time.Location) (time.Time, bool) {
	used := map[time.Time]bool{taken: true}
	for _, r := range runs {
		used[slotStart(r.TriggerTime, size, loc)] = true
	}
	free := func(s time.Time) bool {
		return !used[s] && !m.r.slots.reservedIn(m.req.FlowID, s, s.Add(size))
	}
	now := m.r.now()
	past := !m.configured.After(now)
	for s := slotStart(taken.Add(size), size, loc); p.contains(s); s = slotStart(s.Add(size), size, loc) {
		if past && s.After(now) {
			break
		}
		if free(s) {
			return s, true
		}
	}
	for s := slotStart(taken.Add(-size), size, loc); p.contains(s); s = slotStart(s.Add(-size), size, loc) {
		if free(s) {
			return s, true
		}
	}
	return time.Time{}, false
}

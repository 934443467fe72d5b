package enos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// StartRun's rule, case by case, over the in-memory service; the
// exploration (match_explore_test.go) plays every fault sequence.

var runNow = time.Date(2024, 1, 1, 10, 0, 30, 0, gmt8)

var anHourAgo = runNow.Add(-time.Hour) // 09:00:30 GMT+8, a past time of the same day

// newStartTest is a service whose clock stands at runNow, as this
// machine's does, and run matching over it.
func newStartTest() (*memService, *runMatcher) {
	ms := newMemService()
	return ms, newMemMatcher(ms)
}

// lookUps are the searches of one flow's runs: the look-ups and
// read-backs, not the hour snapshots taken before a send.
func (ms *memService) lookUps() []InstanceSearch {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var out []InstanceSearch
	for _, q := range ms.searches {
		if q.FlowID != 0 {
			out = append(out, q)
		}
	}
	return out
}

func (ms *memService) runCount() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.runs)
}

func TestDefaultedTriggersOfOneFlowGetDistinctMinutes(t *testing.T) {
	ms, r := newStartTest()
	const runs = 5
	results := make([]RunStart, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			results[i], errs[i] = r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
		})
	}
	wg.Wait()
	minutes := map[time.Time]bool{}
	ids := map[string]bool{}
	for i := range runs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		minutes[results[i].TriggerTime.Truncate(time.Minute)] = true
		ids[results[i].InstanceID] = true
		if results[i].TriggerTime.Before(runNow) || results[i].TriggerTime.After(runNow.Add(runs*time.Minute)) {
			t.Errorf("trigger time %v is not now or one of the next minutes", results[i].TriggerTime)
		}
	}
	if len(minutes) != runs || len(ids) != runs {
		t.Errorf("minutes %v, ids %v: want %d distinct", minutes, ids, runs)
	}
	if n := ms.sentCount(); n != runs {
		t.Errorf("triggers sent = %d, want %d (no duplicate answers)", n, runs)
	}
	// A different flow is free to use the current minute.
	other, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1002})
	if err != nil || !other.TriggerTime.Equal(runNow) {
		t.Errorf("other flow: %+v, %v; want trigger time now", other, err)
	}
}

func TestDefaultedTriggerMovesToTheNextMinuteOnDuplicate(t *testing.T) {
	ms, r := newStartTest()
	ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow.Truncate(time.Minute)}) // another process's run
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, Parameters: map[string]string{"bizdate": "20240101"}})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 1, 1, 10, 1, 0, 0, gmt8)
	if !run.TriggerTime.Equal(want) || run.InstanceID != "1001-20240101100100" || run.Adopted {
		t.Errorf("run = %+v, want the next minute %v", run, want)
	}
	if n := ms.sentCount(); n != 2 {
		t.Errorf("triggers sent = %d, want 2", n)
	}

	// Every minute it may move to taken: maxSlotMoves moves, then the error.
	for i := range maxSlotMoves + 1 {
		at := runNow.Truncate(time.Minute).Add(time.Duration(i) * time.Minute)
		ms.addRun(FlowInstance{InstanceID: "1002-" + at.Format("200601021504") + "00", FlowID: 1002, TriggerTime: at})
	}
	_, err = r.startRun(context.Background(), TriggerRequest{FlowID: 1002})
	if !IsDuplicateTrigger(err) || ms.sentCount() != 2+maxSlotMoves+1 {
		t.Errorf("err = %v after %d sends", err, ms.sentCount())
	}
}

func TestDuplicateWithUserTimeNamesTheExistingRun(t *testing.T) {
	ms, r := newStartTest()
	ms.cycles[1001] = "mi" // a minute period: no other minute can be used
	ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow.Truncate(time.Minute)})
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(15 * time.Second)})
	var dup *DuplicateTriggerError
	if !errors.As(err, &dup) {
		t.Fatalf("err = %v, want *DuplicateTriggerError", err)
	}
	if dup.FlowID != 1001 || dup.ExistingInstanceID != "1001-20240101100000" || !dup.Slot.Equal(runNow.Truncate(time.Minute)) || dup.Period.Cycle != "mi" {
		t.Errorf("dup = %+v", dup)
	}
	for _, want := range []string{"flow 1001", "minute 2024-01-01 10:00 GMT+8", "1001-20240101100000", "the minute 2024-01-01 10:00 (GMT+8)",
		"the service refused the trigger as a repeated one", "another period"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if ms.sentCount() != 1 || ms.runCount() != 1 {
		t.Errorf("sends %d, runs %d: nothing may start", ms.sentCount(), ms.runCount())
	}
}

func TestDroppedResponseAfterTheServerActedIsAdopted(t *testing.T) {
	ms, r := newStartTest()
	ms.failFirst(opTrigger, 1, faultLostAfter)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Errorf("run = %+v, want the adopted 1001-20240101100000", run)
	}
	if ms.sentCount() != 1 || ms.runCount() != 1 {
		t.Errorf("sends %d, runs %d; want exactly one trigger", ms.sentCount(), ms.runCount())
	}
	// The look-up searches the flow's runs of the sent minute.
	minute := runNow.Truncate(time.Minute)
	if q := ms.lookUps()[0]; q.FlowID != 1001 || !q.FromTriggerTime.Equal(minute) || !q.ToTriggerTime.Equal(minute.Add(time.Minute-time.Millisecond)) {
		t.Errorf("look-up search = %+v", q)
	}
}

func TestDroppedRequestBeforeTheServerActedIsSentOnceMore(t *testing.T) {
	ms, r := newStartTest()
	ms.failFirst(opTrigger, 1, faultLostBefore)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil {
		t.Fatal(err)
	}
	if run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Errorf("run = %+v", run)
	}
	// One search looks for the run; the resend's answer, absent from the
	// hour before the sends, needs no read-back.
	if ms.sentCount() != 2 || len(ms.lookUps()) != 1 || ms.runCount() != 1 {
		t.Errorf("sends %d, look-ups %d, runs %d", ms.sentCount(), len(ms.lookUps()), ms.runCount())
	}
}

// The look-up may miss a run the service is still recording; the resend's
// duplicate answer then leads to the run.
func TestResendAnsweredDuplicateAdoptsTheFirstAttemptsRun(t *testing.T) {
	ms, r := newStartTest()
	ms.failFirst(opTrigger, 1, faultLostBefore)
	ms.before = func(c memCall) {
		if c.op == opTrigger && c.n == 2 {
			ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow}) // the first send's, recorded late
		}
	}
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || ms.runCount() != 1 {
		t.Errorf("run %+v, err %v, %d runs", run, err, ms.runCount())
	}
}

// Unknown twice: the run is looked for after each send, and only then is
// the unknown outcome reported.
func TestUnknownOutcomeTwiceIsReported(t *testing.T) {
	ms, r := newStartTest()
	ms.failAlways(opTrigger, fault5xx)
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
	if !errors.Is(err, ErrOutcomeUnknown) || ms.sentCount() != 2 || len(ms.lookUps()) != 2 {
		t.Errorf("err = %v after %d sends and %d look-ups", err, ms.sentCount(), len(ms.lookUps()))
	}
}

func TestInstanceIDReturnedForAnotherRunIsAnError(t *testing.T) {
	ms, r := newStartTest()
	ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow, CreatedAt: runNow.Add(time.Second)})
	ms.reuseID = "1001-20240101100000" // a server that reuses ids
	if _, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001}); err != nil {
		t.Fatal(err)
	}
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err == nil || !strings.Contains(err.Error(), "already returned for another run") {
		t.Errorf("err = %v", err)
	}
}

// An id the client handed out for a run of another hour is an error, not a
// duplicate.
func TestAnswerWithAnIDHeldForAnotherHourIsAnError(t *testing.T) {
	ms, r := newStartTest()
	ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow, CreatedAt: runNow.Add(time.Second)})
	ms.reuseID = "1001-20240101100000"
	if _, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001}); err != nil {
		t.Fatal(err)
	}
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(-3 * time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "already returned for another run") || ms.sentCount() != 2 {
		t.Errorf("err = %v after %d sends", err, ms.sentCount())
	}
}

func TestStartRunSurfacesDefiniteErrors(t *testing.T) {
	ms, r := newStartTest()
	ms.refusal = &APIError{Operation: "flows/updateAndTrigger", HTTPStatus: 200, Code: codeNoPrivilege, Message: "User has no privilege."}
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1005})
	if !IsNoPrivilege(err) || ms.sentCount() != 1 || len(ms.lookUps()) != 0 {
		t.Errorf("err = %v", err)
	}
}

func TestRunFoundAfterTheSecondUnknownOutcomeIsAdopted(t *testing.T) {
	ms, r := newStartTest()
	ms.failCall(opTrigger, 1, fault5xx)
	ms.failCall(opTrigger, 2, faultLostAfter) // the second send starts the run, but its answer is lost
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || ms.sentCount() != 2 {
		t.Errorf("run %+v, err %v after %d sends; want the run adopted after the second send", run, err, ms.sentCount())
	}
}

// send -> moveSlot -> send -> verify -> done: a chosen time in the past whose
// minute is taken moves to the next free minute of the day, not in the future.
func TestChosenTimeMovesToTheNextFreeMinuteOfThePeriod(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "reject", true: "answer-existing"}[existing], func(t *testing.T) {
			ms, r := newStartTest()
			ms.answerExisting = existing
			params := []Parameter{{Key: "bizdate", Value: "20240101"}}
			// The failed run of the day, triggered an hour ago, and another run
			// in the next minute.
			ms.addRun(FlowInstance{InstanceID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, Parameters: params, Status: StatusFail,
				CreatedAt: runNow.Add(-7 * time.Minute)})
			ms.addRun(FlowInstance{InstanceID: "1001-20240101090100", FlowID: 1001, TriggerTime: anHourAgo.Add(time.Minute).Truncate(time.Minute)})
			run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo, Parameters: map[string]string{"bizdate": "20240101"}})
			if err != nil {
				t.Fatal(err)
			}
			want := time.Date(2024, 1, 1, 9, 2, 0, 0, gmt8)
			if run.InstanceID != "1001-20240101090200" || !run.TriggerTime.Equal(want) || run.Moved == nil {
				t.Fatalf("run = %+v, want it moved to %v", run, want)
			}
			if mv := run.Moved; !mv.From.Equal(anHourAgo) || !mv.To.Equal(want) || mv.ExistingInstanceID != "1001-20240101090000" || mv.Period.String() != "the day 2024-01-01 (GMT+8)" {
				t.Errorf("move = %+v (period %s)", mv, mv.Period)
			}
			if ms.sentCount() != 2 || len(ms.runsOf(1001)) != 3 {
				t.Errorf("sends %d, runs %d; want 2 sends and one new run", ms.sentCount(), len(ms.runsOf(1001)))
			}
		})
	}
}

// A chosen time of now whose minute is taken cannot move to the future
// minute: it takes the nearest earlier free minute of the period.
func TestChosenTimeMovesToAnEarlierMinuteWhenLaterOnesAreInTheFuture(t *testing.T) {
	ms, r := newStartTest()
	ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow})
	ms.addRun(FlowInstance{InstanceID: "1001-20240101095900", FlowID: 1001, TriggerTime: runNow.Add(-time.Minute)})
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	want := time.Date(2024, 1, 1, 9, 58, 0, 0, gmt8)
	if err != nil || !run.TriggerTime.Equal(want) || run.Moved == nil {
		t.Fatalf("run %+v, err %v; want it moved to %v", run, err, want)
	}
}

// moveSlot -> failed: no other minute of an hourly period is free and not in
// the future; the error names the flow, the period and the existing run.
func TestChosenTimeWithNoFreeSlotInThePeriodFails(t *testing.T) {
	ms, r := newStartTest()
	ms.cycles[1002] = "H"
	at := time.Date(2024, 1, 1, 10, 0, 10, 0, gmt8) // 10:01 would be in the future, 09:59 in another hour
	ms.addRun(FlowInstance{InstanceID: "1002-20240101100000", FlowID: 1002, TriggerTime: at})
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1002, TriggerTime: at})
	var dup *DuplicateTriggerError
	if !errors.As(err, &dup) || dup.ExistingInstanceID != "1002-20240101100000" || dup.Period.Cycle != "H" {
		t.Fatalf("err = %v, want a duplicate in the hour", err)
	}
	for _, want := range []string{"flow 1002", "1002-20240101100000", "the hour 2024-01-01 10:00 (GMT+8)", "not in the future"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if ms.sentCount() != 1 || ms.runCount() != 1 {
		t.Errorf("sends %d, runs %d", ms.sentCount(), ms.runCount())
	}
}

// verify -> moveSlot: the service answers a defaulted trigger with the id
// of an older run of the minute (the flow's scheduled run, say); it is not
// taken for the new run.
func TestAnswerWithAnOlderRunsIDIsADuplicate(t *testing.T) {
	ms, r := newStartTest()
	ms.answerExisting = true
	scheduled := runNow.Truncate(time.Minute)
	ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: scheduled, CreatedAt: scheduled})
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if run.InstanceID != "1001-20240101100100" || run.Adopted {
		t.Errorf("run = %+v, want a new run in the next minute", run)
	}
	if ms.sentCount() != 2 || ms.runCount() != 2 {
		t.Errorf("sends %d, runs %d", ms.sentCount(), ms.runCount())
	}
}

// The older run is told apart by its creation time, before a server time
// read before the send, when trigger time and parameters match those sent
// (a re-run of the same failed day).
func TestAnswerWithARunCreatedBeforeTheTriggerIsADuplicate(t *testing.T) {
	ms, r := newStartTest()
	ms.answerExisting = true
	params := []Parameter{{Key: "bizdate", Value: "20240101"}}
	ms.addRun(FlowInstance{InstanceID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, Parameters: params, CreatedAt: runNow.Add(-5 * time.Minute), Status: StatusFail})
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo, Parameters: map[string]string{"bizdate": "20240101"}})
	if err != nil || run.InstanceID != "1001-20240101090100" || run.Moved == nil {
		t.Fatalf("run %+v, err %v; want a new run in 09:01", run, err)
	}
	// One read serves every later trigger of the client.
	if _, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ms.count(opServerTime) != 1 {
		t.Errorf("server clock read %d times, want once", ms.count(opServerTime))
	}
}

// The server's time is read when first needed, after the send, and moved
// back by the time this machine saw pass since the send: a lost answer's
// look-up still tells the replaced run of the slot (created before the
// send) from the trigger's own, and moves on instead of adopting it.
func TestServerTimeReadAfterTheSendStillTellsAnOlderRun(t *testing.T) {
	ms, r := newStartTest()
	ms.tick = 100 * time.Millisecond
	ms.localLag = 3 * time.Minute
	ms.addRun(FlowInstance{InstanceID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, CreatedAt: runNow.Add(-5 * time.Second), Status: StatusFail})
	ms.failCall(opTrigger, 1, faultLostBefore)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
	if err != nil || run.Adopted || run.InstanceID != "1001-20240101090100" || len(run.Warnings) != 0 {
		t.Fatalf("run %+v, err %v; want a new run in 09:01 and the replaced one left alone", run, err)
	}
	if ms.count(opServerTime) != 1 {
		t.Errorf("server clock read %d times, want once", ms.count(opServerTime))
	}
}

// The same reading, taken long after the send (here a minute), never
// takes the send's own run for an older one: it is moved back by the time
// that passed.
func TestServerTimeReadLongAfterTheSendKeepsTheSendsRun(t *testing.T) {
	ms, r := newStartTest()
	ms.localLag = 3 * time.Minute
	ms.failCall(opTrigger, 1, faultLostAfter)
	ms.before = func(c memCall) {
		if c.op == opServerTime {
			ms.mu.Lock()
			ms.now = ms.now.Add(time.Minute)
			ms.mu.Unlock()
		}
	}
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || ms.runCount() != 1 {
		t.Fatalf("run %+v, err %v, %d runs; want the send's run adopted", run, err, ms.runCount())
	}
}

// A run that ends at once is still the new run: having ended is no sign of
// an older one.
func TestAnswerWithARunThatEndedAtOnceIsTaken(t *testing.T) {
	ms, r := newStartTest()
	ms.newStatus = StatusSuccess
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
	if err != nil || run.Moved != nil || ms.sentCount() != 1 {
		t.Fatalf("run %+v, err %v, sends %d; want the answered run", run, err, ms.sentCount())
	}
}

// A read of the answered run that does not describe it (an empty answer)
// is no evidence of an older run: the answered run is taken, and nothing
// else is triggered.
func TestAnswerReadBackMalformedIsTaken(t *testing.T) {
	ms, r := newStartTest()
	ms.failAlways(opSearch, faultEmptyAnswer)
	ms.failCall(opSearch, 1, fault5xx) // no snapshot of the hour: the answer is read back
	ms.failAlways(opGet, faultEmptyAnswer)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil || run.InstanceID == "" || run.Moved != nil {
		t.Fatalf("run %+v, err %v; want the answered run", run, err)
	}
	if ms.sentCount() != 1 || len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], "describes another run") {
		t.Errorf("sends %d, warnings %q; want 1 send and a warning", ms.sentCount(), run.Warnings)
	}
}

// Hour-granular ids: defaulted triggers of one flow in one process get
// distinct hours, whichever duplicate behaviour the service has.
func TestDefaultedTriggersOfAnHourlyIDFlowGetDistinctHours(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "reject", true: "answer-existing"}[existing], func(t *testing.T) {
			ms, r := newStartTest()
			ms.hourIDs[1007], ms.answerExisting = true, existing
			var ids []string
			for range 3 {
				run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1007})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, run.InstanceID)
			}
			want := []string{"1007-2024010110", "1007-2024010111", "1007-2024010112"}
			if strings.Join(ids, " ") != strings.Join(want, " ") || ms.runCount() != 3 {
				t.Errorf("ids %v, runs %d; want %v", ids, ms.runCount(), want)
			}
			// The first answer's id names an hour: the later triggers go to
			// a free hour at once.
			if ms.sentCount() != 3 {
				t.Errorf("sends = %d, want 3", ms.sentCount())
			}
		})
	}
}

// Concurrent defaulted triggers of an hourly-id flow all succeed.
func TestConcurrentDefaultedTriggersOfAnHourlyIDFlow(t *testing.T) {
	ms, r := newStartTest()
	ms.hourIDs[1007] = true
	const runs = 3
	ids := make([]string, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			var run RunStart
			run, errs[i] = r.startRun(context.Background(), TriggerRequest{FlowID: 1007})
			ids[i] = run.InstanceID
		})
	}
	wg.Wait()
	distinct := map[string]bool{}
	for i := range runs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		distinct[ids[i]] = true
	}
	if len(distinct) != runs || ms.runCount() != runs {
		t.Errorf("ids %v, runs %d", ids, ms.runCount())
	}
}

// A re-run of an hourly-id flow with a chosen time of a daily period: the
// next minute collides too, which shows the hour slot; the run moves to the
// next hour of the day that is not in the future.
func TestChosenTimeOfAnHourlyIDFlowMovesToAnotherHour(t *testing.T) {
	ms, r := newStartTest()
	ms.hourIDs[1007] = true
	at := time.Date(2024, 1, 1, 8, 15, 0, 0, gmt8)
	ms.addRun(FlowInstance{InstanceID: "1007-2024010108", FlowID: 1007, TriggerTime: at, Status: StatusFail})
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1007, TriggerTime: at})
	if err != nil {
		t.Fatal(err)
	}
	if run.InstanceID != "1007-2024010109" || run.Moved == nil || run.Moved.SlotSize != time.Hour {
		t.Errorf("run = %+v (moved %+v), want the 09:00 hour", run, run.Moved)
	}
	// The hour's snapshot shows the flow's hour ids: the move goes to
	// another hour at once.
	if r.slots.slotSize(1007) != time.Hour || ms.sentCount() != 2 {
		t.Errorf("slot %v after %d sends, want an hour after 2", r.slots.slotSize(1007), ms.sentCount())
	}
}

// lookUp -> done: the trigger's answer is lost and every search fails, but
// the run is read by its documented id.
func TestLostAnswerWithFailingSearchIsFoundByTheDocumentedID(t *testing.T) {
	ms, r := newStartTest()
	ms.failFirst(opTrigger, 1, faultLostAfter)
	ms.failAlways(opSearch, fault5xx)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, Parameters: map[string]string{"k": "v"}})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Fatalf("run %+v, err %v", run, err)
	}
	if ms.sentCount() != 1 || ms.runCount() != 1 {
		t.Errorf("sends %d, runs %d", ms.sentCount(), ms.runCount())
	}
}

// lookUp -> resend -> confirm -> failed: the answer is lost, search and get
// fail, the resend is refused as a duplicate. The first send worked, so
// nothing moves to another minute; the error names the run's documented id.
func TestLostAnswerWithFailingLookUpsIsReportedWithTheExpectedID(t *testing.T) {
	for _, defaulted := range []bool{true, false} {
		t.Run(map[bool]string{true: "defaulted", false: "chosen"}[defaulted], func(t *testing.T) {
			ms, r := newStartTest()
			ms.failFirst(opTrigger, 1, faultLostAfter)
			ms.failAlways(opSearch, fault5xx)
			ms.failAlways(opGet, fault5xx)
			req := TriggerRequest{FlowID: 1001}
			if !defaulted {
				req.TriggerTime = runNow
			}
			_, err := r.startRun(context.Background(), req)
			var unknown *TriggerOutcomeUnknownError
			if !errors.As(err, &unknown) || !errors.Is(err, ErrOutcomeUnknown) || unknown.ExpectedInstanceID != "1001-20240101100000" {
				t.Fatalf("err = %v, want an unknown outcome naming 1001-20240101100000", err)
			}
			for _, want := range []string{"flow 1001", "2024-01-01 10:00:30 GMT+8", "1001-20240101100000", "documented id form"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if unknown.Since.IsZero() || unknown.Until.Before(unknown.Since) {
				t.Errorf("since %v, until %v: want the server times around the sends", unknown.Since, unknown.Until)
			}
			if ms.sentCount() != 2 || ms.runCount() != 1 {
				t.Errorf("sends %d, runs %d: never a second run", ms.sentCount(), ms.runCount())
			}
		})
	}
}

// resend -> verify -> done: a service that answers duplicates with the
// existing id answers the resend with the first send's run, which is taken.
func TestLostAnswerThenAnswerWithTheFirstSendsRunIsTaken(t *testing.T) {
	ms, r := newStartTest()
	ms.answerExisting = true
	ms.failFirst(opTrigger, 1, faultLostAfter)
	ms.failAlways(opSearch, fault5xx)
	// The documented-id reads find nothing at first (a late record), so
	// the trigger is sent again.
	ms.failFirst(opGet, 3, faultNotFound)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil || run.InstanceID != "1001-20240101100000" {
		t.Fatalf("run %+v, err %v", run, err)
	}
	if ms.sentCount() != 2 || ms.runCount() != 1 {
		t.Errorf("sends %d, runs %d", ms.sentCount(), ms.runCount())
	}
}

// Adoption after a lost answer (the first send not acted on): a run of the
// slot created before the first send (the run a re-run replaces), or held
// by this client or the caller, is never adopted; it shows that the slot
// was taken, so the trigger moves to another minute of the day and starts
// a run of its own. A run with other parameters but created after the
// send is adopted, with a warning naming the keys: the service may store
// values otherwise than sent.
func TestLookUpNeverAdoptsARunOlderThanTheSend(t *testing.T) {
	for _, answerExisting := range []bool{false, true} {
		t.Run(map[bool]string{false: "refused", true: "answered"}[answerExisting]+"/created before", func(t *testing.T) {
			ms, r := newStartTest()
			ms.answerExisting = answerExisting
			ms.addRun(FlowInstance{InstanceID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, CreatedAt: runNow.Add(-5 * time.Minute), Status: StatusFail})
			ms.failCall(opTrigger, 1, faultLostBefore)
			run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
			if err != nil || run.Adopted || run.InstanceID != "1001-20240101090100" || run.Moved == nil || run.Moved.ExistingInstanceID != "1001-20240101090000" {
				t.Fatalf("run %+v, err %v; want a new run in 09:01, the replaced one not adopted", run, err)
			}
			if ms.runCount() != 2 {
				t.Errorf("%d runs, want the old run and the new one", ms.runCount())
			}
		})
	}
	t.Run("held by the caller", func(t *testing.T) {
		ms, r := newStartTest()
		ms.addRun(FlowInstance{InstanceID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, CreatedAt: runNow})
		ms.failCall(opTrigger, 1, faultLostBefore)
		run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo, HeldIDs: []string{"1001-20240101090000"}})
		if err != nil || run.Adopted || run.InstanceID != "1001-20240101090100" {
			t.Fatalf("run %+v, err %v; want the held run left alone and a new run in 09:01", run, err)
		}
	})
	t.Run("handed out", func(t *testing.T) {
		ms, r := newStartTest()
		first, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
		if err != nil {
			t.Fatal(err)
		}
		ms.failCall(opTrigger, 2, faultLostBefore)
		run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo.Add(10 * time.Second)})
		if err != nil || run.InstanceID == first.InstanceID || run.Adopted || ms.runCount() != 2 {
			t.Errorf("run %+v, err %v, %d runs; want %s refused and a run of its own", run, err, ms.runCount(), first.InstanceID)
		}
	})
	t.Run("other parameters, created after the send", func(t *testing.T) {
		ms, r := newStartTest()
		ms.addRun(FlowInstance{InstanceID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow, CreatedAt: runNow.Add(time.Second), Parameters: []Parameter{{Key: "bizdate", Value: "v-stored"}}})
		ms.failCall(opTrigger, 1, faultLostBefore)
		run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow, Parameters: map[string]string{"bizdate": "v-sent"}})
		if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || ms.sentCount() != 1 {
			t.Fatalf("run %+v, err %v, sends %d; want the run adopted without another send", run, err, ms.sentCount())
		}
		if len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], "parameter(s) bizdate otherwise than sent") || strings.Contains(run.Warnings[0], "v-s") {
			t.Errorf("warnings %q, want one naming the key bizdate and no value", run.Warnings)
		}
	})
}

// A value the service stores otherwise than sent (here: trimmed) is no
// evidence of an older run: the answered run is taken after one send,
// with or without a set trigger time, whichever way duplicates are
// answered. When the run is read back (no snapshot of its hour), a warning
// names the key, and the server time is read once; when the snapshot shows
// the run new, nothing is read.
func TestAnswerWithRewrittenParametersIsTaken(t *testing.T) {
	for _, answerExisting := range []bool{false, true} {
		for _, defaulted := range []bool{true, false} {
			for _, readBack := range []bool{false, true} {
				name := map[bool]string{false: "refused", true: "answered"}[answerExisting] + "/" + map[bool]string{true: "defaulted", false: "chosen"}[defaulted] +
					"/" + map[bool]string{false: "snapshot", true: "read back"}[readBack]
				t.Run(name, func(t *testing.T) {
					ms, r := newStartTest()
					ms.answerExisting = answerExisting
					ms.rewrite = strings.TrimSpace
					if readBack {
						ms.failCall(opSearch, 1, fault5xx)
					}
					req := TriggerRequest{FlowID: 1001, Parameters: map[string]string{"bizdate": "20240101 ", "region": "cn"}}
					if !defaulted {
						req.TriggerTime = runNow
					}
					run, err := r.startRun(context.Background(), req)
					if err != nil || run.InstanceID != "1001-20240101100000" || run.Moved != nil {
						t.Fatalf("run %+v, err %v; want the answered run", run, err)
					}
					wantReads := map[bool]int{false: 0, true: 1}[readBack]
					if ms.sentCount() != 1 || ms.runCount() != 1 || ms.count(opServerTime) != wantReads || len(ms.lookUps()) != wantReads {
						t.Errorf("sends %d, runs %d, time reads %d, read-backs %d; want 1, 1, %d, %d",
							ms.sentCount(), ms.runCount(), ms.count(opServerTime), len(ms.lookUps()), wantReads, wantReads)
					}
					warned := len(run.Warnings) == 1 && strings.Contains(run.Warnings[0], "run 1001-20240101100000") && strings.Contains(run.Warnings[0], "parameter(s) bizdate otherwise")
					if warned != readBack {
						t.Errorf("warnings %q; want one naming the run and the key exactly when the run is read back", run.Warnings)
					}
				})
			}
		}
	}
}

// unreadableAnswers makes ms answer a taken slot with the existing id and
// fail every read of a run.
func unreadableAnswers(ms *memService) {
	ms.answerExisting = true
	ms.failAlways(opSearch, fault5xx)
	ms.failAlways(opGet, fault5xx)
}

// verify: when every read-back fails, it is tried again within the request
// timeout, then the answered run is kept with a warning naming it; a second
// trigger in the same slot answered with that id is never handed out to
// another caller.
func TestAnswerThatCannotBeReadBackIsKeptWithAWarning(t *testing.T) {
	ms, r := newStartTest()
	unreadableAnswers(ms)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || run.InstanceID != "1001-20240101100000" {
		t.Fatalf("run %+v, err %v; want the answered run kept", run, err)
	}
	if len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], "run 1001-20240101100000") || !strings.Contains(run.Warnings[0], "could not be read back") {
		t.Errorf("warnings %q, want one naming the unverified run", run.Warnings)
	}
	if gets := ms.count(opGet); gets < 2 || ms.slept == 0 {
		t.Errorf("%d reads, %d backoff sleeps: want the read-back tried again", gets, ms.slept)
	}
	other, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(5 * time.Second)})
	if err != nil || other.InstanceID == run.InstanceID || ms.runCount() != 2 {
		t.Errorf("second trigger: run %+v, err %v, %d runs; want a run of its own", other, err, ms.runCount())
	}
}

// lookUp after the caller's context ended while the answer was due (an
// interrupt, a create timeout, a body cut off): the run is still looked
// for, with a detached bounded context, and adopted without another send.
// When the look-up fails too, the error says that the request was sent and
// the run looked for, and names the expected id.
func TestLostAnswerWithCancelledContextIsLookedUp(t *testing.T) {
	for _, lookUpFails := range []bool{false, true} {
		t.Run(map[bool]string{false: "found", true: "look-up fails"}[lookUpFails], func(t *testing.T) {
			ms, r := newStartTest()
			ctx, cancel := context.WithCancel(context.Background())
			ms.cancels[""] = cancel
			ms.failFirst(opTrigger, 1, faultCancel)
			if lookUpFails {
				ms.failAlways(opSearch, fault5xx)
				ms.failAlways(opGet, fault5xx)
			}
			run, err := r.startRun(ctx, TriggerRequest{FlowID: 1001})
			if ms.sentCount() != 1 {
				t.Errorf("%d sends, want 1", ms.sentCount())
			}
			if !lookUpFails {
				if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" {
					t.Errorf("run %+v, err %v; want the run found and adopted", run, err)
				}
				return
			}
			var unknown *TriggerOutcomeUnknownError
			if !errors.As(err, &unknown) || !unknown.RequestSent || !unknown.LookedUp || unknown.ExpectedInstanceID != "1001-20240101100000" {
				t.Fatalf("err = %#v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "was sent") || !strings.Contains(msg, "looked for and not found") {
				t.Errorf("error %q does not say that the request was sent and the run looked for", msg)
			}
		})
	}
}

// Two triggers of one slot at once, answered with one id while every
// read-back fails: the id is claimed before its read-back, so the second
// sees it held and moves; no two callers hold one run.
func TestConcurrentTriggersAnsweredWithOneIDNeverShareIt(t *testing.T) {
	ms, r := newStartTest()
	unreadableAnswers(ms)
	var wg sync.WaitGroup
	runs := make([]RunStart, 2)
	errs := make([]error, 2)
	for i := range runs {
		wg.Go(func() {
			runs[i], errs[i] = r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || runs[0].InstanceID == runs[1].InstanceID || ms.runCount() != 2 {
		t.Fatalf("runs %+v, errors %v, %d runs; want two runs of their own", runs, errs, ms.runCount())
	}
	for _, r := range runs {
		if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "run "+r.InstanceID) {
			t.Errorf("warnings %q do not name run %s", r.Warnings, r.InstanceID)
		}
	}
}

// A run triggered at the top of an hour is not taken for the hour-cut
// form of a later trigger of that hour that this client holds: a trigger
// sent for 10:00:00 whose answer is lost adopts its own run instead of
// moving on and forgetting it.
func TestRunAtTheTopOfTheHourIsNotALaterTriggersHourForm(t *testing.T) {
	ms, r := newStartTest()
	top := time.Date(2024, 1, 1, 10, 0, 0, 0, gmt8)
	if _, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: top.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	ms.failCall(opTrigger, 2, faultLostAfter)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: top})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || ms.runCount() != 2 {
		t.Fatalf("run %+v, err %v, %d runs; want the 10:00 run adopted and no third run", run, err, ms.runCount())
	}
}

// A trigger of an hour-id flow recorded with an unknown outcome (sent for
// 10:00, nothing found) expects the hour's id; a later trigger of the
// hour, for 10:01, answered with that id and reading back a run triggered
// at 10:01, keeps it: the run's trigger time is its own send's, so the
// recorded trigger cannot have started it. Found by the exploration's
// concurrent triggers; moving on would start a second run and leave the
// first held by nothing.
func TestRunTriggeredAtTheOwnInstantIsNotARecordedTriggersOfItsHour(t *testing.T) {
	ms, r := newStartTest()
	ms.hourIDs[1001] = true
	top := time.Date(2024, 1, 1, 10, 0, 0, 0, gmt8)
	ms.failFirst(opTrigger, 2, faultLostBefore)
	ms.failFirst(opSearch, 3, fault5xx)
	ms.failFirst(opGet, 3, fault5xx)
	_, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: top})
	var unknown *TriggerOutcomeUnknownError
	if !errors.As(err, &unknown) || ms.runCount() != 0 {
		t.Fatalf("first trigger: %v, %d runs; want an unknown outcome that started nothing", err, ms.runCount())
	}
	ms.fault = nil
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: top.Add(time.Minute)})
	if err != nil || run.InstanceID != "1001-2024010110" || run.Moved != nil || ms.runCount() != 1 {
		t.Fatalf("second trigger: run %+v, err %v, %d runs; want its own run 1001-2024010110 kept, not moved", run, err, ms.runCount())
	}
}

// A trigger whose outcome stays unknown in a slot whose run this client
// holds under another of the documented id forms (an hour id, the slot
// size not yet learnt) started nothing there: it moves on rather than
// recording an outcome that the next refresh would settle to the other
// trigger's run.
func TestUnknownOutcomeInASlotHeldUnderAnotherIDFormMovesOn(t *testing.T) {
	ms, r := newStartTest()
	ms.hourIDs[1007] = true
	first, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1007, TriggerTime: runNow})
	if err != nil || first.InstanceID != "1007-2024010110" {
		t.Fatalf("first run %+v, err %v", first, err)
	}
	ms.failCall(opTrigger, 2, faultLostBefore)
	ms.failCall(opTrigger, 3, faultLostBefore)
	ms.failAlways(opSearch, fault5xx)
	ms.failAlways(opGet, fault5xx)
	run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1007, TriggerTime: runNow})
	var unknown *TriggerOutcomeUnknownError
	if errors.As(err, &unknown) || run.InstanceID == first.InstanceID {
		t.Fatalf("run %+v, err %v; want a run of another hour (or a definite failure), not %s nor an unknown outcome", run, err, first.InstanceID)
	}
}

// Two triggers of an hour-id flow in one process, the slot size not yet
// learnt: the second, for another minute of the hour, comes while the
// service has acted on the first's send and its answer is still on the
// way. Until an id shows the slot size, sends of one flow take turns per
// hour (slotTurns), so the second waits for the first to keep its run,
// then meets the slot taken and moves on: it never takes the first's run.
func TestSecondTriggerOfAnHourWaitsForTheFirstsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms, r := newStartTest()
		ms.hourIDs[1007], ms.answerExisting = true, true
		firstActed, releaseFirst := make(chan struct{}), make(chan struct{})
		ms.acted = func(c memCall) {
			if c.n == 1 {
				close(firstActed)
				<-releaseFirst
			}
		}
		type result struct {
			run RunStart
			err error
		}
		first, second := make(chan result, 1), make(chan result, 1)
		go func() {
			run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1007, TriggerTime: runNow})
			first <- result{run, err}
		}()
		<-firstActed
		go func() {
			run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1007, TriggerTime: runNow.Add(time.Minute)})
			second <- result{run, err}
		}()
		synctest.Wait()
		if ms.sentCount() != 1 {
			t.Errorf("%d sends while the first answer is on its way, want the first alone", ms.sentCount())
		}
		close(releaseFirst)
		a, b := <-first, <-second
		if a.err != nil || a.run.InstanceID != "1007-2024010110" {
			t.Fatalf("first trigger: %+v, %v; want the run its send started, 1007-2024010110", a.run, a.err)
		}
		if b.err != nil || b.run.InstanceID == a.run.InstanceID || ms.runCount() != 2 {
			t.Fatalf("second trigger: %+v, %v, %d runs; want a run of its own", b.run, b.err, ms.runCount())
		}
	})
}

// A service clock that stands still while this machine's moves on (the
// emulator's manual clock, a lagging server): a reading of it taken for
// one trigger, moved forward to a later trigger's send, would put that
// send after the run it started, and the trigger would take its own run
// for an older one and move on, starting a run in each slot it tries.
// Every trigger of the flow in the hour here is read back (more than one
// send in the hour), under both duplicate behaviours, and each keeps the
// run its send started, answered or found after a lost answer.
func TestServiceClockStandingStillNeverMakesAnOwnRunOlder(t *testing.T) {
	for _, answerExisting := range []bool{false, true} {
		for _, lost := range []memFault{faultNone, faultLostAfter} {
			t.Run(fmt.Sprintf("answerExisting=%v/third answer %s", answerExisting, lost), func(t *testing.T) {
				ms, r := newStartTest()
				ms.answerExisting, ms.localTick = answerExisting, 3*time.Second
				ms.failCall(opTrigger, 3, lost)
				for i := range 3 {
					at := anHourAgo.Add(time.Duration(i) * time.Minute)
					run, err := r.startRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: at})
					want := fmt.Sprintf("1001-2024010109%02d00", i)
					if err != nil || run.InstanceID != want || run.Moved != nil || ms.runCount() != i+1 {
						t.Fatalf("trigger %d: run %+v, err %v, %d runs; want its own run %s, not moved", i+1, run, err, ms.runCount(), want)
					}
				}
			})
		}
	}
}

// Two triggers of one minute at once (two resources with the same flow and
// trigger_time), under both duplicate behaviours: the first's send starts
// the slot's run and its answer is held back; the second must not take
// that run for its own (answered with it, or finding it after a lost
// answer), or the first would meet the slot held and start a second run
// with its parameters elsewhere, the second's never started. The second
// sends once the first holds its run, and moves on.
func TestSecondTriggerOfAMinuteNeverTakesTheFirstsRun(t *testing.T) {
	for _, answerExisting := range []bool{false, true} {
		for _, second := range []memFault{faultNone, fault5xx} {
			t.Run(fmt.Sprintf("answerExisting=%v/second send %s", answerExisting, second), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ms, r := newStartTest()
					ms.answerExisting = answerExisting
					firstActed, releaseFirst := make(chan struct{}), make(chan struct{})
					ms.acted = func(c memCall) {
						if c.caller == "A" && c.n == 1 {
							close(firstActed)
							<-releaseFirst
						}
					}
					ms.fault = func(op string, n int) memFault {
						if op == opTrigger && n == 2 {
							return second
						}
						return faultNone
					}
					runs := map[string]RunStart{}
					var mu sync.Mutex
					var wg sync.WaitGroup
					start := func(caller string) {
						wg.Go(func() {
							run, err := r.startRun(withCaller(context.Background(), caller), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
							if err != nil {
								t.Errorf("%s: %v", caller, err)
							}
							mu.Lock()
							runs[caller] = run
							mu.Unlock()
						})
					}
					start("A")
					<-firstActed
					start("B")
					synctest.Wait() // B has sent and ended, or waits its turn
					close(releaseFirst)
					wg.Wait()
					for caller, run := range runs {
						if got := ms.startedBy[run.InstanceID]; got != caller {
							t.Errorf("%s holds %s, which %q started", caller, run.InstanceID, got)
						}
					}
					if ms.runCount() != 2 {
						t.Errorf("%d runs, want one per trigger", ms.runCount())
					}
				})
			})
		}
	}
}

package enos

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

var runNow = time.Date(2024, 1, 1, 10, 0, 30, 0, gmt8)

func newRunClient(t *testing.T, fs *fakeService) *Client {
	t.Helper()
	// A read-back that keeps failing is retried within the request
	// timeout: a short one keeps such tests short.
	c, _ := newTestClient(t, fs, func(cfg *Config) {
		cfg.Now = func() time.Time { return runNow }
		cfg.RequestTimeout = 500 * time.Millisecond
	})
	return c
}

func TestDefaultedTriggersOfOneFlowGetDistinctMinutes(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	c := newRunClient(t, fs)
	const runs = 5
	results := make([]RunStart, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			results[i], errs[i] = c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
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
	if n := fs.count("flows/updateAndTrigger"); n != runs {
		t.Errorf("triggers sent = %d, want %d (no duplicate answers)", n, runs)
	}
	// A different flow is free to use the current minute.
	other, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1002})
	if err != nil || !other.TriggerTime.Equal(runNow) {
		t.Errorf("other flow: %+v, %v; want trigger time now", other, err)
	}
}

func TestDefaultedTriggerMovesToTheNextMinuteOnDuplicate(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow.Truncate(time.Minute)}) // another process's run
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, Parameters: map[string]string{"bizdate": "20240101"}})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 1, 1, 10, 1, 0, 0, gmt8)
	if !run.TriggerTime.Equal(want) || run.InstanceID != "1001-20240101100100" || run.Adopted {
		t.Errorf("run = %+v, want the next minute %v", run, want)
	}
	if n := fs.count("flows/updateAndTrigger"); n != 2 {
		t.Errorf("triggers sent = %d, want 2", n)
	}

	// Every minute it may move to taken: maxSlotMoves moves, then the error.
	for i := range maxSlotMoves + 1 {
		at := runNow.Truncate(time.Minute).Add(time.Duration(i) * time.Minute)
		fs.addInstance(fakeInstance{ID: "1002-" + at.Format("200601021504") + "00", FlowID: 1002, TriggerTime: at})
	}
	_, err = c.StartRun(context.Background(), TriggerRequest{FlowID: 1002})
	if !IsDuplicateTrigger(err) || fs.count("flows/updateAndTrigger") != 2+maxSlotMoves+1 {
		t.Errorf("err = %v after %d sends", err, fs.count("flows/updateAndTrigger"))
	}
}

func TestDuplicateWithUserTimeNamesTheExistingRun(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.flowCycle(1001, "mi") // a minute period: no other minute can be used
	fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow.Truncate(time.Minute)})
	// The fuzzy expression "1001-" matches flow 11001 too, and sorts it first.
	fs.addInstance(fakeInstance{ID: "11001-20240101100000", FlowID: 11001, TriggerTime: runNow.Truncate(time.Minute)})
	c := newRunClient(t, fs)
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(15 * time.Second)})
	var dup *DuplicateTriggerError
	if !errors.As(err, &dup) {
		t.Fatalf("err = %v, want *DuplicateTriggerError", err)
	}
	if dup.FlowID != 1001 || dup.ExistingInstanceID != "1001-20240101100000" || !dup.Slot.Equal(runNow.Truncate(time.Minute)) || dup.Period.Cycle != "mi" {
		t.Errorf("dup = %+v", dup)
	}
	for _, want := range []string{"flow 1001", "minute 2024-01-01 10:00 GMT+8", "1001-20240101100000", "the minute 2024-01-01 10:00 (GMT+8)", "another period"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if fs.count("flows/updateAndTrigger") != 1 || fs.instanceCount() != 2 {
		t.Errorf("sends %d, instances %d: nothing may start", fs.count("flows/updateAndTrigger"), fs.instanceCount())
	}
}

func TestDroppedResponseAfterTheServerActedIsAdopted(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
		fs.act(call)
		dropConnection(w)
	})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Errorf("run = %+v, want the adopted 1001-20240101100000", run)
	}
	if fs.count("flows/updateAndTrigger") != 1 || fs.instanceCount() != 1 {
		t.Errorf("sends %d, instances %d; want exactly one trigger", fs.count("flows/updateAndTrigger"), fs.instanceCount())
	}
	var search struct {
		Expression      string `json:"expression"`
		FromTriggerTime int64  `json:"fromTriggerTime"`
		ToTriggerTime   int64  `json:"toTriggerTime"`
	}
	if err := json.Unmarshal(fs.callsOf("flowInstances/search")[0].Body, &search); err != nil {
		t.Fatal(err)
	}
	minute := runNow.Truncate(time.Minute).UnixMilli()
	if search.Expression != "1001-" || search.FromTriggerTime != minute || search.ToTriggerTime != minute+59999 {
		t.Errorf("look-up search = %+v", search)
	}
}

func TestDroppedRequestBeforeTheServerActedIsSentOnceMore(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	failFirst(fs, "flows/updateAndTrigger", 1, func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { dropConnection(w) })
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil {
		t.Fatal(err)
	}
	if run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Errorf("run = %+v", run)
	}
	// One search looks for the run, one reads the resend's answer back.
	if fs.count("flows/updateAndTrigger") != 2 || fs.count("flowInstances/search") != 2 || fs.instanceCount() != 1 {
		t.Errorf("sends %d, searches %d, instances %d", fs.count("flows/updateAndTrigger"), fs.count("flowInstances/search"), fs.instanceCount())
	}
}

// The look-up may miss a run the service is still recording; the resend's
// duplicate answer then leads to the run.
func TestResendAnsweredDuplicateAdoptsTheFirstAttemptsRun(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		if fs.count("flows/updateAndTrigger") == 1 {
			dropConnection(w)
			return
		}
		fs.serveTrigger(w, r, call)
	})
	failFirst(fs, "flowInstances/search", 1, func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		fs.ok(w, map[string]any{"flowInsts": []any{}, "count": 0})
		fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow}) // recorded late
	})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Errorf("run %+v, err %v", run, err)
	}
}

// Unknown twice: the run is looked for after each send, and only then is
// the unknown outcome reported.
func TestUnknownOutcomeTwiceIsReported(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", rawReply(502, "text/html", "<html>bad gateway</html>"))
	c := newRunClient(t, fs)
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
	if !errors.Is(err, ErrOutcomeUnknown) || fs.count("flows/updateAndTrigger") != 2 || fs.count("flowInstances/search") != 2 {
		t.Errorf("err = %v after %d sends and %d searches", err, fs.count("flows/updateAndTrigger"), fs.count("flowInstances/search"))
	}
}

func TestInstanceIDReturnedForAnotherRunIsAnError(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.ok(w, map[string]string{"flowInstanceId": "1001-20240101100000"}) // a server that reuses ids
	})
	c := newRunClient(t, fs)
	if _, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}); err != nil {
		t.Fatal(err)
	}
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err == nil || !strings.Contains(err.Error(), "already returned for another run") {
		t.Errorf("err = %v", err)
	}
}

func TestStartRunSurfacesDefiniteErrors(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", rawReply(200, "application/json", `{"status":62103,"msg":"User has no privilege."}`))
	c := newRunClient(t, fs)
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1005})
	if !IsNoPrivilege(err) || fs.count("flows/updateAndTrigger") != 1 || fs.count("flowInstances/search") != 0 {
		t.Errorf("err = %v", err)
	}
}

func TestRunFoundAfterTheSecondUnknownOutcomeIsAdopted(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	runNow := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	sends := 0
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		sends++
		if sends == 2 {
			// The second send starts the run, but its answer is lost.
			fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow})
		}
		rawReply(502, "text/html", "<html>bad gateway</html>")(w, r, call)
	})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || sends != 2 {
		t.Errorf("run %+v, err %v after %d sends; want the run adopted after the second send", run, err, sends)
	}
}

// sends is the number of triggers fs received.
func (fs *fakeService) sends() int { return fs.count("flows/updateAndTrigger") }

// failAlways answers op with a 502 every time.
func failAlways(fs *fakeService, op string) {
	fs.handle(op, rawReply(502, "text/html", "<html>bad gateway</html>"))
}

// triggeredAt returns the trigger times of fs's runs of flowID.
func (fs *fakeService) runsOf(flowID int64) []fakeInstance {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []fakeInstance
	for _, inst := range fs.instances {
		if inst.FlowID == flowID {
			out = append(out, inst)
		}
	}
	return out
}

var anHourAgo = runNow.Add(-time.Hour) // 09:00:30 GMT+8, a past time of the same day

// send -> moveSlot -> send -> verify -> done: a chosen time in the past whose
// minute is taken moves to the next free minute of the day, not in the future.
func TestChosenTimeMovesToTheNextFreeMinuteOfThePeriod(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "reject", true: "answer-existing"}[existing], func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			fs.answerExisting = existing
			fs.flowCycle(1001, "D")
			params := []Parameter{{Key: "bizdate", Value: "20240101"}}
			// The failed run of the day, triggered an hour ago, and another run
			// in the next minute.
			fs.addInstance(fakeInstance{ID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, Parameters: params, Status: int(StatusFail),
				Created: runNow.Add(-7 * time.Minute)})
			fs.addInstance(fakeInstance{ID: "1001-20240101090100", FlowID: 1001, TriggerTime: anHourAgo.Add(time.Minute).Truncate(time.Minute)})
			c := newRunClient(t, fs)
			run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo, Parameters: map[string]string{"bizdate": "20240101"}})
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
			if fs.sends() != 2 || len(fs.runsOf(1001)) != 3 {
				t.Errorf("sends %d, runs %d; want 2 sends and one new run", fs.sends(), len(fs.runsOf(1001)))
			}
		})
	}
}

// A chosen time of now whose minute is taken cannot move to the future
// minute: it takes the nearest earlier free minute of the period.
func TestChosenTimeMovesToAnEarlierMinuteWhenLaterOnesAreInTheFuture(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.flowCycle(1001, "D")
	fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow})
	fs.addInstance(fakeInstance{ID: "1001-20240101095900", FlowID: 1001, TriggerTime: runNow.Add(-time.Minute)})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	want := time.Date(2024, 1, 1, 9, 58, 0, 0, gmt8)
	if err != nil || !run.TriggerTime.Equal(want) || run.Moved == nil {
		t.Fatalf("run %+v, err %v; want it moved to %v", run, err, want)
	}
}

// moveSlot -> failed: no other minute of an hourly period is free and not in
// the future; the error names the flow, the period and the existing run.
func TestChosenTimeWithNoFreeSlotInThePeriodFails(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.flowCycle(1002, "H")
	at := time.Date(2024, 1, 1, 10, 0, 10, 0, gmt8) // 10:01 would be in the future, 09:59 in another hour
	fs.addInstance(fakeInstance{ID: "1002-20240101100000", FlowID: 1002, TriggerTime: at})
	c := newRunClient(t, fs)
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1002, TriggerTime: at})
	var dup *DuplicateTriggerError
	if !errors.As(err, &dup) || dup.ExistingInstanceID != "1002-20240101100000" || dup.Period.Cycle != "H" {
		t.Fatalf("err = %v, want a duplicate in the hour", err)
	}
	for _, want := range []string{"flow 1002", "1002-20240101100000", "the hour 2024-01-01 10:00 (GMT+8)", "not in the future"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if fs.sends() != 1 || fs.instanceCount() != 1 {
		t.Errorf("sends %d, instances %d", fs.sends(), fs.instanceCount())
	}
}

// verify -> moveSlot: the service answers a defaulted trigger with the id
// of an older run of the minute (the flow's scheduled run, say); it is not
// taken for the new run.
func TestAnswerWithAnOlderRunsIDIsADuplicate(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.answerExisting = true
	scheduled := runNow.Truncate(time.Minute)
	fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: scheduled, Created: scheduled})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if run.InstanceID != "1001-20240101100100" || run.Adopted {
		t.Errorf("run = %+v, want a new run in the next minute", run)
	}
	if fs.sends() != 2 || fs.instanceCount() != 2 {
		t.Errorf("sends %d, instances %d", fs.sends(), fs.instanceCount())
	}
}

// The older run is told apart by its creation time, before a server time
// read before the send, when trigger time and parameters match those sent
// (a re-run of the same failed day).
func TestAnswerWithARunCreatedBeforeTheTriggerIsADuplicate(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.answerExisting = true
	fs.flowCycle(1001, "D")
	params := []Parameter{{Key: "bizdate", Value: "20240101"}}
	fs.addInstance(fakeInstance{ID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, Parameters: params, Created: runNow.Add(-5 * time.Minute), Status: int(StatusFail)})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo, Parameters: map[string]string{"bizdate": "20240101"}})
	if err != nil || run.InstanceID != "1001-20240101090100" || run.Moved == nil {
		t.Fatalf("run %+v, err %v; want a new run in 09:01", run, err)
	}
	// One read serves every later trigger of the client.
	if _, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if fs.count("time/getCurrentTime") != 1 {
		t.Errorf("server clock read %d times, want once", fs.count("time/getCurrentTime"))
	}
}

// A run that ends at once is still the new run: having ended is no sign of
// an older one.
func TestAnswerWithARunThatEndedAtOnceIsTaken(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.instanceStatus = int(StatusSuccess)
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
	if err != nil || run.Moved != nil || fs.sends() != 1 {
		t.Fatalf("run %+v, err %v, sends %d; want the answered run", run, err, fs.sends())
	}
}

// A read of the answered run that does not describe it (a malformed answer)
// is no evidence of an older run: the answered run is taken, and nothing
// else is triggered.
func TestAnswerReadBackMalformedIsTaken(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handlers["flowInstances/get"] = func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.ok(w, nil)
	}
	fs.handlers["flowInstances/search"] = fs.handlers["flowInstances/get"]
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil || run.InstanceID == "" || run.Moved != nil {
		t.Fatalf("run %+v, err %v; want the answered run", run, err)
	}
	if fs.sends() != 1 {
		t.Errorf("sends %d, want 1", fs.sends())
	}
}

// An id the client handed out for a run of another hour is an error, not a
// duplicate.
func TestAnswerWithAnIDHeldForAnotherHourIsAnError(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.ok(w, map[string]string{"flowInstanceId": "1001-20240101100000"})
	})
	c := newRunClient(t, fs)
	if _, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}); err != nil {
		t.Fatal(err)
	}
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(-3 * time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "already returned for another run") || fs.sends() != 2 {
		t.Errorf("err = %v after %d sends", err, fs.sends())
	}
}

// Hour-granular ids: defaulted triggers of one flow in one process get
// distinct hours, whichever duplicate behaviour the service has.
func TestDefaultedTriggersOfAnHourlyIDFlowGetDistinctHours(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(map[bool]string{false: "reject", true: "answer-existing"}[existing], func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			fs.hourIDs, fs.answerExisting = true, existing
			c := newRunClient(t, fs)
			var ids []string
			for range 3 {
				run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1007})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, run.InstanceID)
			}
			want := []string{"1007-2024010110", "1007-2024010111", "1007-2024010112"}
			if strings.Join(ids, " ") != strings.Join(want, " ") || fs.instanceCount() != 3 {
				t.Errorf("ids %v, instances %d; want %v", ids, fs.instanceCount(), want)
			}
			// The second trigger learns the hour slot (two sends); the third
			// goes to a free hour at once.
			if fs.sends() != 4 {
				t.Errorf("sends = %d, want 4", fs.sends())
			}
		})
	}
}

// Concurrent defaulted triggers of an hourly-id flow all succeed.
func TestConcurrentDefaultedTriggersOfAnHourlyIDFlow(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.hourIDs = true
	c := newRunClient(t, fs)
	const runs = 3
	ids := make([]string, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			var run RunStart
			run, errs[i] = c.StartRun(context.Background(), TriggerRequest{FlowID: 1007})
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
	if len(distinct) != runs || fs.instanceCount() != runs {
		t.Errorf("ids %v, instances %d", ids, fs.instanceCount())
	}
}

// A re-run of an hourly-id flow with a chosen time of a daily period: the
// next minute collides too, which shows the hour slot; the run moves to the
// next hour of the day that is not in the future.
func TestChosenTimeOfAnHourlyIDFlowMovesToAnotherHour(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.hourIDs = true
	fs.flowCycle(1007, "D")
	at := time.Date(2024, 1, 1, 8, 15, 0, 0, gmt8)
	fs.addInstance(fakeInstance{ID: "1007-2024010108", FlowID: 1007, TriggerTime: at, Status: int(StatusFail)})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1007, TriggerTime: at})
	if err != nil {
		t.Fatal(err)
	}
	if run.InstanceID != "1007-2024010109" || run.Moved == nil || run.Moved.SlotSize != time.Hour {
		t.Errorf("run = %+v (moved %+v), want the 09:00 hour", run, run.Moved)
	}
	if c.runs.slots.slotSize(1007) != time.Hour || fs.sends() != 3 {
		t.Errorf("slot %v after %d sends", c.runs.slots.slotSize(1007), fs.sends())
	}
}

// lookUp -> done: the trigger's answer is lost and every search fails, but
// the run is read by its documented id.
func TestLostAnswerWithFailingSearchIsFoundByTheDocumentedID(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
		fs.act(call)
		dropConnection(w)
	})
	failAlways(fs, "flowInstances/search")
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, Parameters: map[string]string{"k": "v"}})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Fatalf("run %+v, err %v", run, err)
	}
	if fs.sends() != 1 || fs.instanceCount() != 1 {
		t.Errorf("sends %d, instances %d", fs.sends(), fs.instanceCount())
	}
}

// lookUp -> resend -> confirm -> failed: the answer is lost, search and get
// fail, the resend is refused as a duplicate. The first send worked, so
// nothing moves to another minute; the error names the run's documented id.
func TestLostAnswerWithFailingLookUpsIsReportedWithTheExpectedID(t *testing.T) {
	for _, defaulted := range []bool{true, false} {
		t.Run(map[bool]string{true: "defaulted", false: "chosen"}[defaulted], func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			fs.flowCycle(1001, "D")
			fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
				if fs.sends() == 1 {
					fs.act(call)
					dropConnection(w)
					return
				}
				fs.serveTrigger(w, r, call)
			})
			failAlways(fs, "flowInstances/search")
			failAlways(fs, "flowInstances/get")
			c := newRunClient(t, fs)
			req := TriggerRequest{FlowID: 1001}
			if !defaulted {
				req.TriggerTime = runNow
			}
			_, err := c.StartRun(context.Background(), req)
			var unknown *TriggerOutcomeUnknownError
			if !errors.As(err, &unknown) || !errors.Is(err, ErrOutcomeUnknown) || unknown.ExpectedInstanceID != "1001-20240101100000" {
				t.Fatalf("err = %v, want an unknown outcome naming 1001-20240101100000", err)
			}
			for _, want := range []string{"flow 1001", "2024-01-01 10:00:30 GMT+8", "1001-20240101100000", "documented id form"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if fs.sends() != 2 || fs.instanceCount() != 1 {
				t.Errorf("sends %d, instances %d: never a second run", fs.sends(), fs.instanceCount())
			}
		})
	}
}

// resend -> verify -> done: a service that answers duplicates with the
// existing id answers the resend with the first send's run, which is taken.
func TestLostAnswerThenAnswerWithTheFirstSendsRunIsTaken(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.answerExisting = true
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		if fs.sends() == 1 {
			fs.act(call)
			dropConnection(w)
			return
		}
		fs.serveTrigger(w, r, call)
	})
	failAlways(fs, "flowInstances/search")
	// The documented-id read finds nothing at first (a late record), so
	// the trigger is sent again.
	failFirst(fs, "flowInstances/get", 3, func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.replyCode(w, 62102, "Instance not found", nil)
	})
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001})
	if err != nil || run.InstanceID != "1001-20240101100000" {
		t.Fatalf("run %+v, err %v", run, err)
	}
	if fs.sends() != 2 || fs.instanceCount() != 1 {
		t.Errorf("sends %d, instances %d", fs.sends(), fs.instanceCount())
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
	dropFirst := func(fs *fakeService, first int) {
		fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
			if fs.sends() == first {
				dropConnection(w) // not acted on
				return
			}
			fs.serveTrigger(w, r, call)
		})
	}
	for _, answerExisting := range []bool{false, true} {
		t.Run(map[bool]string{false: "refused", true: "answered"}[answerExisting]+"/created before", func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			fs.answerExisting = answerExisting
			fs.flowCycle(1001, "D")
			fs.addInstance(fakeInstance{ID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, Created: runNow.Add(-5 * time.Minute), Status: int(StatusFail)})
			dropFirst(fs, 1)
			c := newRunClient(t, fs)
			run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
			if err != nil || run.Adopted || run.InstanceID != "1001-20240101090100" || run.Moved == nil || run.Moved.ExistingInstanceID != "1001-20240101090000" {
				t.Fatalf("run %+v, err %v; want a new run in 09:01, the replaced one not adopted", run, err)
			}
			if fs.instanceCount() != 2 {
				t.Errorf("%d instances, want the old run and the new one", fs.instanceCount())
			}
		})
	}
	t.Run("held by the caller", func(t *testing.T) {
		fs := newFakeService(t, APIVersion20)
		fs.flowCycle(1001, "D")
		fs.addInstance(fakeInstance{ID: "1001-20240101090000", FlowID: 1001, TriggerTime: anHourAgo, Created: runNow})
		dropFirst(fs, 1)
		c := newRunClient(t, fs)
		run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo, HeldIDs: []string{"1001-20240101090000"}})
		if err != nil || run.Adopted || run.InstanceID != "1001-20240101090100" {
			t.Fatalf("run %+v, err %v; want the held run left alone and a new run in 09:01", run, err)
		}
	})
	t.Run("handed out", func(t *testing.T) {
		fs := newFakeService(t, APIVersion20)
		fs.flowCycle(1001, "D")
		c := newRunClient(t, fs)
		first, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo})
		if err != nil {
			t.Fatal(err)
		}
		dropFirst(fs, 2)
		run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: anHourAgo.Add(10 * time.Second)})
		if err != nil || run.InstanceID == first.InstanceID || run.Adopted || fs.instanceCount() != 2 {
			t.Errorf("run %+v, err %v, %d instances; want %s refused and a run of its own", run, err, fs.instanceCount(), first.InstanceID)
		}
	})
	t.Run("other parameters, created after the send", func(t *testing.T) {
		fs := newFakeService(t, APIVersion20)
		fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow, Created: runNow, Parameters: []Parameter{{Key: "bizdate", Value: "v-stored"}}})
		dropFirst(fs, 1)
		c := newRunClient(t, fs)
		run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow, Parameters: map[string]string{"bizdate": "v-sent"}})
		if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || fs.sends() != 1 {
			t.Fatalf("run %+v, err %v, sends %d; want the run adopted without another send", run, err, fs.sends())
		}
		if len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], "parameter(s) bizdate otherwise than sent") || strings.Contains(run.Warnings[0], "v-s") {
			t.Errorf("warnings %q, want one naming the key bizdate and no value", run.Warnings)
		}
	})
}

// A value the service stores otherwise than sent (here: trimmed) is no
// evidence of an older run: the answered run is taken after one send,
// with or without a set trigger time, whichever way duplicates are
// answered, and a warning names the key. The server time is read once,
// before the first send, for defaulted times as well.
func TestAnswerWithRewrittenParametersIsTaken(t *testing.T) {
	for _, answerExisting := range []bool{false, true} {
		for _, defaulted := range []bool{true, false} {
			name := map[bool]string{false: "refused", true: "answered"}[answerExisting] + "/" + map[bool]string{true: "defaulted", false: "chosen"}[defaulted]
			t.Run(name, func(t *testing.T) {
				fs := newFakeService(t, APIVersion20)
				fs.answerExisting = answerExisting
				fs.rewrite = strings.TrimSpace
				c := newRunClient(t, fs)
				req := TriggerRequest{FlowID: 1001, Parameters: map[string]string{"bizdate": "20240101 ", "region": "cn"}}
				if !defaulted {
					req.TriggerTime = runNow
				}
				run, err := c.StartRun(context.Background(), req)
				if err != nil || run.InstanceID != "1001-20240101100000" || run.Moved != nil {
					t.Fatalf("run %+v, err %v; want the answered run", run, err)
				}
				if fs.sends() != 1 || fs.instanceCount() != 1 || fs.count("time/getCurrentTime") != 1 {
					t.Errorf("sends %d, instances %d, time reads %d; want 1 each", fs.sends(), fs.instanceCount(), fs.count("time/getCurrentTime"))
				}
				if len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], "run 1001-20240101100000") || !strings.Contains(run.Warnings[0], "parameter(s) bizdate otherwise") {
					t.Errorf("warnings %q, want one naming the run and the key", run.Warnings)
				}
			})
		}
	}
}

// unreadableAnswersService answers a taken slot of its daily flow 1001
// with the existing id, and fails every read of a run.
func unreadableAnswersService(t *testing.T) *fakeService {
	fs := newFakeService(t, APIVersion20)
	fs.answerExisting = true
	fs.flowCycle(1001, "D")
	failAlways(fs, "flowInstances/search")
	failAlways(fs, "flowInstances/get")
	return fs
}

// verify: when every read-back fails, it is tried again within the request
// timeout, then the answered run is kept with a warning naming it; a second
// trigger in the same slot answered with that id is never handed out to
// another caller.
func TestAnswerThatCannotBeReadBackIsKeptWithAWarning(t *testing.T) {
	fs := unreadableAnswersService(t)
	c, delays := newTestClient(t, fs, func(cfg *Config) {
		cfg.Now = func() time.Time { return runNow }
		cfg.RequestTimeout = 500 * time.Millisecond
	})
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || run.InstanceID != "1001-20240101100000" {
		t.Fatalf("run %+v, err %v; want the answered run kept", run, err)
	}
	if len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], "run 1001-20240101100000") || !strings.Contains(run.Warnings[0], "could not be read back") {
		t.Errorf("warnings %q, want one naming the unverified run", run.Warnings)
	}
	if gets := fs.count("flowInstances/get"); gets < 2 || len(delays.recorded()) == 0 {
		t.Errorf("%d reads, delays %v: want the read-back tried again", gets, delays.recorded())
	}
	other, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(5 * time.Second)})
	if err != nil || other.InstanceID == run.InstanceID || fs.instanceCount() != 2 {
		t.Errorf("second trigger: run %+v, err %v, %d instances; want a run of its own", other, err, fs.instanceCount())
	}
}

// lookUp after the caller's context ended while the answer was due (an
// interrupt, a create timeout): the run is still looked for, with a
// detached bounded context, and adopted without another send. When the
// look-up fails too, the error says that the request was sent and the run
// looked for, and names the expected id.
func TestLostAnswerWithCancelledContextIsLookedUp(t *testing.T) {
	for _, lookUpFails := range []bool{false, true} {
		t.Run(map[bool]string{false: "found", true: "look-up fails"}[lookUpFails], func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			ctx, cancel := context.WithCancel(context.Background())
			fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
				fs.act(call)
				cancel()
				dropConnection(w)
			})
			if lookUpFails {
				failAlways(fs, "flowInstances/search")
				failAlways(fs, "flowInstances/get")
			}
			c := newRunClient(t, fs)
			run, err := c.StartRun(ctx, TriggerRequest{FlowID: 1001})
			if fs.sends() != 1 {
				t.Errorf("%d sends, want 1", fs.sends())
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
	fs := unreadableAnswersService(t)
	c := newRunClient(t, fs)
	var wg sync.WaitGroup
	runs := make([]RunStart, 2)
	errs := make([]error, 2)
	for i := range runs {
		wg.Go(func() {
			runs[i], errs[i] = c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow})
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || runs[0].InstanceID == runs[1].InstanceID || fs.instanceCount() != 2 {
		t.Fatalf("runs %+v, errors %v, %d instances; want two runs of their own", runs, errs, fs.instanceCount())
	}
	for _, r := range runs {
		if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "run "+r.InstanceID) {
			t.Errorf("warnings %q do not name run %s", r.Warnings, r.InstanceID)
		}
	}
}

// The caller's context ends while the answer is being read (headers in,
// body slow): the outcome is unknown, the run is looked for on a detached
// context and adopted, and nothing is sent again.
func TestAnswerCutOffWhileTheBodyIsReadIsLookedUp(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	ctx, cancel := context.WithCancel(context.Background())
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		fs.act(call)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"status":0,`))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		cancel()
		<-r.Context().Done()
	})
	c := newRunClient(t, fs)
	run, err := c.StartRun(ctx, TriggerRequest{FlowID: 1001, TriggerTime: runNow})
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || fs.sends() != 1 {
		t.Errorf("run %+v, err %v after %d sends; want the run found and adopted", run, err, fs.sends())
	}
}

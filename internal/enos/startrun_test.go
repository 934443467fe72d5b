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
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.Now = func() time.Time { return runNow } })
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
			results[i], errs[i] = c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}, true)
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
	other, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1002}, true)
	if err != nil || !other.TriggerTime.Equal(runNow) {
		t.Errorf("other flow: %+v, %v; want trigger time now", other, err)
	}
}

func TestDefaultedTriggerMovesToTheNextMinuteOnDuplicate(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: runNow.Truncate(time.Minute)}) // another process's run
	c := newRunClient(t, fs)
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, Parameters: map[string]string{"bizdate": "20240101"}}, true)
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
	_, err = c.StartRun(context.Background(), TriggerRequest{FlowID: 1002}, true)
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
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow.Add(15 * time.Second)}, false)
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
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}, true)
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
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow}, false)
	if err != nil {
		t.Fatal(err)
	}
	if run.Adopted || run.InstanceID != "1001-20240101100000" {
		t.Errorf("run = %+v", run)
	}
	if fs.count("flows/updateAndTrigger") != 2 || fs.count("flowInstances/search") != 1 || fs.instanceCount() != 1 {
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
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow}, false)
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
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}, true)
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
	if _, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}, true); err != nil {
		t.Fatal(err)
	}
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001}, true)
	if err == nil || !strings.Contains(err.Error(), "already returned for another run") {
		t.Errorf("err = %v", err)
	}
}

func TestStartRunSurfacesDefiniteErrors(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", rawReply(200, "application/json", `{"status":62103,"msg":"User has no privilege."}`))
	c := newRunClient(t, fs)
	_, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1005}, true)
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
	run, err := c.StartRun(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: runNow}, false)
	if err != nil || !run.Adopted || run.InstanceID != "1001-20240101100000" || sends != 2 {
		t.Errorf("run %+v, err %v after %d sends; want the run adopted after the second send", run, err, sends)
	}
}

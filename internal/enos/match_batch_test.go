package enos

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// newPolledMatcher is run matching over ms on a clock the test moves.
func newPolledMatcher() (*memService, *emulator.ManualClock, *runMatcher) {
	ms := newMemService()
	clock := emulator.NewManualClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	r := newMemMatcher(ms)
	r.now = clock.Now
	return ms, clock, r
}

// statusTestRuns adds runs of the flows to ms, perFlow a minute apart in
// the hour of base, and returns them.
func statusTestRuns(ms *memService, base time.Time, perFlow int, flows ...int64) []RunRef {
	var refs []RunRef
	for _, flowID := range flows {
		for i := range perFlow {
			at := base.Add(time.Duration(i) * time.Minute)
			id := fmt.Sprintf("%d-%d", flowID, at.Unix())
			ms.addRun(FlowInstance{InstanceID: id, FlowID: flowID, TriggerTime: at, Status: StatusRunning})
			refs = append(refs, RunRef{InstanceID: id, FlowID: flowID, TriggerTime: at})
		}
	}
	return refs
}

func TestRunStatusOneSearchServesARefreshOfAFlowAndHour(t *testing.T) {
	ms := newMemService()
	r := newMemMatcher(ms)
	ctx := context.Background()
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	refs := statusTestRuns(ms, base, 30, 1001, 1002)
	// Another hour of 1001: its own search.
	refs = append(refs, statusTestRuns(ms, base.Add(time.Hour), 5, 1001)...)

	// One by one, as Terraform's refresh of a plan asks: nothing gathers
	// concurrent calls, the first check of each flow and hour learns them all.
	for _, ref := range refs {
		inst, err := r.runStatus(ctx, ref, time.Time{}, true)
		if err != nil || inst.InstanceID != ref.InstanceID || inst.FlowID != ref.FlowID {
			t.Fatalf("RunStatus(%s) = %+v, %v", ref.InstanceID, inst, err)
		}
	}
	if n := ms.count(opSearch); n != 3 {
		t.Errorf("%d searches for %d runs in 3 (flow, hour) pairs, want 3", n, len(refs))
	}
	if n := ms.count(opGet); n != 0 {
		t.Errorf("%d flowInstances/get, want 0: the searches return every run", n)
	}
}

// A refresh holds the runs its searches found only until they are read:
// once every run of a flow and hour has been refreshed, nothing of that
// search is left in the process (a plan of thousands of runs, each of its
// own flow, would otherwise keep them all), and another refresh of a run
// read already reads it alone.
func TestRunStatusRefreshLetsGoOfTheRunsItRead(t *testing.T) {
	ms := newMemService()
	r := newMemMatcher(ms)
	ctx := context.Background()
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	refs := statusTestRuns(ms, base, 3, 1001, 1002)
	for _, ref := range refs[:4] {
		if _, err := r.runStatus(ctx, ref, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	hour := base.Unix() / 3600
	held := func() (searches, runs int) {
		r.statuses.mu.Lock()
		defer r.statuses.mu.Unlock()
		for _, s := range r.statuses.hour(hour).searches {
			searches, runs = searches+1, runs+len(s.found)
		}
		return searches, runs
	}
	if searches, runs := held(); searches != 1 || runs != 2 {
		t.Errorf("after 4 of 6 refreshes: %d searches holding %d runs, want flow 1002's search holding its 2 runs not read yet", searches, runs)
	}
	for _, ref := range refs[4:] {
		if _, err := r.runStatus(ctx, ref, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	if searches, runs := held(); searches != 0 || runs != 0 {
		t.Errorf("after every refresh: %d searches holding %d runs, want none", searches, runs)
	}
	if n := ms.count(opSearch); n != 2 {
		t.Errorf("%d searches, want one per flow and hour", n)
	}
	inst, err := r.runStatus(ctx, refs[0], time.Time{}, true)
	if err != nil || inst.InstanceID != refs[0].InstanceID || ms.count(opSearch)+ms.count(opGet) != 3 {
		t.Errorf("a second refresh of %s: %+v, %v, %d searches and %d gets; want the run, read with one request", refs[0].InstanceID, inst, err, ms.count(opSearch), ms.count(opGet))
	}
}

// TestRunStatusPollNeverGetsAnOlderSearch blocks each search in the fake
// until the test releases it, and answers the n-th search with status n, so
// that each caller's answer names the search it came from.
func TestRunStatusPollNeverGetsAnOlderSearch(t *testing.T) {
	ms, clock, r := newPolledMatcher()
	ctx := context.Background()
	refs := statusTestRuns(ms, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), 2, 1001, 1002)

	arrived := make(chan int)
	release := map[int]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})}
	ms.before = func(c memCall) {
		if c.op != opSearch {
			return
		}
		ms.mu.Lock()
		for i := range ms.runs {
			ms.runs[i].Status = Status(c.n) // names the search
		}
		ms.mu.Unlock()
		arrived <- c.n
		<-release[c.n]
	}

	type answer struct {
		status Status
		err    error
	}
	poll := func(ref RunRef, due time.Time) chan answer {
		ch := make(chan answer, 1)
		go func() {
			inst, err := r.runStatus(ctx, ref, due, true)
			if err != nil {
				ch <- answer{err: err}
				return
			}
			ch <- answer{status: inst.Status}
		}()
		return ch
	}
	t1 := clock.Now()
	first := poll(refs[0], t1)
	if n := <-arrived; n != 1 {
		t.Fatalf("search %d arrived first", n)
	}
	// The clock moves on while search 1 is in flight: a poll due now must
	// not take it, although it covers the run. It waits for the search
	// after it, sent once search 1 has ended.
	t2 := t1.Add(10 * time.Second)
	clock.Set(t2)
	second := poll(refs[0], t2)
	close(release[1])
	if a := <-first; a.err != nil || a.status != 1 {
		t.Errorf("poll due at t1 = status %d, %v; want the answer of search 1", a.status, a.err)
	}
	if n := <-arrived; n != 2 {
		t.Fatalf("search %d arrived second", n)
	}
	close(release[2])
	if a := <-second; a.err != nil || a.status != 2 {
		t.Errorf("poll due at t2 = status %d, %v; want the answer of search 2, started at t2", a.status, a.err)
	}
	// A poll due at t1 now takes the newest search since (search 2); a
	// refresh takes any. Neither sends anything.
	for _, due := range []time.Time{t1, {}} {
		if a := <-poll(refs[0], due); a.err != nil || a.status != 2 {
			t.Errorf("poll due %v = status %d, %v; want search 2's answer", due, a.status, a.err)
		}
	}
	if s, g := ms.count(opSearch), ms.count(opGet); s != 2 || g != 0 {
		t.Errorf("%d searches and %d gets, want 2 and 0", s, g)
	}
}

func TestRunStatusWaitersOfSeveralFlowsShareOneSearch(t *testing.T) {
	ms, clock, r := newPolledMatcher()
	ctx := context.Background()
	refs := statusTestRuns(ms, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), 3, 1001, 1002, 1004)
	// The first poll of each run makes it known as waited on.
	for _, ref := range refs {
		if _, err := r.runStatus(ctx, ref, clock.Now(), true); err != nil {
			t.Fatal(err)
		}
	}
	before := ms.count(opSearch)
	due := clock.Now().Add(10 * time.Second)
	clock.Set(due)
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Go(func() {
			if inst, err := r.runStatus(ctx, ref, due, true); err != nil || inst.InstanceID != ref.InstanceID {
				t.Errorf("RunStatus(%s) = %+v, %v", ref.InstanceID, inst, err)
			}
		})
	}
	wg.Wait()
	if n := ms.count(opSearch) - before; n != 1 {
		t.Errorf("%d searches for one poll of %d runs of 3 flows, want 1", n, len(refs))
	}
	if n := ms.count(opGet); n != 0 {
		t.Errorf("%d flowInstances/get, want 0", n)
	}
}

func TestRunStatusReadsAloneAfterAFailedSearch(t *testing.T) {
	ms := newMemService()
	r := newMemMatcher(ms)
	ctx := context.Background()
	refs := statusTestRuns(ms, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), 2, 1001)
	ms.fault = func(op string, _ int) memFault {
		if op == opSearch {
			return fault5xx
		}
		return faultNone
	}
	for _, ref := range refs {
		if inst, err := r.runStatus(ctx, ref, time.Time{}, true); err != nil || inst.InstanceID != ref.InstanceID {
			t.Fatalf("RunStatus(%s) = %+v, %v", ref.InstanceID, inst, err)
		}
	}
	// The failed search is not kept: the second check searches again.
	if s, g := ms.count(opSearch), ms.count(opGet); s != 2 || g != 2 {
		t.Errorf("%d searches and %d gets, want 2 and 2", s, g)
	}
}

// A run read back after its trigger is not waited on: the polls of its hour
// that follow search only the runs polled, not every run triggered in it.
func TestRunStatusReadBackLeavesNoWaiter(t *testing.T) {
	ms, clock, r := newPolledMatcher()
	ctx := context.Background()
	refs := statusTestRuns(ms, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), 1, 1001, 1002)
	readBack, polled := refs[0], refs[1]
	if inst, err := r.readBack(ctx, readBack, clock.Now()); err != nil || inst.InstanceID != readBack.InstanceID {
		t.Fatalf("readBack(%s) = %+v, %v", readBack.InstanceID, inst, err)
	}
	clock.Set(clock.Now().Add(10 * time.Second))
	if inst, err := r.runStatus(ctx, polled, clock.Now(), true); err != nil || inst.InstanceID != polled.InstanceID {
		t.Fatalf("RunStatus(%s) = %+v, %v", polled.InstanceID, inst, err)
	}
	searches := ms.searches
	if len(searches) != 2 {
		t.Fatalf("%d searches, want 2: %+v", len(searches), searches)
	}
	if got, want := searches[1].FlowID, int64(1002); got != want {
		t.Errorf("the poll searched flow %d, want only flow 1002's runs: the run read back is still waited on", got)
	}
}

// Runs read back together share one search of their trigger window even
// when the apply's earlier triggers of other flows crowd that window past
// a page: the search takes the newest runs first.
func TestRunStatusReadBacksInACrowdedWindowShareOneSearch(t *testing.T) {
	ms, clock, r := newPolledMatcher()
	ctx := context.Background()
	sent := clock.Now()
	for i := range 2 * defaultPageSize {
		ms.addRun(FlowInstance{InstanceID: fmt.Sprintf("%d-crowd", 3000+i), FlowID: int64(3000 + i), TriggerTime: sent.Add(-time.Second)})
	}
	refs := statusTestRuns(ms, sent, 1, 1001, 1002, 1003)
	// A first read-back in flight makes the others queue for the next search.
	release := holdFirstSearch(t, ms)
	var wg sync.WaitGroup
	wg.Go(func() { expectReadBack(ctx, t, r, refs[0], sent) })
	waitFor(t, func() bool { return ms.count(opSearch) == 1 })
	for _, ref := range refs[1:] {
		wg.Go(func() { expectReadBack(ctx, t, r, ref, sent) })
	}
	waitFor(t, func() bool { return r.statuses.waitingIn(refs[1].TriggerTime.Unix()/3600) == 3 })
	release()
	wg.Wait()
	if s, g := ms.count(opSearch), ms.count(opGet); s != 2 || g != 0 {
		t.Errorf("%d searches and %d gets for 3 read-backs, want 2 and 0", s, g)
	}
}

// waitingIn is how many runs are waited on or read back in hour.
func (s *statusBatcher) waitingIn(hour int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hour(hour).waiting)
}

// waitFor waits until cond holds, failing the test after a generous bound.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
	}
}

// Two read-backs of one run (two triggers answered with the same id): the
// second queues behind the first's search, and the first ends, no longer
// waiting on the run, before that search does. The queued search still
// covers the run (without it, it would cover no run at all).
func TestQueuedPollSearchCoversTheRunsOfItsCalls(t *testing.T) {
	var s statusBatcher
	sent := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	ref := RunRef{InstanceID: "1001-20240301120000", FlowID: 1001, TriggerTime: sent}
	hour := sent.Unix() / 3600
	if _, _, send := s.searchFor(sent, hour, ref, sent); !send {
		t.Fatal("the first read-back sent no search")
	}
	later := sent.Add(time.Second)
	queued, _, send := s.searchFor(later, hour, ref, later)
	if send {
		t.Fatal("the second read-back sent a search while one was in flight")
	}
	s.stopWaiting(hour, ref) // the first read-back has its answer
	next, refs := s.pollEnded(later.Add(time.Second), hour)
	if next != queued || len(refs) != 1 || refs[0] != ref {
		t.Fatalf("the queued search started for %v (the queued one: %t), want %v", refs, next == queued, ref)
	}
}

// holdFirstSearch makes ms hold its first instance search until the
// returned release is called (at the latest when the test ends, so that a
// failing test does not leave the search waiting).
func holdFirstSearch(t *testing.T, ms *memService) (release func()) {
	held := make(chan struct{})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	ms.before = func(c memCall) {
		if c.op == opSearch && c.n == 1 {
			<-held
		}
	}
	return release
}

// expectReadBack reads ref back as sent at sent and fails the test unless
// that returns the run.
func expectReadBack(ctx context.Context, t *testing.T, r *runMatcher, ref RunRef, sent time.Time) {
	if inst, err := r.readBack(ctx, ref, sent); err != nil || inst.InstanceID != ref.InstanceID {
		t.Errorf("readBack(%s) = %+v, %v", ref.InstanceID, inst, err)
	}
}

// The rule that keeps an hour's searches few: a newer search replaces the
// ones it serves every run of (a search of the same flow; a search of runs
// that covers all of an older one's), and no other.
func TestHourBatchKeepsOnlySearchesNotSuperseded(t *testing.T) {
	flow1, flow2 := &statusSearch{flow: 1001}, &statusSearch{flow: 1002}
	runsAB := &statusSearch{refs: map[string]int64{"a": 1001, "b": 1002}}
	runsA := &statusSearch{refs: map[string]int64{"a": 1001}}
	for _, tc := range []struct {
		name      string
		old, next *statusSearch
		replaced  bool
	}{
		{"same flow", flow1, &statusSearch{flow: 1001}, true},
		{"other flow", flow1, flow2, false},
		{"runs covered by more runs", runsA, runsAB, true},
		{"runs not all covered", runsAB, runsA, false},
		{"a flow by runs", flow1, runsAB, false},
		{"runs by a flow", runsA, flow1, false},
	} {
		var b hourBatch
		b.add(tc.old)
		b.add(tc.next)
		if kept := slices.Contains(b.searches, tc.old); kept == tc.replaced {
			t.Errorf("%s: old search kept = %t, want %t", tc.name, kept, !tc.replaced)
		}
		if b.searches[len(b.searches)-1] != tc.next {
			t.Errorf("%s: the newest search is not last", tc.name)
		}
	}
}

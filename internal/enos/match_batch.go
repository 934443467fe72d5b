package enos

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// RunRef names a run whose status RunStatus reads.
type RunRef struct {
	InstanceID  string
	FlowID      int64
	TriggerTime time.Time // the trigger time sent; zero when unknown
}

// crossFlowSearchFactor bounds a search of several flows' runs to one page,
// or this many results per run asked for when that is more: such a search
// matches by time window alone, and a window crowded with other runs must
// not cost pages of them. One page is what a search of one flow costs, and
// it holds the runs triggered around the ones asked for (an apply's other
// triggers). Runs it misses are read alone.
const crossFlowSearchFactor = 2

// statusSearch is one instance search of one trigger hour. It covers either
// every run of one flow in that hour (flow > 0) or the runs asked for.
type statusSearch struct {
	started time.Time
	flow    int64
	refs    map[string]int64 // when flow is 0: instance id to flow id
	poll    bool             // a search for polls, which covers every run waited on in its hour
	joined  []RunRef         // the runs of the calls that wait for this queued poll search
	done    chan struct{}
	// found is set when done, nil after a failure. Pointers: a map keeps
	// its values inline in groups of eight, and most searches of a refresh
	// find one run, kept for the process.
	found map[string]*FlowInstance
}

func (s *statusSearch) covers(ref RunRef) bool {
	return ref.FlowID > 0 && (s.flow == ref.FlowID || s.flow == 0 && s.refs[ref.InstanceID] == ref.FlowID)
}

// statusBatcher shares instance searches among status checks, with no
// timer: a check takes the newest search of its run's trigger hour that
// covers the run and started late enough for it (in flight or done), and
// otherwise starts one at once. Its rules are those of hourBatch, one per
// trigger hour; match_batch_test.go states them as tests.
type statusBatcher struct {
	mu    sync.Mutex
	hours map[int64]*hourBatch
}

// hourBatch is the status checks of the runs of one trigger hour.
type hourBatch struct {
	searches []*statusSearch   // newest last; done or in flight
	waiting  map[string]RunRef // the runs being waited on (polled)
	polling  int               // poll searches in flight
	queued   *statusSearch     // the poll search to send when those end
}

// hour returns hour's batch; the caller holds s.mu.
func (s *statusBatcher) hour(hour int64) *hourBatch {
	if s.hours == nil {
		s.hours = map[int64]*hourBatch{}
	}
	b := s.hours[hour]
	if b == nil {
		b = &hourBatch{waiting: map[string]RunRef{}}
		s.hours[hour] = b
	}
	return b
}

// serving is the newest search that covers ref and started at or after
// notBefore, or nil.
func (b *hourBatch) serving(ref RunRef, notBefore time.Time) *statusSearch {
	for i := len(b.searches) - 1; i >= 0; i-- {
		if found := b.searches[i]; found.covers(ref) && !found.started.Before(notBefore) {
			return found
		}
	}
	return nil
}

// pollInFlight reports a poll search of the hour not yet answered.
func (b *hourBatch) pollInFlight() bool { return b.polling > 0 }

// join adds ref to the poll search queued behind those in flight, making
// it when none is queued: it then covers ref with every run waited on.
func (b *hourBatch) join(ref RunRef) *statusSearch {
	if b.queued == nil {
		b.queued = &statusSearch{poll: true, done: make(chan struct{})}
	}
	// Its own run, too: a call for the same run that ends before this
	// search starts stops waiting on it.
	b.queued.joined = append(b.queued.joined, ref)
	return b.queued
}

// startPoll scopes a poll search to every run waited on and to the runs of
// the calls that joined it, and counts it in flight; it returns those
// runs, never none: the caller's own run is one of them.
func (b *hourBatch) startPoll(now time.Time, search *statusSearch) []RunRef {
	covered := maps.Clone(b.waiting)
	for _, r := range search.joined {
		covered[r.InstanceID] = r
	}
	refs := slices.Collect(maps.Values(covered))
	search.started = now
	if flows := distinctFlows(refs); len(flows) == 1 {
		search.flow = flows[0]
	} else {
		search.refs = make(map[string]int64, len(refs))
		for _, r := range refs {
			search.refs[r.InstanceID] = r.FlowID
		}
	}
	b.polling++
	b.add(search)
	return refs
}

// add keeps search as the newest, dropping the searches it makes useless:
// it serves every run they serve.
func (b *hourBatch) add(search *statusSearch) *statusSearch {
	kept := b.searches[:0]
	for _, old := range b.searches {
		if !search.supersedes(old) {
			kept = append(kept, old)
		}
	}
	b.searches = append(kept, search)
	return search
}

// pollEnded counts a poll search as answered and returns the queued one,
// now started, with its runs (nil when none is queued).
func (b *hourBatch) pollEnded(now time.Time) (*statusSearch, []RunRef) {
	b.polling--
	next := b.queued
	if next == nil {
		return nil, nil
	}
	b.queued = nil
	return next, b.startPoll(now, next)
}

// forget drops a failed search, so that later checks search again.
func (b *hourBatch) forget(failed *statusSearch) {
	b.searches = slices.DeleteFunc(b.searches, func(s *statusSearch) bool { return s == failed })
}

// supersedes reports whether s serves every run old serves.
func (s *statusSearch) supersedes(old *statusSearch) bool {
	if s.flow > 0 {
		return old.flow == s.flow
	}
	if old.flow > 0 {
		return false
	}
	for id := range old.refs {
		if _, ok := s.refs[id]; !ok {
			return false
		}
	}
	return true
}

// readBack reads a run just triggered (sent at since) as a poll does,
// sharing the searches of the runs read back or polled with it, but the
// run is not waited on afterwards: later polls of its hour do not cover it
// unless its caller polls it.
func (r *runMatcher) readBack(ctx context.Context, ref RunRef, since time.Time) (*FlowInstance, error) {
	return r.runStatus(ctx, ref, since, false)
}

// runStatus returns the state of a run, like GetFlowInstance, from an
// instance search of its flow and trigger hour that it shares with the
// other checks of this client.
//
// A zero notBefore is a refresh: any search this client made of the run's
// flow and hour serves it. A client lives for one Terraform command (the
// provider configures a new one in each process), so a refresh sees what
// the service held during that command, and one search serves every
// resource of the plan in that flow and hour. A refresh takes its run out
// of the search (see take).
//
// A non-zero notBefore is a poll of a run being waited on: only a search
// started at or after notBefore serves it. Such a search covers every run
// waited on in that hour, of any flow, so that runs polled at the same
// instant (pass the instant the poll was due, not the time it woke up)
// share one request. waited says that the run stays waited on until it
// ends (a read-back's does not).
//
// A run the search does not return (a service whose trigger times differ
// from those sent), or any run of a failed search, is read on its own.
func (r *runMatcher) runStatus(ctx context.Context, ref RunRef, notBefore time.Time, waited bool) (*FlowInstance, error) {
	if ref.FlowID <= 0 || ref.TriggerTime.IsZero() {
		return r.svc.get(ctx, ref.InstanceID)
	}
	hour := ref.TriggerTime.Unix() / 3600
	polling := !notBefore.IsZero()
	s, refs, send := r.statuses.searchFor(r.now(), hour, ref, notBefore)
	if send {
		// Detached: a caller that gives up must not fail the others.
		go r.runStatusSearches(context.WithoutCancel(ctx), hour, s, refs)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var inst FlowInstance
	found, ok := r.statuses.take(hour, s, ref.InstanceID, !polling)
	var err error
	if ok {
		inst = *found // a copy: the search serves other callers
	} else {
		// A failed search is in the client's log already.
		var read *FlowInstance
		if read, err = r.svc.get(ctx, ref.InstanceID); err == nil {
			inst = *read
		}
	}
	if polling && (!waited || err == nil && inst.Status.Terminal() || err != nil && !IsTransient(err)) {
		r.statuses.stopWaiting(hour, ref)
	}
	if err != nil {
		return nil, err
	}
	return &inst, nil
}

// searchFor returns the search that answers ref. When none will, it makes
// one, started now, and reports that the caller must send it (for refs, when
// they are runs of several flows).
func (s *statusBatcher) searchFor(now time.Time, hour int64, ref RunRef, notBefore time.Time) (*statusSearch, []RunRef, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.hour(hour)
	polling := !notBefore.IsZero()
	if polling {
		b.waiting[ref.InstanceID] = ref
	}
	if found := b.serving(ref, notBefore); found != nil {
		return found, nil, false
	}
	switch {
	case !polling:
		return b.add(&statusSearch{started: now, flow: ref.FlowID, done: make(chan struct{})}), nil, true
	case b.pollInFlight():
		// A poll of a run no search in flight covers waits for the one
		// after them, which then covers it: runs whose first polls come one
		// after another cost two searches, not one each.
		return b.join(ref), nil, false
	}
	search := &statusSearch{poll: true, done: make(chan struct{})}
	return search, b.startPoll(now, search), true
}

// take returns run id from search, which has ended. A refresh takes it
// out: Terraform refreshes a resource once per process, and the runs a
// refresh search found are then held only until their resources read
// them, not for the process (a plan of 5000 runs, each of its own flow,
// would keep 5000 runs for nothing). A refresh search left empty serves
// no one and is dropped; a run read again is read alone.
func (s *statusBatcher) take(hour int64, search *statusSearch, id string, refresh bool) (*FlowInstance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := search.found[id]
	if ok && refresh {
		delete(search.found, id)
		if len(search.found) == 0 && !search.poll {
			s.hour(hour).forget(search)
		}
	}
	return inst, ok
}

func (s *statusBatcher) stopWaiting(hour int64, ref RunRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.hour(hour).waiting, ref.InstanceID)
}

func (s *statusBatcher) forget(hour int64, failed *statusSearch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hour(hour).forget(failed)
}

func (s *statusBatcher) pollEnded(now time.Time, hour int64) (*statusSearch, []RunRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hour(hour).pollEnded(now)
}

// runStatusSearches sends the search of one trigger hour, then, for a
// poll, each poll search queued behind it in turn.
func (r *runMatcher) runStatusSearches(ctx context.Context, hour int64, search *statusSearch, refs []RunRef) {
	for search != nil {
		r.searchStatuses(ctx, hour, search, refs)
		close(search.done)
		if !search.poll {
			return
		}
		search, refs = r.statuses.pollEnded(r.now(), hour)
	}
}

// searchStatuses sends the search of one trigger hour: every run of its
// flow, or, for runs of several flows, the window of their trigger times.
func (r *runMatcher) searchStatuses(ctx context.Context, hour int64, search *statusSearch, refs []RunRef) {
	start := time.Unix(hour*3600, 0)
	// The service keeps trigger times to the second; a second either side
	// keeps runs at the edges.
	query := InstanceSearch{FromTriggerTime: start.Add(-time.Second), ToTriggerTime: start.Add(time.Hour + time.Second)}
	if search.flow > 0 {
		query.FlowID = search.flow
	} else {
		from, to := refs[0].TriggerTime, refs[0].TriggerTime
		for _, r := range refs {
			from, to = minTime(from, r.TriggerTime), maxTime(to, r.TriggerTime)
		}
		query.FromTriggerTime = from.Truncate(time.Second).Add(-time.Second)
		query.ToTriggerTime = to.Truncate(time.Second).Add(time.Second)
		query.MaxResults = max(crossFlowSearchFactor*len(refs), defaultPageSize)
		query.PageSize = query.MaxResults
		// Newest first: the runs asked for are mostly the newest of the
		// window (runs just triggered, read back), and the runs triggered
		// before them in the same seconds (an apply's other triggers) would
		// fill the page first.
		query.SortDescending = true
	}
	found, err := r.svc.search(ctx, query)
	if err != nil {
		r.statuses.forget(hour, search)
		return // every caller then reads its run alone
	}
	search.found = make(map[string]*FlowInstance, len(found))
	for _, inst := range found {
		if search.covers(RunRef{InstanceID: inst.InstanceID, FlowID: inst.FlowID}) {
			search.found[inst.InstanceID] = &inst
		}
	}
}

func distinctFlows(refs []RunRef) []int64 {
	seen := map[int64]bool{}
	var flows []int64
	for _, r := range refs {
		if !seen[r.FlowID] {
			seen[r.FlowID] = true
			flows = append(flows, r.FlowID)
		}
	}
	return flows
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

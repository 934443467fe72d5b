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
	found   map[string]FlowInstance // set when done; nil after a failure
}

func (s *statusSearch) covers(ref RunRef) bool {
	return ref.FlowID > 0 && (s.flow == ref.FlowID || s.flow == 0 && s.refs[ref.InstanceID] == ref.FlowID)
}

// statusBatcher shares instance searches among status checks, with no
// timer: a check takes the newest search of its run's trigger hour that
// covers the run and started late enough for it (in flight or done), and
// otherwise starts one at once.
type statusBatcher struct {
	mu      sync.Mutex
	byHour  map[int64][]*statusSearch   // newest last
	waiting map[int64]map[string]RunRef // the runs being waited on, by trigger hour
	polling map[int64]int               // poll searches in flight, by trigger hour
	queued  map[int64]*statusSearch     // the poll search to send when those end
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
// resource of the plan in that flow and hour.
//
// A non-zero notBefore is a poll of a run being waited on: only a search
// started at or after notBefore serves it. Such a search covers every run
// waited on in that hour, of any flow, so that runs polled at the same
// instant (pass the instant the poll was due, not the time it woke up)
// share one request.
//
// A run the search does not return (a service whose trigger times differ
// from those sent), or any run of a failed search, is read on its own.

// waited says that a poll's run stays waited on until it ends.
func (r *runMatcher) runStatus(ctx context.Context, ref RunRef, notBefore time.Time, waited bool) (*FlowInstance, error) {
	if ref.FlowID <= 0 || ref.TriggerTime.IsZero() {
		return r.svc.get(ctx, ref.InstanceID)
	}
	hour := ref.TriggerTime.Unix() / 3600
	polling := !notBefore.IsZero()
	s, refs, send := r.statuses.searchFor(r.now(), hour, ref, notBefore)
	if send {
		// Detached: a caller that gives up must not fail the others.
		go r.runStatusSearch(context.WithoutCancel(ctx), hour, s, refs)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	inst, ok := s.found[ref.InstanceID]
	var err error
	if !ok {
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
	if !notBefore.IsZero() {
		if s.waiting == nil {
			s.waiting = map[int64]map[string]RunRef{}
		}
		if s.waiting[hour] == nil {
			s.waiting[hour] = map[string]RunRef{}
		}
		s.waiting[hour][ref.InstanceID] = ref
	}
	searches := s.byHour[hour]
	for i := len(searches) - 1; i >= 0; i-- {
		if found := searches[i]; found.covers(ref) && !found.started.Before(notBefore) {
			return found, nil, false
		}
	}
	if notBefore.IsZero() {
		return s.add(hour, &statusSearch{started: now, flow: ref.FlowID, done: make(chan struct{})}), nil, true
	}
	// A poll of a run no search in flight covers waits for the one after
	// them, which then covers it: runs whose first polls come one after
	// another cost two searches, not one each.
	if s.polling[hour] > 0 {
		if s.queued[hour] == nil {
			if s.queued == nil {
				s.queued = map[int64]*statusSearch{}
			}
			s.queued[hour] = &statusSearch{poll: true, done: make(chan struct{})}
		}
		// Its own run, too: a call for the same run that ends before this
		// search starts stops waiting on it.
		s.queued[hour].joined = append(s.queued[hour].joined, ref)
		return s.queued[hour], nil, false
	}
	search := &statusSearch{poll: true, done: make(chan struct{})}
	return search, s.startPoll(now, hour, search), true
}

// startPoll scopes a poll search to every run waited on in hour and to the
// runs of the calls that joined it, and counts it in flight; it returns
// those runs, never none: the caller's own run is one of them.
func (s *statusBatcher) startPoll(now time.Time, hour int64, search *statusSearch) []RunRef {
	covered := maps.Clone(s.waiting[hour])
	if covered == nil {
		covered = map[string]RunRef{}
	}
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
	if s.polling == nil {
		s.polling = map[int64]int{}
	}
	s.polling[hour]++
	s.add(hour, search)
	return refs
}

func (s *statusBatcher) add(hour int64, search *statusSearch) *statusSearch {
	if s.byHour == nil {
		s.byHour = map[int64][]*statusSearch{}
	}
	s.byHour[hour] = append(withoutCoveredBy(s.byHour[hour], search), search)
	return search
}

// pollEnded counts a poll search of hour as done and returns the queued
// one, now started, with its runs (nil when none is queued).
func (s *statusBatcher) pollEnded(now time.Time, hour int64) (*statusSearch, []RunRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polling[hour]--
	next := s.queued[hour]
	if next == nil {
		return nil, nil
	}
	delete(s.queued, hour)
	return next, s.startPoll(now, hour, next)
}

// withoutCoveredBy drops the searches that next makes useless: a newer
// search serves every run they serve.
func withoutCoveredBy(searches []*statusSearch, next *statusSearch) []*statusSearch {
	kept := searches[:0]
	for _, old := range searches {
		superseded := next.flow > 0 && old.flow == next.flow
		if next.flow == 0 && old.flow == 0 {
			superseded = true
			for id := range old.refs {
				if _, ok := next.refs[id]; !ok {
					superseded = false
					break
				}
			}
		}
		if !superseded {
			kept = append(kept, old)
		}
	}
	return kept
}

func (s *statusBatcher) stopWaiting(hour int64, ref RunRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.waiting[hour], ref.InstanceID)
}

// forget drops a failed search, so that later checks search again.
func (s *statusBatcher) forget(hour int64, failed *statusSearch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	searches := s.byHour[hour]
	for i, search := range searches {
		if search == failed {
			s.byHour[hour] = append(searches[:i:i], searches[i+1:]...)
			return
		}
	}
}

// runStatusSearch sends the search of one trigger hour: every run of its
// flow, or, for runs of several flows, the window of their trigger times.
func (r *runMatcher) runStatusSearch(ctx context.Context, hour int64, search *statusSearch, refs []RunRef) {
	r.searchStatuses(ctx, hour, search, refs)
	close(search.done)
	if search.poll {
		if next, refs := r.statuses.pollEnded(r.now(), hour); next != nil {
			r.runStatusSearch(ctx, hour, next, refs)
		}
	}
}

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
	search.found = make(map[string]FlowInstance, len(found))
	for _, inst := range found {
		if search.covers(RunRef{InstanceID: inst.InstanceID, FlowID: inst.FlowID}) {
			search.found[inst.InstanceID] = inst
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

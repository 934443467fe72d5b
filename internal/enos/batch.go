package enos

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// RunRef names a run whose status RunStatus reads.
type RunRef struct {
	InstanceID  string
	FlowID      int64
	TriggerTime time.Time // the trigger time sent; zero when unknown
}

// statusGatherWindow is how long the first status check of a batch waits
// for others to join. It is small next to any poll interval.
const statusGatherWindow = 100 * time.Millisecond

// statusBatchKey groups runs triggered in the same hour, so that one
// search window stays narrow however far apart the runs are.
type statusBatchKey struct {
	hour int64
}

// crossFlowSearchFactor bounds a search of several flows' runs to this many
// results per run asked for: such a search matches by time window alone,
// and a window crowded with other runs must not cost pages of them. Runs
// it misses are read alone.
const crossFlowSearchFactor = 2

type statusBatch struct {
	refs  []RunRef
	done  chan struct{}
	found map[string]FlowInstance // the runs the search returned
}

// statusBatcher coalesces concurrent status checks into one instance
// search: many resources waiting at once cost about one request per trigger
// hour per poll, not one per run.
type statusBatcher struct {
	mu      sync.Mutex
	pending map[statusBatchKey]*statusBatch
}

// join adds ref to the batch being gathered for key; it reports whether
// the caller opened the batch and must send it.
func (s *statusBatcher) join(key statusBatchKey, ref RunRef) (*statusBatch, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.pending[key]; b != nil {
		b.refs = append(b.refs, ref)
		return b, false
	}
	if s.pending == nil {
		s.pending = map[statusBatchKey]*statusBatch{}
	}
	b := &statusBatch{refs: []RunRef{ref}, done: make(chan struct{})}
	s.pending[key] = b
	return b, true
}

// close stops key's batch from taking more runs and returns them.
func (s *statusBatcher) close(key statusBatchKey) []RunRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.pending[key]
	delete(s.pending, key)
	return b.refs
}

// RunStatus returns the current state of a run, like GetFlowInstance, but
// answers concurrent callers with one search. A run the
// search does not return (a service whose trigger times differ from those
// sent, or a search failure) is read on its own.
func (c *Client) RunStatus(ctx context.Context, ref RunRef) (*FlowInstance, error) {
	if ref.FlowID <= 0 || ref.TriggerTime.IsZero() {
		return c.GetFlowInstance(ctx, ref.InstanceID)
	}
	key := statusBatchKey{hour: ref.TriggerTime.Unix() / 3600}
	batch, opened := c.statuses.join(key, ref)
	if opened {
		// Detached: a caller that gives up must not fail the others.
		go c.sendStatusBatch(context.WithoutCancel(ctx), key, batch)
	}
	select {
	case <-batch.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if inst, ok := batch.found[ref.InstanceID]; ok {
		return &inst, nil
	}
	// A failed search is in the client's log already; the run is read alone.
	return c.GetFlowInstance(ctx, ref.InstanceID)
}

func (c *Client) sendStatusBatch(ctx context.Context, key statusBatchKey, batch *statusBatch) {
	defer close(batch.done)
	time.Sleep(statusGatherWindow)
	refs := c.statuses.close(key)

	from, to := refs[0].TriggerTime, refs[0].TriggerTime
	wanted := make(map[string]int64, len(refs))
	for _, r := range refs {
		wanted[r.InstanceID] = r.FlowID
		from, to = minTime(from, r.TriggerTime), maxTime(to, r.TriggerTime)
	}
	// The service keeps trigger times to the second. Its expression matches
	// instance ids by text, so one flow's runs are found by "<flowId>-";
	// runs of several flows by the time window alone.
	search := InstanceSearch{
		FromTriggerTime: from.Truncate(time.Second).Add(-time.Second),
		ToTriggerTime:   to.Truncate(time.Second).Add(time.Second),
	}
	if flows := distinctFlows(refs); len(flows) == 1 {
		search.Expression = strconv.FormatInt(flows[0], 10) + "-"
	} else {
		search.MaxResults = crossFlowSearchFactor * len(refs)
		search.PageSize = search.MaxResults
	}
	found, err := c.SearchFlowInstances(ctx, search)
	if err != nil {
		return // every caller then reads its run alone
	}
	batch.found = make(map[string]FlowInstance, len(refs))
	for _, inst := range found {
		if flowID, ok := wanted[inst.InstanceID]; ok && inst.FlowID == flowID {
			batch.found[inst.InstanceID] = inst
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

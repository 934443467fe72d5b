package enos

import (
	"context"
	"time"
)

// hourSnapshot is the runs of every flow triggered in one hour of the
// server's zone, as one search saw them before this matcher's first send
// into that hour.
type hourSnapshot struct {
	ids map[string]bool
	// complete says that the search returned every run of the hour: one
	// page, not full, so no run was missed between pages.
	complete bool
}

// lacks reports whether the snapshot shows that id was not a run of its
// hour before the send: false when it cannot tell (nil or incomplete).
func (s *hourSnapshot) lacks(id string) bool {
	return s != nil && s.complete && !s.ids[id]
}

// snapshotBefore returns the snapshot of the hour (of the server's zone)
// that holds t, searching it on first use; nil when it cannot be had. A
// run of any slot in that hour (minute or hour slots alike) is in it.
func (r *runMatcher) snapshotBefore(ctx context.Context, t time.Time) *hourSnapshot {
	loc, err := r.svc.serverZone(ctx)
	if err != nil {
		return nil
	}
	hour := slotStart(t, hourSlot, loc)
	snap, err := r.snapshots.of(hour.Unix()).get(ctx, r.fetchBound, func(ctx context.Context) (*hourSnapshot, error) {
		// The service keeps trigger times to the second; a second either
		// side keeps runs at the edges.
		runs, err := r.svc.search(ctx, InstanceSearch{FromTriggerTime: hour.Add(-time.Second), ToTriggerTime: hour.Add(time.Hour + time.Second),
			PageSize: defaultPageSize, MaxResults: defaultPageSize})
		if err != nil {
			return nil, err
		}
		s := &hourSnapshot{ids: make(map[string]bool, len(runs)), complete: len(runs) < defaultPageSize}
		for _, run := range runs {
			s.ids[run.InstanceID] = true
			r.slots.learnFromID(run.FlowID, run.InstanceID)
		}
		return s, nil
	})
	if err != nil {
		return nil
	}
	return snap
}

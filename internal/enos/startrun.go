package enos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// RunStart is the result of StartRun.
type RunStart struct {
	InstanceID  string
	TriggerTime time.Time // the trigger time sent
	Adopted     bool      // the run was found after a trigger with an unknown outcome
}

// runRegistry remembers, per Client, the trigger minutes used per flow and
// the instance ids handed out, so that one process never starts two runs
// of a flow in one minute nor hands one run to two callers.
type runRegistry struct {
	mu      sync.Mutex
	minutes map[int64]map[int64]bool // flow id -> minute (Unix minutes) -> used
	ids     map[string]bool
}

func unixMinute(t time.Time) int64 { return t.Truncate(time.Minute).Unix() / 60 }

func (r *runRegistry) usedLocked(flowID int64) map[int64]bool {
	if r.minutes == nil {
		r.minutes = map[int64]map[int64]bool{}
	}
	if r.minutes[flowID] == nil {
		r.minutes[flowID] = map[int64]bool{}
	}
	return r.minutes[flowID]
}

// reserveNow returns now when its minute is free for the flow, else the
// start of the next free minute, and marks that minute used.
func (r *runRegistry) reserveNow(flowID int64, now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	used := r.usedLocked(flowID)
	if m := unixMinute(now); !used[m] {
		used[m] = true
		return now
	}
	return r.nextFreeLocked(used, now)
}

// reserveAfter marks and returns the start of the first free minute after t's.
func (r *runRegistry) reserveAfter(flowID int64, t time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextFreeLocked(r.usedLocked(flowID), t)
}

func (r *runRegistry) nextFreeLocked(used map[int64]bool, after time.Time) time.Time {
	m := unixMinute(after) + 1
	for used[m] {
		m++
	}
	used[m] = true
	return time.Unix(m*60, 0).In(after.Location())
}

func (r *runRegistry) markUsed(flowID int64, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usedLocked(flowID)[unixMinute(t)] = true
}

// claim records id as handed out; it fails when it already was.
func (r *runRegistry) claim(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids[id] {
		return false
	}
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	r.ids[id] = true
	return true
}

func (r *runRegistry) claimed(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// StartRun triggers one run of a flow so that one call never starts two
// runs (spec §4.6):
//   - timeDefaulted: the trigger time is now, or the start of the next
//     minute this Client has not used for the flow; a duplicate answer is
//     retried once with the next free minute.
//   - a trigger time the caller chose that collides with an existing run is
//     a *DuplicateTriggerError naming that run; nothing is started.
//   - when the outcome of a trigger is unknown, the run is looked up by flow
//     and trigger minute and adopted when found; otherwise the trigger is
//     sent once more, and looked up once more should that answer be lost too.
//
// An instance id this Client already returned for another run is an error.
func (c *Client) StartRun(ctx context.Context, req TriggerRequest, timeDefaulted bool) (RunStart, error) {
	if timeDefaulted {
		req.TriggerTime = c.runs.reserveNow(req.FlowID, c.now())
	} else if !req.TriggerTime.IsZero() {
		c.runs.markUsed(req.FlowID, req.TriggerTime)
	}
	movedMinute, resent := false, false
	for {
		id, err := c.UpdateAndTrigger(ctx, req)
		switch {
		case err == nil:
			return c.claimRun(req, id, false)
		case errors.Is(err, ErrOutcomeUnknown) && ctx.Err() == nil:
			found, lookErr := c.findOwnRun(ctx, req)
			if lookErr != nil {
				return RunStart{}, fmt.Errorf("%w; looking for the run afterwards failed: %w", err, lookErr)
			}
			if found != "" {
				return c.claimRun(req, found, true)
			}
			if resent {
				return RunStart{}, err // unknown twice, and not found either time
			}
			resent = true
		case IsDuplicateTrigger(err):
			if resent {
				// The unanswered first attempt may have started the run after all.
				if found, lookErr := c.findOwnRun(ctx, req); lookErr == nil && found != "" {
					return c.claimRun(req, found, true)
				}
			}
			if !timeDefaulted {
				return RunStart{}, c.duplicateTriggerError(ctx, req)
			}
			if movedMinute {
				return RunStart{}, fmt.Errorf("flow %d: the next minute was taken as well: %w", req.FlowID, err)
			}
			movedMinute = true
			req.TriggerTime = c.runs.reserveAfter(req.FlowID, req.TriggerTime)
		default:
			return RunStart{}, err
		}
	}
}

func (c *Client) claimRun(req TriggerRequest, id string, adopted bool) (RunStart, error) {
	if !c.runs.claim(id) {
		return RunStart{}, fmt.Errorf("flow %d: the service answered with instance %s, which this client already returned for another run", req.FlowID, id)
	}
	return RunStart{InstanceID: id, TriggerTime: req.TriggerTime, Adopted: adopted}, nil
}

// runsInMinute lists the flow's runs triggered in the minute of t.
func (c *Client) runsInMinute(ctx context.Context, flowID int64, t time.Time) ([]FlowInstance, error) {
	from := t.Truncate(time.Minute)
	to := from.Add(time.Minute - time.Millisecond)
	found, err := c.SearchFlowInstances(ctx, InstanceSearch{
		Expression:      strconv.FormatInt(flowID, 10) + "-",
		FromTriggerTime: from,
		ToTriggerTime:   to,
		SortDescending:  true,
	})
	if err != nil {
		return nil, err
	}
	// The expression is a fuzzy match: keep the flow's runs, and only those
	// whose trigger time the client can see in the window.
	var runs []FlowInstance
	for _, inst := range found {
		if inst.FlowID == flowID && !inst.TriggerTime.Before(from) && !inst.TriggerTime.After(to) {
			runs = append(runs, inst)
		}
	}
	return runs, nil
}

// findOwnRun returns the id of a run the trigger req may have started: one
// of the flow in the trigger minute that this Client has not handed out.
func (c *Client) findOwnRun(ctx context.Context, req TriggerRequest) (string, error) {
	runs, err := c.runsInMinute(ctx, req.FlowID, req.TriggerTime)
	if err != nil {
		return "", err
	}
	for _, run := range runs {
		if !c.runs.claimed(run.InstanceID) {
			return run.InstanceID, nil
		}
	}
	return "", nil
}

func (c *Client) duplicateTriggerError(ctx context.Context, req TriggerRequest) error {
	dup := &DuplicateTriggerError{FlowID: req.FlowID, Minute: req.TriggerTime.Truncate(time.Minute)}
	runs, err := c.runsInMinute(ctx, req.FlowID, req.TriggerTime)
	if err != nil {
		return fmt.Errorf("%w (looking up the existing run failed: %w)", dup, err)
	}
	if len(runs) > 0 {
		dup.ExistingInstanceID = runs[0].InstanceID
	}
	// Show the minute as the service's instance ids do.
	if loc := c.zone.get(); loc != nil {
		dup.Minute = dup.Minute.In(loc)
	}
	return dup
}

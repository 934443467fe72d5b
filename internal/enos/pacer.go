package enos

import (
	"context"
	"fmt"
	"math"
	"time"
)

// paceMargin stretches the interval between admissions by 2%. r+1
// admissions then span (1+paceMargin) seconds whatever r is, so the server
// sees at most r requests in any second unless their delivery delays
// differ by more than 20 ms, far more than loopback or LAN jitter and timer
// lateness, at a cost of 2% of the configured rate.
const paceMargin = 0.02

// pacer lets callers go one at a time, each at least interval after the
// previous one was actually admitted. Unlike a token bucket it books
// nothing ahead: a waiter that wakes late pushes the next one back, so no
// window of one second ever holds more than the configured rate.
type pacer struct {
	interval time.Duration
	slot     chan struct{} // holds one value while a waiter owns the pacer
	last     time.Time     // when the previous waiter was admitted; guarded by slot
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// newPacer admits perSecond callers a second (fractions allowed) on the
// given clock. The first admission waits one interval too: a new process
// (Terraform starts one for plan and one for apply) must not add a request
// right on top of the previous process's last ones.
func newPacer(perSecond float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	interval := time.Duration(math.MaxInt64) // a rate too small to express: effectively never
	if seconds := (1 + paceMargin) / perSecond; seconds < float64(math.MaxInt64/time.Second) {
		interval = time.Duration(math.Round(seconds * float64(time.Second)))
	}
	return &pacer{interval: interval, slot: make(chan struct{}, 1), last: now(), now: now, sleep: sleep}
}

// wait blocks until the caller may send its request. A caller whose ctx
// ends first, or whose deadline comes before its turn, is refused and
// leaves the schedule as it found it.
func (p *pacer) wait(ctx context.Context) error {
	select {
	case p.slot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slot }()
	delay := p.last.Add(p.interval).Sub(p.now())
	if deadline, ok := ctx.Deadline(); ok && delay > time.Until(deadline) {
		return fmt.Errorf("the next request may go in %s, after the deadline: %w", delay.Round(time.Millisecond), context.DeadlineExceeded)
	}
	if delay > 0 {
		if err := p.sleep(ctx, delay); err != nil {
			return err
		}
	}
	p.last = p.now()
	return nil
}

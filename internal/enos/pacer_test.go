package enos

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pacerClock is a fake clock for a pacer. Time moves only when a sleeper
// wakes: a sleep that starts at t ends at t+d plus the next of late (a late
// wake-up), and moves the clock there unless it is already past. Callers
// record their admission with admit; a sleep first waits until every caller
// woken so far has done so, so a recorded admission is the clock's value
// at the moment the pacer let the caller go.
type pacerClock struct {
	mu       sync.Mutex
	woke     *sync.Cond
	now      time.Time
	late     []time.Duration // cycled over the sleeps
	sleeps   int
	admitted []time.Time
}

func newPacerClock(late ...time.Duration) *pacerClock {
	c := &pacerClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), late: late}
	c.woke = sync.NewCond(&c.mu)
	return c
}

func (c *pacerClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *pacerClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	wake := c.now.Add(d)
	if len(c.late) > 0 {
		wake = wake.Add(c.late[c.sleeps%len(c.late)])
	}
	for len(c.admitted) < c.sleeps {
		c.woke.Wait()
	}
	c.sleeps++
	if wake.After(c.now) {
		c.now = wake
	}
	return nil
}

func (c *pacerClock) admit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.admitted = append(c.admitted, c.now)
	c.woke.Broadcast()
}

func (c *pacerClock) admissions() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.SortedFunc(slices.Values(c.admitted), time.Time.Compare)
}

// busiest counts the most admissions in any half-open window [t, t+w).
func busiest(admissions []time.Time, w time.Duration) int {
	most := 0
	for i, start := range admissions {
		n := 0
		for _, t := range admissions[i:] {
			if t.Sub(start) < w {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func TestPacerSpacesAdmissionsAfterLateWakeUps(t *testing.T) {
	clock := newPacerClock(0, 7*time.Millisecond, 0, 0, 31*time.Millisecond)
	p := newPacer(20, clock.Now, clock.Sleep)
	for range 40 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatalf("wait: %v", err)
		}
		clock.admit()
	}
	// A token bucket books the next request on its grid, less than an
	// interval after one that woke late.
	admissions := clock.admissions()
	for i := 1; i < len(admissions); i++ {
		if gap := admissions[i].Sub(admissions[i-1]); gap < p.interval {
			t.Errorf("admission %d came %s after the previous one, want at least %s", i, gap, p.interval)
		}
	}
}

func TestPacerHoldsTheRateForConcurrentCallers(t *testing.T) {
	const rate, callers = 20, 200
	// A few late wake-ups, sparse enough that rate+1 admissions span less
	// than the margin of lateness.
	late := make([]time.Duration, 25)
	late[1], late[13] = 3*time.Millisecond, 11*time.Millisecond
	clock := newPacerClock(late...)
	p := newPacer(rate, clock.Now, clock.Sleep)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if err := p.wait(context.Background()); err != nil {
				t.Errorf("wait: %v", err)
				return
			}
			clock.admit()
		})
	}
	wg.Wait()
	admissions := clock.admissions()
	if len(admissions) != callers {
		t.Fatalf("%d admissions, want %d", len(admissions), callers)
	}
	if got := busiest(admissions, time.Second); got > rate {
		t.Errorf("%d admissions in the busiest second, want at most %d", got, rate)
	}
	// rate+1 admissions span 20 ms beyond a second too, so that delivery
	// jitter below that cannot put them in one second at the server.
	const jitterTolerance = 20 * time.Millisecond
	for i := rate; i < len(admissions); i++ {
		if span := admissions[i].Sub(admissions[i-rate]); span < time.Second+jitterTolerance {
			t.Errorf("admissions %d to %d span %s, want at least %s", i-rate, i, span, time.Second+jitterTolerance)
		}
	}
}

func TestPacerFirstAdmissionWaitsOneInterval(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want time.Duration
	}{
		{20, 51 * time.Millisecond},
		{0.5, 2040 * time.Millisecond}, // one request every two seconds
	} {
		clock := newPacerClock()
		created := clock.Now()
		p := newPacer(tc.rate, clock.Now, clock.Sleep)
		if err := p.wait(context.Background()); err != nil {
			t.Fatalf("rate %g: wait: %v", tc.rate, err)
		}
		if got := clock.Now().Sub(created); got != tc.want {
			t.Errorf("rate %g: first admission after %s, want %s", tc.rate, got, tc.want)
		}
	}
}

func TestPacerFractionalRate(t *testing.T) {
	clock := newPacerClock(0, 5*time.Millisecond)
	p := newPacer(0.5, clock.Now, clock.Sleep)
	for range 10 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatalf("wait: %v", err)
		}
		clock.admit()
	}
	admissions := clock.admissions()
	if got := busiest(admissions, 2*time.Second); got > 1 {
		t.Errorf("%d admissions in the busiest two seconds, want 1", got)
	}
	// Nine gaps of one interval each, plus at most 5 ms for each late wake-up.
	if got, most := admissions[len(admissions)-1].Sub(admissions[0]), 9*(p.interval+5*time.Millisecond); got > most {
		t.Errorf("10 admissions took %s, want at most %s", got, most)
	}
}

func TestPacerCancelledWaiterDoesNotDelayTheNext(t *testing.T) {
	clock := newPacerClock()
	created := clock.Now()
	sleeping := make(chan struct{})
	var sleeps atomic.Int32
	// The first sleeper is still asleep when its context is cancelled.
	sleep := func(ctx context.Context, d time.Duration) error {
		if sleeps.Add(1) == 1 {
			close(sleeping)
			<-ctx.Done()
			return ctx.Err()
		}
		return clock.Sleep(ctx, d)
	}
	p := newPacer(20, clock.Now, sleep)
	clock.now = clock.now.Add(p.interval / 2) // a slot taken now would push the next admission back

	sleeperCtx, cancelSleeper := context.WithCancel(context.Background())
	sleeperErr := make(chan error)
	go func() { sleeperErr <- p.wait(sleeperCtx) }()
	select {
	case <-sleeping:
	case err := <-sleeperErr:
		t.Fatalf("the first caller was let go without waiting (err %v)", err)
	}

	queuedCtx, cancelQueued := context.WithCancel(context.Background())
	cancelQueued()
	if err := p.wait(queuedCtx); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter cancelled while queued: err = %v, want context.Canceled", err)
	}

	nextErr := make(chan error)
	go func() { nextErr <- p.wait(context.Background()) }()
	cancelSleeper()
	if err := <-sleeperErr; !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter cancelled while sleeping: err = %v, want context.Canceled", err)
	}
	if err := <-nextErr; err != nil {
		t.Fatalf("next wait: %v", err)
	}
	if got := clock.Now().Sub(created); got != p.interval {
		t.Errorf("the next caller was admitted %s after the pacer started, want %s", got, p.interval)
	}
}

func TestPacerRefusesAWaitPastTheDeadline(t *testing.T) {
	clock := newPacerClock()
	p := newPacer(0.001, clock.Now, clock.Sleep) // one request every ~17 minutes
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.wait(ctx); !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Errorf("err = %v with ctx.Err() = %v, want an immediate deadline refusal", err, ctx.Err())
	}
	if clock.sleeps != 0 {
		t.Errorf("the refused waiter slept %d times", clock.sleeps)
	}
}

func TestPacerIntervalOfATinyRateDoesNotOverflow(t *testing.T) {
	if p := newPacer(1e-12, time.Now, sleepContext); p.interval <= 0 {
		t.Errorf("interval = %s, want a very long positive one", p.interval)
	}
}

package runwait

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock fires every timer at once, moving its time forward by the
// timer's duration, and records the durations: a wait runs without sleeping.
type fakeClock struct {
	now    time.Time
	delays []time.Duration
	checks []time.Time // Now at each status read, filled by script
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.delays = append(c.delays, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return firedTimer(ch)
}

type firedTimer chan time.Time

func (t firedTimer) C() <-chan time.Time { return t }
func (t firedTimer) Stop() bool          { return false }

var (
	errMissing = errors.New("missing")
	errOutage  = errors.New("outage")
	errDenied  = errors.New("denied")
)

// step is one answer of a scripted status function.
type step struct {
	status string
	err    error
	then   func() // runs after the read, before it returns
}

// script returns a Config whose status function answers steps in order
// ("running" is pending, "ok" success, "bad" failure). A read past the end
// fails the test.
func script(t *testing.T, clock *fakeClock, policy Policy, steps ...step) Config[string] {
	t.Helper()
	i := 0
	return Config[string]{
		Status: func(context.Context, time.Time) (string, error) {
			if i >= len(steps) {
				t.Fatalf("read %d past the script", i+1)
			}
			s := steps[i]
			i++
			clock.checks = append(clock.checks, clock.now)
			if s.then != nil {
				s.then()
			}
			return s.status, s.err
		},
		Phase: func(s string) Phase {
			switch s {
			case "ok":
				return Success
			case "bad":
				return Failure
			}
			return Pending
		},
		Transient:     func(err error) bool { return errors.Is(err, errOutage) },
		IsNotFound:    func(err error) bool { return errors.Is(err, errMissing) },
		NotFoundAfter: 3,
		Policy:        policy,
		Clock:         clock,
	}
}

var start = time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)

// everySecond checks after a second, then every second.
var everySecond = Policy{InitialDelay: time.Second, Interval: time.Second}

func expect(t *testing.T, got Result[string], outcome Outcome, status string, seen bool, err error) {
	t.Helper()
	if got.Outcome != outcome || got.Status != status || got.Seen != seen || !errors.Is(got.Err, err) || (err == nil) != (got.Err == nil) {
		t.Fatalf("got %v (status %q, seen %v, err %v), want %v (status %q, seen %v, err %v)",
			got.Outcome, got.Status, got.Seen, got.Err, outcome, status, seen, err)
	}
}

func TestSucceeded(t *testing.T) {
	clock := &fakeClock{now: start}
	got := Wait(t.Context(), script(t, clock, everySecond, step{status: "running"}, step{status: "running"}, step{status: "ok"}))
	expect(t, got, Succeeded, "ok", true, nil)
	if want := []time.Duration{time.Second, time.Second, time.Second}; !slices.Equal(clock.delays, want) {
		t.Fatalf("delays %v, want %v", clock.delays, want)
	}
}

func TestFailedKeepsTheLastStatus(t *testing.T) {
	clock := &fakeClock{now: start}
	got := Wait(t.Context(), script(t, clock, everySecond, step{status: "running"}, step{status: "bad"}))
	expect(t, got, Failed, "bad", true, nil)
}

// OnStatus sees every status read, terminal one included, in order, and
// no failed read.
func TestOnStatusSeesEveryStatusRead(t *testing.T) {
	clock := &fakeClock{now: start}
	cfg := script(t, clock, everySecond, step{status: "running"}, step{err: errOutage}, step{status: "running"}, step{status: "bad"})
	var seen []string
	cfg.OnStatus = func(s string) { seen = append(seen, s) }
	got := Wait(t.Context(), cfg)
	expect(t, got, Failed, "bad", true, nil)
	if want := []string{"running", "running", "bad"}; !slices.Equal(seen, want) {
		t.Fatalf("OnStatus saw %q, want %q", seen, want)
	}
}

func TestInitialDelayZeroChecksAtOnce(t *testing.T) {
	clock := &fakeClock{now: start}
	got := Wait(t.Context(), script(t, clock, Policy{Interval: 5 * time.Second}, step{status: "running"}, step{status: "ok"}))
	expect(t, got, Succeeded, "ok", true, nil)
	if want := []time.Duration{5 * time.Second}; !slices.Equal(clock.delays, want) {
		t.Fatalf("delays %v, want %v (first check at once)", clock.delays, want)
	}
}

func TestBackoffGrowsUpToTheCeiling(t *testing.T) {
	clock := &fakeClock{now: start}
	running := step{status: "running"}
	policy := Policy{InitialDelay: time.Second, Interval: time.Second, Growth: 2, Ceiling: 5 * time.Second}
	got := Wait(t.Context(), script(t, clock, policy, running, running, running, running, running, step{status: "ok"}))
	expect(t, got, Succeeded, "ok", true, nil)
	want := []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(clock.delays, want) {
		t.Fatalf("delays %v, want %v", clock.delays, want)
	}
}

func TestIntervalAboveTheCeilingStays(t *testing.T) {
	clock := &fakeClock{now: start}
	running := step{status: "running"}
	policy := Policy{InitialDelay: time.Minute, Interval: time.Minute, Growth: 1.5, Ceiling: 10 * time.Second}
	Wait(t.Context(), script(t, clock, policy, running, running, step{status: "ok"}))
	if want := []time.Duration{time.Minute, time.Minute, time.Minute}; !slices.Equal(clock.delays, want) {
		t.Fatalf("delays %v, want %v", clock.delays, want)
	}
}

func TestChecksAlignToWholeSeconds(t *testing.T) {
	clock := &fakeClock{now: start.Add(300 * time.Millisecond)}
	running := step{status: "running"}
	policy := Policy{InitialDelay: time.Second, Interval: time.Second, Growth: 1.5, Ceiling: time.Minute, AlignToSecond: true}
	Wait(t.Context(), script(t, clock, policy, running, running, running, step{status: "ok"}))
	// 08:00:00.3 + 1s → :02; + 1s → :03; + 1.5s → :05 (4.5 rounded up); + 2.25s → :08.
	want := []time.Time{start.Add(2 * time.Second), start.Add(3 * time.Second), start.Add(5 * time.Second), start.Add(8 * time.Second)}
	if !slices.Equal(clock.checks, want) {
		t.Fatalf("checks at %v, want %v", clock.checks, want)
	}
}

func TestWithoutAlignmentChecksKeepTheirOffset(t *testing.T) {
	clock := &fakeClock{now: start.Add(300 * time.Millisecond)}
	Wait(t.Context(), script(t, clock, everySecond, step{status: "running"}, step{status: "ok"}))
	want := []time.Time{start.Add(1300 * time.Millisecond), start.Add(2300 * time.Millisecond)}
	if !slices.Equal(clock.checks, want) {
		t.Fatalf("checks at %v, want %v", clock.checks, want)
	}
}

func TestTransientErrorsKeepPolling(t *testing.T) {
	clock := &fakeClock{now: start}
	outage := step{err: errOutage}
	got := Wait(t.Context(), script(t, clock, everySecond, step{status: "running"}, outage, outage, outage, outage, step{status: "ok"}))
	expect(t, got, Succeeded, "ok", true, nil)
}

func TestPermanentErrorEnds(t *testing.T) {
	clock := &fakeClock{now: start}
	got := Wait(t.Context(), script(t, clock, everySecond, step{status: "running"}, step{err: errDenied}))
	expect(t, got, Errored, "running", true, errDenied)
}

func TestNotFoundNeedsConsecutiveMisses(t *testing.T) {
	clock := &fakeClock{now: start}
	missing := step{err: errMissing}
	// Two misses, then the run is seen again: the count starts over, and
	// an outage between misses neither counts nor resets it.
	got := Wait(t.Context(), script(t, clock, everySecond,
		missing, missing, step{status: "running"}, missing, step{err: errOutage}, missing, missing))
	expect(t, got, NotFound, "running", true, errMissing)
	if len(clock.checks) != 7 {
		t.Fatalf("%d reads, want 7", len(clock.checks))
	}
}

func TestNotFoundAfterOneByDefault(t *testing.T) {
	clock := &fakeClock{now: start}
	cfg := script(t, clock, everySecond, step{err: errMissing})
	cfg.NotFoundAfter = 0
	expect(t, Wait(t.Context(), cfg), NotFound, "", false, errMissing)
}

func TestCancelIsInterrupted(t *testing.T) {
	clock := &fakeClock{now: start}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := Wait(ctx, script(t, clock, everySecond, step{status: "running"}, step{status: "running", then: cancel}))
	expect(t, got, Interrupted, "running", true, context.Canceled)
}

func TestCancelledBeforeTheFirstCheck(t *testing.T) {
	clock := &fakeClock{now: start}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	expect(t, Wait(ctx, script(t, clock, everySecond)), Interrupted, "", false, context.Canceled)
}

func TestDeadlineIsTimedOut(t *testing.T) {
	clock := &fakeClock{now: start}
	ctx := newEndingContext(t.Context())
	got := Wait(ctx, script(t, clock, everySecond, step{status: "running"}, step{err: errOutage, then: ctx.expire}))
	expect(t, got, TimedOut, "running", true, context.DeadlineExceeded)
}

func TestPastDeadlineBeforeTheFirstCheck(t *testing.T) {
	clock := &fakeClock{now: start}
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	expect(t, Wait(ctx, script(t, clock, Policy{Interval: time.Second})), TimedOut, "", false, context.DeadlineExceeded)
}

func TestTerminalStatusReadAsTheContextEndsCounts(t *testing.T) {
	clock := &fakeClock{now: start}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := Wait(ctx, script(t, clock, everySecond, step{status: "ok", then: cancel}))
	expect(t, got, Succeeded, "ok", true, nil)
}

// endingContext is a context whose deadline passes when the test says so.
type endingContext struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newEndingContext(parent context.Context) *endingContext {
	return &endingContext{Context: parent, done: make(chan struct{})}
}

func (c *endingContext) expire()               { c.once.Do(func() { close(c.done) }) }
func (c *endingContext) Done() <-chan struct{} { return c.done }

func (c *endingContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func TestOutcomeNames(t *testing.T) {
	for o, name := range map[Outcome]string{Succeeded: "succeeded", Interrupted: "interrupted", NotFound: "not found", Outcome(99): "unknown outcome"} {
		if o.String() != name {
			t.Errorf("%d: %q, want %q", o, o.String(), name)
		}
	}
}

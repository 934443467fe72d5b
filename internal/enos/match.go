package enos

import (
	"context"
	"sync"
	"time"
)

// Run matching is the rule that one trigger never starts two runs and never
// takes an older run for its own (StartRun, FindTriggeredRun), and the
// sharing of status reads (RunStatus). It lives in the match*.go files,
// which see the service only through runService: no HTTP, no tokens, no
// envelopes (TestRunMatchingSeesOnlyRunService keeps it so). Its tests
// drive it over an in-memory service.

// runService is what run matching needs of the service: the five calls its
// rule rests on (trigger, search, get, flow globals, the server's time, the
// last in two: its clock and its zone). Client serves it over HTTP
// (client_runs.go).
type runService interface {
	// trigger sends one updateAndTrigger and returns the id answered; an
	// error satisfying errors.Is(err, ErrOutcomeUnknown) may have started a
	// run, IsDuplicateTrigger(err) is a refusal of a taken slot.
	trigger(ctx context.Context, req TriggerRequest) (string, error)
	// search lists runs as SearchFlowInstances does.
	search(ctx context.Context, q InstanceSearch) ([]FlowInstance, error)
	// get reads one run; IsNotFound(err) when the service does not know it.
	get(ctx context.Context, id string) (*FlowInstance, error)
	// flowGlobals reads a flow's cycle and globals.
	flowGlobals(ctx context.Context, flowID int64) (*FlowGlobals, error)
	// serverTime reads the server's clock; serverZone is the zone of its
	// zone-less times.
	serverTime(ctx context.Context) (time.Time, error)
	serverZone(ctx context.Context) (*time.Location, error)
}

// runMatcher is run matching over one runService, for one Client.
type runMatcher struct {
	svc     runService
	now     func() time.Time // this machine's clock, for trigger times and poll instants
	timeout time.Duration    // one request's timeout: bounds a read-back and a late zone read
	backoff *backoff         // between read-backs of an answered run
	// fetchBound bounds a shared fetch: the server's time, an hour's
	// snapshot (see flight).
	fetchBound time.Duration

	slots    runRegistry
	turns    slotTurns
	statuses statusBatcher
	// clock is the server's clock as this process last read it (see
	// serverReadingAt).
	clock serverClock
	// snapshots are the runs of each trigger hour before the first send
	// into it (see snapshotBefore), by the hour's start.
	snapshots cachedByKey[int64, *hourSnapshot]
}

// serverReading is a server time and this machine's clock just after it
// was read: durations agree across the two clocks where instants need not,
// so the pair tells the server's time at another moment of this process.
type serverReading struct {
	server, local time.Time
}

// serverAt is the server's time when this machine's clock read local, no
// earlier than it was.
func (s serverReading) serverAt(local time.Time) time.Time {
	return s.server.Add(local.Sub(s.local))
}

// notAfter is the reading moved back to local when it was taken after it,
// and otherwise the reading as it is: so its server time is never later
// than the server's clock at local, whether that clock keeps pace with
// this machine's or lags it, even stands still (the emulator's manual
// clock). Moved forward, a reading would put the send after runs it
// started, and a trigger would take its own run for an older one.
func (s serverReading) notAfter(local time.Time) serverReading {
	if local.Before(s.local) {
		return serverReading{server: s.serverAt(local), local: local}
	}
	return s
}

// readingReuse is how long before a moment a reading of the server's clock
// still serves to tell the server's time then, as it is (notAfter): the
// server's time it shows is then at most this much early, on top of
// clockMargin. An older reading is replaced by a new one.
const readingReuse = clockMargin

// serverClock is the newest reading of the server's clock in this process,
// and the read in flight.
type serverClock struct {
	mu     sync.Mutex
	newest serverReading
	flight flight[serverReading]
}

func (c *serverClock) latest() serverReading {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newest
}

func (c *serverClock) keep(r serverReading) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.local.After(c.newest.local) {
		c.newest = r
	}
}

// serverReadingAt returns a reading whose server time is the server's at
// most at the moment local (see notAfter): the newest reading when it was
// taken after local or at most readingReuse before it, else a new one
// (taken after local), else, when the clock cannot be read, the newest as
// it is. Zero when no reading can be had (runs are then judged without
// it). Most triggers never need one.
func (r *runMatcher) serverReadingAt(ctx context.Context, local time.Time) serverReading {
	reading := r.clock.latest()
	if reading.server.IsZero() || local.Sub(reading.local) > readingReuse {
		if fresh, err := r.clock.flight.do(ctx, r.fetchBound, r.readServerTime); err == nil {
			r.clock.keep(fresh)
			reading = r.clock.latest()
		}
	}
	if reading.server.IsZero() {
		return serverReading{}
	}
	return reading.notAfter(local)
}

// readServerTime reads the server's clock.
func (r *runMatcher) readServerTime(ctx context.Context) (serverReading, error) {
	t, err := r.svc.serverTime(ctx)
	return serverReading{server: t, local: r.now()}, err
}

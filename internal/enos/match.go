package enos

import (
	"context"
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
	statuses statusBatcher
	// since is a server time and this machine's clock when it was read:
	// one read serves the whole process (see startMachine.ensureSince).
	since cached[serverReading]
	// snapshots are the runs of each trigger hour before the first send
	// into it (see snapshotBefore), by the hour's start.
	snapshots cachedByKey[int64, *hourSnapshot]
}

// serverReading is a server time and this machine's clock just after it
// was read: durations agree across the two clocks where instants need not,
// so the pair tells the server's time at any later moment of this process.
type serverReading struct {
	server, local time.Time
}

// serverAt is the server's time when this machine's clock read local, no
// earlier than it was.
func (s serverReading) serverAt(local time.Time) time.Time {
	return s.server.Add(local.Sub(s.local))
}

// serverSince returns the process's server-time reading, reading it on
// first use; zero when it cannot be read (runs are then judged without it).
func (r *runMatcher) serverSince(ctx context.Context) serverReading {
	reading, err := r.since.get(ctx, r.fetchBound, r.readServerTime)
	if err != nil {
		return serverReading{}
	}
	return reading
}

// readServerTime reads the server's clock.
func (r *runMatcher) readServerTime(ctx context.Context) (serverReading, error) {
	t, err := r.svc.serverTime(ctx)
	return serverReading{server: t, local: r.now()}, err
}

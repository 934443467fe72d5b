// Package runwait polls a long-running job until it ends. It knows nothing
// of Terraform or of any service: the caller passes a status function, says
// which statuses are terminal and which errors are transient or mean "not
// found", and gets back a typed Result that says how the wait ended.
//
// Each read is told the time its check was due. The interval policy can
// align every check to a whole second (Policy.AlignToSecond). That is for
// clients that let reads share one request: the enos client's RunStatus
// answers a read with a search that started at or after the read's due
// time, so runs waited on together (for example a for_each backfill) share
// requests when their checks fall due at the same instants. It is an
// option, not a rule of the loop.
//
// The style follows terraform-provider-aws's internal/actionwait.
package runwait

import (
	"context"
	"errors"
	"time"
)

// Phase is where a status stands.
type Phase int

const (
	// Pending: the job goes on; keep polling.
	Pending Phase = iota
	// Success: the job ended as wanted.
	Success
	// Failure: the job ended, but not as wanted.
	Failure
)

// Outcome says how a wait ended.
type Outcome int

const (
	// Succeeded: the last status is a Success.
	Succeeded Outcome = iota + 1
	// Failed: the last status is a Failure.
	Failed
	// TimedOut: the context's deadline passed first.
	TimedOut
	// Interrupted: the context was cancelled first (for Terraform, Ctrl-C
	// or a stopped CI job).
	Interrupted
	// NotFound: Config.NotFoundAfter consecutive reads found no job.
	NotFound
	// Errored: a read failed with an error that is neither transient nor
	// "not found".
	Errored
)

var outcomeNames = map[Outcome]string{
	Succeeded: "succeeded", Failed: "failed", TimedOut: "timed out",
	Interrupted: "interrupted", NotFound: "not found", Errored: "errored",
}

func (o Outcome) String() string {
	if name, ok := outcomeNames[o]; ok {
		return name
	}
	return "unknown outcome"
}

// Policy is when the checks happen: the first after InitialDelay (0: at
// once), then after Interval, which is multiplied by Growth after each
// check up to Ceiling (or Interval, when that is longer; 0: no ceiling).
type Policy struct {
	InitialDelay time.Duration
	Interval     time.Duration
	Growth       float64 // values below 1 count as 1: a fixed interval
	Ceiling      time.Duration
	// AlignToSecond moves every check that is not at once to the next
	// whole second, so that concurrent waits check together (see the
	// package documentation).
	AlignToSecond bool
}

// Config is what a wait polls and how it reads the answers. Status and
// Phase are required.
type Config[S any] struct {
	// Status reads the job's current status; due is when the check was
	// due (an answer from any time since then is fresh enough).
	Status func(ctx context.Context, due time.Time) (S, error)
	// Phase classifies a status.
	Phase func(S) Phase
	// Transient reports errors after which the next check tries again
	// (an outage, a throttled call). Nil: none is.
	Transient func(error) bool
	// IsNotFound reports errors that mean the job is not known. Nil: none
	// does.
	IsNotFound func(error) bool
	// NotFoundAfter is how many consecutive "not found" reads end the wait
	// with NotFound; the reads before keep polling, so one read that
	// missed a job that exists does not give it up. Values below 1 count
	// as 1.
	NotFoundAfter int
	// OnStatus, when set, is called with every status read, before it is
	// classified: for progress reports and logs. Failed reads are not
	// passed on.
	OnStatus func(S)
	Policy   Policy
	// Clock is nil for the real clock.
	Clock Clock
}

// Result is how a wait ended.
type Result[S any] struct {
	Outcome Outcome
	// Status is the last status read, valid when Seen.
	Status S
	Seen   bool
	// Err is the context's error (TimedOut, Interrupted), the last read's
	// error (NotFound, Errored), or nil.
	Err error
}

// Wait polls cfg.Status until a terminal status, a "not found" verdict, a
// permanent error, or the end of ctx. A context that ends with
// context.DeadlineExceeded means TimedOut, any other end Interrupted. A
// terminal status read as ctx ends still counts (it is what happened); any
// other answer of a read that returns while ctx is ending counts as that
// end.
func Wait[S any](ctx context.Context, cfg Config[S]) Result[S] {
	clock := cfg.Clock
	if clock == nil {
		clock = RealClock{}
	}
	p := cfg.Policy
	var res Result[S]
	missed := 0
	delay := p.Interval
	next := p.InitialDelay
	for {
		now := clock.Now()
		due := p.checkAt(now, next)
		if next > 0 {
			timer := clock.NewTimer(due.Sub(now))
			select {
			case <-ctx.Done():
			case <-timer.C():
			}
			timer.Stop()
		}
		// Checked whichever case fired, so that an ended context always wins.
		if ctx.Err() != nil {
			return ended(ctx, res)
		}
		status, err := cfg.Status(ctx, due)
		if err == nil {
			missed = 0
			res.Status, res.Seen = status, true
			if cfg.OnStatus != nil {
				cfg.OnStatus(status)
			}
			switch cfg.Phase(status) {
			case Success:
				res.Outcome = Succeeded
				return res
			case Failure:
				res.Outcome = Failed
				return res
			}
		}
		switch {
		case ctx.Err() != nil:
			return ended(ctx, res)
		case err == nil:
		case cfg.IsNotFound != nil && cfg.IsNotFound(err):
			missed++
			if missed >= max(cfg.NotFoundAfter, 1) {
				res.Outcome, res.Err = NotFound, err
				return res
			}
		case cfg.Transient != nil && cfg.Transient(err):
		default:
			res.Outcome, res.Err = Errored, err
			return res
		}
		next = delay
		delay = p.grow(delay)
	}
}

// ended is the result of a wait whose context ended.
func ended[S any](ctx context.Context, res Result[S]) Result[S] {
	res.Outcome, res.Err = Interrupted, ctx.Err()
	if errors.Is(res.Err, context.DeadlineExceeded) {
		res.Outcome = TimedOut
	}
	return res
}

// checkAt is when the check due d after now falls: at once for d <= 0,
// else rounded up to a whole second when the policy aligns checks.
func (p Policy) checkAt(now time.Time, d time.Duration) time.Time {
	at := now.Add(max(d, 0))
	if d <= 0 || !p.AlignToSecond {
		return at
	}
	if rounded := at.Truncate(time.Second); rounded.Before(at) {
		at = rounded.Add(time.Second)
	}
	return at
}

// grow is the interval after d.
func (p Policy) grow(d time.Duration) time.Duration {
	if p.Growth <= 1 {
		return d
	}
	grown := time.Duration(float64(d) * p.Growth)
	if p.Ceiling > 0 {
		grown = min(grown, max(p.Ceiling, d))
	}
	return grown
}

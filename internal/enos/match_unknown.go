package enos

import (
	"context"
	"errors"
	"time"
)

// UnknownTrigger is a trigger whose outcome StartRun could not learn, as
// its caller recorded it from a *TriggerOutcomeUnknownError.
type UnknownTrigger struct {
	FlowID      int64
	TriggerTime time.Time // the trigger time sent
	Since       time.Time // TriggerOutcomeUnknownError.Since; zero when unknown
	Until       time.Time // TriggerOutcomeUnknownError.Until; zero when unknown
}

// ErrNoRunStarted says that the search of an unknown trigger's slot and the
// documented ids of its run found no run that the trigger can have
// started.
var ErrNoRunStarted = errors.New("the trigger started no run: neither the search of its slot nor its run's documented ids found one")

// findTriggeredRun settles an unknown trigger later, typically at the
// next refresh: it looks for the run as StartRun's look-up does (the same
// evidence rule: a run created before Since or well after Until, of another
// trigger instant, or held by this client for another run is not the
// trigger's), and also
// reads the documented ids when the search finds nothing, since the
// search could miss a run whose trigger time the service wrote otherwise.
// It returns the run found, claimed for the caller; ErrNoRunStarted when
// the search and the ids show that there is none; or the error that kept
// it from deciding. It never sends a trigger.
func (r *runMatcher) findTriggeredRun(ctx context.Context, t UnknownTrigger) (*FlowInstance, error) {
	m := &startMachine{r: r, req: TriggerRequest{FlowID: t.FlowID, TriggerTime: t.TriggerTime}, since: serverReading{server: t.Since}, until: t.Until}
	own, _, err := m.findOwnRun(ctx, true)
	switch {
	case own != nil:
		if !r.slots.claim(own.InstanceID, t.FlowID, t.TriggerTime) {
			return nil, ErrNoRunStarted // another recorded trigger of this client holds the slot's run
		}
		return own, nil
	case err != nil:
		return nil, err
	}
	return nil, ErrNoRunStarted
}

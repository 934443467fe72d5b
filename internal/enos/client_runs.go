package enos

import (
	"context"
	"time"
)

// httpRunService serves run matching (runService) with the Client's calls.
type httpRunService struct{ c *Client }

func (s httpRunService) trigger(ctx context.Context, req TriggerRequest) (string, error) {
	return s.c.updateAndTrigger(ctx, req)
}

func (s httpRunService) search(ctx context.Context, q InstanceSearch) ([]FlowInstance, error) {
	return s.c.SearchFlowInstances(ctx, q)
}

func (s httpRunService) get(ctx context.Context, id string) (*FlowInstance, error) {
	return s.c.GetFlowInstance(ctx, id)
}

func (s httpRunService) flowGlobals(ctx context.Context, flowID int64) (*FlowGlobals, error) {
	return s.c.FlowGlobals(ctx, flowID)
}

func (s httpRunService) serverTime(ctx context.Context) (time.Time, error) {
	return s.c.GetCurrentTime(ctx)
}

func (s httpRunService) serverZone(ctx context.Context) (*time.Location, error) {
	return s.c.serverLocation(ctx)
}

// StartRun triggers one run of a flow, never two and never taking an older
// run for the one it started; see runMatcher.startRun for the rule. A zero
// TriggerRequest.TriggerTime lets StartRun pick the time.
func (c *Client) StartRun(ctx context.Context, req TriggerRequest) (RunStart, error) {
	return c.runs.startRun(ctx, req)
}

// RunStatus returns the state of a run, like GetFlowInstance, from an
// instance search of its flow and trigger hour shared with the client's
// other checks; see runMatcher.runStatus for which search serves which
// check.
func (c *Client) RunStatus(ctx context.Context, ref RunRef, notBefore time.Time) (*FlowInstance, error) {
	return c.runs.runStatus(ctx, ref, notBefore, true)
}

// FindTriggeredRun settles a trigger whose outcome StartRun could not
// learn (see runMatcher.findTriggeredRun). It never sends a trigger.
func (c *Client) FindTriggeredRun(ctx context.Context, t UnknownTrigger) (*FlowInstance, error) {
	return c.runs.findTriggeredRun(ctx, t)
}

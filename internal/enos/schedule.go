package enos

import (
	"context"
	"fmt"
	"net/http"
)

// FlowSchedule is what a flow's schedule is made of (flows?action=get):
// whether it is started, and when it runs. Unlike GetFlow it needs no
// server time zone, and unlike FlowGlobals it is never cached, as the
// schedule is what callers watch for changes made elsewhere.
type FlowSchedule struct {
	FlowID   int64
	FlowName string
	Active   bool // active = 1: started; 0: paused
	Type     int  // 0 manual, 1 periodic, 2 temporary
	Freq     string
	Cycle    string
}

// GetFlowSchedule reads a flow's schedule.
func (c *Client) GetFlowSchedule(ctx context.Context, flowID int64) (*FlowSchedule, error) {
	w, _, err := c.getFlow(ctx, flowID)
	if err != nil {
		return nil, err
	}
	return &FlowSchedule{
		FlowID: int64(w.FlowID), FlowName: w.FlowName, Active: w.Active == 1, Type: int(w.Type),
		Freq: w.Freq, Cycle: w.Cycle,
	}, nil
}

// EnableFlow starts a flow's schedule (flows?action=enable).
func (c *Client) EnableFlow(ctx context.Context, flowID int64) error {
	return c.setFlowActive(ctx, "enable", flowID)
}

// DisableFlow pauses a flow's schedule (flows?action=disable).
func (c *Client) DisableFlow(ctx context.Context, flowID int64) error {
	return c.setFlowActive(ctx, "disable", flowID)
}

// setFlowActive sends enable or disable. Both only set the flow's active
// flag, so repeating one is harmless (SERVICE.md §3.6) and failures are retried
// like reads.
func (c *Client) setFlowActive(ctx context.Context, action string, flowID int64) error {
	call := apiCall{resource: "flows", action: action, method: http.MethodPost, policy: retryIdempotent,
		body: struct {
			FlowID int64 `json:"flowId"`
		}{flowID}}
	if flowID <= 0 {
		return fmt.Errorf("%s: flow id must be positive, got %d", call.operation(), flowID)
	}
	_, err := c.do(ctx, call)
	return err
}

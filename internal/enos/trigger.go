package enos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

type triggerBody struct {
	FlowID      int64       `json:"flowId"`
	TriggerTime int64       `json:"triggerTime"`
	Parameters  []Parameter `json:"parameters"`
}

// updateAndTrigger sends one trigger of a flow with parameter overrides and
// returns the instance id the service answered. It is never retried once
// it may have reached the service; such a failure satisfies
// errors.Is(err, ErrOutcomeUnknown). It is StartRun's send, unexported so
// that no caller can trigger without StartRun's rule (never twice).
func (c *Client) updateAndTrigger(ctx context.Context, req TriggerRequest) (string, error) {
	call := apiCall{resource: "flows", action: "updateAndTrigger", method: http.MethodPost, policy: retryTrigger, body: triggerBody{
		FlowID: req.FlowID, TriggerTime: req.TriggerTime.UnixMilli(), Parameters: parametersFromMap(req.Parameters),
	}}
	if req.FlowID <= 0 {
		return "", fmt.Errorf("%s: flow id must be positive, got %d", call.operation(), req.FlowID)
	}
	if req.TriggerTime.IsZero() {
		return "", fmt.Errorf("%s: trigger time is required", call.operation())
	}
	data, err := c.do(ctx, call)
	if err != nil {
		return "", err
	}
	// The service accepted the trigger; an answer without the id leaves the
	// run unknown, not absent.
	var out struct {
		FlowInstanceID string `json:"flowInstanceId"`
	}
	if json.Unmarshal(data, &out) != nil || out.FlowInstanceID == "" {
		return "", &outcomeUnknownError{err: &APIError{Operation: call.operation(), HTTPStatus: http.StatusOK,
			Message: "malformed response: success without a flowInstanceId"}}
	}
	return out.FlowInstanceID, nil
}

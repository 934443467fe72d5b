package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// EmulatorCheck is a state or plan check that asserts on the emulator.
type EmulatorCheck func() error

func (c EmulatorCheck) CheckState(_ context.Context, _ statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c()
}

func (c EmulatorCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c()
}

// RequestCounter remembers the emulator's request count so that a later
// step can assert that it sent nothing.
type RequestCounter struct {
	srv   *emulator.Server
	count int
}

// NewRequestCounter counts the requests of srv.
func NewRequestCounter(srv *emulator.Server) *RequestCounter { return &RequestCounter{srv: srv} }

// Record remembers the count of requests so far.
func (c *RequestCounter) Record() EmulatorCheck {
	return func() error { c.count = len(c.srv.Requests()); return nil }
}

// ExpectNoNewRequests fails when a request came after Record.
func (c *RequestCounter) ExpectNoNewRequests() EmulatorCheck {
	return func() error {
		if reqs := c.srv.Requests(); len(reqs) != c.count {
			var ops []string
			for _, r := range reqs[c.count:] {
				ops = append(ops, r.Operation)
			}
			return fmt.Errorf("expected no API requests, got %v", ops)
		}
		return nil
	}
}

// StateExcludes fails when text appears anywhere in the state.
type StateExcludes string

func (s StateExcludes) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(raw), string(s)) {
		resp.Error = fmt.Errorf("state contains %q", string(s))
	}
}

// PlanExcludes fails when text appears in the plan's resource changes or
// planned values (variables are left out: they hold what the test put in).
type PlanExcludes string

func (s PlanExcludes) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	raw, err := json.Marshal([]any{req.Plan.ResourceChanges, req.Plan.PlannedValues, req.Plan.PriorState})
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(raw), string(s)) {
		resp.Error = fmt.Errorf("plan contains %q", string(s))
	}
}

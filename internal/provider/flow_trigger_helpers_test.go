package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// Test helpers of the dataflow_flow_trigger tests.

const triggerOperation = "flows/updateAndTrigger"

// providerFactoriesWithClock runs the provider with the given clock, so that
// it and an emulator on a ManualClock agree on "now".
func providerFactoriesWithClock(now func() time.Time) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"dataflow": protocol6Factory(&dataflowProvider{version: "test", now: now}),
	}
}

// triggerBody is the decoded body of an updateAndTrigger request.
type triggerBody struct {
	FlowID      int64            `json:"flowId"`
	TriggerTime int64            `json:"triggerTime"`
	Parameters  []enos.Parameter `json:"parameters"`
}

// triggerBodies decodes every trigger request the emulator received.
func triggerBodies(t *testing.T, srv *emulator.Server) []triggerBody {
	t.Helper()
	var bodies []triggerBody
	for _, r := range srv.Requests() {
		if r.Operation != triggerOperation {
			continue
		}
		var b triggerBody
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("trigger request body %q: %v", r.Body, err)
		}
		bodies = append(bodies, b)
	}
	return bodies
}

// emulatorCheck is a state or plan check that asserts on the emulator.
type emulatorCheck func() error

func (c emulatorCheck) CheckState(_ context.Context, _ statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c()
}

func (c emulatorCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c()
}

// expectTriggerCount checks how many trigger requests the emulator got.
func expectTriggerCount(srv *emulator.Server, want int) emulatorCheck {
	return func() error {
		if got := srv.Count(triggerOperation); got != want {
			return fmt.Errorf("trigger requests: got %d, want %d", got, want)
		}
		return nil
	}
}

// requestCounter remembers the emulator's request count so that a later
// step can assert that it sent nothing.
type requestCounter struct {
	srv   *emulator.Server
	count int
}

func (c *requestCounter) record() emulatorCheck {
	return func() error { c.count = len(c.srv.Requests()); return nil }
}

func (c *requestCounter) expectNoNewRequests() emulatorCheck {
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

// stateExcludes fails when text appears anywhere in the state.
type stateExcludes string

func (s stateExcludes) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(raw), string(s)) {
		resp.Error = fmt.Errorf("state contains %q", string(s))
	}
}

// planExcludes fails when text appears in the plan's resource changes or
// planned values (variables are left out: they hold what the test put in).
type planExcludes string

func (s planExcludes) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	raw, err := json.Marshal([]any{req.Plan.ResourceChanges, req.Plan.PlannedValues, req.Plan.PriorState})
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(raw), string(s)) {
		resp.Error = fmt.Errorf("plan contains %q", string(s))
	}
}

// onlyInstanceID returns the id of the emulator's single instance.
func onlyInstanceID(srv *emulator.Server) (string, error) {
	instances := srv.Instances()
	if len(instances) != 1 {
		return "", fmt.Errorf("expected exactly one instance, got %d", len(instances))
	}
	return instances[0].ID, nil
}

// errorText matches the given fragments in order in an error message that
// terraform may have wrapped across lines.
func errorText(fragments ...string) *regexp.Regexp {
	quoted := make([]string, len(fragments))
	for i, f := range fragments {
		quoted[i] = strings.Join(strings.Fields(regexp.QuoteMeta(f)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}

// testClient is a client for tests that call resource methods directly.
func testClient(t *testing.T, srv *emulator.Server) *enos.Client {
	t.Helper()
	c, err := enos.New(enos.Config{
		Endpoint: srv.URL, AccessKey: emulator.DefaultAccessKey, SecretKey: emulator.DefaultSecretKey,
		OrgID: emulator.DefaultOrgID, UserID: emulator.DefaultUserID,
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

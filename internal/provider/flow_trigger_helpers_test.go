package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
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

// expectTriggerCount checks how many trigger requests the emulator got.
func expectTriggerCount(srv *emulator.Server, want int) acctest.EmulatorCheck {
	return func() error {
		if got := srv.Count(triggerOperation); got != want {
			return fmt.Errorf("trigger requests: got %d, want %d", got, want)
		}
		return nil
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

// stateFileTrigger is a trigger instance of a state file.
type stateFileTrigger struct {
	Status     string // "tainted", or empty
	Attributes struct {
		ID     string
		Status string
	}
}

// stateFileTriggers lists the trigger resource instances of a state file.
func stateFileTriggers(t *testing.T, raw []byte) []stateFileTrigger {
	t.Helper()
	var state struct {
		Resources []struct {
			Type      string
			Instances []stateFileTrigger
		}
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatalf("state file: %v", err)
	}
	var out []stateFileTrigger
	for _, r := range state.Resources {
		if r.Type == "dataflow_flow_trigger" {
			out = append(out, r.Instances...)
		}
	}
	return out
}

// unfinished stands for any status of a run that has not ended.
const unfinished = "unfinished"

// expectStateRun checks that dir's state holds exactly the run id, not
// tainted, with the given status (or unfinished).
func expectStateRun(t *testing.T, dir, id, status, output string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("no state: %v\n%s", err, output)
	}
	triggers := stateFileTriggers(t, raw)
	if len(triggers) == 1 && status == unfinished && slices.Contains([]string{"INIT", "WAIT", "READY", "RUNNING"}, triggers[0].Attributes.Status) {
		status = triggers[0].Attributes.Status
	}
	if len(triggers) != 1 || triggers[0].Attributes.ID != id || triggers[0].Status != "" || triggers[0].Attributes.Status != status {
		t.Fatalf("state holds %+v, want run %s, status %s, not tainted\n%s", triggers, id, status, output)
	}
}

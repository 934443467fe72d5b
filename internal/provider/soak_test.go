package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

const (
	soakFlows       = 20
	soakRunsPerFlow = 10
	soakFirstFlowID = 3001
	soakFaultRate   = 0.1
)

// The soak's faults, each injected at its share of the rate. Calls that
// are safe to repeat survive any of them through retries; a trigger
// survives those after which it provably did not act (throttling) or after
// which its run can be found (the service acted).
var (
	repeatableCallFaults = []emulator.FaultKind{emulator.FaultHTTP502, emulator.FaultHTTP503, emulator.FaultThrottle,
		emulator.FaultInternal, emulator.FaultDropBeforeAct, emulator.FaultDropAfterAct, emulator.FaultTruncatedBody}
	triggerFaults = []emulator.FaultKind{emulator.FaultThrottle, emulator.FaultDropAfterAct, emulator.FaultTruncatedBody}
)

// repeatableOperations are the calls besides the trigger the soak makes.
var repeatableOperations = []string{
	"token/get", "flows/get", "time/getTimeZone", "flowInstances/get", "flowInstances/search", "flowInstances/cancel",
}

func TestAccFlowTriggerSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test runs 200 triggers; skipped under -short")
	}
	srv := acctest.StartEmulator(t, emulator.Options{})
	for i := range soakFlows {
		err := srv.AddFlow(emulator.FlowSpec{
			ID: int64(soakFirstFlowID + i), Name: fmt.Sprintf("soak_%02d", i), OrgID: emulator.DefaultOrgID, Owners: []string{"alice"},
			// Runs never finish on their own: every destroy must cancel one.
			Tasks: []emulator.TaskSpec{{Name: "work", Outcome: emulator.OutcomeHang}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	inject := func(op string, kinds []emulator.FaultKind) {
		for _, kind := range kinds {
			srv.InjectFault(emulator.Fault{Operation: op, Kind: kind, Rate: soakFaultRate / float64(len(kinds)), RetryAfter: time.Second})
		}
	}
	for _, op := range repeatableOperations {
		inject(op, repeatableCallFaults)
	}
	inject(triggerOperation, triggerFaults)
	config := acctest.ProviderBlock(srv, "max_retries = 10") + fmt.Sprintf(`
resource "dataflow_flow_trigger" "soak" {
  count               = %d
  flow_id             = %d + count.index %% %d
  wait_for_completion = false
  on_destroy          = "cancel"
  poll_interval       = "1s"
}
`, soakFlows*soakRunsPerFlow, soakFirstFlowID, soakFlows)

	acctest.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: checkRunsMatchState(srv, soakFlows*soakRunsPerFlow)},
			{RefreshState: true, Check: checkRunsMatchState(srv, soakFlows*soakRunsPerFlow)},
		},
		CheckDestroy: func(*terraform.State) error {
			faulted := 0
			for _, r := range srv.Requests() {
				if r.Fault != "" {
					faulted++
				}
			}
			if faulted == 0 {
				return fmt.Errorf("no request of the soak was hit by a fault")
			}
			instances := srv.Instances()
			if len(instances) != soakFlows*soakRunsPerFlow {
				return fmt.Errorf("the service started %d runs, want %d", len(instances), soakFlows*soakRunsPerFlow)
			}
			for _, in := range instances {
				if enos.Status(in.Status) != enos.StatusCancel {
					return fmt.Errorf("run %s ended %d, want cancelled by destroy", in.ID, in.Status)
				}
			}
			return nil
		},
	})
}

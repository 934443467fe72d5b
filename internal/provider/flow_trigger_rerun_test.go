package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Acceptance tests of the trigger's promises when a slot is taken or an
// answer is lost: re-runs of a failed day, lost answers with failing
// searches, and flows whose instance ids name the hour.

// rerunStart is 2024-06-01 10:00:30 in the emulator's zone (GMT+8).
var rerunStart = time.Date(2024, 6, 1, 2, 0, 30, 0, time.UTC)

// dailyLoadFlow is a daily flow whose single task fails until SetTask says
// otherwise; its tasks take no time, so a run ends one second (the READY
// phase) after it starts.
const dailyLoadFlow = 2101

func addDailyLoadFlow(t *testing.T, srv *emulator.Server) {
	t.Helper()
	err := srv.AddFlow(emulator.FlowSpec{
		ID: dailyLoadFlow, Name: "daily_load", OrgID: emulator.DefaultOrgID, Owners: []string{"alice"}, Cycle: "D",
		Parameters: []emulator.Parameter{{Key: "bizdate", Value: ""}},
		Tasks:      []emulator.TaskSpec{{Name: "load", Outcome: emulator.OutcomeFail}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// instancesOf returns the emulator's runs of flowID, oldest first.
func instancesOf(srv *emulator.Server, flowID int64) []emulator.Instance {
	var out []emulator.Instance
	for _, in := range srv.Instances() {
		if in.FlowID == flowID {
			out = append(out, in)
		}
	}
	return out
}

// clearFaults is a state check that removes the emulator's faults, so that
// the refresh and plan after an apply see a healthy service.
func clearFaults(srv *emulator.Server) acctest.EmulatorCheck {
	return func() error { srv.ClearFaults(); return nil }
}

// A failed day with trigger_time set is re-run by the next apply: the
// failed resource is tainted and replaced, the configured minute is taken
// by the failed run, so the new run is triggered in the next minute of the
// same day. Run against both documented duplicate behaviours.
func TestAccFlowTriggerRerun_failedDay(t *testing.T) {
	for _, duplicates := range []emulator.DuplicateTrigger{emulator.DuplicateReject, emulator.DuplicateAnswerExisting} {
		t.Run(string(duplicates), func(t *testing.T) {
			clock := emulator.NewManualClock(rerunStart)
			srv := acctest.StartEmulator(t, emulator.Options{Clock: clock, DuplicateTrigger: duplicates})
			addDailyLoadFlow(t, srv)
			config := acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id       = %d
  parameters    = { bizdate = "20240531" }
  trigger_time  = "2024-06-01T00:00:00Z"
  poll_interval = "1s"
}
`, dailyLoadFlow)
			acctest.ParallelUnitTest(t, resource.TestCase{
				// Every reading of the provider's clock moves the emulator's
				// on by a second, so a run ends after a few status checks
				// whatever the speed of the machine.
				ProtoV6ProviderFactories: providerFactoriesWithClock(func() time.Time {
					clock.Advance(time.Second)
					return clock.Now()
				}),
				Steps: []resource.TestStep{
					{
						Config:      config,
						ExpectError: acctest.ErrorText("Flow run ended with status FAIL"),
					},
					{
						PreConfig: func() {
							if err := srv.SetTask(dailyLoadFlow, "load", 0, emulator.OutcomeSuccess); err != nil {
								t.Fatal(err)
							}
						},
						Config: config,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionDestroyBeforeCreate),
						}},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
							statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("trigger_time"), knownvalue.StringExact("2024-06-01T00:00:00Z")),
							statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("sent_trigger_time"), knownvalue.StringExact("2024-06-01T00:01:00Z")),
							statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact("2101-20240601080100")),
							acctest.EmulatorCheck(func() error {
								runs := instancesOf(srv, dailyLoadFlow)
								if len(runs) != 2 {
									return fmt.Errorf("%d runs, want the failed one and its re-run", len(runs))
								}
								if runs[0].Status != -1 || runs[1].Status != 1 {
									return fmt.Errorf("run statuses %d and %d, want FAIL then SUCCESS", runs[0].Status, runs[1].Status)
								}
								day := func(t time.Time) string { return t.In(testServerZone).Format("2006-01-02") }
								if day(runs[0].TriggerTime) != "2024-06-01" || day(runs[1].TriggerTime) != "2024-06-01" {
									return fmt.Errorf("runs triggered %v and %v, want both on 2024-06-01 GMT+8", runs[0].TriggerTime, runs[1].TriggerTime)
								}
								if runs[1].Parameters["bizdate"] != "20240531" {
									return fmt.Errorf("re-run parameters %v", runs[1].Parameters)
								}
								return nil
							}),
						},
					},
				},
			})
		})
	}
}

// A lost trigger answer (the service started the run) while every instance
// search fails: the run is never started twice, and always ends up in
// state: found by its documented id, answered to the resend, or, when
// nothing can read it, recorded under its documented id as an unknown
// outcome (see flow_trigger_unknown_outcome_test.go).
func TestAccFlowTriggerRerun_lostAnswerWhileSearchesFail(t *testing.T) {
	for _, tc := range []struct {
		name        string
		triggerTime string // empty: defaulted
		duplicates  emulator.DuplicateTrigger
		getFails    bool
		wantID      string // the run's id
	}{
		{name: "chosen time, found by id", triggerTime: "2024-06-01T00:00:00Z", duplicates: emulator.DuplicateReject, wantID: "1001-20240601080000"},
		{name: "defaulted time, found by id", duplicates: emulator.DuplicateReject, wantID: "1001-20240601100000"},
		{name: "chosen time, nothing readable", triggerTime: "2024-06-01T00:00:00Z", duplicates: emulator.DuplicateReject, getFails: true, wantID: "1001-20240601080000"},
		{name: "defaulted time, nothing readable", duplicates: emulator.DuplicateReject, getFails: true, wantID: "1001-20240601100000"},
		{name: "chosen time, resend answered with the run", triggerTime: "2024-06-01T00:00:00Z", duplicates: emulator.DuplicateAnswerExisting, getFails: true, wantID: "1001-20240601080000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := emulator.NewManualClock(rerunStart)
			srv := acctest.StartEmulator(t, emulator.Options{Clock: clock, DuplicateTrigger: tc.duplicates})
			srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultDropAfterAct, Count: 1})
			srv.InjectFault(emulator.Fault{Operation: "flowInstances/search", Kind: emulator.FaultInternal})
			if tc.getFails {
				srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultInternal})
			}
			triggerTime := ""
			if tc.triggerTime != "" {
				triggerTime = fmt.Sprintf("trigger_time = %q", tc.triggerTime)
			}
			config := acctest.ProviderBlock(srv, "max_retries = 0") + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1001
  wait_for_completion = false
  %s
}
`, triggerTime)
			step := resource.TestStep{Config: config, ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact(tc.wantID)),
				clearFaults(srv),
			}}
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: providerFactoriesWithClock(func() time.Time {
					clock.Advance(time.Millisecond)
					return clock.Now()
				}),
				Steps: []resource.TestStep{step},
			})
			runs := instancesOf(srv, 1001)
			if len(runs) != 1 || runs[0].ID != tc.wantID {
				t.Errorf("runs %+v, want exactly %s", runs, tc.wantID)
			}
		})
	}
}

// for_each over three triggers of a flow whose instance ids name the hour,
// trigger_time defaulted: three runs in three hours, whichever duplicate
// behaviour the service has.
func TestAccFlowTriggerRerun_hourlyIDsForEach(t *testing.T) {
	for _, duplicates := range []emulator.DuplicateTrigger{emulator.DuplicateReject, emulator.DuplicateAnswerExisting} {
		t.Run(string(duplicates), func(t *testing.T) {
			clock := emulator.NewManualClock(rerunStart)
			srv := acctest.StartEmulator(t, emulator.Options{Clock: clock, DuplicateTrigger: duplicates})
			// Each resource holds one of the runs started, and the runs are
			// three, with distinct ids.
			var checks []statecheck.StateCheck
			for _, key := range []string{"a", "b", "c"} {
				checks = append(checks, statecheck.ExpectKnownValue(fmt.Sprintf(`dataflow_flow_trigger.test[%q]`, key),
					tfjsonpath.New("id"), knownvalue.StringFunc(func(id string) error {
						for _, r := range instancesOf(srv, 1007) {
							if r.ID == id && r.Parameters["bizhour"] == key {
								return nil
							}
						}
						return fmt.Errorf("%s is not the run the service started for %q", id, key)
					})))
			}
			checks = append(checks, acctest.EmulatorCheck(func() error {
				runs := instancesOf(srv, 1007)
				seen := map[string]bool{}
				for _, r := range runs {
					seen[r.ID] = true
				}
				if len(runs) != 3 || len(seen) != 3 {
					return fmt.Errorf("runs %+v, want three with distinct ids", runs)
				}
				return nil
			}))
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: providerFactoriesWithClock(func() time.Time {
					clock.Advance(time.Millisecond)
					return clock.Now()
				}),
				Steps: []resource.TestStep{{
					Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  for_each            = toset(["a", "b", "c"])
  flow_id             = 1007
  parameters          = { bizhour = each.key }
  wait_for_completion = false
}
`,
					ConfigStateChecks: checks,
				}, {
					// The test framework's final state shim cannot read for_each
					// keys, so end with the resources removed (detached).
					Config: acctest.ProviderBlock(srv),
				}},
			})
		})
	}
}

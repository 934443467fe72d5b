package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

const (
	testSchedule      = "dataflow_flow_schedule.test"
	enableOperation   = "flows/enable"
	disableOperation  = "flows/disable"
	scheduledFlowID   = 1001
	scheduledFlowCron = "0 0 0 * * ? *"
)

// scheduleConfig is a dataflow_flow_schedule of flow 1001 with the given
// active and extra lines.
func scheduleConfig(srv *emulator.Server, active bool, extra ...string) string {
	lines := ""
	for _, l := range extra {
		lines += "\n  " + l
	}
	return acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_schedule" "test" {
  flow_id = %d
  active  = %t%s
}
`, scheduledFlowID, active, lines)
}

// expectFlowActive checks the emulator's own active flag of a flow.
func expectFlowActive(srv *emulator.Server, flowID int64, want bool) acctest.EmulatorCheck {
	return func() error {
		got, err := srv.FlowActive(flowID)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("flow %d active = %t at the service, want %t", flowID, got, want)
		}
		return nil
	}
}

// expectScheduleCalls checks how many enable and disable requests the
// emulator received.
func expectScheduleCalls(srv *emulator.Server, enables, disables int) acctest.EmulatorCheck {
	return func() error {
		if e, d := srv.Count(enableOperation), srv.Count(disableOperation); e != enables || d != disables {
			return fmt.Errorf("enable/disable requests: got %d/%d, want %d/%d", e, d, enables, disables)
		}
		return nil
	}
}

// setScheduleActive toggles the schedule of scheduledFlowID behind
// Terraform's back, as in the console.
func setScheduleActive(t *testing.T, srv *emulator.Server, active bool) {
	t.Helper()
	if err := srv.SetFlowActive(scheduledFlowID, active); err != nil {
		t.Fatal(err)
	}
}

func checkDestroy(checks ...acctest.EmulatorCheck) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, c := range checks {
			if err := c(); err != nil {
				return err
			}
		}
		return nil
	}
}

func stateValue(attribute string, value knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(testSchedule, tfjsonpath.New(attribute), value)
}

// Pause and resume, drift from the console detected and corrected, and
// destroy restoring the schedule found at create (paused).
func TestAccFlowSchedule_pauseResumeDriftRestore(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	setScheduleActive(t, srv, false)
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: scheduleConfig(srv, true),
				ConfigStateChecks: []statecheck.StateCheck{
					expectFlowActive(srv, scheduledFlowID, true),
					expectScheduleCalls(srv, 1, 0),
					stateValue("active", knownvalue.Bool(true)),
					stateValue("initial_active", knownvalue.Bool(false)),
					stateValue("on_destroy", knownvalue.StringExact("restore")),
					stateValue("flow_name", knownvalue.StringExact("daily_sales_load")),
					stateValue("cycle", knownvalue.StringExact("D")),
					stateValue("cron", knownvalue.StringExact(scheduledFlowCron)),
					stateValue("type", knownvalue.Int64Exact(0)), // the seed flow is manual
				},
			},
			{
				Config: scheduleConfig(srv, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testSchedule, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					expectFlowActive(srv, scheduledFlowID, false),
					expectScheduleCalls(srv, 1, 1),
					stateValue("initial_active", knownvalue.Bool(false)),
				},
			},
			{
				Config: scheduleConfig(srv, true),
				ConfigStateChecks: []statecheck.StateCheck{
					expectFlowActive(srv, scheduledFlowID, true),
					expectScheduleCalls(srv, 2, 1),
				},
			},
			{
				// Someone pauses the schedule in the console: the refresh sees
				// it, the plan puts it back, the apply starts it again.
				PreConfig: func() { setScheduleActive(t, srv, false) },
				Config:    scheduleConfig(srv, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testSchedule, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testSchedule, tfjsonpath.New("active"), knownvalue.Bool(true)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					expectFlowActive(srv, scheduledFlowID, true),
					expectScheduleCalls(srv, 3, 1),
				},
			},
			{
				// Drift shows in a plan alone, too.
				PreConfig:          func() { setScheduleActive(t, srv, false) },
				Config:             scheduleConfig(srv, true),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
		// The schedule was paused when the resource was created: destroy pauses it again.
		CheckDestroy: func(*terraform.State) error {
			setCalls := expectScheduleCalls(srv, 3, 1) // paused by the console before: no disable needed
			return checkDestroy(expectFlowActive(srv, scheduledFlowID, false), setCalls)(nil)
		},
	})
}

// Destroy starts again a schedule that was started at create.
func TestAccFlowSchedule_destroyRestoresStarted(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: scheduleConfig(srv, false),
			ConfigStateChecks: []statecheck.StateCheck{
				expectFlowActive(srv, scheduledFlowID, false),
				expectScheduleCalls(srv, 0, 1),
				stateValue("initial_active", knownvalue.Bool(true)),
			},
		}},
		CheckDestroy: checkDestroy(expectFlowActive(srv, scheduledFlowID, true), expectScheduleCalls(srv, 1, 1)),
	})
}

// The answers to a pause are lost after the service paused the flow: the
// apply fails, but the schedule found (started) is recorded, so the next
// apply converges and destroy starts the flow again, as Terraform found it.
func TestAccFlowSchedule_lostToggleAnswerKeepsTheScheduleFound(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() {
				srv.InjectFault(emulator.Fault{Operation: disableOperation, Kind: emulator.FaultDropAfterAct})
			},
			Config:      scheduleConfig(srv, false),
			ExpectError: acctest.ErrorText("Pausing the schedule of flow 1001 failed"),
		}, {
			PreConfig: srv.ClearFaults,
			Config:    scheduleConfig(srv, false),
			ConfigStateChecks: []statecheck.StateCheck{
				expectFlowActive(srv, scheduledFlowID, false),
				stateValue("initial_active", knownvalue.Bool(true)),
			},
		}},
		CheckDestroy: checkDestroy(expectFlowActive(srv, scheduledFlowID, true)),
	})
}

func TestAccFlowSchedule_keepOnDestroy(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	setScheduleActive(t, srv, false)
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: scheduleConfig(srv, true, `on_destroy = "keep"`),
			ConfigStateChecks: []statecheck.StateCheck{
				expectFlowActive(srv, scheduledFlowID, true),
				stateValue("initial_active", knownvalue.Bool(false)),
			},
		}},
		CheckDestroy: checkDestroy(expectFlowActive(srv, scheduledFlowID, true), expectScheduleCalls(srv, 1, 0)),
	})
}

// When the service already has the wanted state, create, a plan, a change
// of on_destroy only, and destroy send no enable or disable.
func TestAccFlowSchedule_noCallWhenStateMatches(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            scheduleConfig(srv, true),
				ConfigStateChecks: []statecheck.StateCheck{expectFlowActive(srv, scheduledFlowID, true), expectScheduleCalls(srv, 0, 0)},
			},
			{
				Config: scheduleConfig(srv, true, `on_destroy = "keep"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testSchedule, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{expectScheduleCalls(srv, 0, 0)},
			},
			{
				Config:            scheduleConfig(srv, true),
				ConfigStateChecks: []statecheck.StateCheck{expectScheduleCalls(srv, 0, 0)},
			},
		},
		CheckDestroy: checkDestroy(expectFlowActive(srv, scheduledFlowID, true), expectScheduleCalls(srv, 0, 0)),
	})
}

// Import by flow id: terraform import matches the created state, an import
// block with a matching configuration plans no change, and after a
// persisted import the matching configuration plans nothing. initial_active
// is the schedule found at import.
func TestAccFlowSchedule_import(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	setScheduleActive(t, srv, false)
	paused := scheduleConfig(srv, false)
	importID := fmt.Sprint(scheduledFlowID)
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: paused, ConfigStateChecks: []statecheck.StateCheck{expectScheduleCalls(srv, 0, 0)}},
			{
				ResourceName:                         testSchedule,
				ImportState:                          true,
				ImportStateId:                        importID,
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "flow_id",
			},
			{
				Config:          paused,
				ResourceName:    testSchedule,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   importID,
			},
			{
				Config: acctest.ProviderBlock(srv) + `
removed {
  from = dataflow_flow_schedule.test
  lifecycle {
    destroy = false
  }
}
`,
			},
			{
				// Started in the console meanwhile: import adopts it as found.
				PreConfig:          func() { setScheduleActive(t, srv, true) },
				Config:             scheduleConfig(srv, true),
				ResourceName:       testSchedule,
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateId:      importID,
			},
			{
				Config: scheduleConfig(srv, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("initial_active", knownvalue.Bool(true)),
					stateValue("on_destroy", knownvalue.StringExact("restore")),
					stateValue("flow_name", knownvalue.StringExact("daily_sales_load")),
				},
			},
			{
				// Pausing it now and destroying puts back the state found at import.
				Config:            scheduleConfig(srv, false),
				ConfigStateChecks: []statecheck.StateCheck{expectFlowActive(srv, scheduledFlowID, false)},
			},
		},
		CheckDestroy: checkDestroy(expectFlowActive(srv, scheduledFlowID, true), expectScheduleCalls(srv, 1, 1)),
	})
}

func TestAccFlowSchedule_invalidImportID(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:        scheduleConfig(srv, true),
			ResourceName:  testSchedule,
			ImportState:   true,
			ImportStateId: "daily_sales_load",
			ExpectError:   acctest.ErrorText("Invalid import id", "positive integer such as 1001", `"daily_sales_load"`),
		}},
	})
}

// The service's refusals, each with an actionable message; nothing is
// recorded in state and the schedule is unchanged.
func TestAccFlowSchedule_refusals(t *testing.T) {
	cases := []struct {
		name   string
		flowID int64
		setup  func(*testing.T, *emulator.Server)
		want   []string
	}{
		{name: "not the owner", flowID: 1005,
			want: []string{"No privilege on the flow", "Pausing the schedule of flow 1005", "owner of flow 1005", "62103"}},
		{name: "locked flow", flowID: 1006,
			want: []string{"User or flow locked", "Pausing the schedule of flow 1006", "unlock", "Workflow is locked"}},
		{name: "locked user", flowID: scheduledFlowID,
			setup: func(t *testing.T, srv *emulator.Server) {
				if err := srv.SetUserLocked(emulator.DefaultUserID, true); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"User or flow locked", "Pausing the schedule of flow 1001", "unlock", "62105"}},
		{name: "unknown flow", flowID: 9999,
			want: []string{"Flow not found", "does not know flow 9999", "dataflow_flows data source"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := acctest.StartEmulator(t, emulator.Options{})
			if tc.setup != nil {
				tc.setup(t, srv)
			}
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_schedule" "test" {
  flow_id = %d
  active  = false
}
`, tc.flowID),
					ExpectError: acctest.ErrorText(tc.want...),
				}},
			})
			if tc.flowID != 9999 {
				if err := expectFlowActive(srv, tc.flowID, true)(); err != nil {
					t.Error(err)
				}
			} else if n := srv.Count(disableOperation); n != 0 {
				t.Errorf("an unknown flow reached apply: %d disable requests", n)
			}
		})
	}
}

// skip_flow_validation leaves out the plan-time read: the plan of an
// unknown flow sends no request (its apply then fails like any refusal).
func TestAccFlowSchedule_skipFlowValidation(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv, "skip_flow_validation = true") + `
resource "dataflow_flow_schedule" "test" {
  flow_id = 9999
  active  = true
}
`,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("a plan with skip_flow_validation sent %d requests, want none", len(reqs))
	}
}

// Two resources for one flow fail the plan, with for_each too; one
// resource planned again and again is not flagged (the other tests), nor
// is one being replaced.
func TestAccFlowSchedule_oneResourcePerFlow(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	twice := acctest.ProviderBlock(srv) + `
resource "dataflow_flow_schedule" "test" {
  flow_id = 1001
  active  = true
}
resource "dataflow_flow_schedule" "again" {
  for_each = { a = 1002, b = 1001 }
  flow_id  = each.value
  active   = false
}
`
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: twice, PlanOnly: true, ExpectError: acctest.ErrorText("Flow schedule managed twice", "flow 1001", "one resource per flow")},
			{
				Config:            scheduleConfig(srv, false),
				ConfigStateChecks: []statecheck.StateCheck{expectFlowActive(srv, scheduledFlowID, false)},
			},
			{
				// Replacing the resource plans the same flow twice in one
				// walk (as an update, then as a create): not an error.
				Config: scheduleConfig(srv, false),
				Taint:  []string{testSchedule},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testSchedule, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{expectFlowActive(srv, scheduledFlowID, false)},
			},
			{
				// Moving to another flow replaces the resource: flow 1001 is
				// restored, flow 1002 paused.
				Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_schedule" "test" {
  flow_id = 1002
  active  = false
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testSchedule, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					expectFlowActive(srv, scheduledFlowID, true),
					expectFlowActive(srv, 1002, false),
				},
			},
		},
	})
}

// expectFaultHit makes sure a fault hit its call, so that no case passes untested.
func expectFaultHit(srv *emulator.Server, operation string, kind emulator.FaultKind) acctest.EmulatorCheck {
	return func() error {
		for _, r := range srv.Requests() {
			if r.Operation == operation && r.Fault == kind {
				return nil
			}
		}
		return fmt.Errorf("no %s request was hit by the %s fault", operation, kind)
	}
}

// Transient faults on the schedule read (refresh, plan, create) and on
// enable and disable are retried: every apply succeeds and the service ends
// as configured.
func TestAccFlowScheduleFaults(t *testing.T) {
	faults := []emulator.Fault{
		{Kind: emulator.FaultHTTP503, RetryAfter: time.Second, Count: 2},
		{Kind: emulator.FaultThrottle, RetryAfter: time.Second, Count: 2},
		{Kind: emulator.FaultDropBeforeAct, Count: 2},
		{Kind: emulator.FaultDropAfterAct, Count: 2},
	}
	for _, f := range faults {
		for _, op := range []string{"flows/get", enableOperation, disableOperation} {
			t.Run(string(f.Kind)+"/"+op, func(t *testing.T) {
				srv := acctest.StartEmulator(t, emulator.Options{})
				inject := func() {
					f := f
					f.Operation = op
					srv.InjectFault(f)
				}
				acctest.ParallelUnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
					Steps: []resource.TestStep{
						{
							PreConfig:         inject,
							Config:            scheduleConfig(srv, false),
							ConfigStateChecks: []statecheck.StateCheck{expectFlowActive(srv, scheduledFlowID, false)},
						},
						{
							Config:            scheduleConfig(srv, true),
							ConfigStateChecks: []statecheck.StateCheck{expectFlowActive(srv, scheduledFlowID, true), expectFaultHit(srv, op, f.Kind)},
						},
					},
				})
			})
		}
	}
}

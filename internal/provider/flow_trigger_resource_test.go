package provider

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

const testTrigger = "dataflow_flow_trigger.test"

func TestAccFlowTrigger_createWaitsThenPlansNothing(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	requests := acctest.NewRequestCounter(srv)
	sameID := statecheck.CompareValue(compare.ValuesSame())
	config := func(pollInterval string) string {
		return acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1001
  parameters    = { bizdate = "20240101" }
  poll_interval = %q
}
`, pollInterval)
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config("1s"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status_code"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("flow_name"), knownvalue.StringExact("daily_sales_load")),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("tasks"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("extract"), "status": knownvalue.StringExact("SUCCESS")}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("load"), "status": knownvalue.StringExact("SUCCESS")}),
					})),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("started_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("finished_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("trigger_time"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("wait_for_completion"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("on_destroy"), knownvalue.StringExact("detach")),
					statecheck.CompareValuePairs(testTrigger, tfjsonpath.New("id"), testTrigger, tfjsonpath.New("flow_instance_id"), compare.ValuesSame()),
					sameID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 1),
					acctest.EmulatorCheck(func() error {
						body := triggerBodies(t, srv)[0]
						want := []enos.Parameter{{Key: "bizdate", Value: "20240101"}}
						if body.FlowID != 1001 || !slices.Equal(body.Parameters, want) {
							return fmt.Errorf("trigger request: got flow %d parameters %v, want flow 1001 parameters %v", body.FlowID, body.Parameters, want)
						}
						return nil
					}),
					requests.Record(),
				},
			},
			{
				// Same configuration: nothing planned, nothing sent (the run is
				// finished, so refresh does not read it either).
				Config: config("1s"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{requests.ExpectNoNewRequests()},
			},
			{
				// A behaviour setting updates in place without any API call.
				Config: config("2s"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("poll_interval"), knownvalue.StringExact("2s")),
					requests.ExpectNoNewRequests(),
				},
			},
		},
	})
}

func TestAccFlowTrigger_runInputsReplace(t *testing.T) {
	start := time.Date(2024, 6, 1, 2, 0, 30, 0, time.UTC)
	clock := emulator.NewManualClock(start)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	const secret = "s3cr3t-password"
	newID := statecheck.CompareValue(compare.ValuesDiffer())
	sameID := statecheck.CompareValue(compare.ValuesSame())
	config := func(bizdate, trigger string, woVersion int, extra string) string {
		return acctest.ProviderBlock(srv) + fmt.Sprintf(`
variable "secret" {
  type      = string
  sensitive = true
  default   = %q
}

resource "dataflow_flow_trigger" "test" {
  flow_id               = 1001
  parameters            = { bizdate = %q }
  parameters_wo         = { password = var.secret }
  parameters_wo_version = %d
  triggers              = { table_version = %q }
  wait_for_completion   = false
  %s
}
`, secret, bizdate, woVersion, trigger, extra)
	}
	replaced := func() resource.ConfigPlanChecks {
		return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionDestroyBeforeCreate),
			acctest.PlanExcludes(secret),
		}}
	}
	// Each new run gets a later clock, so that the service's one run per
	// flow and minute is never in the way.
	nextMinute := func() { clock.Advance(2 * time.Minute) }
	acctest.ParallelUnitTest(t, resource.TestCase{
		// The provider's clock ticks on each reading, as a real one would:
		// the token service rejects a repeated request timestamp.
		ProtoV6ProviderFactories: providerFactoriesWithClock(func() time.Time {
			clock.Advance(time.Millisecond)
			return clock.Now()
		}),
		Steps: []resource.TestStep{
			{
				Config: config("20240101", "1", 1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionCreate),
					acctest.PlanExcludes(secret),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("parameters_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("trigger_time"), knownvalue.StringExact("2024-06-01T02:00:30Z")),
					acctest.StateExcludes(secret),
					expectTriggerCount(srv, 1),
					acctest.EmulatorCheck(func() error {
						body := triggerBodies(t, srv)[0]
						want := []enos.Parameter{{Key: "bizdate", Value: "20240101"}, {Key: "password", Value: secret}}
						sent := time.UnixMilli(body.TriggerTime)
						if body.FlowID != 1001 || sent.Before(start) || sent.Sub(start) >= time.Second || !slices.Equal(body.Parameters, want) {
							return fmt.Errorf("trigger request: got %+v, want flow 1001, triggerTime within a second after %d, parameters %v", body, start.UnixMilli(), want)
						}
						return nil
					}),
				},
			},
			{
				PreConfig:        nextMinute,
				Config:           config("20240102", "1", 1, ""),
				ConfigPlanChecks: replaced(),
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 2),
				},
			},
			{
				PreConfig:        nextMinute,
				Config:           config("20240102", "2", 1, ""),
				ConfigPlanChecks: replaced(),
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 3),
				},
			},
			{
				PreConfig:        nextMinute,
				Config:           config("20240102", "2", 2, ""),
				ConfigPlanChecks: replaced(),
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					acctest.StateExcludes(secret),
					expectTriggerCount(srv, 4),
				},
			},
			{
				Config:           config("20240102", "2", 2, `trigger_time = "2024-05-01T00:00:00Z"`),
				ConfigPlanChecks: replaced(),
				ConfigStateChecks: []statecheck.StateCheck{
					newID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					sameID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 5),
					acctest.EmulatorCheck(func() error {
						bodies := triggerBodies(t, srv)
						if got, want := bodies[len(bodies)-1].TriggerTime, int64(1714521600000); got != want {
							return fmt.Errorf("trigger time sent: got %d ms, want %d", got, want)
						}
						return nil
					}),
				},
			},
			{
				// The same instant with another offset is not a new run.
				Config: config("20240102", "2", 2, `trigger_time = "2024-05-01T08:00:00+08:00"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 5),
				},
			},
			{
				// Behaviour settings update in place.
				Config: config("20240102", "2", 2, `trigger_time = "2024-05-01T08:00:00+08:00"
  poll_interval = "1m"
  on_destroy    = "cancel"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 5),
				},
			},
		},
	})
}

func TestAccFlowTrigger_failedRunIsTaintedWithLogTail(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	config := acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1002
  poll_interval = "1s"
}
`
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ExpectError: acctest.ErrorText("Flow run ended with status FAIL", "Failed task(s): aggregate (task instance 100202-", "FAIL)",
					"Last lines of the log of task aggregate:", "task aggregate failed: exit code 1", "the next apply starts a new run"),
			},
			{
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
		},
	})
}

// A failed task that prints its input (the emulator's failed tasks print
// the run's parameters) shows the configured parameters as they are and
// the write-only ones masked.
func TestAccFlowTrigger_failedRunLogTailMasksWriteOnlyValues(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1002
  poll_interval = "1s"
  parameters    = { region = "eu-1" }
  parameters_wo = { password = "hunter2-wo" }
}
`,
			// Either order: the parameters are sent from a map.
			ExpectError: regexp.MustCompile(`(?s)task\s+aggregate\s+failed:\s+exit\s+code\s+1.*(password=\(sensitive\s+value\).*region=eu-1|region=eu-1.*password=\(sensitive\s+value\))`),
		}},
	})
	if runs := srv.Instances(); len(runs) != 1 || runs[0].Parameters["password"] != "hunter2-wo" {
		t.Fatalf("runs %+v: want one, sent the write-only value", runs)
	}
}

func TestAccFlowTrigger_createTimeoutIsTainted(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	config := acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1004
  poll_interval = "1s"
  timeouts = {
    create = "3s"
  }
}
`
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: acctest.ErrorText("Flow run did not finish", "the run was still", "when timeouts.create expired"),
			},
			{
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
		},
	})
}

func TestAccFlowTrigger_noWaitReturnsAtOnce(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1004
  wait_for_completion = false
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status"), knownvalue.StringExact("INIT")),
				statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status_code"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("flow_name"), knownvalue.Null()),
				statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("tasks"), knownvalue.Null()),
				expectTriggerCount(srv, 1),
				acctest.EmulatorCheck(func() error {
					// One read tells the new run from an existing one the
					// service may answer a duplicate with (SERVICE.md §4.6).
					if n := srv.Count("flowInstances/get") + srv.Count("flowInstances/search"); n != 1 {
						return fmt.Errorf("create read the run %d times; it must read it once and return, without waiting", n)
					}
					return nil
				}),
			},
		}},
	})
}

func TestAccFlowTrigger_droppedResponseAdoptsTheRun(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultDropAfterAct, Count: 1})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1001
  wait_for_completion = false
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringFunc(func(id string) error {
					want, err := onlyInstanceID(srv)
					if err != nil {
						return err
					}
					if id != want {
						return fmt.Errorf("state holds %s, the service started %s", id, want)
					}
					return nil
				})),
			},
		}},
	})
}

func TestAccFlowTrigger_forEachDateStartsOneRunPerDate(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	dates := []string{"20240101", "20240102", "20240103"}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  for_each            = toset(["20240101", "20240102", "20240103"])
  flow_id             = 1001
  parameters          = { bizdate = each.key }
  wait_for_completion = false
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					expectTriggerCount(srv, len(dates)),
					acctest.EmulatorCheck(func() error {
						var got []string
						ids := map[string]bool{}
						for _, in := range srv.Instances() {
							got = append(got, in.Parameters["bizdate"])
							ids[in.ID] = true
						}
						slices.Sort(got)
						if !slices.Equal(got, dates) || len(ids) != len(dates) {
							return fmt.Errorf("runs: got dates %v with %d distinct ids, want one run per date %v", got, len(ids), dates)
						}
						return nil
					}),
				},
			},
			{
				// The test framework's final state shim cannot read for_each
				// keys, so end with the resources removed (detached).
				Config:            acctest.ProviderBlock(srv),
				ConfigStateChecks: []statecheck.StateCheck{expectTriggerCount(srv, len(dates))},
			},
		},
	})
}

func TestAccFlowTrigger_serviceErrors(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	config := func(flowID int, extra string) string {
		return acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = %d
  wait_for_completion = false
  %s
}
`, flowID, extra)
	}
	setUserLocked := func(locked bool) func() {
		return func() {
			if err := srv.SetUserLocked(emulator.DefaultUserID, locked); err != nil {
				t.Fatal(err)
			}
		}
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config(1003, ""), ExpectError: acctest.ErrorText("Flow has no task", "flow 1003 has no task")},
			{Config: config(1005, ""), ExpectError: acctest.ErrorText("No privilege on the flow", "Only an owner of flow 1005")},
			{Config: config(1006, ""), ExpectError: acctest.ErrorText("User or flow locked", "flow 1006 is locked")},
			{
				PreConfig:   setUserLocked(true),
				Config:      config(1001, ""),
				ExpectError: acctest.ErrorText("User or flow locked", "62105"),
			},
			{
				PreConfig:   setUserLocked(false),
				Config:      config(424242, ""),
				ExpectError: acctest.ErrorText("Flow not found", "no flow 424242"),
			},
			{
				Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "first" {
  flow_id             = 1007
  trigger_time        = "2024-02-01T10:00:00Z"
  wait_for_completion = false
}
`,
			},
			{
				// A second run of the hourly flow, whose instance ids name the
				// hour, for the same hour: no other slot of the period is left.
				Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "first" {
  flow_id             = 1007
  trigger_time        = "2024-02-01T10:00:00Z"
  wait_for_completion = false
}

resource "dataflow_flow_trigger" "second" {
  flow_id             = 1007
  trigger_time        = "2024-02-01T10:30:00Z"
  wait_for_completion = false
}
`,
				ExpectError: acctest.ErrorText("Flow already triggered in this hour", "Flow 1007 already has the existing run 1007-2024020118",
					"set trigger_time to a time in another period"),
			},
		},
	})
}

// With skip_flow_validation a plan costs no API request at all, and an
// unknown flow is reported by the trigger at apply instead.
func TestAccFlowTrigger_skipFlowValidationPlansWithoutRequests(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	requests := acctest.NewRequestCounter(srv)
	config := func(flowID int64) string {
		return acctest.ProviderBlock(srv, "skip_flow_validation = true") + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = %d
  parameters          = { regoin = "eu" }
  wait_for_completion = false
}
`, flowID)
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(1001),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{requests.ExpectNoNewRequests()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					expectTriggerCount(srv, 1),
					acctest.EmulatorCheck(func() error {
						if n := srv.Count("flows/get"); n != 0 {
							return fmt.Errorf("flows/get requests: got %d, want none", n)
						}
						return nil
					}),
				},
			},
			{
				Config:      config(424242),
				ExpectError: acctest.ErrorText("Flow not found", "does not know flow 424242"),
			},
		},
	})
	if n := len(srv.Instances()); n != 1 {
		t.Errorf("runs started: got %d, want the one of flow 1001", n)
	}
}

func TestAccFlowTrigger_userOrgMismatch(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "dataflow" {
  endpoint   = %q
  access_key = %q
  secret_key = %q
  org_id     = %q
  user_id    = "u99999999999999"
}

resource "dataflow_flow_trigger" "test" {
  flow_id             = 1001
  wait_for_completion = false
}
`, srv.URL, emulator.DefaultAccessKey, emulator.DefaultSecretKey, emulator.DefaultOrgID),
			ExpectError: acctest.ErrorText("User does not belong to the organization", "62101"),
		}},
	})
}

func TestAccFlowTrigger_planTimeValidation(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	config := func(attributes string) string {
		return acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  %s
}
`, attributes)
	}
	cases := []struct{ attributes, want string }{
		{`flow_id = 0`, `(?s)flow_id.*must be at least 1`},
		{"flow_id = 1001\n  trigger_time = \"2024-01-01 00:00\"", `(?s)trigger_time.*not valid RFC3339`},
		{"flow_id = 1001\n  poll_interval = \"500ms\"", `a Go duration from 1s to 1h0m0s`},
		{"flow_id = 1001\n  on_destroy = \"kill\"", `(?s)on_destroy.*value must be one of.*"detach".*"cancel"`},
		{"flow_id = 1001\n  parameters = { token = \"a\" }\n  parameters_wo = { token = \"b\" }", `(?s)Parameter set twice.*"token" is in both`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: config(c.attributes), PlanOnly: true, ExpectError: regexp.MustCompile(c.want)})
	}
	acctest.ParallelUnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	if n := srv.Count(triggerOperation); n != 0 {
		t.Errorf("invalid configurations sent %d triggers", n)
	}
}

func TestAccFlowTrigger_vanishedRunStaysInState(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	sameID := statecheck.CompareValue(compare.ValuesSame())
	config := acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1004
  wait_for_completion = false
}
`
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(testTrigger, tfjsonpath.New("id"))},
			},
			{
				PreConfig: func() {
					id, err := onlyInstanceID(srv)
					if err != nil || !srv.ForgetInstance(id) {
						t.Fatalf("forgetting the run: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(testTrigger, tfjsonpath.New("id")),
					expectTriggerCount(srv, 1),
				},
			},
		},
	})
}

func TestAccFlowTrigger_destroyDetachSendsNothing(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1004
  wait_for_completion = false
}
`,
		}},
		CheckDestroy: func(*terraform.State) error {
			if n := srv.Count("flowInstances/cancel"); n != 0 {
				return fmt.Errorf("detach sent %d cancel requests", n)
			}
			if in := srv.Instances(); len(in) != 1 || enos.Status(in[0].Status).Terminal() {
				return fmt.Errorf("detach must leave the run going, got %+v", in)
			}
			return nil
		},
	})
}

func TestAccFlowTrigger_destroyCancelStopsTheRun(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1004
  wait_for_completion = false
  on_destroy          = "cancel"
  poll_interval       = "1s"
}
`,
		}},
		CheckDestroy: func(*terraform.State) error {
			if n := srv.Count("flowInstances/cancel"); n != 1 {
				return fmt.Errorf("cancel requests: got %d, want 1", n)
			}
			in := srv.Instances()
			if len(in) != 1 || enos.Status(in[0].Status) != enos.StatusCancel {
				return fmt.Errorf("the run must end CANCEL, got %+v", in)
			}
			return nil
		},
	})
}

func TestAccFlowTrigger_import(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	var importID string
	resourceBlock := func(behaviour string) string {
		return acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id      = 1001
  trigger_time = "2024-01-01T00:00:00Z"
  parameters   = { bizdate = "20240101", extra = "x" }
  %s
}
`, behaviour)
	}
	created := resourceBlock(`poll_interval = "1s"`)
	defaults := resourceBlock("")
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: created,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringFunc(func(id string) error {
						importID = id
						return nil
					})),
				},
			},
			{
				// terraform import: everything but the behaviour setting
				// that differs from its default, and the parameters (import
				// stores no parameter value), matches the created state.
				ResourceName:            testTrigger,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"poll_interval", "parameters"},
			},
			{
				// An import block with a configuration matching the run plans
				// an in-place update that takes the parameters as written.
				Config:             defaults,
				ResourceName:       testTrigger,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// Writing out a flow default (region = "cn") is the same run:
				// an in-place update, not a new run.
				Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id      = 1001
  trigger_time = "2024-01-01T00:00:00Z"
  parameters   = { bizdate = "20240101", extra = "x", region = "cn" }
}
`,
				ResourceName:       testTrigger,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// Forget the resource without touching the run...
				Config: acctest.ProviderBlock(srv) + `
removed {
  from = dataflow_flow_trigger.test
  lifecycle {
    destroy = false
  }
}
`,
			},
			{
				// ...import it with terraform import...
				Config:             defaults,
				ResourceName:       testTrigger,
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateIdFunc:  func(*terraform.State) (string, error) { return importID, nil },
			},
			{
				// ...and the matching configuration plans an in-place update
				// (the plan after it is empty) that starts nothing.
				Config: defaults,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringFunc(func(id string) error {
						if id != importID {
							return fmt.Errorf("imported %s, want %s", id, importID)
						}
						return nil
					})),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("parameters"), knownvalue.MapExact(map[string]knownvalue.Check{
						"bizdate": knownvalue.StringExact("20240101"),
						"extra":   knownvalue.StringExact("x"),
					})),
					expectTriggerCount(srv, 1),
				},
			},
		},
	})
}

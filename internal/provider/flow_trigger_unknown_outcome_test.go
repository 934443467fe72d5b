package provider

import (
	"fmt"
	"slices"
	"strings"
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

// unknownOutcomeTime is the trigger time of these tests, and
// unknownOutcomeID the id of its run in the emulator's zone (GMT+8).
// faultHeldBody is a slow answer that outlasts every test: only the
// interrupt or timeouts.create ends it.
const (
	unknownOutcomeTime = "2024-06-01T00:00:00Z"
	unknownOutcomeID   = "1001-20240601080000"
	faultHeldBody      = 10 * time.Minute
)

// unknownOutcomeConfig is one trigger of flow 1001 for unknownOutcomeTime,
// not waited on, with the provider block's settings.
func unknownOutcomeConfig(srv *emulator.Server, settings ...string) string {
	return acctest.ProviderBlock(srv, settings...) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1001
  trigger_time        = %q
  wait_for_completion = false
}
`, unknownOutcomeTime)
}

// failLookUps makes every search and read of runs fail, so that a trigger
// whose answer is lost cannot be settled in its apply; the returned
// function lifts it.
func failLookUps(srv *emulator.Server) func() {
	search := srv.InjectFault(emulator.Fault{Operation: "flowInstances/search", Kind: emulator.FaultInternal})
	get := srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultInternal})
	return func() { search(); get() }
}

// A trigger whose every send is lost before the service acts, or refused
// with a 5xx, has an unknown outcome: the apply records the run it would
// have started (not tainted, no error), and the next plan's refresh finds
// no such run, drops the record, and creates the resource again: exactly
// one run in the end, never two and never none.
func TestAccFlowTriggerUnknownOutcome_notStartedIsTriggeredAgain(t *testing.T) {
	for _, kind := range []emulator.FaultKind{emulator.FaultDropBeforeAct, emulator.FaultHTTP502, emulator.FaultHTTP503} {
		t.Run(string(kind), func(t *testing.T) {
			srv := acctest.StartEmulator(t, emulator.Options{})
			srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: kind, Count: 2})
			config := unknownOutcomeConfig(srv, "max_retries = 0")
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: config,
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact(unknownOutcomeID)),
							expectTriggerCount(srv, 2),
							acctest.EmulatorCheck(func() error {
								if runs := srv.Instances(); len(runs) != 0 {
									return fmt.Errorf("the emulator started %d runs", len(runs))
								}
								return nil
							}),
						},
						// The refresh of the plan after the apply finds no run.
						ExpectNonEmptyPlan: true,
					},
					{
						Config: config,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionCreate)},
						},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact(unknownOutcomeID)),
							expectTriggerCount(srv, 3),
							acctest.EmulatorCheck(func() error {
								if runs := instancesOf(srv, 1001); len(runs) != 1 || runs[0].ID != unknownOutcomeID {
									return fmt.Errorf("runs %+v, want exactly %s", runs, unknownOutcomeID)
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

// A trigger whose sends are all lost before the service acts, recorded
// with an unknown outcome and the server's time after its last send; then
// another process starts the run of the same slot ten minutes later. The
// next refresh does not adopt that run (it was created well after the
// trigger could have been acted on): the record is dropped, the plan
// creates the resource again, and the new trigger, finding the slot
// taken, starts a run of its own in another slot of the day. The other
// process's run is never held.
func TestAccFlowTriggerUnknownOutcome_laterRunOfTheSlotIsNotAdopted(t *testing.T) {
	clock := emulator.NewManualClock(rerunStart)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultDropBeforeAct, Count: 2})
	liftLookUps := failLookUps(srv)
	config := unknownOutcomeConfig(srv, "max_retries = 0")
	otherProcess := acctest.EmulatorCheck(func() error {
		liftLookUps()
		clock.Advance(10 * time.Minute)
		at, _ := time.Parse(time.RFC3339, unknownOutcomeTime)
		id, err := srv.StartRun(1001, at, nil)
		if err == nil && id != unknownOutcomeID {
			err = fmt.Errorf("the other process's run is %s, want the slot's %s", id, unknownOutcomeID)
		}
		return err
	})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactoriesWithClock(clock.Now),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact(unknownOutcomeID)),
					expectTriggerCount(srv, 2),
					otherProcess,
				},
				// The refresh after the apply drops the record.
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringFunc(func(id string) error {
						if id == unknownOutcomeID {
							return fmt.Errorf("the resource holds %s, the other process's run", id)
						}
						return nil
					})),
					acctest.EmulatorCheck(func() error {
						if runs := instancesOf(srv, 1001); len(runs) != 2 {
							return fmt.Errorf("runs %+v, want the other process's and one of this resource", runs)
						}
						return nil
					}),
				},
			},
		},
	})
}

// The answer cut off by timeouts.create while its body is read (the
// service started the run) with the look-ups failing: the apply records
// the run, not tainted, with a warning, and the next apply's refresh finds
// it and follows it to its end (wait_for_completion) without a second
// trigger.
func TestAccFlowTriggerUnknownOutcome_cutOffByCreateTimeout(t *testing.T) {
	// The run makes no progress until the last apply moves the clock.
	clock := emulator.NewManualClock(rerunStart)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	addFastFlow(t, srv)
	srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultSlowBody, Delay: faultHeldBody, Count: 1})
	liftLookUps := failLookUps(srv)
	id := fmt.Sprintf("%d-20240601080000", fastFlowID)
	config := acctest.ProviderBlock(srv, "max_retries = 0", `request_timeout = "10m"`) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id       = %d
  trigger_time  = %q
  poll_interval = "1s"
  timeouts = {
    create = "5s"
  }
}
`, fastFlowID, unknownOutcomeTime)
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactoriesWithClock(clock.Now),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					expectTriggerCount(srv, 1),
					acctest.EmulatorCheck(func() error { liftLookUps(); return nil }),
				},
				// The refresh finds the run, whose wait is still to do.
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate),
						acctest.EmulatorCheck(func() error { clock.Advance(time.Minute); return nil }),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
					expectTriggerCount(srv, 1),
				},
			},
		},
	})
}

// SIGINT while the trigger's answer is read (headers in, body slow): the
// interrupted apply keeps the run, adopted when the look-up after the
// interrupt finds it, recorded under its expected id when it cannot; the
// next apply triggers nothing and holds the run.
func TestUnknownOutcome_interruptWhileTheAnswerIsRead(t *testing.T) {
	t.Parallel()
	for _, lookUpsFail := range []bool{false, true} {
		t.Run(map[bool]string{false: "look-up finds the run", true: "look-ups fail"}[lookUpsFail], func(t *testing.T) {
			t.Parallel()
			srv := acctest.StartEmulator(t, emulator.Options{})
			srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultSlowBody, Delay: faultHeldBody, Count: 1})
			liftLookUps := func() {}
			if lookUpsFail {
				liftLookUps = failLookUps(srv)
			}
			config := acctest.RequiredProvidersBlock + unknownOutcomeConfig(srv, "max_retries = 0", `request_timeout = "10m"`)
			dir := acctest.ConfigDir(t, config)
			cliConfig := acctest.CLIConfig(t)
			apply := acctest.StartApply(t, cliConfig, dir)
			apply.WaitFor(t, "the run", func() bool { return len(srv.Instances()) == 1 })
			apply.Interrupt(t)
			_ = apply.Wait(t) // terraform exits non-zero after an interrupt
			if lookUpsFail && !strings.Contains(apply.Output(), "run recorded as "+unknownOutcomeID) {
				t.Fatalf("the interrupted apply does not say which run it recorded:\n%s", apply.Output())
			}
			// A recorded run has no status until a refresh finds it.
			expectStateRun(t, dir, unknownOutcomeID, map[bool]string{false: unfinished, true: ""}[lookUpsFail], apply.Output())

			liftLookUps()
			again := acctest.StartApply(t, cliConfig, dir)
			if err := again.Wait(t); err != nil {
				t.Fatalf("the apply after the interrupt failed: %v\n%s", err, again.Output())
			}
			if got := srv.Count(triggerOperation); got != 1 {
				t.Fatalf("%d triggers sent, want 1\n%s", got, again.Output())
			}
			if runs := srv.Instances(); len(runs) != 1 {
				t.Fatalf("%d runs, want 1", len(runs))
			}
			expectStateRun(t, dir, unknownOutcomeID, unfinished, again.Output())
		})
	}
}

// A trigger whose answer is lost after the service acted, in an apply that
// can read no server time and whose look-ups fail: the outcome is recorded
// without the server's time around the send. The next apply's refresh
// finds the run of that time and adopts it (no second trigger), but
// nothing shows that it is not an older run of the same time, so it warns,
// naming the run; the plan after it is empty.
func TestUnknownOutcome_adoptedWithoutServerTimeWarns(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	srv.InjectFault(emulator.Fault{Operation: "time/getCurrentTime", Kind: emulator.FaultInternal})
	srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultDropAfterAct, Count: 1})
	liftLookUps := failLookUps(srv)
	config := acctest.RequiredProvidersBlock + unknownOutcomeConfig(srv, "max_retries = 0")
	dir := acctest.ConfigDir(t, config)
	cliConfig := acctest.CLIConfig(t)
	apply := acctest.StartApply(t, cliConfig, dir)
	if err := apply.Wait(t); err != nil {
		t.Fatalf("apply: %v\n%s", err, apply.Output())
	}
	expectStateRun(t, dir, unknownOutcomeID, "", apply.Output())

	liftLookUps()
	// -json: the warning's detail in one line.
	again := acctest.Start(t, cliConfig, dir, "apply", "-auto-approve", "-no-color", "-json")
	if err := again.Wait(t); err != nil {
		t.Fatalf("the apply after the unknown outcome failed: %v\n%s", err, again.Output())
	}
	warned := slices.ContainsFunc(strings.Split(again.Output(), "\n"), func(line string) bool {
		return strings.Contains(line, `"severity":"warning"`) && strings.Contains(line, "Run adopted without proof that this trigger started it") &&
			strings.Contains(line, "started run "+unknownOutcomeID+",")
	})
	if !warned {
		t.Errorf("the refresh adopts the run without warning that it may be an older one:\n%s", again.Output())
	}
	if runs := srv.Instances(); len(runs) != 1 || runs[0].ID != unknownOutcomeID {
		t.Fatalf("runs %+v, want exactly %s", runs, unknownOutcomeID)
	}
	expectStateRun(t, dir, unknownOutcomeID, unfinished, again.Output())
	plan := acctest.Start(t, cliConfig, dir, "plan", "-no-color", "-detailed-exitcode")
	if err := plan.Wait(t); err != nil {
		t.Fatalf("the plan after the adoption is not empty (%v):\n%s", err, plan.Output())
	}
}

// A destroy without refresh (-refresh=false) of a trigger recorded with an
// unknown outcome, on_destroy = "cancel": the recorded id names an older
// run of the slot (the send was refused, its answer never read), which the
// destroy must not cancel. It finds the trigger's run first, and there is
// none.
func TestUnknownOutcome_destroyWithoutRefreshCancelsNoOtherRun(t *testing.T) {
	t.Parallel()
	// The emulator's clock near this machine's (the gateway's 15-minute
	// window), moved on once the older run exists: its creation is then
	// evidence that it is not the trigger's (beyond the clock margin).
	clock := emulator.NewManualClock(time.Now())
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	const longFlow = 1004 // runs for minutes: not finished when destroyed
	older, err := srv.StartRun(longFlow, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultSlowBody, Delay: faultHeldBody, Count: 1})
	liftLookUps := failLookUps(srv)
	config := acctest.RequiredProvidersBlock + acctest.ProviderBlock(srv, "max_retries = 0", `request_timeout = "10m"`) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = %d
  trigger_time        = "2024-06-01T00:00:00Z"
  wait_for_completion = false
  on_destroy          = "cancel"
}
`, longFlow)
	dir := acctest.ConfigDir(t, config)
	cliConfig := acctest.CLIConfig(t)
	apply := acctest.StartApply(t, cliConfig, dir)
	apply.WaitFor(t, "the trigger", func() bool { return srv.Count(triggerOperation) == 1 })
	apply.Interrupt(t)
	_ = apply.Wait(t)
	expectStateRun(t, dir, older, "", apply.Output()) // recorded under the slot's id

	liftLookUps()
	destroy := acctest.Start(t, cliConfig, dir, "destroy", "-refresh=false", "-auto-approve", "-no-color")
	if err := destroy.Wait(t); err != nil {
		t.Fatalf("destroy: %v\n%s", err, destroy.Output())
	}
	if n := srv.Count("flowInstances/cancel"); n != 0 {
		t.Errorf("%d cancel requests: the destroy cancelled the older run %s\n%s", n, older, destroy.Output())
	}
	for _, run := range srv.Instances() {
		if run.ID == older && run.Status == 8 {
			t.Errorf("run %s, which the trigger did not start, was cancelled", older)
		}
	}
}

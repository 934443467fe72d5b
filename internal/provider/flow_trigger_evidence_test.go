package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Acceptance tests of the evidence rule: the trigger sends again in one
// apply only on evidence that the slot was taken before its first send,
// never on values the service stores otherwise, never adopting the run a
// re-run replaces, and saying so when an answer cannot be verified.

// A flow that stores values otherwise than sent (trimmed of blanks) starts
// exactly one run per resource, recorded in state, with or without
// trigger_time, whichever way the service answers duplicates.
func TestAccFlowTriggerEvidence_rewrittenValues(t *testing.T) {
	for _, duplicates := range []emulator.DuplicateTrigger{emulator.DuplicateReject, emulator.DuplicateAnswerExisting} {
		for _, triggerTime := range []string{"", `trigger_time = "2024-06-01T00:00:00Z"`} {
			name := string(duplicates) + map[bool]string{true: "/defaulted", false: "/trigger_time"}[triggerTime == ""]
			t.Run(name, func(t *testing.T) {
				clock := emulator.NewManualClock(rerunStart)
				srv := acctest.StartEmulator(t, emulator.Options{Clock: clock, DuplicateTrigger: duplicates, RewriteValues: true})
				addDailyLoadFlow(t, srv)
				config := acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = %d
  parameters          = { bizdate = " 20240531 " }
  wait_for_completion = false
  %s
}
`, dailyLoadFlow, triggerTime)
				acctest.ParallelUnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: providerFactoriesWithClock(clock.Now),
					Steps: []resource.TestStep{{
						Config: config,
						Check: resource.ComposeTestCheckFunc(
							checkRunsMatchState(srv, 1),
							func(*terraform.State) error {
								if n := srv.Count(triggerOperation); n != 1 {
									return fmt.Errorf("%d trigger requests, want 1", n)
								}
								if got := instancesOf(srv, dailyLoadFlow)[0].Parameters["bizdate"]; got != "20240531" {
									return fmt.Errorf("the emulator stored %q: the value was not rewritten, so the test proves nothing", got)
								}
								return nil
							},
						),
					}},
				})
			})
		}
	}
}

// A Latin-1 byte in a parameter value or key (here from TF_VAR_, as from a
// shell) is a plan-time error naming the key; nothing is sent.
func TestAccFlowTriggerEvidence_invalidUTF8IsAPlanError(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	t.Setenv("TF_VAR_city", "M\xfcnchen")
	config := func(attributes string) string {
		return acctest.ProviderBlock(srv) + `
variable "city" {
  type = string
}

resource "dataflow_flow_trigger" "test" {
  flow_id             = 1001
  wait_for_completion = false
  ` + attributes + `
}
`
	}
	acctest.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config(`parameters = { region = var.city }`),
				ExpectError: acctest.ErrorText(`The value of "region" in parameters is not valid UTF-8`),
			},
			{
				Config:      config("parameters_wo = { bizdate = var.city }\n  parameters_wo_version = 1"),
				ExpectError: acctest.ErrorText(`The value of "bizdate" in parameters_wo is not valid UTF-8`),
			},
		},
	})
	if n := srv.Count(triggerOperation); n != 0 {
		t.Errorf("%d trigger requests, want none", n)
	}
}

// A replacement with trigger_time set whose first send is refused before
// the service acts (a 502 page, a dropped connection): the look-up finds
// the run being replaced in the slot, created before the send, and does not
// adopt it; a new run is started in another minute of the day, and it is
// the one in state.
func TestAccFlowTriggerEvidence_replacementFirstSendRefused(t *testing.T) {
	for _, kind := range []emulator.FaultKind{emulator.FaultHTTP502, emulator.FaultDropBeforeAct} {
		for _, duplicates := range []emulator.DuplicateTrigger{emulator.DuplicateReject, emulator.DuplicateAnswerExisting} {
			t.Run(string(kind)+"/"+string(duplicates), func(t *testing.T) {
				clock := emulator.NewManualClock(rerunStart)
				srv := acctest.StartEmulator(t, emulator.Options{Clock: clock, DuplicateTrigger: duplicates})
				addDailyLoadFlow(t, srv)
				config := func(generation int) string {
					return acctest.ProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id             = %d
  parameters          = { bizdate = "20240531" }
  trigger_time        = "2024-06-01T00:00:00Z"
  triggers            = { generation = "%d" }
  wait_for_completion = false
}
`, dailyLoadFlow, generation)
				}
				var replaced string
				acctest.ParallelUnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: providerFactoriesWithClock(clock.Now),
					Steps: []resource.TestStep{
						{
							Config: config(1),
							Check: resource.ComposeTestCheckFunc(checkRunsMatchState(srv, 1), func(s *terraform.State) error {
								replaced = triggerIDsInState(s)[0]
								return nil
							}),
						},
						{
							PreConfig: func() {
								clock.Advance(7 * time.Minute) // the replacement comes later
								srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: kind, Count: 1})
							},
							Config: config(2),
							Check: func(s *terraform.State) error {
								runs, ids := instancesOf(srv, dailyLoadFlow), triggerIDsInState(s)
								if len(runs) != 2 || runs[0].ID != replaced || len(ids) != 1 || ids[0] != runs[1].ID {
									return fmt.Errorf("runs %+v, state %v: want the replaced run %s and a new one, the new one in state", runs, ids, replaced)
								}
								return nil
							},
						},
					},
				})
			})
		}
	}
}

// Two resources of one slot, the service answering a taken slot with the
// existing id, and every read-back failing: no two resources hold one run,
// and the apply warns about each run it kept unverified, by name. Run with
// the CLI so that the warnings can be read.
func TestAccFlowTriggerEvidence_unverifiableAnswers(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{DuplicateTrigger: emulator.DuplicateAnswerExisting})
	addDailyLoadFlow(t, srv)
	for _, op := range []string{"flowInstances/get", "flowInstances/search"} {
		srv.InjectFault(emulator.Fault{Operation: op, Kind: emulator.FaultHTTP502})
	}
	config := acctest.RequiredProvidersBlock + acctest.ProviderBlock(srv, `request_timeout = "2s"`) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  for_each            = toset(["a", "b"])
  flow_id             = %d
  parameters          = { bizdate = "20240531" }
  trigger_time        = "2024-06-01T00:00:00Z"
  wait_for_completion = false
}
`, dailyLoadFlow)
	dir := acctest.ConfigDir(t, config)
	// -json: the human view merges warnings of one summary into one.
	apply := acctest.Start(t, acctest.CLIConfig(t), dir, "apply", "-auto-approve", "-no-color", "-json")
	if err := apply.Wait(t); err != nil {
		t.Fatalf("apply: %v\n%s", err, apply.Output())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	triggers := stateFileTriggers(t, raw)
	runs := instancesOf(srv, dailyLoadFlow)
	if len(triggers) != 2 || len(runs) != 2 || triggers[0].Attributes.ID == triggers[1].Attributes.ID {
		t.Fatalf("state %+v, runs %+v: want two runs, one per resource\n%s", triggers, runs, apply.Output())
	}
	for _, tr := range triggers {
		warned := slices.ContainsFunc(strings.Split(apply.Output(), "\n"), func(line string) bool {
			return strings.Contains(line, `"severity":"warning"`) && strings.Contains(line, "Flow run not fully verified") &&
				strings.Contains(line, "run "+tr.Attributes.ID+",")
		})
		if !warned {
			t.Errorf("the apply does not warn that run %s is unverified:\n%s", tr.Attributes.ID, apply.Output())
		}
	}
}

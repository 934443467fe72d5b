package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// Protocol-level tests of the identity of dataflow_flow_trigger, for what a
// CLI-driven test cannot show; the acceptance tests below cover the rest.

const flowTriggerType = "dataflow_flow_trigger"

// Create records the identity with the run's id before it waits, so a run
// whose wait fails is kept with its identity too. (A CLI-driven test cannot
// check it: plugin-testing runs no state check after a failed apply.)
func TestProtocolFlowTriggerIdentity_keptWhenTheRunFails(t *testing.T) {
	t.Parallel()
	h := newProtocolHarness(t, acctest.StartEmulator(t, emulator.Options{}))
	resp := h.Create(flowTriggerType, map[string]tftypes.Value{
		"flow_id": tftypes.NewValue(tftypes.Number, 1002), "poll_interval": tftypes.NewValue(tftypes.String, "1s"),
	})
	if !acctest.HasErrorDiagnostic(resp.Diagnostics) {
		t.Fatalf("apply of a failing flow: diagnostics\n%s\nwant an error", acctest.DiagnosticsText(resp.Diagnostics))
	}
	id := acctest.StringAttribute(t, h.Attributes(h.ResourceType(flowTriggerType), resp.NewState), "id")
	if got := acctest.StringAttribute(t, h.Attributes(h.IdentityType(flowTriggerType), acctest.IdentityValue(resp.NewIdentity)), "flow_instance_id"); got != id {
		t.Errorf("identity flow_instance_id = %q, want the run's id %q", got, id)
	}
}

// A state written before identity existed (or by Terraform before 1.12)
// has none: Read fills it from the id, also for a finished run, whose Read
// sends no request.
func TestProtocolFlowTriggerIdentity_readFillsMissingIdentity(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	h := newProtocolHarness(t, srv)
	created := h.Create(flowTriggerType, map[string]tftypes.Value{
		"flow_id": tftypes.NewValue(tftypes.Number, 1004), "wait_for_completion": tftypes.NewValue(tftypes.Bool, false),
	})
	acctest.RequireNoErrors(t, "ApplyResourceChange", created.Diagnostics, nil)
	typ := h.ResourceType(flowTriggerType)
	running := h.Attributes(typ, created.NewState)
	id := acctest.StringAttribute(t, running, "id")
	finished := map[string]tftypes.Value{}
	for k, v := range running {
		finished[k] = v
	}
	finished["status"] = tftypes.NewValue(tftypes.String, enos.StatusSuccess.Name())
	finished["status_code"] = tftypes.NewValue(tftypes.Number, int64(enos.StatusSuccess))

	for name, tc := range map[string]struct {
		state     map[string]tftypes.Value
		wantCalls bool // whether Read asks the service
	}{
		"running run":  {state: running, wantCalls: true},
		"finished run": {state: finished, wantCalls: false},
	} {
		t.Run(name, func(t *testing.T) {
			// A refresh is a new provider process, as in terraform plan: it
			// has no status search of the create to answer from.
			reader := newProtocolHarness(t, srv)
			before := len(srv.Requests())
			resp := reader.Read(flowTriggerType, h.DynamicValue(typ, h.Value(typ, tc.state)), nil)
			acctest.RequireNoErrors(t, "ReadResource", resp.Diagnostics, nil)
			if got := acctest.StringAttribute(t, h.Attributes(h.IdentityType(flowTriggerType), acctest.IdentityValue(resp.NewIdentity)), "flow_instance_id"); got != id {
				t.Errorf("identity flow_instance_id = %q, want %q", got, id)
			}
			if sent := len(srv.Requests()) - before; (sent > 0) != tc.wantCalls {
				t.Errorf("Read sent %d requests; want requests: %v", sent, tc.wantCalls)
			}
		})
	}
}

// Acceptance tests of identity with the terraform CLI: they need Terraform
// 1.12 or later and skip themselves below it; `make testacc-new` runs them.

func TestAccNewFlowTriggerIdentity_setOnCreate(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1004
  wait_for_completion = false
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectIdentity(testTrigger, map[string]knownvalue.Check{
					"flow_instance_id": knownvalue.StringRegexp(regexp.MustCompile(`^1004-\d{14}$`)),
				}),
				statecheck.ExpectIdentityValueMatchesState(testTrigger, tfjsonpath.New("flow_instance_id")),
				statecheck.ExpectIdentityValueMatchesStateAtPath(testTrigger, tfjsonpath.New("flow_instance_id"), tfjsonpath.New("id")),
			},
		}},
	})
}

// An import block with the run's identity, written by hand as in the docs'
// example, adopts the run with an in-place update that takes `parameters`
// from the configuration (import stores no parameter value); the plan that
// follows is empty and no second run is started.
func TestAccNewFlowTriggerIdentity_importBlock(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	// trigger_time 00:00 UTC is 08:00 in the emulator's GMT+8: the run's id.
	const instanceID = "1001-20240101080000"
	resourceBlock := acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id      = 1001
  trigger_time = "2024-01-01T00:00:00Z"
  parameters   = { bizdate = "20240101", extra = "x" }
}
`
	identity := statecheck.ExpectIdentity(testTrigger, map[string]knownvalue.Check{
		"flow_instance_id": knownvalue.StringExact(instanceID),
	})
	acctest.ParallelUnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: resourceBlock,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testTrigger, tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
					identity,
				},
			},
			{
				// terraform-plugin-testing's import block with the identity
				// from state: an in-place update of parameters, no new run.
				Config:             resourceBlock,
				ResourceName:       testTrigger,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true,
			},
			{
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
				Config: resourceBlock + `
import {
  to = dataflow_flow_trigger.test
  identity = {
    flow_instance_id = "` + instanceID + `"
  }
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testTrigger, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{identity, expectTriggerCount(srv, 1)},
			},
			{
				Config: resourceBlock,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{identity, expectTriggerCount(srv, 1)},
			},
		},
	})
}

// An import block naming a run the service does not know, or no run, fails
// with the id form to use.
func TestAccNewFlowTriggerIdentity_importUnknownRun(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	for name, instanceID := range map[string]string{"unknown run": "1001-20000101000000", "empty id": ""} {
		t.Run(name, func(t *testing.T) {
			acctest.ParallelUnitTest(t, resource.TestCase{
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id = 1001
}

import {
  to = dataflow_flow_trigger.test
  identity = {
    flow_instance_id = "` + instanceID + `"
  }
}
`,
					ExpectError: acctest.ErrorText("Cannot import flow run", "such as 1001-20240101080000"),
				}},
			})
			if n := srv.Count(triggerOperation); n != 0 {
				t.Errorf("the failed import sent %d triggers, want none", n)
			}
		})
	}
}

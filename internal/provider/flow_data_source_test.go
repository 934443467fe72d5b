package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

func TestAccFlowDataSource(t *testing.T) {
	created := time.Now().Truncate(time.Second)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: emulator.NewManualClock(created)})
	err := srv.AddFlow(emulator.FlowSpec{
		ID: 4242, Name: "hourly_ingest", Description: "Ingests the hour's telemetry", OrgID: emulator.DefaultOrgID,
		Owners: []string{"alice", "bob"}, Visitors: []string{"carol"}, Type: 1, Cycle: "H", Cron: "0 5 * * * ? *",
		Parameters: []emulator.Parameter{{Key: "bizhour", Value: ""}, {Key: "site", Value: "sh01"}},
		Tasks: []emulator.TaskSpec{
			{ID: 424201, Name: "fetch", Duration: emulator.Duration(time.Second)},
			{ID: 424202, Name: "merge", Duration: emulator.Duration(time.Second)},
		},
	})
	if err != nil {
		t.Fatalf("adding flow: %v", err)
	}
	createdAt := knownvalue.StringExact(created.In(testServerZone).Format(time.RFC3339))

	check := func(address, attribute string, value knownvalue.Check) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(address, tfjsonpath.New(attribute), value)
	}
	const flow = "data.dataflow_flow.ingest"
	const locked = "data.dataflow_flow.locked"
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
data "dataflow_flow" "ingest" {
  flow_id = 4242
}
data "dataflow_flow" "locked" {
  flow_id = 1006
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				check(flow, "flow_id", knownvalue.Int64Exact(4242)),
				check(flow, "name", knownvalue.StringExact("hourly_ingest")),
				check(flow, "description", knownvalue.StringExact("Ingests the hour's telemetry")),
				check(flow, "active", knownvalue.Bool(true)),
				check(flow, "type", knownvalue.Int64Exact(1)),
				check(flow, "cycle", knownvalue.StringExact("H")),
				check(flow, "cron", knownvalue.StringExact("0 5 * * * ? *")),
				check(flow, "owners", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("alice"), knownvalue.StringExact("bob")})),
				check(flow, "visitors", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("carol")})),
				check(flow, "parameters", knownvalue.MapExact(map[string]knownvalue.Check{
					"bizhour": knownvalue.StringExact(""),
					"site":    knownvalue.StringExact("sh01"),
				})),
				check(flow, "tasks", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{"name": knownvalue.StringExact("fetch"), "task_id": knownvalue.StringExact("424201")}),
					knownvalue.ObjectExact(map[string]knownvalue.Check{"name": knownvalue.StringExact("merge"), "task_id": knownvalue.StringExact("424202")}),
				})),
				check(flow, "locked", knownvalue.Bool(false)),
				check(flow, "created_at", createdAt),
				check(flow, "updated_at", createdAt),

				check(locked, "name", knownvalue.StringExact("locked_flow")),
				check(locked, "locked", knownvalue.Bool(true)),
				check(locked, "visitors", knownvalue.ListSizeExact(0)),
			},
		}},
	})
}

func TestAccFlowDataSource_unknownFlow(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
data "dataflow_flow" "missing" {
  flow_id = 9999
}
`,
			ExpectError: regexp.MustCompile(`(?s)Flow not found.*no flow 9999`),
		}},
	})
}

// The service's refusals of a read become errors that say what to fix.
func TestAccFlowDataSource_refusalsAreActionable(t *testing.T) {
	seed := emulator.DefaultSeed()
	seed.Orgs = append(seed.Orgs, emulator.Org{ID: "o19999999999999", Name: "Another OU"})
	srv := acctest.StartEmulator(t, emulator.Options{Seed: seed})
	err := srv.AddFlow(emulator.FlowSpec{
		ID: 4343, Name: "other_org_flow", OrgID: "o19999999999999", Owners: []string{"alice"},
		Tasks: []emulator.TaskSpec{{Name: "only", Duration: emulator.Duration(time.Second)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      acctest.ProviderBlock(srv) + "data \"dataflow_flow\" \"other\" {\n  flow_id = 4343\n}\n",
				ExpectError: acctest.ErrorText("No privilege on the flow", "Reading flow 4343 failed", "only users of its organization may read it", "code 62103"),
			},
			{
				Config:      foreignUserProviderBlock(srv) + "data \"dataflow_flow\" \"test\" {\n  flow_id = 1001\n}\n",
				ExpectError: acctest.ErrorText("User does not belong to the organization", "Reading flow 1001 failed", "Check user_id and org_id", "code 62101"),
			},
		},
	})
}

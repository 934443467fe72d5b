package provider

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// idsCheck expects a list of exactly these instance ids, in order.
func idsCheck(ids ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, len(ids))
	for i, id := range ids {
		checks[i] = knownvalue.StringExact(id)
	}
	return knownvalue.ListExact(checks)
}

func TestAccFlowInstancesDataSource_filters(t *testing.T) {
	runs := startTestRuns(t)
	ids := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = runs.ids[n]
		}
		return out
	}
	// Each search, the runs it must find in order (newest trigger time
	// first unless sorted otherwise).
	searches := []struct {
		name, arguments string
		want            []string
	}{
		{"all", ``, ids("d1", "c1", "x1", "a3", "b2", "a2", "b1", "a1")},
		// 21001's runs contain "1001-" too: flow_id keeps exact matches only.
		{"by_flow", `flow_id = 1001`, ids("a3", "a2", "a1")},
		{"by_flow_and_expression", `
  flow_id    = 1001
  expression = "1001"`, ids("a3", "a2", "a1")},
		{"by_expression", `expression = "hourly_metrics"`, ids("b2", "b1")},
		{"by_statuses", `statuses = ["FAIL", "RUNNING"]`, ids("d1", "b2", "b1")},
		// The window is inclusive, and its bounds may be in any zone.
		{"by_window", fmt.Sprintf(`
  triggered_after  = %q
  triggered_before = %q`, runs.triggerTime("b1").UTC().Format(time.RFC3339), runs.triggerTime("a3").In(testServerZone).Format(time.RFC3339)),
			ids("a3", "b2", "a2", "b1")},
		{"by_owner", `
  owner                    = "bob"
  include_parameter_values = true`, ids("c1")},
		{"first_two", `max_results = 2`, ids("d1", "c1")},
		{"oldest_first", `sort = { order = "asc" }`, ids("a1", "b1", "a2", "b2", "a3", "x1", "c1", "d1")},
		{"latest_success", `
  flow_id     = 1001
  statuses    = ["SUCCESS"]
  sort        = { by = "trigger_time", order = "desc" }
  max_results = 1`, ids("a3")},
		{"empty", `flow_id = 1003`, []string{}},
	}

	var config strings.Builder
	config.WriteString(acctest.ProviderBlock(runs.srv))
	var checks []statecheck.StateCheck
	for _, s := range searches {
		fmt.Fprintf(&config, "data \"dataflow_flow_instances\" %q {\n%s\n}\n", s.name, s.arguments)
		fmt.Fprintf(&config, "output %q {\n  value = data.dataflow_flow_instances.%s.instances[*].flow_instance_id\n}\n", s.name, s.name)
		checks = append(checks, statecheck.ExpectKnownOutputValue(s.name, idsCheck(s.want...)))
	}
	// Sorted by end time, newest first: the running d1 has none and comes last.
	config.WriteString(`
data "dataflow_flow_instances" "by_end" {
  sort = { by = "end_time" }
}
output "by_end" {
  value = data.dataflow_flow_instances.by_end.instances[*].flow_instance_id
}
output "latest_success_expression" {
  value = try(data.dataflow_flow_instances.latest_success.instances[0].flow_instance_id, null)
}
output "latest_success_of_empty" {
  value = try(data.dataflow_flow_instances.empty.instances[0].flow_instance_id, "none")
}
`)
	checks = append(checks,
		statecheck.ExpectKnownOutputValue("by_end", knownvalue.ListPartial(map[int]knownvalue.Check{
			0: knownvalue.StringExact(runs.ids["a3"]),
			7: knownvalue.StringExact(runs.ids["d1"]),
		})),
		statecheck.ExpectKnownOutputValue("latest_success_expression", knownvalue.StringExact(runs.ids["a3"])),
		statecheck.ExpectKnownOutputValue("latest_success_of_empty", knownvalue.StringExact("none")),
		statecheck.ExpectKnownValue("data.dataflow_flow_instances.empty", tfjsonpath.New("instances"), knownvalue.ListSizeExact(0)),
	)
	// Items carry the same attributes as dataflow_flow_instance.
	item := func(index int) func(string) tfjsonpath.Path {
		return func(attribute string) tfjsonpath.Path {
			return tfjsonpath.New("instances").AtSliceIndex(index).AtMapKey(attribute)
		}
	}
	checks = append(checks, runs.runChecks(t, "data.dataflow_flow_instances.by_flow", item(2), "a1", wantRun{
		flowName: "daily_sales_load", status: "SUCCESS", code: 1,
		params: map[string]string{"bizdate": "", "region": "eu"}, owner: "alice", cycle: "D",
		taskStatuses: []string{"SUCCESS", "SUCCESS"},
	})...)
	checks = append(checks, runs.runChecks(t, "data.dataflow_flow_instances.by_owner", item(0), "c1", wantRun{
		flowName: "bob_report", status: "SUCCESS", code: 1,
		params: map[string]string{"bizdate": ""}, withValues: true, owner: "bob", cycle: "W",
		taskStatuses: []string{"SUCCESS"},
	})...)

	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:            config.String(),
			ConfigStateChecks: checks,
		}},
	})
}

// searchPages is the number of distinct result pages of instance searches
// the emulator served.
func searchPages(srv *emulator.Server) (int, error) {
	pages := map[int]bool{}
	for _, r := range srv.Requests() {
		if r.Operation != "flowInstances/search" {
			continue
		}
		var body struct {
			Pagination struct {
				PageNo int `json:"pageNo"`
			} `json:"pagination"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			return 0, fmt.Errorf("search body %s: %w", r.Body, err)
		}
		pages[body.Pagination.PageNo] = true
	}
	return len(pages), nil
}

func TestAccFlowInstancesDataSource_pagination(t *testing.T) {
	const runCount = 250 // more than two pages of the client's 100
	base := time.Now().Truncate(time.Minute)
	clock := emulator.NewManualClock(base)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	ids := make([]string, runCount) // newest first
	for i := range ids {
		id, err := srv.StartRun(1001, base.Add(-time.Duration(i+1)*time.Minute), nil)
		if err != nil {
			t.Fatalf("triggering run %d: %v", i, err)
		}
		ids[i] = id
	}
	oldestFirst := slices.Clone(ids)
	slices.Reverse(oldestFirst)

	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: srv.ResetRequests,
			Config: acctest.ProviderBlock(srv) + `
data "dataflow_flow_instances" "all" {
  flow_id     = 1001
  max_results = 10000
}
data "dataflow_flow_instances" "oldest" {
  max_results = 120
  sort        = { order = "asc" }
}
output "all" {
  value = data.dataflow_flow_instances.all.instances[*].flow_instance_id
}
output "oldest" {
  value = data.dataflow_flow_instances.oldest.instances[*].flow_instance_id
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("all", idsCheck(ids...)),
				statecheck.ExpectKnownOutputValue("oldest", idsCheck(oldestFirst[:120]...)),
				acctest.EmulatorCheck(func() error {
					pages, err := searchPages(srv)
					if err != nil {
						return err
					}
					if pages < 3 {
						return fmt.Errorf("instance searches fetched %d distinct pages, want at least 3", pages)
					}
					return nil
				}),
			},
		}},
	})
}

func TestAccFlowInstancesDataSource_invalidInputs(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	step := func(arguments, wantError string) resource.TestStep {
		return resource.TestStep{
			Config:      acctest.ProviderBlock(srv) + "data \"dataflow_flow_instances\" \"x\" {\n" + arguments + "\n}\n",
			ExpectError: regexp.MustCompile(wantError),
		}
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(`statuses = ["DONE"]`, `(?s)statuses.*value must be one of.*"SUCCESS"`),
			step(`statuses = []`, `(?s)statuses.*at least 1`),
			step(`max_results = 0`, `(?s)max_results.*between 1 and 10000`),
			step(`sort = { by = "name" }`, `(?s)sort.*by.*value must be one of`),
			step(`triggered_after = "yesterday"`, `(?s)Invalid RFC3339 String Value`),
			step(`
  triggered_after  = "2024-05-02T00:00:00Z"
  triggered_before = "2024-05-01T00:00:00Z"`, `Empty trigger-time window`),
		},
	})
}

// A user the organization does not know gets an error that says what to fix.
func TestAccFlowInstancesDataSource_userOrgMismatchIsActionable(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: foreignUserProviderBlock(srv) + `
data "dataflow_flow_instances" "test" {
  flow_id = 1001
}
`,
			ExpectError: acctest.ErrorText("User does not belong to the organization", "Searching flow instances failed", "Check user_id and org_id", "code 62101"),
		}},
	})
}

package provider

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

func flowItem(id int64, name string, cycle, editable knownvalue.Check) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"flow_id": knownvalue.Int64Exact(id), "name": knownvalue.StringExact(name), "cycle": cycle, "editable": editable,
	})
}

func TestAccFlowsDataSource(t *testing.T) {
	for _, version := range []string{"v2.0", "v2.1"} {
		t.Run(version, func(t *testing.T) {
			srv := acctest.StartEmulator(t, emulator.Options{})
			flows := func(name string) string { return "data.dataflow_flows." + name }
			list := func(name string, items ...knownvalue.Check) statecheck.StateCheck {
				return statecheck.ExpectKnownValue(flows(name), tfjsonpath.New("flows"), knownvalue.ListExact(items))
			}
			d, w := knownvalue.StringExact("D"), knownvalue.StringExact("W")
			null := knownvalue.Null()
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: acctest.ProviderBlock(srv, fmt.Sprintf("api_version = %q", version)) + `
data "dataflow_flows" "mine" {}
data "dataflow_flows" "reports" {
  scope  = "mine"
  search = "REPORT"
}
data "dataflow_flows" "org" {
  scope  = "organization"
  search = "100"
}
data "dataflow_flows" "none" {
  scope  = "organization"
  search = "no_such_flow"
}
data "dataflow_flows" "none_of_mine" {
  search = "no_such_flow"
}
`,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(flows("mine"), tfjsonpath.New("scope"), knownvalue.StringExact("mine")),
						// Alice owns 1001-1004, 1006 and 1007 and views bob's 1005.
						list("mine",
							flowItem(1001, "daily_sales_load", d, knownvalue.Bool(true)),
							flowItem(1002, "hourly_metrics", knownvalue.StringExact("H"), knownvalue.Bool(true)),
							flowItem(1003, "empty_flow", d, knownvalue.Bool(true)),
							flowItem(1004, "monthly_backfill", knownvalue.StringExact("M"), knownvalue.Bool(true)),
							flowItem(1005, "bob_report", w, knownvalue.Bool(false)),
							flowItem(1006, "locked_flow", d, knownvalue.Bool(true)),
							flowItem(1007, "hourly_rollup", knownvalue.StringExact("H"), knownvalue.Bool(true)),
						),
						list("reports", flowItem(1005, "bob_report", w, knownvalue.Bool(false))),
						list("org",
							flowItem(1001, "daily_sales_load", null, null),
							flowItem(1002, "hourly_metrics", null, null),
							flowItem(1003, "empty_flow", null, null),
							flowItem(1004, "monthly_backfill", null, null),
							flowItem(1005, "bob_report", null, null),
							flowItem(1006, "locked_flow", null, null),
							flowItem(1007, "hourly_rollup", null, null),
						),
						list("none"),
						list("none_of_mine"),
					},
				}},
			})
		})
	}
}

// The organization's flows are read page by page until a short page.
func TestAccFlowsDataSource_pagination(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	const seeded = 150 // more than the client's page of 100
	for i := range seeded {
		err := srv.AddFlow(emulator.FlowSpec{ID: int64(5000 + i), Name: fmt.Sprintf("bulk_%03d", i), OrgID: emulator.DefaultOrgID,
			Owners: []string{"bob"}, Tasks: []emulator.TaskSpec{{Name: "t", Duration: emulator.Duration(time.Second)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
data "dataflow_flows" "bulk" {
  scope  = "organization"
  search = "bulk_"
}
output "ids" {
  value = data.dataflow_flows.bulk.flows[*].flow_id
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("ids", knownvalue.ListSizeExact(seeded)),
				statecheck.ExpectKnownValue("data.dataflow_flows.bulk", tfjsonpath.New("flows").AtSliceIndex(seeded-1),
					flowItem(5000+seeded-1, fmt.Sprintf("bulk_%03d", seeded-1), knownvalue.Null(), knownvalue.Null())),
				acctest.EmulatorCheck(func() error {
					var pages []int
					for _, r := range srv.Requests() {
						if r.Operation != "flows/search" {
							continue
						}
						var body struct {
							Expression string `json:"expression"`
							Pagination struct {
								PageNo int `json:"pageNo"`
							} `json:"pagination"`
						}
						if err := json.Unmarshal(r.Body, &body); err != nil || body.Expression != "bulk_" {
							return fmt.Errorf("search body %s: %v", r.Body, err)
						}
						pages = append(pages, body.Pagination.PageNo)
					}
					// Each terraform command reads the data source anew; each read asks for pages 0 and 1.
					if len(pages) == 0 || len(pages)%2 != 0 || !slices.Equal(pages[:2], []int{0, 1}) {
						return fmt.Errorf("pages requested %v, want 0 and 1 per read", pages)
					}
					return nil
				}),
			},
		}},
	})
}

// Transient faults on both calls are retried.
func TestAccFlowsDataSourceFaults(t *testing.T) {
	faults := []emulator.Fault{
		{Kind: emulator.FaultHTTP503, RetryAfter: time.Second, Count: 2},
		{Kind: emulator.FaultThrottle, RetryAfter: time.Second, Count: 2},
		{Kind: emulator.FaultDropBeforeAct, Count: 2},
	}
	for _, f := range faults {
		t.Run(string(f.Kind), func(t *testing.T) {
			srv := acctest.StartEmulator(t, emulator.Options{})
			for _, op := range []string{"flows/getMyFlow", "flows/search"} {
				f := f
				f.Operation = op
				srv.InjectFault(f)
			}
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: acctest.ProviderBlock(srv) + `
data "dataflow_flows" "mine" {}
data "dataflow_flows" "org" {
  scope = "organization"
}
`,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("data.dataflow_flows.mine", tfjsonpath.New("flows"), knownvalue.ListSizeExact(7)),
						statecheck.ExpectKnownValue("data.dataflow_flows.org", tfjsonpath.New("flows"), knownvalue.ListSizeExact(7)),
						expectFaultHit(srv, "flows/getMyFlow", f.Kind),
						expectFaultHit(srv, "flows/search", f.Kind),
					},
				}},
			})
		})
	}
}

func TestAccFlowsDataSource_invalidScope(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
data "dataflow_flows" "all" {
  scope = "all"
}
`,
			PlanOnly:    true,
			ExpectError: acctest.ErrorText("scope", `value must be one of: ["mine" "organization"]`),
		}},
	})
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("an invalid scope sent %d requests, want none", n)
	}
}

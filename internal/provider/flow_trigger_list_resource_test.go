package provider

import (
	"bytes"
	"fmt"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

const (
	searchOperation  = "flowInstances/search"
	noListLimit      = 0
	withoutResources = false
)

// listedIDs is the flow_instance_id of each result's identity, failing
// the test on a result with an error or without identity.
func listedIDs(t *testing.T, h *acctest.ProtocolHarness, results []tfprotov6.ListResourceResult) []string {
	t.Helper()
	ids := make([]string, 0, len(results))
	for _, r := range results {
		acctest.RequireNoErrors(t, "ListResource result", r.Diagnostics, nil)
		ids = append(ids, acctest.StringAttribute(t, h.Attributes(h.IdentityType(flowTriggerType), acctest.IdentityValue(r.Identity)), "flow_instance_id"))
	}
	return ids
}

func stringList(values ...string) tftypes.Value {
	elems := make([]tftypes.Value, len(values))
	for i, v := range values {
		elems[i] = tftypes.NewValue(tftypes.String, v)
	}
	return tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, elems)
}

// Each filter of the list resource keeps the runs the service's search and
// the provider's flow match give, with the real `terraform query` and
// querycheck; the display name says flow, run and status. (The order,
// newest trigger time first, and the pages are checked at the protocol
// level below: the CLI shows neither.)
func TestAccNewFlowTriggerList_filters(t *testing.T) {
	runs := startTestRuns(t)
	searches := []struct {
		name, config string
		want         []string
	}{
		{"all", "", []string{"d1", "c1", "x1", "a3", "b2", "a2", "b1", "a1"}},
		// 21001's run x1 matches the search for "1001-" too.
		{"by_flow", "flow_id = 1001", []string{"a3", "a2", "a1"}},
		{"by_statuses", `statuses = ["FAIL", "RUNNING"]`, []string{"d1", "b2", "b1"}},
		{"by_window", fmt.Sprintf("triggered_after = %q\n    triggered_before = %q",
			runs.triggerTime("b1").UTC().Format(time.RFC3339), runs.triggerTime("a3").In(testServerZone).Format(time.RFC3339)),
			[]string{"a3", "b2", "a2", "b1"}},
		{"by_flow_status_and_window", fmt.Sprintf("flow_id = 1002\n    statuses = [\"FAIL\"]\n    triggered_after = %q",
			runs.triggerTime("b2").UTC().Format(time.RFC3339)), []string{"b2"}},
		{"none", "flow_id = 1003", nil},
	}
	// The provider block is the first step's configuration, which the
	// query step keeps.
	var query strings.Builder
	var checks []querycheck.QueryResultCheck
	for _, s := range searches {
		fmt.Fprintf(&query, `
list "dataflow_flow_trigger" %q {
  provider         = dataflow
  include_resource = false
  config {
    %s
  }
}
`, s.name, s.config)
		address := "dataflow_flow_trigger." + s.name
		checks = append(checks, querycheck.ExpectLength(address, len(s.want)))
		for _, name := range s.want {
			checks = append(checks, querycheck.ExpectIdentity(address, map[string]knownvalue.Check{
				"flow_instance_id": knownvalue.StringExact(runs.ids[name]),
			}))
		}
	}
	for _, name := range []string{"b1", "b2"} {
		checks = append(checks, querycheck.ExpectResourceDisplayName("dataflow_flow_trigger.by_statuses",
			queryfilter.ByResourceIdentity(map[string]knownvalue.Check{"flow_instance_id": knownvalue.StringExact(runs.ids[name])}),
			knownvalue.StringExact("hourly_metrics: "+runs.ids[name]+" (FAIL)")))
	}
	acctest.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// A query step needs a configuration initialised before it.
			{Config: acctest.ProviderBlock(runs.srv)},
			{Query: true, Config: query.String(), QueryResultChecks: checks},
		},
	})
}

// Bad filters are refused when the configuration is validated, before any
// search, saying what is wrong.
func TestProtocolFlowTriggerList_badFilters(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	h := newProtocolHarness(t, srv)
	cases := []struct {
		name   string
		config map[string]tftypes.Value
		want   []string
	}{
		{"unknown status", map[string]tftypes.Value{"statuses": stringList("SUCCESS", "DONE")}, []string{"statuses[1]", "must be one of", "FAIL", "got: \"DONE\""}},
		{"empty window", map[string]tftypes.Value{
			"triggered_after":  tftypes.NewValue(tftypes.String, "2024-01-02T00:00:00Z"),
			"triggered_before": tftypes.NewValue(tftypes.String, "2024-01-01T00:00:00Z"),
		}, []string{"Empty trigger-time window", "triggered_before (2024-01-01T00:00:00Z) is earlier than triggered_after"}},
		{"not RFC 3339", map[string]tftypes.Value{"triggered_after": tftypes.NewValue(tftypes.String, "yesterday")}, []string{"not valid RFC3339", "yesterday"}},
	}
	for _, c := range cases {
		diags := h.ValidateListResource(flowTriggerType, c.config)
		if !acctest.HasErrorDiagnostic(diags) || !acctest.ErrorText(c.want...).MatchString(acctest.DiagnosticsText(diags)) {
			t.Errorf("%s: diagnostics do not say %q:\n%s", c.name, c.want, acctest.DiagnosticsText(diags))
		}
	}
	if n := srv.Count(searchOperation); n != 0 {
		t.Errorf("%d searches sent for invalid configurations", n)
	}
}

// lookalikeRuns starts runs of flow 1001 and of 21001 (whose ids contain
// "1001-" too) alternately, one a minute, newest 1001 run first in the
// returned ids of flow 1001.
func lookalikeRuns(t *testing.T, n int) (*emulator.Server, []string) {
	t.Helper()
	base := time.Now().Truncate(time.Minute)
	clock := emulator.NewManualClock(base)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	if err := srv.AddFlow(emulator.FlowSpec{
		ID: 21001, Name: "lookalike", OrgID: emulator.DefaultOrgID, Owners: []string{"alice"}, Cycle: "D",
		Tasks: []emulator.TaskSpec{{ID: 2100101, Name: "only", Duration: emulator.Duration(time.Second), Outcome: emulator.OutcomeSuccess}},
	}); err != nil {
		t.Fatal(err)
	}
	var own []string
	for i := range n {
		flowID := int64(21001)
		if i%2 == 0 {
			flowID = 1001
		}
		id, err := srv.StartRun(flowID, base.Add(-time.Duration(n-i)*time.Minute), nil)
		if err != nil {
			t.Fatalf("triggering run %d: %v", i, err)
		}
		if flowID == 1001 {
			own = append([]string{id}, own...)
		}
	}
	clock.Advance(time.Minute)
	return srv, own
}

// The list follows the service's pages lazily: a page is fetched only when
// a result past the previous one is pulled, the limit stops the search, and
// the limit counts the flow's own runs, not the lookalikes the service's
// fuzzy search also returns.
func TestProtocolFlowTriggerList_pagesAndLimit(t *testing.T) {
	srv, own := lookalikeRuns(t, 12) // 6 runs of 1001 among 12 matches
	h := newProtocolHarness(t, srv)
	flow := map[string]tftypes.Value{"flow_id": tftypes.NewValue(tftypes.Number, 1001)}
	searches := func(list func()) int {
		t.Helper()
		before := srv.Count(searchOperation)
		list()
		return srv.Count(searchOperation) - before
	}

	// Limit 4 pages by 4: the first two pages hold 2 runs of 1001 each.
	var got []string
	n := searches(func() { got = listedIDs(t, h, h.ListAll(flowTriggerType, flow, 4, withoutResources)) })
	if !slices.Equal(got, own[:4]) || n != 2 {
		t.Errorf("limit 4: listed %v in %d searches, want %v in 2", got, n, own[:4])
	}
	// Limit 3 pages by 3: [1001, 21001, 1001], [21001, 1001, ...]: two pages,
	// the second left after its first run of 1001.
	n = searches(func() { got = listedIDs(t, h, h.ListAll(flowTriggerType, flow, 3, withoutResources)) })
	if !slices.Equal(got, own[:3]) || n != 2 {
		t.Errorf("limit 3: listed %v in %d searches, want %v in 2", got, n, own[:3])
	}
	// Limit 5 pages by 5: 3 and 2 runs of 1001.
	n = searches(func() { got = listedIDs(t, h, h.ListAll(flowTriggerType, flow, 5, withoutResources)) })
	if !slices.Equal(got, own[:5]) || n != 2 {
		t.Errorf("limit 5: listed %v in %d searches, want %v in 2", got, n, own[:5])
	}
	n = searches(func() { got = listedIDs(t, h, h.ListAll(flowTriggerType, flow, 10, withoutResources)) })
	if !slices.Equal(got, own) || n != 2 {
		t.Errorf("limit 10: listed %v in %d searches, want %v in 2 (a full page and a short one)", got, n, own)
	}

	// Streamed: a consumer that stops after the first result (as Terraform
	// may) causes no further page, where reading on would fetch the second.
	n = searches(func() {
		for r := range h.ListResource(flowTriggerType, flow, 10, withoutResources) {
			got = listedIDs(t, h, []tfprotov6.ListResourceResult{r})
			break
		}
	})
	if n != 1 || !slices.Equal(got, own[:1]) {
		t.Errorf("a stream read for one result gave %v in %d searches, want %v in 1", got, n, own[:1])
	}
}

// With IncludeResource each result carries the resource exactly as import
// stores it, so that the configuration terraform query generates from it
// describes what the import block then imports.
func TestProtocolFlowTriggerList_includeResource(t *testing.T) {
	runs := startTestRuns(t)
	h := newProtocolHarness(t, runs.srv)
	results := h.ListAll(flowTriggerType, map[string]tftypes.Value{"flow_id": tftypes.NewValue(tftypes.Number, 1001)}, noListLimit, true)
	if got, want := listedIDs(t, h, results), []string{runs.ids["a3"], runs.ids["a2"], runs.ids["a1"]}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	typ := h.ResourceType(flowTriggerType)
	for _, r := range results {
		id := acctest.StringAttribute(t, h.Attributes(h.IdentityType(flowTriggerType), acctest.IdentityValue(r.Identity)), "flow_instance_id")
		if r.Resource == nil {
			t.Fatalf("result %s has no resource", id)
		}
		listed, err := r.Resource.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		imported := h.ImportResource(flowTriggerType, "", r.Identity)
		acctest.RequireNoErrors(t, "ImportResourceState", imported.Diagnostics, nil)
		if len(imported.ImportedResources) != 1 {
			t.Fatalf("import gave %d resources", len(imported.ImportedResources))
		}
		want, err := imported.ImportedResources[0].State.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		if diffs, _ := listed.Diff(want); len(diffs) > 0 {
			t.Errorf("run %s: the listed resource differs from the imported one: %v", id, diffs)
		}
		attrs := h.Attributes(typ, r.Resource)
		if acctest.StringAttribute(t, attrs, "id") != id || acctest.StringAttribute(t, attrs, "status") != "SUCCESS" ||
			acctest.StringAttribute(t, attrs, "trigger_time") != runs.triggerTime(nameOf(runs.ids, id)).UTC().Format(time.RFC3339) {
			t.Errorf("run %s: resource %v", id, attrs)
		}
		// a1 ran with region = "eu": no value reaches the result.
		if !attrs["parameters"].IsNull() {
			t.Errorf("run %s: parameters %v, want null", id, attrs["parameters"])
		}
	}

	// Without IncludeResource, no resource is built.
	for _, r := range h.ListAll(flowTriggerType, nil, 2, withoutResources) {
		if r.Resource != nil {
			t.Errorf("a result without IncludeResource carries a resource")
		}
	}
}

func nameOf(ids map[string]string, id string) string {
	for name, v := range ids {
		if v == id {
			return name
		}
	}
	panic(fmt.Sprintf("no run %s", id))
}

// TestAccNewFlowTriggerList_queryGeneratesImportableConfig runs `terraform
// query` (Terraform 1.14 and later, through TF_ACC_TERRAFORM_PATH): it
// lists a flow's runs, one started with a parameter override, and the
// configuration `-generate-config-out` writes imports them with a plan that
// only imports (no change, no new run); after that apply the plan is empty.
func TestAccNewFlowTriggerList_queryGeneratesImportableConfig(t *testing.T) {
	acctest.SkipBelowCLI(t, tfversion.Version1_14_0, "terraform query")
	srv := acctest.StartEmulator(t, emulator.Options{})
	var ids []string
	for i, params := range []map[string]string{{"region": "ap-list-7"}, nil} {
		id, err := srv.StartRun(1001, time.Now().Add(-time.Duration(2-i)*time.Hour), params)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	w := acctest.NewWorkspace(t, acctest.CLIConfig(t), []string{"ENOS_SECRET_KEY=" + emulator.DefaultSecretKey}, acctest.RequiredProvidersBlock+fmt.Sprintf(`
provider "dataflow" {
  endpoint   = %q
  access_key = %q
  org_id     = %q
  user_id    = %q
}
`, srv.URL, emulator.DefaultAccessKey, emulator.DefaultOrgID, emulator.DefaultUserID))
	if err := os.WriteFile(filepath.Join(w.Dir, "runs.tfquery.hcl"), []byte(`
list "dataflow_flow_trigger" "loads" {
  provider = dataflow
  config {
    flow_id  = 1001
    statuses = ["SUCCESS", "RUNNING", "WAIT", "READY", "INIT"]
  }
}
`), 0o600); err != nil {
		t.Fatal(err)
	}

	listed, _ := w.Run("query")
	for _, id := range ids {
		if !bytes.Contains(listed, []byte(id)) || !bytes.Contains(listed, []byte("daily_sales_load: "+id)) {
			t.Errorf("terraform query does not list %s with its display name:\n%s", id, listed)
		}
	}

	w.Run("query", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(w.Dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !bytes.Contains(generated, []byte(fmt.Sprintf("flow_instance_id = %q", id))) {
			t.Errorf("the generated configuration has no import of %s by identity:\n%s", id, generated)
		}
	}
	if bytes.Contains(generated, []byte("ap-list-7")) {
		t.Errorf("the generated configuration holds a parameter value:\n%s", generated)
	}

	w.Run("plan", "-input=false", "-out=tfplan")
	shown, _ := w.Run("show", "-json", "tfplan")
	changes := acctest.ResourceChanges(t, shown)
	if len(changes) != len(ids) {
		t.Errorf("the plan changes %d resources, want %d imports:\n%s", len(changes), len(ids), w.Output.Bytes())
	}
	for _, rc := range changes {
		if !slices.Equal(rc.Change.Actions, []string{"no-op"}) || rc.Change.Importing == nil {
			t.Errorf("%s: actions %v, importing %v; want an import and no change\n%s", rc.Address, rc.Change.Actions, rc.Change.Importing, w.Output.Bytes())
		}
	}
	// The generated configuration sets no parameters: no comparison, and
	// no warning of a new run.
	if bytes.Contains(w.Output.Bytes(), []byte("differs from the imported run")) {
		t.Errorf("the plan warns of a new run it does not plan:\n%s", w.Output.Bytes())
	}
	w.Run("apply", "-input=false", "tfplan")
	w.ExpectEmptyPlan()
	if n := srv.Count(triggerOperation); n != 0 {
		t.Errorf("trigger requests: %d, want none (the runs were started outside Terraform)", n)
	}
}

// Filters from variables are known only when the query runs, after
// Terraform validated the list block: List checks them again, with the
// schema's messages, and searches nothing when one is bad.
func TestAccNewFlowTriggerList_filtersFromVariables(t *testing.T) {
	cliConfig := acctest.ParallelCLITest(t, tfversion.Version1_14_0, "terraform query")
	for name, tc := range map[string]struct {
		vars map[string]any
		want []string
	}{
		"flow_id zero":           {map[string]any{"flow_id": 0}, []string{"flow_id", "at least 1"}},
		"unknown status":         {map[string]any{"statuses": []string{"DONE"}}, []string{"statuses", "DONE"}},
		"window the wrong way":   {map[string]any{"after": "2024-06-02T00:00:00Z", "before": "2024-06-01T00:00:00Z"}, []string{"triggered_after"}},
		"statuses list is empty": {map[string]any{"statuses": []string{}}, []string{"statuses", "at least 1"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := acctest.StartEmulator(t, emulator.Options{})
			files := map[string]string{
				"main.tf": acctest.RequiredProvidersBlock + acctest.ProviderBlock(srv) + `
variable "flow_id" {
  type    = number
  default = 1001
}
variable "statuses" {
  type    = list(string)
  default = null
}
variable "after" {
  type    = string
  default = null
}
variable "before" {
  type    = string
  default = null
}
`,
				"runs.tfquery.hcl": `
list "dataflow_flow_trigger" "runs" {
  provider = dataflow
  config {
    flow_id          = var.flow_id
    statuses         = var.statuses
    triggered_after  = var.after
    triggered_before = var.before
  }
}
`,
			}
			acctest.ExpectRefusedWithVariables(t, cliConfig, srv, "flowInstances/search", files, tc.vars, tc.want, "query")
		})
	}
}

// A query whose limit is above what one search lists says so when it
// found that many runs, after the results; one that found fewer does not.
func TestAccNewFlowTriggerList_limitAboveTheMostListed(t *testing.T) {
	cliConfig := acctest.ParallelCLITest(t, tfversion.Version1_14_0, "terraform query")
	srv := acctest.StartEmulator(t, emulator.Options{})
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxInstanceMaxResults + 1 {
		if _, err := srv.StartRun(1004, base.Add(time.Duration(i)*time.Minute), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filter string
		runs   int
		warned bool
	}{
		{"", maxInstanceMaxResults, true},
		{fmt.Sprintf("triggered_after = %q", base.Add(9000*time.Minute).Format(time.RFC3339)), 1001, false},
	} {
		dir := t.TempDir()
		files := map[string]string{
			"main.tf": acctest.RequiredProvidersBlock + acctest.ProviderBlock(srv),
			"runs.tfquery.hcl": fmt.Sprintf(`
list "dataflow_flow_trigger" "all" {
  provider = dataflow
  limit    = 20000
  config {
    flow_id = 1004
    %s
  }
}
`, tc.filter),
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		out, err := acctest.Command(t, cliConfig, dir, nil, "query", "-no-color").CombinedOutput()
		if err != nil {
			t.Fatalf("terraform query: %v\n%s", err, out[max(0, len(out)-2000):])
		}
		listed := bytes.Count(out, []byte("list.dataflow_flow_trigger.all   flow_instance_id="))
		warned := acctest.ErrorText("Warning: Listed only the first 10000 runs", "limit is 20000", "Narrow the query").Match(out)
		if listed != tc.runs || warned != tc.warned {
			t.Errorf("%q: %d runs listed, warned %v; want %d, %v\n%s", tc.filter, listed, warned, tc.runs, tc.warned, out[max(0, len(out)-2000):])
		}
	}
}

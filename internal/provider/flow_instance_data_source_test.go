package provider

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// testServerZone is the zone of the default seed ("GMT+8").
var testServerZone = time.FixedZone("GMT+8", 8*3600)

// testRuns is a set of finished, failed and running runs of the default
// seed's flows, started through the client at fixed trigger times.
type testRuns struct {
	srv   *emulator.Server
	clock *emulator.ManualClock
	// alice is a client of the default user, to read runs as the emulator
	// reports them.
	alice *enos.Client
	// base is the minute the trigger times count back from.
	base time.Time
	// ids by name: a1..a3 flow 1001 (success), b1, b2 flow 1002 (fail),
	// x1 flow 21001 (an id that contains "1001-"), c1 flow 1005 (bob's),
	// d1 flow 1004 (still running).
	ids map[string]string
}

// testRunTriggers are the fixture's runs: flow and minutes before base.
// Listed oldest first.
var testRunTriggers = []struct {
	name    string
	flowID  int64
	minutes int
}{
	{"a1", 1001, 50},
	{"b1", 1002, 45},
	{"a2", 1001, 40},
	{"b2", 1002, 35},
	{"a3", 1001, 30},
	{"x1", 21001, 25},
	{"c1", 1005, 20},
	{"d1", 1004, 10},
}

// newTestClient is a client of the emulator for alice on the emulator's clock.
func newTestClient(t *testing.T, srv *emulator.Server, clock emulator.Clock) *enos.Client {
	t.Helper()
	client, err := enos.New(enos.Config{
		Endpoint:  srv.URL,
		AccessKey: emulator.DefaultAccessKey,
		SecretKey: emulator.DefaultSecretKey,
		OrgID:     emulator.DefaultOrgID,
		UserID:    emulator.DefaultUserID,
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	return client
}

// startTestRuns starts an emulator on a manual clock, triggers
// testRunTriggers and lets two minutes pass, so that every run but d1 has
// finished.
func startTestRuns(t *testing.T) *testRuns {
	t.Helper()
	base := time.Now().Truncate(time.Minute)
	clock := emulator.NewManualClock(base)
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	err := srv.AddFlow(emulator.FlowSpec{
		ID: 21001, Name: "lookalike", OrgID: emulator.DefaultOrgID, Owners: []string{"alice"}, Cycle: "D",
		Tasks: []emulator.TaskSpec{{ID: 2100101, Name: "only", Duration: emulator.Duration(time.Second), Outcome: emulator.OutcomeSuccess}},
	})
	if err != nil {
		t.Fatalf("adding flow: %v", err)
	}
	runs := &testRuns{
		srv:   srv,
		clock: clock,
		alice: newTestClient(t, srv, clock),
		base:  base,
		ids:   map[string]string{},
	}
	for _, tr := range testRunTriggers {
		var params map[string]string
		if tr.name == "a1" {
			params = map[string]string{"region": "eu"}
		}
		// Runs started outside the provider, as in the console (bob's flow
		// included).
		id, err := srv.StartRun(tr.flowID, runs.triggerTime(tr.name), params)
		if err != nil {
			t.Fatalf("starting %s: %v", tr.name, err)
		}
		runs.ids[tr.name] = id
	}
	clock.Advance(2 * time.Minute)
	return runs
}

// triggerTime is the trigger time of the named run.
func (r *testRuns) triggerTime(name string) time.Time {
	for _, tr := range testRunTriggers {
		if tr.name == name {
			return r.base.Add(-time.Duration(tr.minutes) * time.Minute)
		}
	}
	return time.Time{}
}

// instance reads the named run from the emulator.
func (r *testRuns) instance(t *testing.T, name string) *enos.FlowInstance {
	t.Helper()
	inst, err := r.alice.GetFlowInstance(context.Background(), r.ids[name])
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return inst
}

// rfc3339Check expects the RFC 3339 form of t in the server's zone, or null
// for the zero time.
func rfc3339Check(t time.Time) knownvalue.Check {
	if t.IsZero() {
		return knownvalue.Null()
	}
	return knownvalue.StringExact(t.In(testServerZone).Format(time.RFC3339))
}

// optionalStringCheck expects s, or null for the empty string.
func optionalStringCheck(s string) knownvalue.Check {
	if s == "" {
		return knownvalue.Null()
	}
	return knownvalue.StringExact(s)
}

// wantRun is what a test expects of a run beyond what the emulator reports.
type wantRun struct {
	flowName, status string
	code             int64
	params           map[string]string
	withValues       bool // include_parameter_values: parameters holds the values
	owner, cycle     string
	taskStatuses     []string
}

// runChecks checks every attribute of the named run, found under at(attr),
// against the fixture's trigger time, want, and the emulator's task ids
// and times.
func (r *testRuns) runChecks(t *testing.T, address string, at func(attribute string) tfjsonpath.Path, name string, want wantRun) []statecheck.StateCheck {
	t.Helper()
	inst := r.instance(t, name)
	if len(inst.Tasks) != len(want.taskStatuses) {
		t.Fatalf("%s has %d tasks, want %d", name, len(inst.Tasks), len(want.taskStatuses))
	}
	if want.status != "RUNNING" && inst.EndTime.IsZero() {
		t.Fatalf("%s has not finished", name)
	}
	tasks := make([]knownvalue.Check, len(inst.Tasks))
	for i, task := range inst.Tasks {
		tasks[i] = knownvalue.ObjectExact(map[string]knownvalue.Check{
			"name":             knownvalue.StringExact(task.TaskName),
			"task_instance_id": knownvalue.StringExact(task.TaskInstID),
			"status":           knownvalue.StringExact(want.taskStatuses[i]),
		})
	}
	params := make(map[string]knownvalue.Check, len(want.params))
	var keys []knownvalue.Check
	for _, k := range slices.Sorted(maps.Keys(want.params)) {
		params[k] = knownvalue.StringExact(want.params[k])
		keys = append(keys, knownvalue.StringExact(k))
	}
	var paramsCheck knownvalue.Check = knownvalue.Null()
	if want.withValues {
		paramsCheck = knownvalue.MapExact(params)
	}
	trigger := r.triggerTime(name).In(testServerZone)
	values := map[string]knownvalue.Check{
		"flow_instance_id": knownvalue.StringExact(r.ids[name]),
		"flow_id":          knownvalue.Int64Exact(inst.FlowID),
		"flow_name":        knownvalue.StringExact(want.flowName),
		"status":           knownvalue.StringExact(want.status),
		"status_code":      knownvalue.Int64Exact(want.code),
		"parameters":       paramsCheck,
		"parameter_keys":   knownvalue.ListExact(keys),
		"trigger_time":     knownvalue.StringExact(trigger.Format(time.RFC3339)),
		"started_at":       rfc3339Check(inst.StartTime),
		"finished_at":      rfc3339Check(inst.EndTime),
		"business_date":    knownvalue.StringExact(trigger.AddDate(0, 0, -1).Format(time.DateOnly)),
		"owner":            knownvalue.StringExact(want.owner),
		"cycle":            knownvalue.StringExact(want.cycle),
		"cron":             optionalStringCheck(inst.Freq),
		"tasks":            knownvalue.ListExact(tasks),
	}
	checks := make([]statecheck.StateCheck, 0, len(values))
	for attribute, check := range values {
		checks = append(checks, statecheck.ExpectKnownValue(address, at(attribute), check))
	}
	return checks
}

func TestAccFlowInstanceDataSource(t *testing.T) {
	runs := startTestRuns(t)
	root := func(attribute string) tfjsonpath.Path { return tfjsonpath.New(attribute) }

	checks := runs.runChecks(t, "data.dataflow_flow_instance.succeeded", root, "a1", wantRun{
		flowName: "daily_sales_load", status: "SUCCESS", code: 1,
		params: map[string]string{"bizdate": "", "region": "eu"}, withValues: true, owner: "alice", cycle: "D",
		taskStatuses: []string{"SUCCESS", "SUCCESS"},
	})
	checks = append(checks, runs.runChecks(t, "data.dataflow_flow_instance.failed", root, "b1", wantRun{
		flowName: "hourly_metrics", status: "FAIL", code: -1,
		params: map[string]string{"bizhour": ""}, owner: "alice", cycle: "H",
		taskStatuses: []string{"SUCCESS", "FAIL"},
	})...)
	checks = append(checks,
		statecheck.ExpectKnownValue("data.dataflow_flow_instance.running", tfjsonpath.New("status"), knownvalue.StringExact("RUNNING")),
		statecheck.ExpectKnownValue("data.dataflow_flow_instance.running", tfjsonpath.New("status_code"), knownvalue.Int64Exact(2)),
		statecheck.ExpectKnownValue("data.dataflow_flow_instance.running", tfjsonpath.New("started_at"), knownvalue.NotNull()),
		statecheck.ExpectKnownValue("data.dataflow_flow_instance.running", tfjsonpath.New("finished_at"), knownvalue.Null()),
		statecheck.ExpectKnownValue("data.dataflow_flow_instance.running", tfjsonpath.New("tasks"), knownvalue.ListExact([]knownvalue.Check{
			knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("prepare"), "status": knownvalue.StringExact("SUCCESS")}),
			knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("backfill"), "status": knownvalue.StringExact("RUNNING")}),
		})),
	)

	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(runs.srv) + fmt.Sprintf(`
data "dataflow_flow_instance" "succeeded" {
  flow_instance_id         = %q
  include_parameter_values = true
}
data "dataflow_flow_instance" "failed" {
  flow_instance_id = %q
}
data "dataflow_flow_instance" "running" {
  flow_instance_id = %q
}
`, runs.ids["a1"], runs.ids["b1"], runs.ids["d1"]),
			ConfigStateChecks: checks,
		}},
	})
}

func TestAccFlowInstanceDataSource_unknownID(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
data "dataflow_flow_instance" "missing" {
  flow_instance_id = "1001-20000101000000"
}
`,
			ExpectError: regexp.MustCompile(`(?s)Flow instance not found.*"1001-20000101000000"`),
		}},
	})
}

func TestAccFlowInstanceDataSource_readsTriggerOfSameApply(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	const trigger = "dataflow_flow_trigger.run"
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "dataflow_flow_trigger" "run" {
  flow_id       = 1001
  parameters    = { region = "eu" }
  poll_interval = "1s"
}

# The id is unknown until the trigger is created, so this is read during apply.
data "dataflow_flow_instance" "run" {
  flow_instance_id = dataflow_flow_trigger.run.flow_instance_id
}

# Every argument is known at plan time: depends_on defers the read until the
# run has finished.
data "dataflow_flow_instances" "latest_success" {
  flow_id     = 1001
  statuses    = ["SUCCESS"]
  max_results = 1
  depends_on  = [dataflow_flow_trigger.run]
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("data.dataflow_flow_instance.run", tfjsonpath.New("flow_instance_id"),
					trigger, tfjsonpath.New("flow_instance_id"), compare.ValuesSame()),
				statecheck.CompareValuePairs("data.dataflow_flow_instance.run", tfjsonpath.New("finished_at"),
					trigger, tfjsonpath.New("finished_at"), compare.ValuesSame()),
				statecheck.ExpectKnownValue("data.dataflow_flow_instance.run", tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
				// Keys only, unless include_parameter_values asks for values.
				statecheck.ExpectKnownValue("data.dataflow_flow_instance.run", tfjsonpath.New("parameters"), knownvalue.Null()),
				statecheck.ExpectKnownValue("data.dataflow_flow_instance.run", tfjsonpath.New("parameter_keys"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("bizdate"), knownvalue.StringExact("region")})),
				statecheck.CompareValuePairs("data.dataflow_flow_instances.latest_success", tfjsonpath.New("instances").AtSliceIndex(0).AtMapKey("flow_instance_id"),
					trigger, tfjsonpath.New("flow_instance_id"), compare.ValuesSame()),
			},
		}},
	})
}

// A user the organization does not know gets an error that says what to
// fix, and names the run that was read.
func TestAccFlowInstanceDataSource_userOrgMismatchIsActionable(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: foreignUserProviderBlock(srv) + `
data "dataflow_flow_instance" "test" {
  flow_instance_id = "1001-20240101080000"
}
`,
			ExpectError: acctest.ErrorText("User does not belong to the organization", "Reading run 1001-20240101080000 failed", "Check user_id and org_id", "code 62101"),
		}},
	})
}

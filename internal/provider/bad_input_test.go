package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// badInputCase is a configuration that must fail at plan time, naming the
// attribute at fault (terraform quotes the offending line).
type badInputCase struct {
	name      string
	provider  string // the provider block; "" for the emulator's
	attribute string // the resource's attributes
	wantErr   string // spaces match any white space
}

func badInputConfig(srv *emulator.Server, tc badInputCase) string {
	provider := tc.provider
	if provider == "" {
		provider = acctest.ProviderBlock(srv)
	}
	return provider + "\nresource \"dataflow_flow_trigger\" \"test\" {\n" + tc.attribute + "\n}\n"
}

func runBadInputCases(t *testing.T, srv *emulator.Server, cases []badInputCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acctest.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: badInputConfig(srv, tc), PlanOnly: true, ExpectError: wrappedRegexp(tc.wantErr),
				}},
			})
		})
	}
	if n := srv.Count(triggerOperation); n != 0 {
		t.Errorf("invalid configurations sent %d triggers", n)
	}
}

// credentialsWithout is a provider block for srv without the named setting.
func credentialsWithout(srv *emulator.Server, missing string) string {
	settings := map[string]string{
		"endpoint": srv.URL, "access_key": emulator.DefaultAccessKey, "secret_key": emulator.DefaultSecretKey,
		"org_id": emulator.DefaultOrgID, "user_id": emulator.DefaultUserID,
	}
	delete(settings, missing)
	var b strings.Builder
	b.WriteString("provider \"dataflow\" {\n")
	for k, v := range settings {
		fmt.Fprintf(&b, "  %s = %q\n", k, v)
	}
	b.WriteString("}\n")
	return b.String()
}

func TestAccFlowTriggerBadInput_invalidConfigurations(t *testing.T) {
	// Not parallel: the missing credentials must not come from ENOS_* variables.
	for _, name := range []string{"ENOS_ENDPOINT", "ENOS_ACCESS_KEY", "ENOS_SECRET_KEY", "ENOS_ORG_ID", "ENOS_USER_ID"} {
		t.Setenv(name, "")
	}
	srv := acctest.StartEmulator(t, emulator.Options{})
	// Non-UTF-8 values never reach the provider: terraform refuses such
	// files ("Invalid character encoding") before it plans.
	cases := []badInputCase{
		{name: "flow_id zero", attribute: `flow_id = 0`, wantErr: `(?s)flow_id.*at least 1`},
		{name: "flow_id negative", attribute: `flow_id = -1`, wantErr: `(?s)flow_id.*at least 1`},
		{name: "trigger_time not RFC 3339", attribute: "flow_id = 1001\ntrigger_time = \"2024-01-01 08:00:00\"", wantErr: `(?s)trigger_time.*RFC3339`},
		// The run's id would carry a five-digit year in the server's zone (GMT+8).
		{name: "trigger_time after the last nameable", attribute: "flow_id = 1001\ntrigger_time = \"9999-12-31T20:00:00Z\"",
			wantErr: `(?s)Invalid trigger_time.*9999-12-31T20:00:00Z.*from\s+1970-01-02T00:00:00Z\s+to\s+9999-12-30T23:59:59Z`},
		{name: "trigger_time in year 1", attribute: "flow_id = 1001\ntrigger_time = \"0001-01-01T00:00:00Z\"",
			wantErr: `(?s)Invalid trigger_time.*0001-01-01T00:00:00Z.*from\s+1970-01-02T00:00:00Z`},
		{name: "poll_interval not a duration", attribute: "flow_id = 1001\npoll_interval = \"fast\"", wantErr: `(?s)Invalid Time Duration String Value.*poll_interval.*Given Value: fast`},
		{name: "poll_interval zero", attribute: "flow_id = 1001\npoll_interval = \"0s\"", wantErr: `(?s)Invalid duration.*poll_interval`},
		{name: "poll_interval too long", attribute: "flow_id = 1001\npoll_interval = \"2h\"", wantErr: `(?s)Invalid duration.*poll_interval`},
		{name: "on_destroy unknown", attribute: "flow_id = 1001\non_destroy = \"delete\"", wantErr: `(?s)on_destroy.*"detach".*"cancel"`},
		// The timeouts module's message quotes the value but not the attribute.
		{name: "timeouts create not a duration", attribute: "flow_id = 1001\ntimeouts = { create = \"soon\" }", wantErr: `(?s)Invalid Attribute Value Time Duration.*"soon"`},
		{name: "http to a remote host", provider: strings.Replace(acctest.ProviderBlock(srv), srv.URL, "http://10.0.0.1:8080", 1),
			attribute: "flow_id = 1001", wantErr: `(?s)Invalid endpoint.*endpoint`},
		{name: "missing endpoint", provider: credentialsWithout(srv, "endpoint"), attribute: "flow_id = 1001", wantErr: "(?s)Missing endpoint.*ENOS_ENDPOINT"},
		{name: "missing access_key", provider: credentialsWithout(srv, "access_key"), attribute: "flow_id = 1001", wantErr: "(?s)Missing access_key.*ENOS_ACCESS_KEY"},
		{name: "missing org_id", provider: credentialsWithout(srv, "org_id"), attribute: "flow_id = 1001", wantErr: "(?s)Missing org_id.*ENOS_ORG_ID"},
		{name: "missing user_id", provider: credentialsWithout(srv, "user_id"), attribute: "flow_id = 1001", wantErr: "(?s)Missing user_id.*ENOS_USER_ID"},
	}
	runBadInputCases(t, srv, cases)
}

// A trigger_time known only at apply (from another resource) gets the
// plan-time check there: an error naming the range, and nothing sent.
func TestAccFlowTriggerBadInput_triggerTimeKnownAtApply(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(srv) + `
resource "terraform_data" "late" {
  input = "9999-12-31T20:00:00Z"
}
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1001
  trigger_time        = terraform_data.late.output
  wait_for_completion = false
}
`,
			ExpectError: acctest.ErrorText("Invalid trigger_time", "9999-12-31T20:00:00Z", "from 1970-01-02T00:00:00Z to 9999-12-30T23:59:59Z"),
		}},
	})
	if n := srv.Count(triggerOperation); n != 0 {
		t.Errorf("%d triggers sent, want none", n)
	}
}

func TestAccFlowTriggerBadInput_parameterLimits(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	var many strings.Builder
	for i := range maxParameters + 1 {
		fmt.Fprintf(&many, "p%d = \"v\"\n", i)
	}
	cases := []badInputCase{
		{name: "empty key", attribute: "flow_id = 1001\nparameters = { \"\" = \"x\" }", wantErr: `(?s)parameters.*empty`},
		{name: "empty write-only key", attribute: "flow_id = 1001\nparameters_wo = { \"\" = \"x\" }", wantErr: `(?s)parameters_wo.*empty`},
		{name: "too many parameters", attribute: "flow_id = 1001\nparameters = {\n" + many.String() + "}",
			wantErr: fmt.Sprintf(`(?s)parameters.*at most %d`, maxParameters)},
		{name: "value too long", attribute: fmt.Sprintf("flow_id = 1001\nparameters = { bizdate = %q }", strings.Repeat("x", maxParameterValueBytes+1)),
			wantErr: `(?s)parameters.*(64 KiB|65536)`},
		{name: "null value", attribute: "flow_id = 1001\nparameters = { bizdate = null }", wantErr: `(?s)Null parameter value.*"bizdate"`},
		{name: "null write-only value", attribute: "flow_id = 1001\nparameters_wo = { password = null }", wantErr: `(?s)Null parameter value.*"password"`},
		{name: "control character in a value", attribute: "flow_id = 1001\nparameters = { bizdate = \"2024\\u0007\" }",
			wantErr: `(?s)parameters.*control character`},
		{name: "control character in a write-only value", attribute: "flow_id = 1001\nparameters_wo = { password = \"a\\u001bb\" }",
			wantErr: `(?s)parameters_wo.*control character`},
	}
	runBadInputCases(t, srv, cases)
}

// malformedStatusProxy forwards to the emulator but, once on is set,
// passes every run the service returns from a status read through mutate.
func malformedStatusProxy(target string, on *atomic.Bool, mutate func(body []byte) []byte) *acctest.EmulatorProxy {
	return &acctest.EmulatorProxy{Target: target, OnAnswer: func(r *http.Request, answer []byte) []byte {
		action := r.URL.Query().Get("action")
		if on.Load() && strings.HasSuffix(r.URL.Path, "/flowInstances") && (action == "get" || action == "search") {
			return mutate(answer)
		}
		return answer
	}}
}

// mutateRuns applies change to every run object in a get or search answer.
func mutateRuns(change func(run map[string]any)) func([]byte) []byte {
	return func(body []byte) []byte {
		var env map[string]any
		if json.Unmarshal(body, &env) != nil {
			return body
		}
		data, _ := env["data"].(map[string]any)
		if runs, ok := data["flowInsts"].([]any); ok {
			for _, run := range runs {
				if m, ok := run.(map[string]any); ok {
					change(m)
				}
			}
		} else if data != nil {
			change(data)
		}
		out, _ := json.Marshal(env)
		return out
	}
}

func TestAccFlowTriggerBadInput_malformedResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		mutate  func([]byte) []byte
		wantErr string
	}{
		{"not JSON", func([]byte) []byte { return []byte("<html><body>maintenance</body></html>") }, `(?s)Flow run did not finish.*malformed response`},
		{"no envelope code", func([]byte) []byte { return []byte(`{"msg":"OK","data":{}}`) }, `(?s)Flow run did not finish.*neither status nor code`},
		{"status of the wrong type", mutateRuns(func(run map[string]any) { run["status"] = map[string]any{"code": 1} }), `(?s)Flow run did not finish.*malformed`},
		{"trigger time of the wrong type", mutateRuns(func(run map[string]any) { run["triggerTime"] = []any{1} }), `(?s)Flow run did not finish.*malformed`},
		{"fields missing", mutateRuns(func(run map[string]any) {
			for k := range run {
				delete(run, k)
			}
		}), `(?s)Flow run did not finish`},
		{"unknown status code", mutateRuns(func(run map[string]any) { run["status"] = 42 }), `(?s)Flow run did not finish.*UNKNOWN\(42\).*timeouts.create`},
		{"data null", func([]byte) []byte { return []byte(`{"status":0,"msg":"Success","data":null}`) }, `(?s)Flow run did not finish`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := acctest.StartEmulator(t, emulator.Options{})
			var malformed atomic.Bool
			front := httptest.NewServer(malformedStatusProxy(srv.URL, &malformed, tc.mutate))
			t.Cleanup(front.Close)
			provider := strings.Replace(acctest.ProviderBlock(srv), srv.URL, front.URL, 1)
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						PreConfig: func() { malformed.Store(true) },
						Config: provider + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1001
  poll_interval = "1s"
  timeouts      = { create = "4s" }
}
`,
						ExpectError: wrappedRegexp(tc.wantErr),
					},
					{
						// The run was started, so it is in state whatever the answers were.
						PreConfig:          func() { malformed.Store(false) },
						RefreshState:       true,
						ExpectNonEmptyPlan: true,
						Check:              resource.ComposeTestCheckFunc(checkRunsMatchState(srv, 1), checkTainted(true, true)),
					},
				},
			})
		})
	}
}

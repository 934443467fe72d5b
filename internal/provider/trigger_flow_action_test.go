package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Protocol-level tests of the dataflow_trigger_flow action: InvokeAction
// and its event stream, through the same protocol-6 server as the binary,
// against the emulator. They need no terraform CLI (actions need 1.14).

const triggerFlowActionType = "dataflow_trigger_flow"

// actionHarness is a configured provider whose clock is the emulator's
// manual clock, so that runs take only the time the test gives them.
func actionHarness(t *testing.T) (*acctest.ProtocolHarness, *emulator.Server, *emulator.ManualClock) {
	t.Helper()
	clock := emulator.NewManualClock(time.Now())
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	h := startProtocolHarness(t, &dataflowProvider{version: "test", now: clock.Now})
	h.Configure(srv)
	return h, srv, clock
}

func flowAttrs(flowID int64, extra map[string]tftypes.Value) map[string]tftypes.Value {
	attrs := map[string]tftypes.Value{
		"flow_id":       tftypes.NewValue(tftypes.Number, flowID),
		"poll_interval": tftypes.NewValue(tftypes.String, "1s"),
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return attrs
}

// The stream reports the started run's id, each status change, and the
// end, in that order. The test moves the emulator's clock one second (one
// task of flow 1001) after each status change, so every change is seen.
func TestProtocolTriggerFlowAction_progressInOrder(t *testing.T) {
	t.Parallel()
	h, srv, clock := actionHarness(t)
	events := h.InvokeAction(t.Context(), triggerFlowActionType, flowAttrs(1001, map[string]tftypes.Value{
		"parameters": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"bizdate": tftypes.NewValue(tftypes.String, "20240101")}),
	}), func(msg string) {
		if strings.HasPrefix(msg, "Run ") {
			clock.Advance(time.Second)
		}
	})
	acctest.RequireNoErrors(t, "InvokeAction", events.Diagnostics, nil)
	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	p := events.Progress
	if len(p) < 4 {
		t.Fatalf("want started, at least two status changes and the end, got %q", p)
	}
	if !strings.HasPrefix(p[0], "Started run "+id+" of flow 1001") {
		t.Errorf("first event %q does not name the started run %s", p[0], id)
	}
	// One second per status change: the run starts READY, then each of the
	// two tasks runs for a second.
	want := []string{
		"READY (tasks: extract=INIT, load=INIT).",
		"RUNNING (tasks: extract=RUNNING, load=INIT).",
		"RUNNING (tasks: extract=SUCCESS, load=RUNNING).",
		"SUCCESS (tasks: extract=SUCCESS, load=SUCCESS).",
	}
	for i := range want {
		want[i] = "Run " + id + ": " + want[i]
	}
	if statuses := p[1 : len(p)-1]; !slices.Equal(statuses, want) {
		t.Errorf("status changes %q, want %q", statuses, want)
	}
	if want := "Run " + id + " of flow 1001 ended with status SUCCESS."; p[len(p)-1] != want {
		t.Errorf("last event %q, want %q", p[len(p)-1], want)
	}
	if n := srv.Count(triggerOperation); n != 1 {
		t.Errorf("%d trigger requests, want 1", n)
	}
	got := srv.Instances()[0].Parameters
	if got["bizdate"] != "20240101" {
		t.Errorf("the run got parameters %v, want bizdate = 20240101", got)
	}
}

// A failed run is an error naming the failed task and its log tail; with
// ignore_run_result, the same report is a warning.
func TestProtocolTriggerFlowAction_failedRun(t *testing.T) {
	t.Parallel()
	for name, ignore := range map[string]bool{"error": false, "ignore_run_result": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, srv, clock := actionHarness(t)
			events := h.InvokeAction(t.Context(), triggerFlowActionType, flowAttrs(1002, map[string]tftypes.Value{
				"ignore_run_result": tftypes.NewValue(tftypes.Bool, ignore),
			}), func(msg string) {
				if strings.HasPrefix(msg, "Started run ") {
					clock.Advance(5 * time.Second) // both tasks of flow 1002 are over
				}
			})
			id, err := onlyInstanceID(srv)
			if err != nil {
				t.Fatal(err)
			}
			want := tfprotov6.DiagnosticSeverityError
			if ignore {
				want = tfprotov6.DiagnosticSeverityWarning
			}
			if len(events.Diagnostics) != 1 || events.Diagnostics[0].Severity != want {
				t.Fatalf("want one %v diagnostic, got:\n%s", want, acctest.DiagnosticsText(events.Diagnostics))
			}
			text := acctest.DiagnosticsText(events.Diagnostics)
			if !acctest.ErrorText("Flow run ended with status FAIL", "Run "+id, "Failed task(s): aggregate", "Last lines of the log of task aggregate").MatchString(text) {
				t.Errorf("the report does not name the run, the failed task and its log:\n%s", text)
			}
			if last := events.Progress[len(events.Progress)-1]; last != "Run "+id+" of flow 1002 ended with status FAIL." {
				t.Errorf("last event %q does not report the end", last)
			}
		})
	}
}

// A trigger whose answer is lost after the service started the run is
// reconciled: the run is found and adopted, and no second run starts.
func TestProtocolTriggerFlowAction_lostAnswerAdopted(t *testing.T) {
	t.Parallel()
	h, srv, _ := actionHarness(t)
	srv.InjectFault(emulator.Fault{Operation: triggerOperation, Kind: emulator.FaultDropAfterAct, Count: 1})
	events := h.InvokeAction(t.Context(), triggerFlowActionType, flowAttrs(1001, map[string]tftypes.Value{
		"wait_for_completion": tftypes.NewValue(tftypes.Bool, false),
	}), nil)
	acctest.RequireNoErrors(t, "InvokeAction", events.Diagnostics, nil)
	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Progress) != 2 || !strings.HasPrefix(events.Progress[0], "Adopted run "+id) ||
		events.Progress[1] != "Not waiting for run "+id+" (wait_for_completion = false)." {
		t.Errorf("progress %q does not report the adopted run %s and the end", events.Progress, id)
	}
	if !strings.Contains(acctest.DiagnosticsText(events.Diagnostics), "Adopted a run whose trigger had an unknown outcome") {
		t.Errorf("no adoption warning:\n%s", acctest.DiagnosticsText(events.Diagnostics))
	}
	if n := srv.Count(triggerOperation); n != 1 {
		t.Errorf("%d trigger requests, want the one whose answer was lost", n)
	}
}

// An interrupted wait (Ctrl-C) is an error that says the run goes on.
func TestProtocolTriggerFlowAction_interruptedWait(t *testing.T) {
	t.Parallel()
	h, srv, _ := actionHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	events := h.InvokeAction(ctx, triggerFlowActionType, flowAttrs(1004, nil), func(msg string) {
		if strings.HasPrefix(msg, "Started run ") {
			cancel()
		}
	})
	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	if !acctest.ErrorText("Waiting for the flow run was interrupted", "run "+id+" of flow 1004", "goes on in the service", "flow_instance_id = \""+id+"\"").MatchString(acctest.DiagnosticsText(events.Diagnostics)) {
		t.Errorf("the error does not say the run goes on:\n%s", acctest.DiagnosticsText(events.Diagnostics))
	}
}

// Without provider configuration (values known only after apply) the
// action fails with the shared error and sends nothing.
func TestProtocolTriggerFlowAction_unconfiguredProvider(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	h := startProtocolHarness(t, New("test")())
	events := h.InvokeAction(t.Context(), triggerFlowActionType, flowAttrs(1001, nil), nil)
	if !acctest.HasErrorDiagnostic(events.Diagnostics) || !strings.Contains(acctest.DiagnosticsText(events.Diagnostics), "Provider not configured") {
		t.Fatalf("want the unconfigured provider error, got:\n%s", acctest.DiagnosticsText(events.Diagnostics))
	}
	if len(events.Progress) != 0 || len(srv.Requests()) != 0 {
		t.Errorf("an unconfigured action reported %q and sent %d requests", events.Progress, len(srv.Requests()))
	}
}

// Acceptance tests with the terraform CLI: actions need Terraform 1.14.

// triggerFlowActionConfig is an action block for flow flowID with extra
// config lines.
func triggerFlowActionConfig(srv *emulator.Server, flowID int64, extra string) string {
	return acctest.ProviderBlock(srv) + fmt.Sprintf(`
action "dataflow_trigger_flow" "run" {
  config {
    flow_id       = %d
    poll_interval = "1s"
    %s
  }
}
`, flowID, extra)
}

// afterCreateConfig triggers the action once, when terraform_data is created.
const afterCreateConfig = `
resource "terraform_data" "this" {
  input = "x"
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.dataflow_trigger_flow.run]
    }
  }
}
`

// An action_trigger on after_create starts exactly one run; a later apply
// with no change starts none. A failing flow fails the apply.
func TestAccNewTriggerFlowAction_afterCreate(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            triggerFlowActionConfig(srv, 1001, "") + afterCreateConfig,
				ConfigStateChecks: []statecheck.StateCheck{expectTriggerCount(srv, 1)},
			},
			{
				Config:            triggerFlowActionConfig(srv, 1001, "") + afterCreateConfig,
				ConfigStateChecks: []statecheck.StateCheck{expectTriggerCount(srv, 1)},
			},
		},
	})
	if got := srv.Instances(); len(got) != 1 || got[0].Status != emulatorSuccess {
		t.Fatalf("want one successful run, got %+v", got)
	}
}

func TestAccNewTriggerFlowAction_failingFlowFailsTheApply(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	acctest.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      triggerFlowActionConfig(srv, 1002, "") + afterCreateConfig,
			ExpectError: acctest.ErrorText("Flow run ended with status FAIL", "Failed task(s): aggregate"),
		}},
	})
	if n := srv.Count(triggerOperation); n != 1 {
		t.Fatalf("%d trigger requests, want 1", n)
	}
}

// terraformWithDestroyTriggers is the first Terraform whose action_trigger
// takes before_destroy and after_destroy events and on_failure.
var terraformWithDestroyTriggers = version.Must(version.NewVersion("1.16.0"))

// An action_trigger on before_destroy starts one run when terraform_data is
// destroyed and none before; with on_failure = continue a failing flow is a
// warning and the apply goes on.
func TestAccNewTriggerFlowAction_destroyAndOnFailure(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		flowID        int64
		trigger       string
		runsAtApply   int
		runsAtDestroy int
	}{
		"before_destroy": {1001, "events = [before_destroy]", 0, 1},
		"on_failure":     {1002, "events = [after_create]\n      on_failure = continue", 1, 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := acctest.StartEmulator(t, emulator.Options{})
			config := triggerFlowActionConfig(srv, tc.flowID, "") + fmt.Sprintf(`
resource "terraform_data" "this" {
  input = "x"
  lifecycle {
    action_trigger {
      %s
      actions = [action.dataflow_trigger_flow.run]
    }
  }
}
`, tc.trigger)
			acctest.UnitTest(t, resource.TestCase{
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(terraformWithDestroyTriggers)},
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:            config,
					ConfigStateChecks: []statecheck.StateCheck{expectTriggerCount(srv, tc.runsAtApply)},
				}},
				CheckDestroy: func(*terraform.State) error {
					if n := srv.Count(triggerOperation); n != tc.runsAtDestroy {
						return fmt.Errorf("%d trigger requests after destroy, want %d", n, tc.runsAtDestroy)
					}
					return nil
				},
			})
		})
	}
}

// `terraform apply -invoke` starts one run per invocation, and with
// ignore_run_result a failed run is a warning. terraform-plugin-testing
// v1.16 has no -invoke step, so these run the CLI with the built provider.
func TestAccNewTriggerFlowAction_invoke(t *testing.T) {
	cliConfig := acctest.ParallelCLITest(t, tfversion.Version1_14_0, "apply -invoke")
	for name, tc := range map[string]struct {
		flowID      int64
		extra       string
		invocations int
		outputs     []string // each must be in the output; "a|b": a or b
	}{
		// Without waiting: a second invocation in the same minute gets the
		// next minute, whose run starts only then.
		"one run per invocation": {1001, "wait_for_completion = false", 2, []string{"Started run", "Not waiting for run"}},
		// Terraform 1.14 and 1.15 title the warning "Warning when invoking
		// action"; 1.16 titles it with the diagnostic's summary.
		"ignore_run_result": {1002, "ignore_run_result = true", 1, []string{"Warning when invoking action|Warning: Flow run ended with status FAIL", "Flow run ended with status FAIL", "Failed task(s): aggregate", "Apply complete!"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := acctest.StartEmulator(t, emulator.Options{})
			dir := acctest.ConfigDir(t, acctest.RequiredProvidersBlock+triggerFlowActionConfig(srv, tc.flowID, tc.extra))
			for i := 1; i <= tc.invocations; i++ {
				out, err := acctest.Command(t, cliConfig, dir, nil, "apply", "-auto-approve", "-no-color", "-invoke=action.dataflow_trigger_flow.run").CombinedOutput()
				if err != nil {
					t.Fatalf("invocation %d failed: %v\n%s", i, err, out)
				}
				for _, want := range tc.outputs {
					if !slices.ContainsFunc(strings.Split(want, "|"), func(alt string) bool { return strings.Contains(string(out), alt) }) {
						t.Fatalf("invocation %d does not say %q:\n%s", i, want, out)
					}
				}
				if n := len(srv.Instances()); n != i {
					t.Fatalf("after invocation %d: %d runs, want %d", i, n, i)
				}
			}
		})
	}
}

// Settings from variables are known only when the action is invoked, after
// Terraform validated its configuration: the invocation checks them again,
// with the schema's messages, and sends nothing when one is bad.
func TestAccNewTriggerFlowAction_settingsFromVariables(t *testing.T) {
	cliConfig := acctest.ParallelCLITest(t, tfversion.Version1_14_0, "apply -invoke")
	for name, tc := range map[string]struct {
		variable string
		value    any // nil: null
		want     []string
	}{
		"poll_interval below the minimum": {"poll_interval", "-1s", []string{"Invalid duration", `"-1s" is not a Go duration from 1s`}},
		"timeout above the maximum":       {"timeout", "200h", []string{"Invalid duration", `"200h" is not a Go duration`}},
		"trigger_time out of range":       {"trigger_time", "9999-12-31T20:00:00Z", []string{"Invalid trigger_time", "from 1970-01-02T00:00:00Z to 9999-12-30T23:59:59Z"}},
		"control character in a value":    {"bizdate", "2024\a", []string{"parameters", "control character"}},
		"value too long":                  {"bizdate", strings.Repeat("x", maxParameterValueBytes+1), []string{"parameters", "64 KiB"}},
		"null value":                      {"bizdate", nil, []string{"Null parameter value", `"bizdate"`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := acctest.StartEmulator(t, emulator.Options{})
			config := acctest.RequiredProvidersBlock + acctest.ProviderBlock(srv) + `
variable "poll_interval" {
  type    = string
  default = "1s"
}
variable "timeout" {
  type    = string
  default = "10m"
}
variable "trigger_time" {
  type    = string
  default = null
}
variable "bizdate" {
  type    = string
  default = "20240101"
}
action "dataflow_trigger_flow" "run" {
  config {
    flow_id             = 1001
    poll_interval       = var.poll_interval
    timeout             = var.timeout
    trigger_time        = var.trigger_time
    parameters          = { bizdate = var.bizdate }
    wait_for_completion = false
  }
}
`
			acctest.ExpectRefusedWithVariables(t, cliConfig, srv, triggerOperation, map[string]string{"main.tf": config},
				map[string]any{tc.variable: tc.value}, tc.want, "apply", "-auto-approve", "-invoke=action.dataflow_trigger_flow.run")
		})
	}
}

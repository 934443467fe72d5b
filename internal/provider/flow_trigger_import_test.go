package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// importWorkspace is a directory in which the real terraform CLI runs
// against the emulator with the provider built from this tree.
type importWorkspace struct {
	t        *testing.T
	dir, cli string
	env      []string
	output   bytes.Buffer // every command's stdout and stderr
}

func newImportWorkspace(t *testing.T, cli string, env []string, config string) *importWorkspace {
	t.Helper()
	w := &importWorkspace{t: t, dir: t.TempDir(), cli: cli, env: env}
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs terraform and returns its stdout and exit code; it fails the
// test on exit code 1 (an error; -detailed-exitcode uses 2 for changes).
func (w *importWorkspace) run(args ...string) ([]byte, int) {
	w.t.Helper()
	cmd := terraformCLI(w.t, w.cli, w.dir, w.env, append(args, "-no-color")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	w.output.Write(stdout.Bytes())
	w.output.Write(stderr.Bytes())
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		w.t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	if code == 1 {
		w.t.Fatalf("terraform %s failed:\n%s%s", strings.Join(args, " "), stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), code
}

// triggerState is the dataflow_flow_trigger instance of a state file.
type triggerState struct {
	Attributes map[string]any
	Private    map[string][]byte // provider private state, decoded
}

// state reads the state file and returns the single trigger's instance,
// failing when text appears in the file or in its decoded private data.
func (w *importWorkspace) state(excluded ...string) triggerState {
	w.t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		w.t.Fatal(err)
	}
	var file struct {
		Resources []struct {
			Type      string
			Instances []struct {
				Attributes map[string]any
				Private    string
			}
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		w.t.Fatalf("state file: %v", err)
	}
	var found []triggerState
	places := map[string][]byte{"the state file": raw}
	for _, r := range file.Resources {
		if r.Type != "dataflow_flow_trigger" {
			continue
		}
		for _, inst := range r.Instances {
			ts := triggerState{Attributes: inst.Attributes, Private: map[string][]byte{}}
			if inst.Private != "" {
				// The private field is base64 of a JSON object whose
				// values are base64 of each key's JSON.
				outer, err := base64.StdEncoding.DecodeString(inst.Private)
				if err != nil {
					w.t.Fatalf("private state: %v", err)
				}
				places["the decoded private state"] = outer
				if err := json.Unmarshal(outer, &ts.Private); err != nil {
					w.t.Fatalf("private state %s: %v", outer, err)
				}
				for key, value := range ts.Private {
					places["private state key "+key] = value
				}
			}
			found = append(found, ts)
		}
	}
	if len(found) != 1 {
		w.t.Fatalf("want one dataflow_flow_trigger in state, got %d:\n%s", len(found), raw)
	}
	for place, text := range places {
		for _, s := range excluded {
			if bytes.Contains(text, []byte(s)) {
				w.t.Errorf("%s contains %q", place, s)
			}
		}
	}
	return found[0]
}

// plan saves a plan, checks that neither terraform's output nor the saved
// plan (show -json and the plan file itself) holds any excluded text, and
// returns the trigger's planned actions and whether it is imported.
func (w *importWorkspace) plan(excluded ...string) (actions []string, importing bool) {
	w.t.Helper()
	stdout, _ := w.run("plan", "-input=false", "-out=tfplan")
	shown, _ := w.run("show", "-json", "tfplan")
	places := map[string][]byte{
		"terraform plan's output": stdout,
		"terraform show -json":    shown,
		"the plan file":           planFileContents(w.t, filepath.Join(w.dir, "tfplan")),
	}
	for place, text := range places {
		for _, s := range excluded {
			if bytes.Contains(text, []byte(s)) {
				w.t.Errorf("%s contains %q", place, s)
			}
		}
	}
	for _, rc := range resourceChanges(w.t, shown) {
		if rc.Address == testTrigger {
			return rc.Change.Actions, rc.Change.Importing != nil
		}
	}
	w.t.Fatalf("the plan has no change for %s:\n%s", testTrigger, stdout)
	return nil, false
}

// expectEmptyPlan checks that a plan of the workspace changes nothing.
func (w *importWorkspace) expectEmptyPlan() {
	w.t.Helper()
	if stdout, code := w.run("plan", "-input=false", "-detailed-exitcode"); code != 0 {
		w.t.Errorf("the plan after apply is not empty:\n%s", stdout)
	}
}

// writeOnlyImportConfig is the configuration that starts the run of
// TestAccFlowTriggerImport_writeOnlyValuesStayOut, with extra blocks.
func writeOnlyImportConfig(srv *emulator.Server, bizdate, extra string) string {
	return requiredProvidersBlock + fmt.Sprintf(`
provider "dataflow" {
  endpoint   = %q
  access_key = %q
  org_id     = %q
  user_id    = %q
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "dataflow_flow_trigger" "test" {
  flow_id               = 1001
  trigger_time          = "2024-01-01T00:00:00Z"
  parameters            = { bizdate = %q, extra = "x" }
  parameters_wo         = { db_password = var.db_password }
  parameters_wo_version = 1
  triggers              = { release = "r1" }
  poll_interval         = "1s"
}
%s`, srv.URL, emulator.DefaultAccessKey, emulator.DefaultOrgID, emulator.DefaultUserID, bizdate, extra)
}

// TestAccFlowTriggerImport_writeOnlyValuesStayOut starts a run with
// parameters_wo, then imports it into fresh workspaces with the same
// configuration, by terraform import and by an import block: the secret is
// in neither the state (private data included) nor the plan, the plan is an
// in-place update that starts no run, and the plan after its apply is
// empty. Other parameters than the run's plan a new run.
func TestAccFlowTriggerImport_writeOnlyValuesStayOut(t *testing.T) {
	t.Parallel()
	srv := startTestEmulator(t, emulator.Options{})
	const secret, otherSecret = "wo-import-secret-5d1e", "wo-other-secret-90ab"
	cli := builtProviderCLIConfig(t)
	env := func(password string) []string {
		return []string{"ENOS_SECRET_KEY=" + emulator.DefaultSecretKey, "TF_VAR_db_password=" + password}
	}
	config := writeOnlyImportConfig(srv, "20240101", "")

	origin := newImportWorkspace(t, cli, env(secret), config)
	origin.run("apply", "-input=false", "-auto-approve")
	bodies := triggerBodies(t, srv)
	if len(bodies) != 1 || !slices.Contains(bodies[0].Parameters, enos.Parameter{Key: "db_password", Value: secret}) {
		t.Fatalf("the run was not started with the write-only value: %+v", bodies)
	}
	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	// The service reports the secret among the run's parameters: that is
	// what import must not store.
	inst, err := testClient(t, srv).GetFlowInstance(t.Context(), id)
	if err != nil || !slices.Contains(inst.Parameters, enos.Parameter{Key: "db_password", Value: secret}) {
		t.Fatalf("the service does not report the run's write-only value (%v): %+v", err, inst)
	}
	expectOneTrigger := func(w *importWorkspace) {
		t.Helper()
		if n := srv.Count(triggerOperation); n != 1 {
			t.Errorf("trigger requests: got %d, want 1\n%s", n, w.output.Bytes())
		}
	}
	// adopt checks the plan of a freshly imported run with the original
	// configuration, applies it and checks the state and the next plan.
	adopt := func(w *importWorkspace, wantImporting bool) {
		t.Helper()
		actions, importing := w.plan(secret)
		if !slices.Equal(actions, []string{"update"}) || importing != wantImporting {
			t.Errorf("plan: actions %v, importing %v; want [update], importing %v\n%s", actions, importing, wantImporting, w.output.Bytes())
		}
		expectOneTrigger(w)
		w.run("apply", "-input=false", "tfplan")
		expectOneTrigger(w)
		st := w.state(secret)
		if st.Attributes["id"] != id {
			t.Errorf("state holds run %v, want %s", st.Attributes["id"], id)
		}
		if got := fmt.Sprint(st.Attributes["parameters"]); got != "map[bizdate:20240101 extra:x]" {
			t.Errorf("parameters after apply: %s, want the configuration's", got)
		}
		if _, ok := st.Private[privateImportedRun]; ok {
			t.Errorf("the digests outlive the first apply after import")
		}
		w.expectEmptyPlan()
		expectOneTrigger(w)
		if w.output.Len() == 0 || bytes.Contains(w.output.Bytes(), []byte(secret)) {
			t.Errorf("terraform's output is empty or contains the write-only value")
		}
	}

	t.Run("terraform import", func(t *testing.T) {
		w := newImportWorkspace(t, cli, env(secret), config)
		stdout, _ := w.run("import", "-input=false", testTrigger, id)
		if bytes.Contains(stdout, []byte(secret)) {
			t.Error("terraform import's output contains the write-only value")
		}
		st := w.state(secret)
		if st.Attributes["parameters"] != nil {
			t.Errorf("import stored parameters %v, want null", st.Attributes["parameters"])
		}
		// Import marks the resource, and keeps nothing derived from a value
		// (no digest a reader of the state could test guesses against).
		if mark, ok := st.Private[privateImportedRun]; !ok || string(mark) != "{}" {
			t.Fatalf("private state holds %q under %s, want the bare import mark", mark, privateImportedRun)
		}
		adopt(w, false)
	})

	t.Run("import block", func(t *testing.T) {
		w := newImportWorkspace(t, cli, env(secret), config+fmt.Sprintf(`
import {
  to = %s
  id = %q
}
`, testTrigger, id))
		adopt(w, true)
	})

	// Each configuration below describes another run than the imported
	// one: the plan replaces it and names the differing key.
	otherRuns := []struct {
		name, password, bizdate, key string
	}{
		{"other parameter", secret, "20240102", "bizdate"},
		{"other write-only value", otherSecret, "20240101", "db_password"},
	}
	for _, other := range otherRuns {
		t.Run(other.name, func(t *testing.T) {
			w := newImportWorkspace(t, cli, env(other.password), writeOnlyImportConfig(srv, other.bizdate, fmt.Sprintf(`
import {
  to = %s
  id = %q
}
`, testTrigger, id)))
			actions, importing := w.plan(secret, otherSecret)
			if !importing || !slices.Contains(actions, "create") || !slices.Contains(actions, "delete") {
				t.Errorf("plan: actions %v, importing %v; want an imported replacement\n%s", actions, importing, w.output.Bytes())
			}
			if !errorText("differ from those of the imported run for", other.key, "starts a new run").Match(w.output.Bytes()) {
				t.Errorf("the plan does not say which parameter differs:\n%s", w.output.Bytes())
			}
			expectOneTrigger(w)
		})
	}

	// A plan that may send no request (skip_flow_validation) cannot read
	// the run to compare: it keeps the run, even for a configuration of
	// another run, and says why and how to start a new one.
	t.Run("no request at plan", func(t *testing.T) {
		config := strings.Replace(writeOnlyImportConfig(srv, "20240102", fmt.Sprintf(`
import {
  to = %s
  id = %q
}
`, testTrigger, id)), `user_id    = "`, `skip_flow_validation = true
  user_id    = "`, 1)
		w := newImportWorkspace(t, cli, env(secret), config)
		actions, importing := w.plan(secret)
		if !importing || !slices.Equal(actions, []string{"update"}) {
			t.Errorf("plan: actions %v, importing %v; want an imported in-place update\n%s", actions, importing, w.output.Bytes())
		}
		if !errorText("could not be compared with those of the imported run", "skip_flow_validation", "-replace").Match(w.output.Bytes()) {
			t.Errorf("the plan does not say why the run is kept:\n%s", w.output.Bytes())
		}
		expectOneTrigger(w)
	})
}

package provider

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// writeOnlyImportConfig is the configuration that starts the run of
// TestAccFlowTriggerImport_writeOnlyValuesStayOut, with extra blocks.
func writeOnlyImportConfig(srv *emulator.Server, bizdate, extra string) string {
	return acctest.RequiredProvidersBlock + fmt.Sprintf(`
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
	srv := acctest.StartEmulator(t, emulator.Options{})
	const secret, otherSecret = "wo-import-secret-5d1e", "wo-other-secret-90ab"
	cli := acctest.CLIConfig(t)
	env := func(password string) []string {
		return []string{"ENOS_SECRET_KEY=" + emulator.DefaultSecretKey, "TF_VAR_db_password=" + password}
	}
	config := writeOnlyImportConfig(srv, "20240101", "")

	origin := acctest.NewWorkspace(t, cli, env(secret), config)
	origin.Run("apply", "-input=false", "-auto-approve")
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
	expectOneTrigger := func(w *acctest.Workspace) {
		t.Helper()
		if n := srv.Count(triggerOperation); n != 1 {
			t.Errorf("trigger requests: got %d, want 1\n%s", n, w.Output.Bytes())
		}
	}
	// adopt checks the plan of a freshly imported run with the original
	// configuration, applies it and checks the state and the next plan.
	adopt := func(w *acctest.Workspace, wantImporting bool) {
		t.Helper()
		actions, importing := w.Plan(testTrigger, secret)
		if !slices.Equal(actions, []string{"update"}) || importing != wantImporting {
			t.Errorf("plan: actions %v, importing %v; want [update], importing %v\n%s", actions, importing, wantImporting, w.Output.Bytes())
		}
		expectOneTrigger(w)
		w.Run("apply", "-input=false", "tfplan")
		expectOneTrigger(w)
		st := w.State(flowTriggerType, secret)
		if st.Attributes["id"] != id {
			t.Errorf("state holds run %v, want %s", st.Attributes["id"], id)
		}
		if got := fmt.Sprint(st.Attributes["parameters"]); got != "map[bizdate:20240101 extra:x]" {
			t.Errorf("parameters after apply: %s, want the configuration's", got)
		}
		if _, ok := st.Private[privateImportedRun]; ok {
			t.Errorf("the digests outlive the first apply after import")
		}
		w.ExpectEmptyPlan()
		expectOneTrigger(w)
		if w.Output.Len() == 0 || bytes.Contains(w.Output.Bytes(), []byte(secret)) {
			t.Errorf("terraform's output is empty or contains the write-only value")
		}
	}

	t.Run("terraform import", func(t *testing.T) {
		w := acctest.NewWorkspace(t, cli, env(secret), config)
		stdout, _ := w.Run("import", "-input=false", testTrigger, id)
		if bytes.Contains(stdout, []byte(secret)) {
			t.Error("terraform import's output contains the write-only value")
		}
		st := w.State(flowTriggerType, secret)
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
		w := acctest.NewWorkspace(t, cli, env(secret), config+fmt.Sprintf(`
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
			w := acctest.NewWorkspace(t, cli, env(other.password), writeOnlyImportConfig(srv, other.bizdate, fmt.Sprintf(`
import {
  to = %s
  id = %q
}
`, testTrigger, id)))
			actions, importing := w.Plan(testTrigger, secret, otherSecret)
			if !importing || !slices.Contains(actions, "create") || !slices.Contains(actions, "delete") {
				t.Errorf("plan: actions %v, importing %v; want an imported replacement\n%s", actions, importing, w.Output.Bytes())
			}
			if !acctest.ErrorText("differ from those of the imported run for", other.key, "starts a new run").Match(w.Output.Bytes()) {
				t.Errorf("the plan does not say which parameter differs:\n%s", w.Output.Bytes())
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
		w := acctest.NewWorkspace(t, cli, env(secret), config)
		actions, importing := w.Plan(testTrigger, secret)
		if !importing || !slices.Equal(actions, []string{"update"}) {
			t.Errorf("plan: actions %v, importing %v; want an imported in-place update\n%s", actions, importing, w.Output.Bytes())
		}
		if !acctest.ErrorText("could not be compared with those of the imported run", "skip_flow_validation", "-replace").Match(w.Output.Bytes()) {
			t.Errorf("the plan does not say why the run is kept:\n%s", w.Output.Bytes())
		}
		expectOneTrigger(w)
	})
}

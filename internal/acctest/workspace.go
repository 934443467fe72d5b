package acctest

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Helpers for tests that run CLI themselves (signals, log files, plan files)
// instead of through terraform-plugin-testing: they need the provider as a
// binary, found through dev_overrides.

// providerPackage is the provider binary's main package.
const providerPackage = "github.com/enos-community/terraform-provider-dataflow"

// providerBuild is the provider binary built once per test process.
var providerBuild struct {
	once sync.Once
	dir  string // holds terraform-provider-dataflow
	err  error
	out  []byte
}

// builtProviderDir builds the provider once per test process and returns
// the directory holding the binary. The directory lives for the whole
// process (a t.TempDir would vanish with the first test that used it);
// RemoveProviderBuild removes it.
func builtProviderDir(t *testing.T) string {
	t.Helper()
	providerBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "terraform-provider-dataflow-test-") //nolint:usetesting // outlives any one test; RemoveProviderBuild removes it
		if err != nil {
			providerBuild.err = err
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-dataflow"), providerPackage)
		providerBuild.out, providerBuild.err = build.CombinedOutput()
		providerBuild.dir = dir
	})
	if providerBuild.err != nil {
		t.Fatalf("building the provider: %v\n%s", providerBuild.err, providerBuild.out)
	}
	return providerBuild.dir
}

// RemoveProviderBuild removes the provider binary that CLIConfig built, if
// any; a package's TestMain calls it after the tests.
func RemoveProviderBuild() {
	if providerBuild.dir != "" {
		_ = os.RemoveAll(providerBuild.dir)
	}
}

// CLIConfig writes a CLI configuration whose dev_overrides load the
// provider built from this module, so that CLI needs neither `terraform
// init` nor a network, and returns its path. It fails the test when CLI is
// missing.
func CLIConfig(t *testing.T) string {
	t.Helper()
	RequireCLI(t)
	config := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "enos-community/dataflow" = %q
  }
  direct {}
}
`, builtProviderDir(t))
	path := filepath.Join(t.TempDir(), "terraformrc")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// RequiredProvidersBlock declares the provider's source, which dev_overrides
// match on.
const RequiredProvidersBlock = `terraform {
  required_providers {
    dataflow = { source = "enos-community/dataflow" }
  }
}
`

// Command runs CLI in dir with the given CLI configuration and extra
// environment ("KEY=value"). Only the child's environment is set, as other
// tests run in parallel.
func Command(t *testing.T, cliConfig, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), CLI(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// Workspace is a directory in which CLI runs with the provider built from
// this module.
type Workspace struct {
	t      *testing.T
	Dir    string
	cli    string
	env    []string
	Output bytes.Buffer // every command's stdout and stderr
}

// NewWorkspace writes config to main.tf of a new directory in which CLI
// runs with the CLI configuration cliConfig and the extra environment env.
func NewWorkspace(t *testing.T, cliConfig string, env []string, config string) *Workspace {
	t.Helper()
	w := &Workspace{t: t, Dir: t.TempDir(), cli: cliConfig, env: env}
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// Run runs CLI and returns its stdout and exit code; it fails the test on
// exit code 1 (an error; -detailed-exitcode uses 2 for changes).
func (w *Workspace) Run(args ...string) ([]byte, int) {
	w.t.Helper()
	cmd := Command(w.t, w.cli, w.Dir, w.env, append(args, "-no-color")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	w.Output.Write(stdout.Bytes())
	w.Output.Write(stderr.Bytes())
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

// StateInstance is a resource instance of a state file.
type StateInstance struct {
	Attributes map[string]any
	Private    map[string][]byte // provider private state, decoded
}

// State reads the state file and returns the single instance of
// resourceType, failing when text appears in the file or in its decoded
// private data.
func (w *Workspace) State(resourceType string, excluded ...string) StateInstance {
	w.t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.Dir, "terraform.tfstate"))
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
	var found []StateInstance
	places := map[string][]byte{"the state file": raw}
	for _, r := range file.Resources {
		if r.Type != resourceType {
			continue
		}
		for _, inst := range r.Instances {
			si := StateInstance{Attributes: inst.Attributes, Private: map[string][]byte{}}
			if inst.Private != "" {
				// The private field is base64 of a JSON object whose
				// values are base64 of each key's JSON.
				outer, err := base64.StdEncoding.DecodeString(inst.Private)
				if err != nil {
					w.t.Fatalf("private state: %v", err)
				}
				places["the decoded private state"] = outer
				if err := json.Unmarshal(outer, &si.Private); err != nil {
					w.t.Fatalf("private state %s: %v", outer, err)
				}
				for key, value := range si.Private {
					places["private state key "+key] = value
				}
			}
			found = append(found, si)
		}
	}
	if len(found) != 1 {
		w.t.Fatalf("want one %s in state, got %d:\n%s", resourceType, len(found), raw)
	}
	expectExcluded(w.t, places, excluded)
	return found[0]
}

// Plan saves a plan, checks that neither CLI's output nor the saved plan
// (show -json and the plan file itself) holds any excluded text, and
// returns the planned actions of the resource at address and whether it is
// imported.
func (w *Workspace) Plan(address string, excluded ...string) (actions []string, importing bool) {
	w.t.Helper()
	stdout, _ := w.Run("plan", "-input=false", "-out=tfplan")
	shown, _ := w.Run("show", "-json", "tfplan")
	expectExcluded(w.t, map[string][]byte{
		"terraform plan's output": stdout,
		"terraform show -json":    shown,
		"the plan file":           PlanFileContents(w.t, filepath.Join(w.Dir, "tfplan")),
	}, excluded)
	for _, rc := range ResourceChanges(w.t, shown) {
		if rc.Address == address {
			return rc.Change.Actions, rc.Change.Importing != nil
		}
	}
	w.t.Fatalf("the plan has no change for %s:\n%s", address, stdout)
	return nil, false
}

// expectExcluded fails the test for each excluded text found in a place.
func expectExcluded(t *testing.T, places map[string][]byte, excluded []string) {
	t.Helper()
	for place, text := range places {
		for _, s := range excluded {
			if bytes.Contains(text, []byte(s)) {
				t.Errorf("%s contains %q", place, s)
			}
		}
	}
}

// ExpectEmptyPlan checks that a plan of the workspace changes nothing.
func (w *Workspace) ExpectEmptyPlan() {
	w.t.Helper()
	if stdout, code := w.Run("plan", "-input=false", "-detailed-exitcode"); code != 0 {
		w.t.Errorf("the plan after apply is not empty:\n%s", stdout)
	}
}

// ResourceChange is one entry of resource_changes in `terraform show -json`
// of a plan file.
type ResourceChange struct {
	Address string `json:"address"`
	Change  struct {
		Actions   []string `json:"actions"`
		Importing any      `json:"importing"`
	} `json:"change"`
}

// ResourceChanges decodes the resource changes of `terraform show -json`
// of a plan file.
func ResourceChanges(t *testing.T, shown []byte) []ResourceChange {
	t.Helper()
	var plan struct {
		ResourceChanges []ResourceChange `json:"resource_changes"`
	}
	if err := json.Unmarshal(shown, &plan); err != nil {
		t.Fatalf("show -json: %v\n%s", err, shown)
	}
	return plan.ResourceChanges
}

// PlanFileContents concatenates the uncompressed entries of a plan file
// (a zip archive), so that a search sees what it stores.
func PlanFileContents(t *testing.T, path string) []byte {
	t.Helper()
	archive, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	var all bytes.Buffer
	for _, f := range archive.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(&all, r)
		_ = r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return all.Bytes()
}

// ExpectRefusedWithVariables runs CLI with args in a new workspace of files
// plus a variables file of vars, and expects it to fail saying each of want
// (in order) without sending operation to srv: a value from a variable that
// the provider refuses once it is known.
func ExpectRefusedWithVariables(t *testing.T, cliConfig string, srv *emulator.Server, operation string, files map[string]string, vars map[string]any, want []string, args ...string) {
	t.Helper()
	dir := t.TempDir()
	raw, err := json.Marshal(vars)
	if err != nil {
		t.Fatal(err)
	}
	files["refused.tfvars.json"] = string(raw)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := Command(t, cliConfig, dir, nil, append(args, "-no-color", "-var-file=refused.tfvars.json")...).CombinedOutput()
	if err == nil {
		t.Fatalf("terraform %v succeeded:\n%s", args, out)
	}
	if !ErrorText(want...).Match(out) {
		t.Errorf("the error does not say %q:\n%s", want, out)
	}
	if n := srv.Count(operation); n != 0 {
		t.Errorf("%d %s requests sent, want none", n, operation)
	}
}

// ErrorText matches the given fragments in order in an error message that
// the CLI may have wrapped across lines.
func ErrorText(fragments ...string) *regexp.Regexp {
	quoted := make([]string, len(fragments))
	for i, f := range fragments {
		quoted[i] = strings.Join(strings.Fields(regexp.QuoteMeta(f)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}

package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/go-version"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Helpers for tests that run the terraform CLI themselves (signals, log
// files, plan files) instead of through terraform-plugin-testing: they need
// the provider as a binary, found through dev_overrides.

// testCLI is the CLI every test runs: the binary TF_ACC_TERRAFORM_PATH names,
// which is also the one terraform-plugin-testing runs (OpenTofu's tofu in
// `make test-opentofu`), or else terraform on PATH. Both read the same CLI
// configuration, and resolve the source "enos-community/dataflow" on their
// own registry host, which the dev_overrides below match either way.
func testCLI() string {
	if path := os.Getenv("TF_ACC_TERRAFORM_PATH"); path != "" {
		return path
	}
	return "terraform"
}

// providerBuild is the provider binary built once per test process.
var providerBuild struct {
	once sync.Once
	dir  string // holds terraform-provider-dataflow
	err  error
	out  []byte
}

// builtProviderDir builds the provider from this tree once per test process
// and returns the directory holding the binary. The directory lives for the
// whole process (a t.TempDir would vanish with the first test that used it)
// and TestMain removes it.
func builtProviderDir(t *testing.T) string {
	t.Helper()
	providerBuild.once.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			providerBuild.err = err
			return
		}
		dir, err := os.MkdirTemp("", "terraform-provider-dataflow-test-") //nolint:usetesting // outlives any one test; TestMain removes it
		if err != nil {
			providerBuild.err = err
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-dataflow"), ".")
		build.Dir = root
		providerBuild.out, providerBuild.err = build.CombinedOutput()
		providerBuild.dir = dir
	})
	if providerBuild.err != nil {
		t.Fatalf("building the provider: %v\n%s", providerBuild.err, providerBuild.out)
	}
	return providerBuild.dir
}

// builtProviderCLIConfig writes a Terraform CLI configuration whose
// dev_overrides load the provider built from this tree, so that terraform
// needs neither `terraform init` nor a network, and returns its path.
func builtProviderCLIConfig(t *testing.T) string {
	t.Helper()
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

// requiredProvidersBlock declares the provider's source, which dev_overrides
// match on.
const requiredProvidersBlock = `terraform {
  required_providers {
    dataflow = { source = "enos-community/dataflow" }
  }
}
`

// terraformCLI runs testCLI in dir with the given CLI configuration and
// extra environment ("KEY=value"). Only the child's environment is set, as
// the other tests of the package run in parallel.
func terraformCLI(t *testing.T, cliConfig, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), testCLI(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// resourceChange is one entry of resource_changes in `terraform show -json`
// of a plan file.
type resourceChange struct {
	Address string `json:"address"`
	Change  struct {
		Actions   []string `json:"actions"`
		Importing any      `json:"importing"`
	} `json:"change"`
}

// resourceChanges decodes the resource changes of `terraform show -json`
// of a plan file.
func resourceChanges(t *testing.T, shown []byte) []resourceChange {
	t.Helper()
	var plan struct {
		ResourceChanges []resourceChange `json:"resource_changes"`
	}
	if err := json.Unmarshal(shown, &plan); err != nil {
		t.Fatalf("show -json: %v\n%s", err, shown)
	}
	return plan.ResourceChanges
}

// skipBelowCLI skips a test that runs testCLI itself when that CLI is
// older than minimum, which what needs.
func skipBelowCLI(t *testing.T, minimum *version.Version, what string) {
	t.Helper()
	have, err := terraformVersion()
	if err != nil {
		t.Fatal(err)
	}
	if have.LessThan(minimum) {
		t.Skipf("%s needs Terraform %s or later, %s is %s: set TF_ACC_TERRAFORM_PATH", what, minimum, testCLI(), have)
	}
}

// parallelCLITest starts a parallel test that runs testCLI itself with the
// built provider and needs at least minimum for what: it skips without
// TF_ACC or with an older CLI, and returns the CLI configuration.
func parallelCLITest(t *testing.T, minimum *version.Version, what string) string {
	t.Helper()
	skipWithoutCLI(t)
	t.Parallel()
	skipBelowCLI(t, minimum, what)
	return builtProviderCLIConfig(t)
}

// terraformVersion is the version of testCLI, read once.
var terraformVersion = sync.OnceValues(func() (*version.Version, error) {
	out, err := exec.Command(testCLI(), "version", "-json").Output()
	if err != nil {
		return nil, fmt.Errorf("terraform version: %w", err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("terraform version -json: %w", err)
	}
	return version.NewVersion(v.Version)
})

// expectRefusedWithVariables runs testCLI with args in a new workspace of
// files plus a variables file of vars, and expects it to fail saying each
// of want (in order) without sending operation to srv: a value from a
// variable that the provider refuses once it is known.
func expectRefusedWithVariables(t *testing.T, cliConfig string, srv *emulator.Server, operation string, files map[string]string, vars map[string]any, want []string, args ...string) {
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
	out, err := terraformCLI(t, cliConfig, dir, nil, append(args, "-no-color", "-var-file=refused.tfvars.json")...).CombinedOutput()
	if err == nil {
		t.Fatalf("terraform %v succeeded:\n%s", args, out)
	}
	if !errorText(want...).Match(out) {
		t.Errorf("the error does not say %q:\n%s", want, out)
	}
	if n := srv.Count(operation); n != 0 {
		t.Errorf("%d %s requests sent, want none", n, operation)
	}
}

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

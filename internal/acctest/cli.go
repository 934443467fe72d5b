package acctest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// CLI is the CLI every test runs: the binary TF_ACC_TERRAFORM_PATH names,
// which is also the one terraform-plugin-testing runs (OpenTofu's tofu in
// `make test-opentofu`), or else terraform on PATH. Both read the same CLI
// configuration, and resolve the source "enos-community/dataflow" on their
// own registry host, which CLIConfig's dev_overrides match either way.
func CLI() string {
	if path := os.Getenv("TF_ACC_TERRAFORM_PATH"); path != "" {
		return path
	}
	return "terraform"
}

// RequireCLI fails the test when CLI is missing. Without it,
// terraform-plugin-testing would try to download the latest Terraform.
func RequireCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(CLI()); err != nil {
		t.Fatalf("this test runs the terraform CLI, and %q is not on PATH: install Terraform 1.11 or newer, or set TF_ACC_TERRAFORM_PATH (%v)", CLI(), err)
	}
}

// UnitTest runs tc with terraform-plugin-testing against CLI, whether or
// not TF_ACC is set: the tests run against the emulator, not a tenant.
func UnitTest(t *testing.T, tc resource.TestCase) {
	t.Helper()
	RequireCLI(t)
	resource.UnitTest(t, tc)
}

// ParallelUnitTest is UnitTest in parallel with the other parallel tests.
func ParallelUnitTest(t *testing.T, tc resource.TestCase) {
	t.Helper()
	t.Parallel()
	UnitTest(t, tc)
}

// cliVersion is the version of CLI, read once.
var cliVersion = sync.OnceValues(func() (*version.Version, error) {
	out, err := exec.Command(CLI(), "version", "-json").Output()
	if err != nil {
		return nil, fmt.Errorf("%s version: %w", CLI(), err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("%s version -json: %w", CLI(), err)
	}
	return version.NewVersion(v.Version)
})

// CLIVersion is the version of CLI, failing the test when it cannot be read.
func CLIVersion(t *testing.T) *version.Version {
	t.Helper()
	RequireCLI(t)
	v, err := cliVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// SkipBelowCLI skips a test that runs CLI itself when that CLI is older
// than minimum, which what needs. `make testacc-new` fails on such a skip of
// a TestAccNew* test.
func SkipBelowCLI(t *testing.T, minimum *version.Version, what string) {
	t.Helper()
	if have := CLIVersion(t); have.LessThan(minimum) {
		t.Skipf("%s needs Terraform %s or later, %s is %s: set TF_ACC_TERRAFORM_PATH", what, minimum, CLI(), have)
	}
}

// ParallelCLITest starts a parallel test that runs CLI itself with the
// built provider and needs at least minimum for what: it skips with an
// older CLI, and returns the CLI configuration.
func ParallelCLITest(t *testing.T, minimum *version.Version, what string) string {
	t.Helper()
	t.Parallel()
	SkipBelowCLI(t, minimum, what)
	return CLIConfig(t)
}

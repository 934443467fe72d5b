package provider

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/hashicorp/go-version"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// TestExamplesValidate runs `terraform validate` on every directory under
// examples/ that holds Terraform files, against the provider built from this
// tree, so the documentation and `make demo` never show a configuration that
// does not validate.
func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cliConfig := acctest.CLIConfig(t)

	dirs := exampleDirs(t, filepath.Join(root, "examples"))
	if len(dirs) == 0 {
		t.Fatal("no example directories found under examples/")
	}
	for _, dir := range dirs {
		name, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			t.Parallel()
			// action and list blocks (and query files) need Terraform 1.14.
			if slashed := filepath.ToSlash(name); strings.HasPrefix(slashed, "examples/actions/") || strings.HasPrefix(slashed, "examples/list-resources/") || holdsQueryFile(t, dir) {
				acctest.SkipBelowCLI(t, tfversion.Version1_14_0, "an action or list resource example")
			}
			if out, err := terraformValidate(t, cliConfig, dir); err != nil {
				t.Fatalf("terraform validate: %v\n%s", err, out)
			}
		})
	}

	// Guards the harness itself: if the provider were not loaded, or validate
	// not run, every example above would pass vacuously.
	t.Run("an invalid configuration is rejected", func(t *testing.T) {
		t.Parallel()
		expectUnknownArgumentRejected(t, cliConfig, "main.tf", acctest.RequiredProvidersBlock+`
resource "dataflow_flow_trigger" "run" {
  flow_id          = 1001
  no_such_argument = true
}
`)
	})
	// The same for query files: without -query, validate would not read them.
	t.Run("an invalid query file is rejected", func(t *testing.T) {
		t.Parallel()
		acctest.SkipBelowCLI(t, tfversion.Version1_14_0, "a query file")
		expectUnknownArgumentRejected(t, cliConfig, "runs"+queryFileSuffix, `
list "dataflow_flow_trigger" "runs" {
  provider = dataflow
  config {
    flow_id          = 1001
    no_such_argument = true
  }
}
`)
	})
}

// TestExamplesTerraformTest runs the testing guide's `terraform test` file
// (`tofu test` in make test-opentofu) against the emulator, as the guide
// tells users to in their CI: the module applies, the run succeeds, the
// assertions hold and the test's destroy leaves no state behind.
func TestExamplesTerraformTest(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	root, err := filepath.Abs(filepath.Join("..", "..", "examples", "guides", "testing"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	env := []string{"ENOS_ENDPOINT=" + srv.URL, "ENOS_ACCESS_KEY=" + emulator.DefaultAccessKey, "ENOS_SECRET_KEY=" + emulator.DefaultSecretKey,
		"ENOS_ORG_ID=" + emulator.DefaultOrgID, "ENOS_USER_ID=" + emulator.DefaultUserID}
	out, err := acctest.Command(t, acctest.CLIConfig(t), dir, env, "test", "-no-color").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 passed, 0 failed") {
		t.Fatalf("terraform test: %v\n%s", err, out)
	}
	if runs := srv.Instances(); len(runs) != 1 || runs[0].Status != 1 {
		t.Errorf("runs %+v, want one that succeeded", runs)
	}
}

// holdsQueryFile reports whether dir holds a query file.
func holdsQueryFile(t *testing.T, dir string) bool {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+queryFileSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return len(matches) > 0
}

// expectUnknownArgumentRejected validates a directory holding only the
// file name with content, which sets an unknown argument, and fails the
// test unless terraformValidate rejects it for that argument.
func expectUnknownArgumentRejected(t *testing.T, cliConfig, name, content string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := terraformValidate(t, cliConfig, dir)
	if err == nil {
		t.Fatalf("terraform validate accepted an unknown argument in %s:\n%s", name, out)
	}
	if !strings.Contains(out, "Unsupported argument") {
		t.Fatalf("terraform validate failed for another reason than the unknown argument in %s: %v\n%s", name, err, out)
	}
}

// queryFileSuffix ends the files of `terraform query` (list blocks), which
// `terraform validate -query` checks.
const queryFileSuffix = ".tfquery.hcl"

// exampleDirs lists the directories under examplesRoot that hold .tf or
// .tfquery.hcl files.
func exampleDirs(t *testing.T, examplesRoot string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(examplesRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			tf, _ := filepath.Glob(filepath.Join(path, "*.tf"))
			query, _ := filepath.Glob(filepath.Join(path, "*"+queryFileSuffix))
			if len(tf)+len(query) > 0 {
				dirs = append(dirs, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// terraformValidate copies the files of dir (not its subdirectories, which
// are examples of their own) to a temporary directory, so that nothing is
// written to the work tree, and runs `terraform validate` there (with
// -query when there are query files).
func terraformValidate(t *testing.T, cliConfig, dir string) (string, error) {
	t.Helper()
	work := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	declaresSource, hasQueries := false, false
	for _, e := range entries {
		if !e.Type().IsRegular() || !terraformReads(t, e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
		declaresSource = declaresSource || (strings.HasSuffix(e.Name(), ".tf") && strings.Contains(string(data), "required_providers"))
		hasQueries = hasQueries || strings.HasSuffix(e.Name(), queryFileSuffix)
	}
	// Documentation snippets usually do not declare the provider's source;
	// without it Terraform would look for hashicorp/dataflow.
	if !declaresSource {
		if err := os.WriteFile(filepath.Join(work, "zz_required_providers.tf"), []byte(acctest.RequiredProvidersBlock), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"validate", "-no-color"}
	if hasQueries {
		args = append(args, "-query")
	}
	out, err := acctest.Command(t, cliConfig, work, nil, args...).CombinedOutput()
	return string(out), err
}

// examplesNeedingTerraform are the example files that an older terraform
// rejects, with the version they need.
var examplesNeedingTerraform = map[string]*version.Version{
	// import blocks with identity
	"import-by-identity.tf": version.Must(version.NewVersion("1.12.0")),
}

// terraformReads reports whether the terraform under test can read the
// example file name; `make testacc-new` validates the others.
func terraformReads(t *testing.T, name string) bool {
	t.Helper()
	need, ok := examplesNeedingTerraform[name]
	if !ok {
		return true
	}
	return acctest.CLIVersion(t).GreaterThanOrEqual(need)
}

package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parallelism is terraform's default, passed explicitly so that the ideal
// figures below rest on it.
const parallelism = 10

// workspace holds the provider binary built once, the CLI configuration
// that points terraform at it, and a directory per terraform run.
type workspace struct {
	root        string
	binary      string // the provider as built
	cliConfig   string
	floorConfig string // the CLI configuration that installs the floor instead
	rssDir      string // one file per provider process, named kind.pid: its peak RSS in KiB
	runs        int
	floorDirs   map[string]bool    // the directories whose runs use the floor
	rows        map[string]rowName // the row each directory's commands count for
	memory      []memoryRow        // by row, in the order first run
}

// floorSource is the floor's part of the provider's main package.
//
//go:embed floor_provider.go
var floorSource []byte

// profileSource is the profiled provider's part of its main package.
//
//go:embed profile_provider.go
var profileSource []byte

// floorServed is the call in the provider's main.go that the floor wraps.
const floorServed = "provider.NewProtocol6Server(provider.New(version)())"

// wrapInFloor makes main.go serve the like-for-like floor: benchFloor
// wrapped around the provider, served exactly as main.go serves it.
func wrapInFloor(mainGo []byte) ([]byte, error) {
	if bytes.Count(mainGo, []byte(floorServed)) != 1 {
		return nil, fmt.Errorf("main.go no longer serves %s once: update wrapInFloor", floorServed)
	}
	return bytes.Replace(mainGo, []byte(floorServed), []byte("provider.NewProtocol6Server(benchFloor(provider.New(version)()))"), 1), nil
}

// buildOverlay builds the provider's own main package from repo with more
// files in it (sources: build tag to the file compiled with it) and main.go
// as editMain leaves it (nil: unchanged): an overlay, so nothing in repo
// changes. dir holds the overlay's files.
func buildOverlay(repo, dir, binary string, sources map[string][]byte, editMain func([]byte) ([]byte, error)) error {
	mainGo, err := filepath.Abs(filepath.Join(repo, "main.go"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{}
	var tags []string
	for tag, source := range sources {
		name := "zz_" + tag + ".go"
		files[filepath.Join(filepath.Dir(mainGo), name)] = filepath.Join(dir, name)
		if err := os.WriteFile(filepath.Join(dir, name), source, 0o644); err != nil {
			return err
		}
		tags = append(tags, tag)
	}
	if editMain != nil {
		src, err := os.ReadFile(mainGo)
		if err != nil {
			return err
		}
		if src, err = editMain(src); err != nil {
			return err
		}
		files[mainGo] = filepath.Join(dir, "main.go")
		if err := os.WriteFile(files[mainGo], src, 0o644); err != nil {
			return err
		}
	}
	overlay, err := json.Marshal(map[string]any{"Replace": files})
	if err != nil {
		return err
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return err
	}
	slices.Sort(tags)
	build := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-overlay", overlayFile, "-o", binary, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the provider with %s in %s: %w\n%s", strings.Join(tags, ", "), repo, err, out)
	}
	return nil
}

// newWorkspace builds the provider from repo and installs it through
// dev_overrides behind a wrapper that records each process's peak memory
// (GNU time's %M, the kernel's maxrss), so no `terraform init` is needed.
func newWorkspace(repo string) (*workspace, error) {
	root, err := os.MkdirTemp("", "dataflow-bench-")
	if err != nil {
		return nil, err
	}
	w := &workspace{
		root:        root,
		binary:      filepath.Join(root, "bin", "terraform-provider-dataflow"),
		cliConfig:   filepath.Join(root, "terraform.tfrc"),
		floorConfig: filepath.Join(root, "floor.tfrc"),
		rssDir:      filepath.Join(root, "rss"),
		floorDirs:   map[string]bool{},
		rows:        map[string]rowName{},
	}
	build := exec.Command("go", "build", "-o", w.binary, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the provider: %w\n%s", err, out)
	}
	floorDir := filepath.Join(root, "floor")
	floorBinary := filepath.Join(floorDir, "terraform-provider-dataflow")
	for _, dir := range []string{w.rssDir, floorDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	if err := buildOverlay(repo, floorDir, floorBinary, map[string][]byte{"benchfloor": floorSource}, wrapInFloor); err != nil {
		return nil, err
	}
	if err := w.install(w.binary, providerKind, "plugins", w.cliConfig); err != nil {
		return nil, err
	}
	return w, w.install(floorBinary, floorKind, "floor-plugins", w.floorConfig)
}

// install points a CLI configuration's dev_overrides at binary, behind the
// wrapper that records peak memory under kind.
func (w *workspace) install(binary, kind, pluginDir, cliConfig string) error {
	plugins := filepath.Join(w.root, pluginDir)
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return err
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec /usr/bin/time -f %%M -o %q/%s.$$ %q \"$@\"\n", w.rssDir, kind, binary)
	if err := os.WriteFile(filepath.Join(plugins, "terraform-provider-dataflow"), []byte(wrapper), 0o755); err != nil {
		return err
	}
	cli := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "enos-community/dataflow" = %q
  }
  direct {}
}
`, plugins)
	return os.WriteFile(cliConfig, []byte(cli), 0o644)
}

func (w *workspace) Close() error { return os.RemoveAll(w.root) }

// newDir writes files into a fresh directory for the terraform commands of
// row.
func (w *workspace) newDir(row rowName, files map[string]string) (string, error) {
	w.runs++
	dir := filepath.Join(w.root, fmt.Sprintf("%03d-%s", w.runs, slug(row.String())))
	w.rows[dir] = row
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for file, content := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// newFloorDir is newDir for runs of the floor provider.
func (w *workspace) newFloorDir(row rowName, files map[string]string) (string, error) {
	dir, err := w.newDir(row, files)
	w.floorDirs[dir] = true
	return dir, err
}

// terraform runs one terraform command in dir, with the provider its
// directory was made for, and returns its wall time and output.
func (w *workspace) terraform(dir string, args ...string) (time.Duration, string, error) {
	cliConfig := w.cliConfig
	if w.floorDirs[dir] {
		cliConfig = w.floorConfig
	}
	return w.run(dir, w.rows[dir], cliConfig, nil, args...)
}

// run runs one terraform command in dir with the provider cliConfig
// installs and env added to the environment, and adds its peak memory to
// row.
func (w *workspace) run(dir string, row rowName, cliConfig string, env []string, args ...string) (time.Duration, string, error) {
	cmd := exec.Command("terraform", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE="+cliConfig), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if memErr := w.recordMemory(row, cmd); err == nil && memErr != nil {
		return took, out.String(), memErr
	}
	if err != nil {
		return took, out.String(), fmt.Errorf("terraform %s in %s: %w\n%s", strings.Join(args, " "), dir, err, tail(out.String(), 40))
	}
	return took, out.String(), nil
}

// apply runs terraform apply with the given -parallelism and extra flags.
func (w *workspace) apply(dir string, parallel int, extra ...string) (time.Duration, error) {
	args := append([]string{"apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(parallel)}, extra...)
	took, _, err := w.terraform(dir, args...)
	return took, err
}

func planArgs() []string {
	return []string{"plan", "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(parallelism)}
}

func (w *workspace) plan(dir string) (time.Duration, string, error) {
	return w.terraform(dir, planArgs()...)
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// profileDirVar is the variable profile_provider.go reads in the provider
// process (the two are compiled apart, so each names it).
const profileDirVar = "DATAFLOW_BENCH_CPUPROFILE"

// profiledBuild is a build of the provider that writes a CPU profile when
// profileDirVar is set, installed through its own CLI configuration.
type profiledBuild struct {
	Name      string // "current", "floor", or the baseline's revision
	floor     bool   // the like-for-like floor, which calls nothing
	cliConfig string
}

// buildProfiled builds the provider of repo with profile_provider.go in its
// main package; floor builds the like-for-like floor so.
func (w *workspace) buildProfiled(repo, name string, floor bool) (profiledBuild, error) {
	dir := filepath.Join(w.root, "profiled-"+name)
	binary := filepath.Join(dir, "terraform-provider-dataflow")
	b := profiledBuild{Name: name, floor: floor, cliConfig: filepath.Join(w.root, "profiled-"+name+".tfrc")}
	sources := map[string][]byte{"benchprofile": profileSource}
	var editMain func([]byte) ([]byte, error)
	if floor {
		sources["benchfloor"], editMain = floorSource, wrapInFloor
	}
	if err := buildOverlay(repo, dir, binary, sources, editMain); err != nil {
		return b, err
	}
	return b, w.install(binary, profiledKind, "profiled-plugins-"+name, b.cliConfig)
}

// buildBaseline builds the profiled provider of an earlier revision of
// repo, from its `git archive`, so that before and after are measured in
// one run.
func (w *workspace) buildBaseline(repo, rev string) (profiledBuild, error) {
	src := filepath.Join(w.root, "baseline-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return profiledBuild{}, err
	}
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", repo, rev, src)
	if out, err := archive.CombinedOutput(); err != nil {
		return profiledBuild{}, fmt.Errorf("git archive %s: %w\n%s", rev, err, out)
	}
	return w.buildProfiled(src, rev, false)
}

// cpuProfile sums up the CPU profile of the provider processes of one
// terraform command.
type cpuProfile struct {
	Build  string
	Wall   time.Duration // of the command
	CPU    time.Duration // sampled CPU time of its provider processes
	Areas  []share       // flat CPU time by where the function is from
	Own    time.Duration // samples with this provider's code anywhere on the stack
	TopOwn []share       // this provider's functions by cumulative time
}

type share struct {
	Name string
	CPU  time.Duration
}

// profilePlan runs terraform plan in dir with the profiled build and sums
// up its provider process's profile.
func (w *workspace) profilePlan(dir string, b profiledBuild) (cpuProfile, error) {
	return w.profileCommand(dir, rowName{"CPU-profiled plan (" + b.Name + ")", w.rows[dir].N}, b, planArgs()...)
}

// profileApply runs terraform apply in dir, made for row, with the
// profiled build and sums up the profiles of its provider processes.
func (w *workspace) profileApply(dir string, row rowName, b profiledBuild) (cpuProfile, error) {
	return w.profileCommand(dir, row, b, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism="+strconv.Itoa(parallelism))
}

func (w *workspace) profileCommand(dir string, row rowName, b profiledBuild, args ...string) (cpuProfile, error) {
	chunks := filepath.Join(w.root, fmt.Sprintf("profile-%s-%d", b.Name, w.runs))
	if err := os.MkdirAll(chunks, 0o755); err != nil {
		return cpuProfile{}, err
	}
	w.runs++
	wall, _, err := w.run(dir, row, b.cliConfig, []string{profileDirVar + "=" + chunks}, args...)
	if err != nil {
		return cpuProfile{}, err
	}
	p, err := summarizeProfile(chunks)
	p.Build, p.Wall = b.Name, wall
	return p, err
}

// ownPackage is the import path prefix of this provider's code.
const ownPackage = "github.com/enos-community/terraform-provider-dataflow/"

// profileAreas sort a function into where it comes from, first match wins.
var profileAreas = []struct{ name, prefix string }{
	{"this provider", ownPackage},
	{"terraform-plugin-framework", "github.com/hashicorp/terraform-plugin-framework"},
	{"terraform-plugin-go (tftypes, msgpack, tfprotov6)", "github.com/hashicorp/terraform-plugin-go"},
	{"msgpack, cty", "github.com/vmihailenco/"},
	{"gRPC, protobuf, go-plugin", "google.golang.org/"},
	{"gRPC, protobuf, go-plugin", "github.com/hashicorp/go-plugin"},
	{"gRPC, protobuf, go-plugin", "github.com/hashicorp/yamux"},
	{"terraform-plugin-log, hclog", "github.com/hashicorp/terraform-plugin-log"},
	{"terraform-plugin-log, hclog", "github.com/hashicorp/go-hclog"},
}

// goRuntime is the area of stacks that are the runtime's alone: garbage
// collection workers, the scheduler, signal handling.
const goRuntime = "Go runtime alone (GC workers, scheduler)"

func isRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/") || strings.HasPrefix(fn, "gcWriteBarrier") ||
		fn == "aeshashbody" || fn == "memeqbody" || strings.HasPrefix(fn, "indexbytebody")
}

// chargedFrame is the innermost frame of a stack (leaf first) outside the
// Go runtime, so that allocation, map and hashing work counts for the code
// that asked for it; "" when the stack is the runtime's alone.
func chargedFrame(frames []string) string {
	for _, fn := range frames {
		if !isRuntime(fn) {
			return fn
		}
	}
	return ""
}

func areaOf(function string) string {
	if function == "" {
		return goRuntime
	}
	for _, a := range profileAreas {
		if strings.HasPrefix(function, a.prefix) {
			return a.name
		}
	}
	return "Go standard library and other"
}

// errProfileTooShort says that the processes ended before their first
// chunk was complete: a plan of a few triggers, too short to profile.
var errProfileTooShort = errors.New("the processes ended within their first chunk")

// summarizeProfile merges the chunks in dir (of one or more processes) and
// sums them up.
func summarizeProfile(dir string) (cpuProfile, error) {
	var f cpuProfile
	files, err := filepath.Glob(filepath.Join(dir, "*.pprof"))
	if err != nil || len(files) == 0 {
		return f, fmt.Errorf("no CPU profile written in %s", dir)
	}
	var parts []*profile.Profile
	for _, file := range files {
		data, err := os.Open(file)
		if err != nil {
			return f, err
		}
		p, err := profile.Parse(data)
		_ = data.Close()
		if err != nil {
			continue // the chunk the process was ended in
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return f, errProfileTooShort
	}
	merged, err := profile.Merge(parts)
	if err != nil {
		return f, err
	}
	cpuIndex := len(merged.SampleType) - 1 // samples/count, cpu/nanoseconds
	areas, own := map[string]time.Duration{}, map[string]time.Duration{}
	for _, s := range merged.Sample {
		cpu := time.Duration(s.Value[cpuIndex])
		f.CPU += cpu
		frames := functions(s)
		if len(frames) == 0 {
			continue
		}
		areas[areaOf(chargedFrame(frames))] += cpu
		seen := map[string]bool{}
		for _, fn := range ownFrames(frames) {
			if !seen[fn] {
				seen[fn] = true
				own[fn] += cpu
			}
		}
		if len(seen) > 0 {
			f.Own += cpu
		}
	}
	f.Areas, f.TopOwn = sortedShares(areas, 0), sortedShares(own, 5)
	return f, nil
}

// protocolWrapper is the provider's pass-through around the framework's
// protocol server (protocol_server.go): the framework's work runs under it,
// so it is not the provider's own cost.
var protocolWrapper = []string{ownPackage + "internal/provider.releasingServer.", ownPackage + "internal/provider.withReleasedContext"}

func isWrapper(fn string) bool {
	return slices.ContainsFunc(protocolWrapper, func(w string) bool { return strings.HasPrefix(fn, w) })
}

// ownFrames are the frames of this provider's code in a stack (leaf first)
// other than the wrapper: none when the innermost frame of this provider's
// code is the wrapper, as the work is then the framework's.
func ownFrames(frames []string) []string {
	var own []string
	for _, fn := range frames {
		if !strings.HasPrefix(fn, ownPackage) {
			continue
		}
		if isWrapper(fn) {
			break
		}
		own = append(own, fn)
	}
	return own
}

// functions are the function names of a sample's stack, leaf first.
func functions(s *profile.Sample) []string {
	var names []string
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil {
				names = append(names, line.Function.Name)
			}
		}
	}
	return names
}

// sortedShares lists m by CPU time, largest first, at most limit (0: all).
func sortedShares(m map[string]time.Duration, limit int) []share {
	shares := make([]share, 0, len(m))
	for name, cpu := range m {
		shares = append(shares, share{strings.TrimPrefix(name, ownPackage), cpu})
	}
	slices.SortFunc(shares, func(a, b share) int { return cmp.Or(cmp.Compare(b.CPU, a.CPU), strings.Compare(a.Name, b.Name)) })
	if limit > 0 && len(shares) > limit {
		shares = shares[:limit]
	}
	return shares
}

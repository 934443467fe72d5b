package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// providerNoLatency names the provider's rows at 0 ms.
const providerNoLatency = "provider at 0 ms"

// Fixed parameters of the rows (the issue's).
const (
	quickTask       = time.Second      // a run of the apply rows (its three tasks in all)
	waitRuns        = 50               // runs waited for at once (the apply's -parallelism)
	waitTask        = 30 * time.Second // how long each of them runs
	waitPoll        = 10 * time.Second // their poll_interval
	rateLimitN      = 200              // triggers of the rate-limit row
	rateLimit       = 20.0             // its max_requests_per_second
	validationN     = 200              // triggers of the flow-validation row
	startupLaunches = 10
	finishLimit     = 2 * time.Minute // for quick runs to finish before the refresh row
)

// repsFor is how many applies of N triggers the provider and terraform_data
// wall times are the medians of: small applies are short and noisy, and the
// time the latency adds is a difference of two of them.
func repsFor(n int) int {
	if n < 10 {
		return 9
	}
	return 5
}

// scriptRepsFor is how many script applies of N run: they take long (minutes
// at 1000), and their ratio to the provider is far from the target.
func scriptRepsFor(n int) int {
	switch {
	case n < 10:
		return repsFor(n)
	case n < 1000:
		return 3
	}
	return 1
}

type bench struct {
	ws       *workspace
	repo     string
	baseline string // a revision of repo whose plan is profiled too; "" for none
	latency  time.Duration
	process  processFigures
}

// latencyName names the provider's rows at the set latency.
func (b *bench) latencyName(what string) string { return what + " at " + ms(b.latency) }

// triggerRun is one apply against its own emulator, which stays up until
// the caller closes it.
type triggerRun struct {
	wall     time.Duration
	requests []emulator.Request
	dir      string
	srv      *emulator.Server
}

// applyTriggers serves n flows, applies the files made for that service in
// a new directory of the row named what, and checks that the apply started
// n runs.
func (b *bench) applyTriggers(what string, n, parallel int, latency, taskTime time.Duration, files func(endpoint string) map[string]string) (*triggerRun, error) {
	srv, err := startService(latency, n, taskTime)
	if err != nil {
		return nil, err
	}
	dir, err := b.ws.newDir(rowName{what, n}, files(srv.URL))
	if err == nil {
		var wall time.Duration
		wall, err = b.ws.apply(dir, parallel)
		if started := len(srv.Instances()); err == nil && started != n {
			err = fmt.Errorf("%s: the apply started %d runs, expected %d", what, started, n)
		}
		if err == nil {
			return &triggerRun{wall: wall, requests: srv.Requests(), dir: dir, srv: srv}, nil
		}
	}
	_ = srv.Close()
	return nil, err
}

func (b *bench) applyPlain(n int) (time.Duration, string, error) {
	dir, err := b.ws.newDir(rowName{"terraform_data", n}, map[string]string{"main.tf": plainConfig(n)})
	if err != nil {
		return 0, "", err
	}
	wall, err := b.ws.apply(dir, parallelism)
	return wall, dir, err
}

// providerFiles are n triggers; skipValidation sets skip_flow_validation,
// the setting for large backfills.
func providerFiles(n int, skipValidation bool) func(string) map[string]string {
	return func(endpoint string) map[string]string {
		return map[string]string{"main.tf": triggerConfig(providerSettings{endpoint: endpoint, skipFlowValidation: skipValidation}, triggerSettings{n: n})}
	}
}

// measureSize runs the applies of n triggers and their references, reps
// times interleaved so drift hits all alike. When keep is set, the last
// provider apply at the set latency and the last terraform_data directory
// are kept for the refresh row.
func (b *bench) measureSize(n int, keep bool) (sizeFigures, *triggerRun, string, error) {
	f := sizeFigures{N: n, Reps: repsFor(n), ScriptReps: scriptRepsFor(n), Requests: map[string]int{}, RequestsNoLatency: map[string]int{}}
	var plain, provider, noLatency, script []time.Duration
	var kept *triggerRun
	var plainDir string
	for rep := range f.Reps {
		wall, dir, err := b.applyPlain(n)
		if err != nil {
			return f, nil, "", err
		}
		plain, plainDir = append(plain, wall), dir
		run, err := b.applyTriggers(b.latencyName("provider"), n, parallelism, b.latency, quickTask, providerFiles(n, true))
		if err != nil {
			return f, nil, "", err
		}
		provider = append(provider, run.wall)
		if counts := countByOperation(run.requests); total(counts) > total(f.Requests) {
			f.Requests = counts
		}
		if kept != nil {
			_ = kept.srv.Close()
		}
		kept = run
		run, err = b.applyTriggers(providerNoLatency, n, parallelism, 0, quickTask, providerFiles(n, true))
		if err != nil {
			return f, nil, "", err
		}
		_ = run.srv.Close()
		noLatency = append(noLatency, run.wall)
		if counts := countByOperation(run.requests); total(counts) > total(f.RequestsNoLatency) {
			f.RequestsNoLatency = counts
		}
		logf("N=%d apply %d/%d: terraform_data %s, provider %s, provider at 0 ms %s",
			n, rep+1, f.Reps, sec(plain[rep]), sec(provider[rep]), sec(noLatency[rep]))
		if rep >= f.ScriptReps {
			continue
		}
		run, err = b.applyTriggers(b.latencyName("script"), n, parallelism, b.latency, quickTask, func(endpoint string) map[string]string {
			return map[string]string{"main.tf": scriptConfig(endpoint, n), "trigger.sh": triggerScript}
		})
		if err != nil {
			return f, nil, "", err
		}
		_ = run.srv.Close()
		script = append(script, run.wall)
		logf("N=%d script apply %d/%d: %s", n, rep+1, f.ScriptReps, sec(run.wall))
	}
	f.Terraform, f.Provider, f.ProviderNoLatency, f.Script = median(plain), median(provider), median(noLatency), median(script)
	added := make([]time.Duration, len(provider))
	for rep := range provider {
		added[rep] = provider[rep] - noLatency[rep]
	}
	f.LatencyAdded = median(added)
	if !keep {
		_ = kept.srv.Close()
		return f, nil, "", nil
	}
	return f, kept, plainDir, nil
}

// measureRefresh plans over the kept apply once its runs have finished and
// their final status is in state (recorded by a refresh-only apply).
func (b *bench) measureRefresh(run *triggerRun, n int, plainDir string) (refreshFigures, error) {
	f := refreshFigures{N: n}
	if err := waitFinished(run.srv, n, finishLimit); err != nil {
		return f, err
	}
	if _, err := b.ws.apply(run.dir, parallelism, "-refresh-only"); err != nil {
		return f, err
	}
	run.srv.ResetRequests()
	wall, out, err := b.ws.plan(run.dir)
	if err != nil {
		return f, err
	}
	f.Plan, f.Requests, f.NoChanges = wall, countByOperation(run.srv.Requests()), strings.Contains(out, "No changes.")
	if f.TerraformPlan, _, err = b.ws.plan(plainDir); err != nil {
		return f, err
	}
	logf("plan of %d finished triggers: %s, %d requests; of %d terraform_data: %s", n, sec(f.Plan), total(f.Requests), n, sec(f.TerraformPlan))
	return f, nil
}

// applyProfileN is the size of the profiled applies: the one where the
// apply's own cost is furthest from issue 24's target.
const applyProfileN = 200

// measureProfiles profiles the provider process of a plan of dir (whose
// runs have finished and been recorded), and the provider processes of an
// apply of applyProfileN triggers, with this build, the like-for-like
// floor (which plans the same state and applies calling nothing) and, when
// set, the baseline revision's build.
func (b *bench) measureProfiles(dir string) (plans, applies []cpuProfile, err error) {
	var builds []profiledBuild
	if b.baseline != "" {
		baseline, err := b.ws.buildBaseline(b.repo, b.baseline)
		if err != nil {
			return nil, nil, err
		}
		builds = append(builds, baseline)
	}
	for _, build := range []struct {
		name  string
		floor bool
	}{{"current", false}, {"floor", true}} {
		pb, err := b.ws.buildProfiled(b.repo, build.name, build.floor)
		if err != nil {
			return nil, nil, err
		}
		builds = append(builds, pb)
	}
	if plans, err = b.profileEach(builds, func(pb profiledBuild) (cpuProfile, error) { return b.ws.profilePlan(dir, pb) }); err != nil {
		return nil, nil, err
	}
	applies, err = b.profileEach(builds, b.profileApply)
	return plans, applies, err
}

// profileApply profiles an apply of applyProfileN triggers at 0 ms with
// pb: against a fresh emulator, or, for the floor, which calls nothing, an
// endpoint that only has to be valid.
func (b *bench) profileApply(pb profiledBuild) (cpuProfile, error) {
	row := rowName{"CPU-profiled apply (" + pb.Name + ")", applyProfileN}
	endpoint := "http://127.0.0.1:9"
	var srv *emulator.Server
	if !pb.floor {
		var err error
		if srv, err = startService(0, applyProfileN, quickTask); err != nil {
			return cpuProfile{}, err
		}
		defer func() { _ = srv.Close() }()
		endpoint = srv.URL
	}
	dir, err := b.ws.newDir(row, providerFiles(applyProfileN, true)(endpoint))
	if err != nil {
		return cpuProfile{}, err
	}
	p, err := b.ws.profileApply(dir, row, pb)
	if err == nil && srv != nil && len(srv.Instances()) != applyProfileN {
		err = fmt.Errorf("the profiled apply started %d runs, expected %d", len(srv.Instances()), applyProfileN)
	}
	return p, err
}

// profileEach profiles one command per build, leaving out a build whose
// processes ended too soon to profile.
func (b *bench) profileEach(builds []profiledBuild, profile func(profiledBuild) (cpuProfile, error)) ([]cpuProfile, error) {
	var profiles []cpuProfile
	for _, pb := range builds {
		p, err := profile(pb)
		if errors.Is(err, errProfileTooShort) {
			logf("profile, %s: left out, %v", pb.Name, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		logf("profile, %s: %s CPU, %s of it in the provider's own code", p.Build, sec(p.CPU), sec(p.Own))
		profiles = append(profiles, p)
	}
	return profiles, nil
}

// measureValidation counts the requests of an apply with the default
// plan-time flow validation.
func (b *bench) measureValidation() (validationFigures, error) {
	f := validationFigures{N: validationN}
	run, err := b.applyTriggers(b.latencyName("provider with flow validation"), validationN, parallelism, b.latency, quickTask, providerFiles(validationN, false))
	if err != nil {
		return f, err
	}
	_ = run.srv.Close()
	f.Requests = countByOperation(run.requests)
	logf("flow validation, apply of %d: %d requests", validationN, total(f.Requests))
	return f, nil
}

func (b *bench) measureWait() (waitFigures, error) {
	f := waitFigures{Runs: waitRuns, TaskTime: waitTask, PollInterval: waitPoll}
	run, err := b.applyTriggers(fmt.Sprintf("waiting, -parallelism=%d, at %s", waitRuns, ms(b.latency)), waitRuns, waitRuns, b.latency, waitTask, func(endpoint string) map[string]string {
		return map[string]string{"main.tf": triggerConfig(providerSettings{endpoint: endpoint},
			triggerSettings{n: waitRuns, wait: true, pollInterval: waitPoll.String()})}
	})
	if err != nil {
		return f, err
	}
	defer run.srv.Close()
	status := requestTimes(run.requests, "flowInstances/get", "flowInstances/search")
	f.Wall, f.Requests, f.StatusRequests = run.wall, countByOperation(run.requests), len(status)
	f.BusiestInterval = busiestWindow(status, waitPoll)
	logf("wait for %d runs: %s, %d status requests, busiest poll interval %d", waitRuns, sec(f.Wall), f.StatusRequests, f.BusiestInterval)
	return f, nil
}

func (b *bench) measureRateLimit() (rateFigures, error) {
	f := rateFigures{N: rateLimitN, Limit: rateLimit}
	run, err := b.applyTriggers(fmt.Sprintf("max_requests_per_second = %g, at %s", rateLimit, ms(b.latency)), rateLimitN, parallelism, b.latency, quickTask, func(endpoint string) map[string]string {
		return map[string]string{"main.tf": triggerConfig(providerSettings{endpoint: endpoint, maxRequestsPerSecond: rateLimit},
			triggerSettings{n: rateLimitN})}
	})
	if err != nil {
		return f, err
	}
	defer run.srv.Close()
	times := requestTimes(run.requests)
	f.Wall, f.Requests = run.wall, len(times)
	f.BusiestSecond, f.BusiestTenSec = busiestWindow(times, time.Second), busiestWindow(times, 10*time.Second)
	logf("rate limit %g/s: %d requests in %s, busiest second %d", rateLimit, f.Requests, sec(f.Wall), f.BusiestSecond)
	return f, nil
}

// measure runs every row; the start-up row first, on a quiet machine.
func (b *bench) measure(sizes, floorSizes []int, spreadRuns int) (figures, error) {
	f := figures{Latency: b.latency}
	var err error
	b.process.Launches = startupLaunches
	if b.process.StartupMedian, b.process.StartupSlowest, err = startupTime(b.ws.binary, startupLaunches, true); err != nil {
		return f, err
	}
	if b.process.StartupNoMTLS, _, err = startupTime(b.ws.binary, startupLaunches, false); err != nil {
		return f, err
	}
	logf("start-up: median %s, slowest %s; without mTLS %s", ms(b.process.StartupMedian), ms(b.process.StartupSlowest), ms(b.process.StartupNoMTLS))
	largest := slices.Max(sizes)
	for _, n := range sizes {
		s, kept, plainDir, err := b.measureSize(n, n == largest)
		if err != nil {
			return f, err
		}
		f.Sizes = append(f.Sizes, s)
		if kept != nil {
			f.Refresh, err = b.measureRefresh(kept, n, plainDir)
			if err == nil {
				f.Profiles, f.ApplyProfiles, err = b.measureProfiles(kept.dir)
			}
			_ = kept.srv.Close()
			if err != nil {
				return f, err
			}
		}
	}
	for _, n := range floorSizes {
		fl, err := b.measureFloor(n)
		if err != nil {
			return f, err
		}
		f.Floor = append(f.Floor, fl)
	}
	if f.Unfinished, err = b.measureUnfinished(spreadRuns); err != nil {
		return f, err
	}
	if f.Validation, err = b.measureValidation(); err != nil {
		return f, err
	}
	if f.Wait, err = b.measureWait(); err != nil {
		return f, err
	}
	if f.Rate, err = b.measureRateLimit(); err != nil {
		return f, err
	}
	f.Process = b.process
	f.Process.Memory = b.ws.memory
	return f, nil
}

func median(ds []time.Duration) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// The rows of issue 16.
const (
	unfinishedFlows  = 10
	unfinishedSpread = 72 * time.Hour
	unfinishedTask   = 2 * time.Hour          // outlasts the bench: the runs stay unfinished
	finishedTask     = 100 * time.Millisecond // runs of one flow queue: 100 of them finish in seconds
	spreadLimit      = 5 * time.Minute
)

// floorRepsFor is how many applies and plans of n the floor rows take the
// medians of: one apply of 5000 takes minutes, and its spread is small
// next to the 15% the target allows.
func floorRepsFor(n int) int {
	if n > 1000 {
		return 1
	}
	return 3
}

// measureFloor applies and plans n finished triggers with the provider (at
// 0 ms), the floor and terraform_data, interleaved.
func (b *bench) measureFloor(n int) (floorFigures, error) {
	f := floorFigures{N: n, Reps: floorRepsFor(n)}
	var plain, floor, provider []time.Duration
	var plainDir, floorDir string
	var kept *triggerRun
	defer func() {
		if kept != nil {
			_ = kept.srv.Close()
		}
	}()
	for rep := range f.Reps {
		wall, dir, err := b.applyPlain(n)
		if err != nil {
			return f, err
		}
		plain, plainDir = append(plain, wall), dir
		// The floor calls nothing; its endpoint only has to be valid.
		if floorDir, err = b.ws.newFloorDir(rowName{"floor", n}, providerFiles(n, true)("http://127.0.0.1:9")); err != nil {
			return f, err
		}
		if wall, err = b.ws.apply(floorDir, parallelism); err != nil {
			return f, err
		}
		floor = append(floor, wall)
		run, err := b.applyTriggers(providerNoLatency, n, parallelism, 0, quickTask, providerFiles(n, true))
		if err != nil {
			return f, err
		}
		provider = append(provider, run.wall)
		if kept != nil {
			_ = kept.srv.Close()
		}
		kept = run
		logf("floor N=%d apply %d/%d: terraform_data %s, floor %s, provider at 0 ms %s", n, rep+1, f.Reps, sec(plain[rep]), sec(floor[rep]), sec(provider[rep]))
	}
	f.Terraform, f.Floor, f.Provider = median(plain), median(floor), median(provider)
	if err := b.finishAndRecord(kept, n, finishLimit); err != nil {
		return f, err
	}
	plain, floor, provider = nil, nil, nil
	for range f.Reps {
		for _, p := range []struct {
			dir   string
			walls *[]time.Duration
		}{{plainDir, &plain}, {floorDir, &floor}, {kept.dir, &provider}} {
			wall, _, err := b.ws.plan(p.dir)
			if err != nil {
				return f, err
			}
			*p.walls = append(*p.walls, wall)
		}
	}
	f.TerraformPlan, f.FloorPlan, f.ProviderPlan = median(plain), median(floor), median(provider)
	logf("floor N=%d plan: terraform_data %s, floor %s, provider %s", n, sec(f.TerraformPlan), sec(f.FloorPlan), sec(f.ProviderPlan))
	return f, nil
}

// finishAndRecord waits for the runs of an apply to finish and records
// their final status in its state with a refresh-only apply.
func (b *bench) finishAndRecord(run *triggerRun, n int, limit time.Duration) error {
	if err := waitFinished(run.srv, n, limit); err != nil {
		return err
	}
	_, err := b.ws.apply(run.dir, parallelism, "-refresh-only")
	return err
}

// measureUnfinished plans over unfinishedN runs spread over flows and days
// while they are all unfinished, and over the same configuration once its
// runs have finished.
func (b *bench) measureUnfinished(unfinishedN int) (unfinishedFigures, error) {
	f := unfinishedFigures{N: unfinishedN, Flows: unfinishedFlows, Spread: unfinishedSpread}
	files := func(endpoint string) map[string]string {
		return map[string]string{"main.tf": triggerConfig(providerSettings{endpoint: endpoint, skipFlowValidation: true},
			triggerSettings{n: unfinishedN, flows: unfinishedFlows, spread: unfinishedSpread})}
	}
	finished, err := b.applyTriggers(b.latencyName("spread runs, finished"), unfinishedN, parallelism, b.latency, finishedTask, files)
	if err != nil {
		return f, err
	}
	defer finished.srv.Close()
	if err := b.finishAndRecord(finished, unfinishedN, spreadLimit); err != nil {
		return f, err
	}
	if f.FinishedPlan, _, err = b.ws.plan(finished.dir); err != nil {
		return f, err
	}
	unfinished, err := b.applyTriggers(b.latencyName("spread runs, unfinished"), unfinishedN, parallelism, b.latency, unfinishedTask, files)
	if err != nil {
		return f, err
	}
	defer unfinished.srv.Close()
	keys := map[[2]int64]bool{}
	for _, in := range unfinished.srv.Instances() {
		if !enos.Status(in.Status).Terminal() {
			f.Unfinished++
			keys[[2]int64{in.FlowID, in.TriggerTime.Unix() / 3600}] = true
		}
	}
	f.FlowHours = len(keys)
	unfinished.srv.ResetRequests()
	if f.UnfinishedPlan, _, err = b.ws.plan(unfinished.dir); err != nil {
		return f, err
	}
	f.Requests = countByOperation(unfinished.srv.Requests())
	logf("plan of %d spread runs: finished %s; %d unfinished in %d (flow, hour) pairs %s, %d requests",
		unfinishedN, sec(f.FinishedPlan), f.Unfinished, f.FlowHours, sec(f.UnfinishedPlan), total(f.Requests))
	return f, nil
}

package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// sizeFigures are the applies of N triggers and their references.
type sizeFigures struct {
	N                 int
	Reps              int            // wall times are the median of this many applies
	ScriptReps        int            // and the script's of this many
	Terraform         time.Duration  // N terraform_data
	Provider          time.Duration  // N triggers at the set latency
	ProviderNoLatency time.Duration  // N triggers at 0 ms
	LatencyAdded      time.Duration  // median over the reps of each one's provider apply at the latency minus at 0 ms
	Script            time.Duration  // N terraform_data with the local-exec script, at the set latency
	Requests          map[string]int // per operation, provider at the set latency (the largest count of the reps)
	RequestsNoLatency map[string]int // the same at 0 ms
}

// validationFigures are an apply with the default plan-time flow
// validation, one flow per trigger.
type validationFigures struct {
	N        int
	Requests map[string]int
}

// waitFigures are the apply that waits for many long runs.
type waitFigures struct {
	Runs            int
	TaskTime        time.Duration
	PollInterval    time.Duration
	Wall            time.Duration
	StatusRequests  int // flowInstances get and search
	BusiestInterval int // status requests in the busiest poll interval
	Requests        map[string]int
}

// refreshFigures are terraform plan over finished triggers.
type refreshFigures struct {
	N             int
	Plan          time.Duration
	TerraformPlan time.Duration // plan of N terraform_data
	Requests      map[string]int
	NoChanges     bool
}

// rateFigures are an apply under max_requests_per_second.
type rateFigures struct {
	N             int
	Limit         float64
	Wall          time.Duration
	Requests      int
	BusiestSecond int
	BusiestTenSec int
}

// processFigures are the provider process's own start-up and memory.
type processFigures struct {
	StartupMedian, StartupSlowest time.Duration
	StartupNoMTLS                 time.Duration // median without go-plugin's automatic mTLS
	Launches                      int
	Memory                        []memoryRow // peak memory of each row's processes
}

// floorFigures are applies and plans (refresh) of N finished triggers by
// the provider at 0 ms, the like-for-like floor and terraform_data.
type floorFigures struct {
	N, Reps                                int
	Terraform, Floor, Provider             time.Duration // applies
	TerraformPlan, FloorPlan, ProviderPlan time.Duration // plans
}

// maxOwnToFloorApply is issue 24's target for an apply's own cost against
// the floor's, the floor's state filled as the provider's.
const maxOwnToFloorApply = 0.8

// ownRatio is the provider's cost beyond terraform ÷ the floor's.
func ownRatio(provider, floor, terraform time.Duration) float64 {
	return (provider - terraform).Seconds() / (floor - terraform).Seconds()
}

// unfinishedFigures are plans of N runs spread over flows and days.
type unfinishedFigures struct {
	N, Flows       int
	Spread         time.Duration
	FinishedPlan   time.Duration // the same configuration once every run finished
	UnfinishedPlan time.Duration
	Unfinished     int // runs unfinished at the plan
	FlowHours      int // (flow, trigger hour) pairs with unfinished runs
	Requests       map[string]int
}

type figures struct {
	Floor      []floorFigures
	Unfinished unfinishedFigures
	Latency    time.Duration
	Sizes      []sizeFigures
	Validation validationFigures
	Wait       waitFigures
	Refresh    refreshFigures
	Profiles   []cpuProfile // of the plan of Refresh.N finished runs
	// ApplyProfiles are of an apply of applyProfileN triggers at 0 ms.
	ApplyProfiles []cpuProfile
	Rate          rateFigures
	Process       processFigures
}

type verdict string

const (
	pass     verdict = "pass"
	fail     verdict = "**FAIL**"
	reported verdict = "reported"
)

func check(ok bool) verdict {
	if ok {
		return pass
	}
	return fail
}

type row struct {
	Measure, Measured, Target string
	Result                    verdict
}

// idealLatency is what the latency must add to an apply of n triggers:
// n ÷ parallelism rounds of one request each (the trigger; an answered run
// absent from its hour's snapshot needs no read-back), plus the token, the
// time zone and the hour snapshot.
func idealLatency(n int, latency time.Duration) time.Duration {
	rounds := (n + parallelism - 1) / parallelism
	return time.Duration(rounds+3) * latency
}

// total sums the counts.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// maxRequestsPerTrigger is the target for the requests of an apply other
// than its read-back searches: at most 1% above one request per trigger,
// but a small apply needs its token and time zone calls too.
func maxRequestsPerTrigger(n int) float64 { return math.Max(1.01, 1+2/float64(n)) }

// readBackOperations are the requests that search or read runs in an apply
// without waiting: the hour snapshot before the sends, and any read-back of
// an answer.
var readBackOperations = []string{"flowInstances/search", "flowInstances/get"}

// Operations of the requests table.
const (
	triggerOperation         = "flows/updateAndTrigger"
	tokenOperation           = "token/get"
	timeOperations           = "time/" // the time zone and the service's clock
	searchOperation          = "flowInstances/search"
	maxRequestsWithReadBacks = 1.1 // per trigger, issue 24, from N = 200 on
)

// timeRequests counts the requests for the service's time zone and clock.
func timeRequests(counts map[string]int) int {
	n := 0
	for op, c := range counts {
		if strings.HasPrefix(op, timeOperations) {
			n += c
		}
	}
	return n
}

// readBacks counts the read-back requests among counts.
func readBacks(counts map[string]int) int {
	n := 0
	for _, op := range readBackOperations {
		n += counts[op]
	}
	return n
}

// busiestWindow counts the most of times falling in any window of length w.
func busiestWindow(times []time.Time, w time.Duration) int {
	sorted := slices.SortedFunc(slices.Values(times), func(a, b time.Time) int { return a.Compare(b) })
	best, first := 0, 0
	for last, t := range sorted {
		for t.Sub(sorted[first]) >= w {
			first++
		}
		best = max(best, last-first+1)
	}
	return best
}

func (f figures) rows() []row {
	var rows []row
	lat := ms(f.Latency)
	for _, s := range f.Sizes {
		readBacks := readBacks(s.Requests)
		others := float64(total(s.Requests)-readBacks) / float64(s.N)
		limit := maxRequestsPerTrigger(s.N)
		rows = append(rows, row{
			Measure:  fmt.Sprintf("API requests per trigger but the run searches, apply of %d (%s, skip_flow_validation = true)", s.N, lat),
			Measured: fmt.Sprintf("%.3f (%s)", others, breakdown(s.Requests)),
			Target:   fmt.Sprintf("≤ %.2f, flows/updateAndTrigger exactly %d", limit, s.N),
			Result:   check(others <= limit && s.Requests["flows/updateAndTrigger"] == s.N),
		}, row{
			Measure:  fmt.Sprintf("Run searches per trigger (the hour snapshot, read-backs), apply of %d (%s)", s.N, lat),
			Measured: fmt.Sprintf("%.3f (%d)", float64(readBacks)/float64(s.N), readBacks),
			Target:   "≤ 1: searches shared by the triggers read back together (see Method)",
			Result:   check(readBacks <= s.N),
		}, requestsWithReadBacksRow(s, lat))
	}
	v := f.Validation
	rows = append(rows, row{
		Measure:  fmt.Sprintf("API requests per trigger, apply of %d (%s) with the default flow validation", v.N, lat),
		Measured: fmt.Sprintf("%.3f (%s)", float64(total(v.Requests))/float64(v.N), breakdown(v.Requests)),
		Target:   "reported: one flows/get per distinct flow in each of the plan and apply processes",
		Result:   reported,
	})
	for _, s := range f.Sizes {
		provider, script := s.Provider-s.Terraform, s.Script-s.Terraform
		ratio := provider.Seconds() / script.Seconds()
		r := row{
			Measure:  fmt.Sprintf("Apply beyond terraform, provider ÷ script, N = %d (%s)", s.N, lat),
			Measured: fmt.Sprintf("%s ÷ %s = %.3f", sec(provider), sec(script), ratio),
			Target:   "≤ 0.2",
			Result:   check(script > 0 && ratio <= 0.2),
		}
		if s.N < 200 {
			r.Target, r.Result = "≤ 0.2 at N = 200 and 1000", reported
		}
		rows = append(rows, r)
	}
	for _, s := range f.Sizes {
		added, ideal := s.LatencyAdded, idealLatency(s.N, f.Latency)
		ratio := added.Seconds() / ideal.Seconds()
		rows = append(rows, row{
			Measure:  fmt.Sprintf("Time the latency adds (%s − 0 ms), N = %d", lat, s.N),
			Measured: fmt.Sprintf("%s vs ideal %s = %.2f×", ms(added), ms(ideal), ratio),
			Target:   "≤ 1.25 × ideal",
			Result:   check(ratio <= 1.25),
		})
	}
	for _, s := range f.Sizes {
		own := (s.ProviderNoLatency - s.Terraform) / time.Duration(s.N)
		rows = append(rows, row{
			Measure:  fmt.Sprintf("Provider's own cost per resource at 0 ms beyond terraform, N = %d", s.N),
			Measured: fmt.Sprintf("%s (terraform_data: %s)", ms(own), ms(s.Terraform/time.Duration(s.N))),
			Target:   "low; nothing per call that could be done once per process",
			Result:   reported,
		})
	}
	rf := f.Refresh
	rows = append(rows, row{
		Measure:  fmt.Sprintf("terraform plan (refresh) of %d finished triggers: API requests", rf.N),
		Measured: fmt.Sprintf("%d in %s (%d terraform_data: %s)%s", total(rf.Requests), sec(rf.Plan), rf.N, sec(rf.TerraformPlan), planNote(rf)),
		Target:   "0",
		Result:   check(total(rf.Requests) == 0 && rf.NoChanges),
	})
	w := f.Wait
	rows = append(rows, row{
		Measure: fmt.Sprintf("Waiting: %d runs of %s, poll_interval %s: status requests in the busiest poll interval",
			w.Runs, w.TaskTime, w.PollInterval),
		Measured: fmt.Sprintf("%d (%d over the %s apply, %.1f per run: %s)", w.BusiestInterval, w.StatusRequests, sec(w.Wall),
			float64(w.StatusRequests)/float64(w.Runs), breakdown(w.Requests)),
		Target: fmt.Sprintf("< %d (the runs waiting)", w.Runs),
		Result: check(w.BusiestInterval < w.Runs),
	})
	ra := f.Rate
	rows = append(rows, row{
		Measure: fmt.Sprintf("max_requests_per_second = %g, apply of %d (%s): requests in the busiest second", ra.Limit, ra.N, lat),
		Measured: fmt.Sprintf("%d (busiest 10 s: %.1f/s; %d requests in %s)", ra.BusiestSecond,
			float64(ra.BusiestTenSec)/10, ra.Requests, sec(ra.Wall)),
		Target: fmt.Sprintf("≤ %g", ra.Limit),
		Result: check(float64(ra.BusiestSecond) <= ra.Limit),
	})
	rows = append(rows, f.floorRows()...)
	rows = append(rows, memoryTarget(f.Process.Memory))
	p := f.Process
	rows = append(rows,
		row{
			Measure: "Provider start-up: exec to the GetProviderSchema answer",
			Measured: fmt.Sprintf("%s median, %s slowest of %d (without go-plugin's automatic mTLS: %s median)",
				ms(p.StartupMedian), ms(p.StartupSlowest), p.Launches, ms(p.StartupNoMTLS)),
			Target: "median < 100 ms",
			Result: check(p.StartupMedian < 100*time.Millisecond),
		})
	return rows
}

// requestsWithReadBacksRow is issue 24's target for all the requests of an
// apply, read-backs included.
func requestsWithReadBacksRow(s sizeFigures, lat string) row {
	perTrigger := float64(total(s.Requests)) / float64(s.N)
	r := row{
		Measure:  fmt.Sprintf("API requests per trigger, read-backs included, apply of %d (%s)", s.N, lat),
		Measured: fmt.Sprintf("%.3f (%d for %d triggers)", perTrigger, total(s.Requests), s.N),
		Target:   fmt.Sprintf("≤ %g", maxRequestsWithReadBacks),
		Result:   check(perTrigger <= maxRequestsWithReadBacks),
	}
	if s.N < 200 {
		r.Target, r.Result = fmt.Sprintf("≤ %g at N = 200 and 1000", maxRequestsWithReadBacks), reported
	}
	return r
}

// Issue 24's memory target: the provider process at N = memoryTargetN.
const (
	memoryTargetN   = 5000
	memoryTargetKiB = 64 * 1024
)

// memoryTarget judges the provider processes of the rows of memoryTargetN
// triggers; a run without such rows reports its largest N instead.
func memoryTarget(memory []memoryRow) row {
	var sizes []int
	for _, m := range memory {
		if m.Provider.Processes > 0 {
			sizes = append(sizes, m.N)
		}
	}
	n := 0
	if slices.Contains(sizes, memoryTargetN) {
		n = memoryTargetN
	} else if len(sizes) > 0 {
		n = slices.Max(sizes)
	}
	var provider processPeak
	var floorKiB int
	var largestCLI memoryRow
	for _, m := range memory {
		if m.N != n {
			continue
		}
		provider.KiB, provider.Processes = max(provider.KiB, m.Provider.KiB), provider.Processes+m.Provider.Processes
		floorKiB = max(floorKiB, m.Floor.KiB)
		if m.CLI.KiB > largestCLI.CLI.KiB {
			largestCLI = m
		}
	}
	cli := mib(largestCLI.CLI.KiB)
	if !largestCLI.cliOwn() {
		cli = "≤ " + cli
	}
	r := row{
		Measure: fmt.Sprintf("Peak memory (RSS) of the provider process, N = %d", n),
		Measured: fmt.Sprintf("%s (largest of %d provider processes in the rows of %d; the floor's: %s; terraform's: %s)",
			mib(provider.KiB), provider.Processes, n, mib(floorKiB), cli),
		Target: fmt.Sprintf("≤ %d MiB", memoryTargetKiB/1024),
		Result: check(provider.Processes > 0 && provider.KiB <= memoryTargetKiB),
	}
	if n != memoryTargetN {
		r.Target, r.Result = fmt.Sprintf("≤ %d MiB at N = %d (no row of %d in this run)", memoryTargetKiB/1024, memoryTargetN, memoryTargetN), reported
	}
	return r
}

func mib(kib int) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// memoryTable is the peak memory of each row's processes.
func memoryTable(memory []memoryRow) string {
	if len(memory) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Peak memory (RSS) by row\n\n")
	b.WriteString("| Row | terraform (commands) | provider (processes) | floor (processes) | CPU-profiled build (processes) |\n|---|---:|---:|---:|---:|\n")
	cell := func(p processPeak) string {
		if p.Processes == 0 {
			return "–"
		}
		return fmt.Sprintf("%s (%d)", mib(p.KiB), p.Processes)
	}
	for _, m := range memory {
		cli := cell(m.CLI)
		if !m.cliOwn() {
			cli = "≤ " + cli
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.rowName, cli, cell(m.Provider), cell(m.Floor), cell(m.Profiled))
	}
	return b.String()
}

// requestsTable is the requests of the size rows' applies by kind.
func (f figures) requestsTable() string {
	if len(f.Sizes) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## API requests per apply\n\n")
	b.WriteString("| Apply | triggers | read-backs (of them searches) | token | time (zone, clock) | other | all | per trigger, read-backs included |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	line := func(name string, n int, counts map[string]int) {
		known := counts[triggerOperation] + readBacks(counts) + counts[tokenOperation] + timeRequests(counts)
		fmt.Fprintf(&b, "| %s | %d | %d (%d) | %d | %d | %d | %d | %.3f |\n", name, counts[triggerOperation], readBacks(counts), counts[searchOperation],
			counts[tokenOperation], timeRequests(counts), total(counts)-known, total(counts), float64(total(counts))/float64(n))
	}
	for _, s := range f.Sizes {
		line(fmt.Sprintf("apply of %d, %s", s.N, ms(f.Latency)), s.N, s.Requests)
		line(fmt.Sprintf("apply of %d, 0 ms", s.N), s.N, s.RequestsNoLatency)
	}
	return b.String()
}

func planNote(rf refreshFigures) string {
	if rf.NoChanges {
		return ""
	}
	return "; the plan was not empty"
}

// breakdown renders counts as "flows/get 200, token/get 2" by operation.
func breakdown(counts map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", op, counts[op]))
	}
	return strings.Join(parts, ", ")
}

func (f figures) figureTable() string {
	var b strings.Builder
	lat := ms(f.Latency)
	fmt.Fprintf(&b, "| N | applies (median) | terraform_data | provider, %s | provider, 0 ms | script, %s | API requests (provider, %s) |\n", lat, lat, lat)
	b.WriteString("|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range f.Sizes {
		fmt.Fprintf(&b, "| %d | %d (script %d) | %s | %s | %s | %s | %s |\n", s.N, s.Reps, s.ScriptReps, sec(s.Terraform), sec(s.Provider),
			sec(s.ProviderNoLatency), sec(s.Script), breakdown(s.Requests))
	}
	return b.String()
}

func markdownTable(rows []row) string {
	var b strings.Builder
	b.WriteString("| Measure | Measured | Target | Result |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Measure, r.Measured, r.Target, r.Result)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func sec(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// floorRows are the targets of issue 16.
func (f figures) floorRows() []row {
	var rows []row
	for _, fl := range f.Floor {
		for _, m := range []struct {
			what                       string
			provider, floor, terraform time.Duration
		}{{"apply", fl.Provider, fl.Floor, fl.Terraform}, {"plan (refresh)", fl.ProviderPlan, fl.FloorPlan, fl.TerraformPlan}} {
			ratio := ownRatio(m.provider, m.floor, m.terraform)
			rows = append(rows, row{
				Measure:  fmt.Sprintf("Own cost ÷ like-for-like floor, %s of %d finished triggers (0 ms, median of %d)", m.what, fl.N, fl.Reps),
				Measured: fmt.Sprintf("(%s − %s) ÷ (%s − %s) = %.2f", sec(m.provider), sec(m.terraform), sec(m.floor), sec(m.terraform), ratio),
				Target:   "≤ 1.15",
				Result:   check(m.floor > m.terraform && ratio <= 1.15),
			})
		}
		own, floorOwn := fl.Provider-fl.Terraform, fl.Floor-fl.Terraform
		rows = append(rows, row{
			Measure: fmt.Sprintf("Apply's own cost ≤ %.1f × the like-for-like floor's, %d finished triggers (0 ms, median of %d)", maxOwnToFloorApply, fl.N, fl.Reps),
			Measured: fmt.Sprintf("%s vs %.1f × %s = %s (ratio %.2f)", sec(own), maxOwnToFloorApply, sec(floorOwn),
				sec(time.Duration(maxOwnToFloorApply*float64(floorOwn))), ownRatio(fl.Provider, fl.Floor, fl.Terraform)),
			Target: fmt.Sprintf("≤ %.1f × floor", maxOwnToFloorApply),
			Result: check(floorOwn > 0 && own.Seconds() <= maxOwnToFloorApply*floorOwn.Seconds()),
		})
	}
	if len(f.Floor) > 1 {
		lo, hi := f.Floor[0], f.Floor[len(f.Floor)-1]
		for _, m := range []struct {
			what           string
			loCost, hiCost time.Duration
		}{{"apply", lo.Provider - lo.Terraform, hi.Provider - hi.Terraform}, {"plan (refresh)", lo.ProviderPlan - lo.TerraformPlan, hi.ProviderPlan - hi.TerraformPlan}} {
			loPer, hiPer := m.loCost/time.Duration(lo.N), m.hiCost/time.Duration(hi.N)
			ratio := hiPer.Seconds() / loPer.Seconds()
			rows = append(rows, row{
				Measure:  fmt.Sprintf("Own cost per resource, %s: N = %d ÷ N = %d", m.what, hi.N, lo.N),
				Measured: fmt.Sprintf("%s ÷ %s = %.2f", ms(hiPer), ms(loPer), ratio),
				Target:   "≤ 1.25",
				Result:   check(loPer > 0 && ratio <= 1.25),
			})
		}
	}
	u := f.Unfinished
	if u.N > 0 {
		ratio := u.UnfinishedPlan.Seconds() / u.FinishedPlan.Seconds()
		rows = append(rows, row{
			Measure:  fmt.Sprintf("Plan (refresh) of %d runs over %d flows and %s, unfinished ÷ finished (%s)", u.N, u.Flows, u.Spread, ms(f.Latency)),
			Measured: fmt.Sprintf("%s ÷ %s = %.2f (%d runs unfinished)", sec(u.UnfinishedPlan), sec(u.FinishedPlan), ratio, u.Unfinished),
			Target:   "≤ 1.3",
			Result:   check(u.Unfinished == u.N && ratio <= 1.3),
		})
		status := u.Requests["flowInstances/search"] + u.Requests["flowInstances/get"]
		rows = append(rows, row{
			Measure:  fmt.Sprintf("Plan (refresh) of %d unfinished runs: status requests", u.N),
			Measured: fmt.Sprintf("%d (%s) for %d (flow, trigger hour) pairs", status, breakdown(u.Requests), u.FlowHours),
			Target:   "≤ one per (flow, trigger hour) pair (a pair's runs fit one page)",
			Result:   check(status <= u.FlowHours),
		})
	}
	return rows
}

// profileTable sums up the CPU profiles of the plan of n finished runs.
// profileTable is the profiles of one kind of command, under title.
func profileTable(profiles []cpuProfile, title string) string {
	if len(profiles) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n## CPU profile: %s\n\n", title)
	b.WriteString("| | " + strings.Join(profileColumns(profiles), " | ") + " |\n|---|" + strings.Repeat("---:|", len(profiles)) + "\n")
	line := func(name string, cell func(cpuProfile) string) {
		cells := make([]string, len(profiles))
		for i, p := range profiles {
			cells[i] = cell(p)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	line("wall time", func(p cpuProfile) string { return sec(p.Wall) })
	line("provider CPU (sampled)", func(p cpuProfile) string { return sec(p.CPU) })
	line("of it in this provider's own code (cumulative)", func(p cpuProfile) string { return percentOf(p.Own, p.CPU) })
	var areas []string
	for _, p := range profiles {
		for _, a := range p.Areas {
			if !slices.Contains(areas, a.Name) {
				areas = append(areas, a.Name)
			}
		}
	}
	for _, area := range areas {
		line("charged to "+area, func(p cpuProfile) string {
			for _, a := range p.Areas {
				if a.Name == area {
					return percentOf(a.CPU, p.CPU)
				}
			}
			return "0%"
		})
	}
	for _, p := range profiles {
		fmt.Fprintf(&b, "\nThis provider's functions by cumulative CPU, %s:", p.Build)
		for _, fn := range p.TopOwn {
			fmt.Fprintf(&b, " `%s` %s;", fn.Name, percentOf(fn.CPU, p.CPU))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func profileColumns(profiles []cpuProfile) []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Build
	}
	return names
}

func percentOf(part, whole time.Duration) string {
	if whole <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", 100*part.Seconds()/whole.Seconds())
}

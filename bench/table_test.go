package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestIdealLatency(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{1, 80 * time.Millisecond},    // one round of the trigger, the token, the zone and the snapshot
		{10, 80 * time.Millisecond},   // ten fit in one round
		{11, 100 * time.Millisecond},  // the eleventh needs a second round
		{200, 460 * time.Millisecond}, // 20 rounds plus the token, the zone and the snapshot
		{1000, 2060 * time.Millisecond},
	} {
		if got := idealLatency(tc.n, 20*time.Millisecond); got != tc.want {
			t.Errorf("idealLatency(%d, 20ms) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestBusiestWindow(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, base.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		want  int
	}{
		{"none", nil, 0},
		{"one", at(5), 1},
		{"a window is half-open", at(0, 1000), 1},
		{"unsorted input", at(2500, 100, 1900, 50, 900), 3},
		{"the busiest window is not the first", at(0, 1500, 1600, 1700, 2400, 2600), 4},
	} {
		if got := busiestWindow(tc.times, time.Second); got != tc.want {
			t.Errorf("%s: busiestWindow = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMaxRequestsPerTrigger(t *testing.T) {
	for n, want := range map[int]float64{1: 3, 50: 1.04, 100: 1.02, 200: 1.01, 1000: 1.01} {
		if got := maxRequestsPerTrigger(n); got != want {
			t.Errorf("maxRequestsPerTrigger(%d) = %g, want %g", n, got, want)
		}
	}
}

// sampleFigures meet every target.
func sampleFigures() figures {
	s := func(n int, tf, p, p0, sc time.Duration) sizeFigures {
		return sizeFigures{N: n, Reps: 1, ScriptReps: 1, Terraform: tf, Provider: p, ProviderNoLatency: p0, LatencyAdded: p - p0, Script: sc,
			Requests:          map[string]int{"flows/updateAndTrigger": n, "flowInstances/search": n / 20, "time/getTimeZone": 1, "token/get": 1},
			RequestsNoLatency: map[string]int{"flows/updateAndTrigger": n, "flowInstances/search": n / 10, "time/getTimeZone": 1, "token/get": 1}}
	}
	return figures{
		Latency: 20 * time.Millisecond,
		Sizes: []sizeFigures{
			s(1, time.Second, 1100*time.Millisecond, 1060*time.Millisecond, 2*time.Second),
			s(200, 5*time.Second, 6*time.Second, 5600*time.Millisecond, 15*time.Second),
		},
		Validation: validationFigures{N: 200, Requests: map[string]int{"flows/get": 400, "flows/updateAndTrigger": 200, "token/get": 2}},
		Wait:       waitFigures{Runs: 50, TaskTime: 30 * time.Second, PollInterval: 10 * time.Second, StatusRequests: 8, BusiestInterval: 3},
		Refresh:    refreshFigures{N: 200, Requests: map[string]int{}, NoChanges: true},
		Rate:       rateFigures{N: 200, Limit: 20, BusiestSecond: 20, BusiestTenSec: 200},
		// Own cost ÷ floor: apply 1.5 s ÷ 2 s, plan 1.1 s ÷ 1 s.
		Floor: []floorFigures{{N: 200, Reps: 3, Terraform: time.Second, Floor: 3 * time.Second, Provider: 2500 * time.Millisecond,
			TerraformPlan: time.Second, FloorPlan: 2 * time.Second, ProviderPlan: 2100 * time.Millisecond}},
		Process: processFigures{StartupMedian: 30 * time.Millisecond, StartupSlowest: 40 * time.Millisecond, Launches: 10,
			Memory: []memoryRow{
				{rowName: rowName{"terraform_data", 5000}, CLI: processPeak{200 * 1024, 2}},
				{rowName: rowName{"floor", 5000}, CLI: processPeak{300 * 1024, 2}, Floor: processPeak{50 * 1024, 6}},
				{rowName: rowName{"provider at 0 ms", 5000}, CLI: processPeak{310 * 1024, 3}, Provider: processPeak{60 * 1024, 9}},
			}},
	}
}

func results(f figures) map[string]verdict {
	out := map[string]verdict{}
	for _, r := range f.rows() {
		out[r.Measure] = r.Result
	}
	return out
}

func TestRowsPassWhenTargetsMet(t *testing.T) {
	for measure, result := range results(sampleFigures()) {
		if result == fail {
			t.Errorf("%s: %s, want pass or reported", measure, result)
		}
	}
}

func TestRowsFailWhenTargetsMissed(t *testing.T) {
	cases := map[string]func(*figures){
		"API requests per trigger but the run searches, apply of 200 (20.0 ms, skip_flow_validation = true)": func(f *figures) { f.Sizes[1].Requests["flows/get"] = 200 },
		"Run searches per trigger (the hour snapshot, read-backs), apply of 200 (20.0 ms)":                   func(f *figures) { f.Sizes[1].Requests["flowInstances/get"] = 191 }, // 201 read-backs
		// beyond terraform: 1 s ÷ 4 s = 0.25
		"Apply beyond terraform, provider ÷ script, N = 200 (20.0 ms)": func(f *figures) { f.Sizes[1].Script = 9 * time.Second },
		// 1200 ms added vs the ideal 840 ms: 1.43×
		"Time the latency adds (20.0 ms − 0 ms), N = 200":                                          func(f *figures) { f.Sizes[1].LatencyAdded = 1200 * time.Millisecond },
		"terraform plan (refresh) of 200 finished triggers: API requests":                          func(f *figures) { f.Refresh.Requests["flowInstances/get"] = 1 },
		"Waiting: 50 runs of 30s, poll_interval 10s: status requests in the busiest poll interval": func(f *figures) { f.Wait.BusiestInterval = 50 },
		"max_requests_per_second = 20, apply of 200 (20.0 ms): requests in the busiest second":     func(f *figures) { f.Rate.BusiestSecond = 21 },
		"Provider start-up: exec to the GetProviderSchema answer":                                  func(f *figures) { f.Process.StartupMedian = 100 * time.Millisecond },
		"Peak memory (RSS) of the provider process, N = 5000":                                      func(f *figures) { f.Process.Memory[2].Provider.KiB = 64*1024 + 1 },
		"API requests per trigger, read-backs included, apply of 200 (20.0 ms)":                    func(f *figures) { f.Sizes[1].Requests["flowInstances/search"] = 30 },
		// 1.7 s own cost vs 0.8 × 2 s
		"Apply's own cost ≤ 0.8 × the like-for-like floor's, 200 finished triggers (0 ms, median of 3)": func(f *figures) { f.Floor[0].Provider = 2700 * time.Millisecond },
	}
	for measure, spoil := range cases {
		f := sampleFigures()
		spoil(&f)
		got, ok := results(f)[measure]
		if !ok {
			t.Errorf("no row %q", measure)
			continue
		}
		if got != fail {
			t.Errorf("%s: %s, want %s", measure, got, fail)
		}
	}
}

func TestRefreshFailsWhenThePlanIsNotEmpty(t *testing.T) {
	f := sampleFigures()
	f.Refresh.NoChanges = false
	if got := results(f)["terraform plan (refresh) of 200 finished triggers: API requests"]; got != fail {
		t.Errorf("refresh row: %s, want %s", got, fail)
	}
}

func TestScriptRatioOnlyJudgedFromN200(t *testing.T) {
	f := sampleFigures()
	f.Sizes[0].Script = f.Sizes[0].Terraform // a ratio that would fail
	if got := results(f)["Apply beyond terraform, provider ÷ script, N = 1 (20.0 ms)"]; got != reported {
		t.Errorf("N = 1 ratio row: %s, want %s", got, reported)
	}
}

func TestMarkdownTable(t *testing.T) {
	got := markdownTable([]row{{Measure: "m", Measured: "1", Target: "≤ 2", Result: pass}})
	want := "| Measure | Measured | Target | Result |\n|---|---|---|---|\n| m | 1 | ≤ 2 | pass |\n"
	if got != want {
		t.Errorf("markdownTable =\n%s\nwant\n%s", got, want)
	}
	report := renderReport(sampleFigures(), machine{CPUs: 2}, runInfo{Command: "make bench"})
	for _, part := range []string{"`make bench`", "0 of 21 targets fail", "| 200 | 1 (script 1) | 5.00 s | 6.00 s | 5.60 s | 15.00 s |"} {
		if !strings.Contains(report, part) {
			t.Errorf("report lacks %q:\n%s", part, report)
		}
	}
}

// A trigger sent twice fails the requests row even when the total is low.
func TestRequestsRowFailsOnASecondTrigger(t *testing.T) {
	f := sampleFigures()
	f.Sizes[1].Requests["flows/updateAndTrigger"] = 201
	f.Sizes[1].Requests["token/get"] = 0
	if got := results(f)["API requests per trigger but the run searches, apply of 200 (20.0 ms, skip_flow_validation = true)"]; got != fail {
		t.Errorf("requests row with 201 triggers for 200: %s, want %s", got, fail)
	}
}

func TestOwnFramesLeaveOutTheProtocolWrapper(t *testing.T) {
	own := func(name string) string { return ownPackage + name }
	for _, tc := range []struct {
		name   string
		frames []string // leaf first
		want   int
	}{
		{"framework work under the wrapper", []string{"runtime.mallocgc", "github.com/hashicorp/terraform-plugin-framework/internal/fwserver.(*Server).ReadResource",
			own("internal/provider.withReleasedContext[...]"), own("internal/provider.releasingServer.ReadResource")}, 0},
		{"the resource's Read", []string{"runtime.mallocgc", own("internal/provider.fillFlowTriggerIdentity"), own("internal/provider.(*flowTriggerResource).Read"),
			"github.com/hashicorp/terraform-plugin-framework/internal/fwserver.(*Server).ReadResource", own("internal/provider.releasingServer.ReadResource")}, 2},
		{"no provider code", []string{"runtime.gcBgMarkWorker"}, 0},
	} {
		if got := ownFrames(tc.frames); len(got) != tc.want {
			t.Errorf("%s: ownFrames = %v, want %d frames", tc.name, got, tc.want)
		}
	}
}

func TestProfileTable(t *testing.T) {
	p := func(build string, own time.Duration) cpuProfile {
		return cpuProfile{Build: build, Wall: 7 * time.Second, CPU: 4 * time.Second, Own: own,
			Areas:  []share{{"terraform-plugin-framework", time.Second}},
			TopOwn: []share{{"internal/provider.(*flowTriggerResource).Read", own}}}
	}
	got := profileTable([]cpuProfile{p("v1", 400*time.Millisecond), p("current", 200*time.Millisecond)}, "a plan of 1000 finished triggers")
	for _, part := range []string{"## CPU profile: a plan of 1000 finished triggers", "| | v1 | current |", "| wall time | 7.00 s | 7.00 s |",
		"| of it in this provider's own code (cumulative) | 10.0% | 5.0% |", "| charged to terraform-plugin-framework | 25.0% | 25.0% |",
		"current: `internal/provider.(*flowTriggerResource).Read` 5.0%;"} {
		if !strings.Contains(got, part) {
			t.Errorf("profile table lacks %q:\n%s", part, got)
		}
	}
	if profileTable(nil, "a plan") != "" {
		t.Error("a table without profiles")
	}
}

// The report rendered from the saved figures is the report of the run.
func TestRenderSavedReproducesTheReport(t *testing.T) {
	run := savedRun{Figures: sampleFigures(), Machine: machine{CPUs: 2, Terraform: "1.11.4"},
		Info: runInfo{Command: "make bench", Started: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), Took: time.Minute}}
	run.Figures.Profiles = []cpuProfile{{Build: "current", Wall: time.Second, CPU: time.Second, Own: 20 * time.Millisecond,
		Areas: []share{{"terraform-plugin-framework", 300 * time.Millisecond}}}}
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	saved, out := filepath.Join(dir, "BENCHMARKS.json"), filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(saved, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := renderSaved(saved, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := renderReport(run.Figures, run.Machine, run.Info); string(got) != want {
		t.Errorf("rendered from the saved figures:\n%s\nwant:\n%s", got, want)
	}
}

// Below N = 200 the requests per trigger, read-backs included, are
// reported: the token and time zone calls weigh too much there.
func TestRequestsWithReadBacksOnlyJudgedFromN200(t *testing.T) {
	if got := results(sampleFigures())["API requests per trigger, read-backs included, apply of 1 (20.0 ms)"]; got != reported {
		t.Errorf("N = 1 row: %s, want %s", got, reported)
	}
}

// The memory target counts only the provider's processes, not the
// floor's, at N = 5000.
func TestMemoryTargetCountsTheProviderAtN5000(t *testing.T) {
	f := sampleFigures()
	f.Process.Memory[1].Floor.KiB = 100 * 1024
	f.Process.Memory = append(f.Process.Memory, memoryRow{rowName: rowName{"provider at 0 ms", 200}, Provider: processPeak{100 * 1024, 1}})
	var memory row
	for _, r := range f.rows() {
		if strings.HasPrefix(r.Measure, "Peak memory") {
			memory = r
		}
	}
	if memory.Measure != "Peak memory (RSS) of the provider process, N = 5000" || memory.Result != pass ||
		!strings.HasPrefix(memory.Measured, "60.0 MiB (largest of 9 provider processes in the rows of 5000; the floor's: 100.0 MiB; terraform's: 310.0 MiB)") {
		t.Errorf("memory row: %+v", memory)
	}
}

// A run without rows of 5000 reports its largest N instead of judging it.
func TestMemoryTargetReportedWithoutN5000(t *testing.T) {
	got := memoryTarget([]memoryRow{
		{rowName: rowName{"provider at 0 ms", 20}, Provider: processPeak{40 * 1024, 2}},
		{rowName: rowName{"provider at 0 ms", 1}, Provider: processPeak{30 * 1024, 2}},
		{rowName: rowName{"terraform_data", 100}, CLI: processPeak{90 * 1024, 1}},
	})
	if got.Measure != "Peak memory (RSS) of the provider process, N = 20" || got.Result != reported {
		t.Errorf("memory row without N = 5000: %+v", got)
	}
}

// terraform's figure is its own only when larger than its providers'.
func TestMemoryTable(t *testing.T) {
	got := memoryTable([]memoryRow{
		{rowName: rowName{"provider at 0 ms", 200}, CLI: processPeak{100 * 1024, 3}, Provider: processPeak{40 * 1024, 9}},
		{rowName: rowName{"CPU-profiled plan (floor)", 200}, CLI: processPeak{30 * 1024, 1}, Profiled: processPeak{30 * 1024, 1}},
	})
	for _, part := range []string{"| provider at 0 ms, N = 200 | 100.0 MiB (3) | 40.0 MiB (9) | – | – |",
		"| CPU-profiled plan (floor), N = 200 | ≤ 30.0 MiB (1) | – | – | 30.0 MiB (1) |"} {
		if !strings.Contains(got, part) {
			t.Errorf("memory table lacks %q:\n%s", part, got)
		}
	}
}

func TestRequestsTable(t *testing.T) {
	got := sampleFigures().requestsTable()
	for _, part := range []string{"| apply of 200, 20.0 ms | 200 | 10 (10) | 1 | 1 | 0 | 212 | 1.060 |", "| apply of 200, 0 ms | 200 | 20 (20) | 1 | 1 | 0 | 222 | 1.110 |"} {
		if !strings.Contains(got, part) {
			t.Errorf("requests table lacks %q:\n%s", part, got)
		}
	}
}

// Each provider process's file counts for its kind in the command's row,
// and is removed so that the next command starts afresh.
func TestRecordMemory(t *testing.T) {
	w := &workspace{rssDir: t.TempDir()}
	for name, content := range map[string]string{"provider.11": "20480\n", "provider.12": "Command exited with non-zero status 1\n30720\n", "floor.13": "10240\n"} {
		if err := os.WriteFile(filepath.Join(w.rssDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	row := rowName{"provider at 0 ms", 1}
	if err := w.recordMemory(row, &exec.Cmd{}); err != nil {
		t.Fatal(err)
	}
	if err := w.recordMemory(row, &exec.Cmd{}); err != nil {
		t.Fatal(err)
	}
	want := []memoryRow{{rowName: row, Provider: processPeak{30720, 2}, Floor: processPeak{10240, 1}}}
	if !reflect.DeepEqual(w.memory, want) {
		t.Errorf("memory = %+v, want %+v", w.memory, want)
	}
}

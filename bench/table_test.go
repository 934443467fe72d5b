package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIdealLatency(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{1, 80 * time.Millisecond},    // one round of trigger and read-back, the token and the zone
		{10, 80 * time.Millisecond},   // ten fit in one round
		{11, 120 * time.Millisecond},  // the eleventh needs a second round
		{200, 840 * time.Millisecond}, // 20 rounds plus the token and the zone
		{1000, 4040 * time.Millisecond},
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
			Requests: map[string]int{"flows/updateAndTrigger": n, "flowInstances/search": n / 2, "time/getTimeZone": 1, "token/get": 1}}
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
		Process:    processFigures{StartupMedian: 30 * time.Millisecond, StartupSlowest: 40 * time.Millisecond, Launches: 10, PeakRSSKiB: 30 * 1024},
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
		"API requests per trigger but the read-backs, apply of 200 (20.0 ms, skip_flow_validation = true)": func(f *figures) { f.Sizes[1].Requests["flows/get"] = 200 },
		"Read-back requests per trigger (SERVICE.md §4.6), apply of 200 (20.0 ms)":                         func(f *figures) { f.Sizes[1].Requests["flowInstances/get"] = 101 },
		// beyond terraform: 1 s ÷ 4 s = 0.25
		"Apply beyond terraform, provider ÷ script, N = 200 (20.0 ms)": func(f *figures) { f.Sizes[1].Script = 9 * time.Second },
		// 1200 ms added vs the ideal 840 ms: 1.43×
		"Time the latency adds (20.0 ms − 0 ms), N = 200":                                          func(f *figures) { f.Sizes[1].LatencyAdded = 1200 * time.Millisecond },
		"terraform plan (refresh) of 200 finished triggers: API requests":                          func(f *figures) { f.Refresh.Requests["flowInstances/get"] = 1 },
		"Waiting: 50 runs of 30s, poll_interval 10s: status requests in the busiest poll interval": func(f *figures) { f.Wait.BusiestInterval = 50 },
		"max_requests_per_second = 20, apply of 200 (20.0 ms): requests in the busiest second":     func(f *figures) { f.Rate.BusiestSecond = 21 },
		"Provider start-up: exec to the GetProviderSchema answer":                                  func(f *figures) { f.Process.StartupMedian = 100 * time.Millisecond },
		"Peak memory (RSS) of the provider process":                                                func(f *figures) { f.Process.PeakRSSKiB = 64 * 1024 },
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
	for _, part := range []string{"`make bench`", "0 of 16 targets fail", "| 200 | 1 (script 1) | 5.00 s | 6.00 s | 5.60 s | 15.00 s |"} {
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
	if got := results(f)["API requests per trigger but the read-backs, apply of 200 (20.0 ms, skip_flow_validation = true)"]; got != fail {
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
	got := profileTable([]cpuProfile{p("v1", 400*time.Millisecond), p("current", 200*time.Millisecond)}, 1000)
	for _, part := range []string{"plan (refresh) of 1000 finished triggers", "| | v1 | current |",
		"| of it in this provider's own code (cumulative) | 10.0% | 5.0% |", "| charged to terraform-plugin-framework | 25.0% | 25.0% |",
		"current: `internal/provider.(*flowTriggerResource).Read` 5.0%;"} {
		if !strings.Contains(got, part) {
			t.Errorf("profile table lacks %q:\n%s", part, got)
		}
	}
	if profileTable(nil, 1000) != "" {
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

package main

import (
	"strings"
	"testing"
	"time"
)

func TestIdealLatency(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{1, 40 * time.Millisecond},    // one round plus the token
		{10, 40 * time.Millisecond},   // ten fit in one round
		{11, 60 * time.Millisecond},   // the eleventh needs a second round
		{200, 420 * time.Millisecond}, // 20 rounds plus the token
		{1000, 2020 * time.Millisecond},
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
	for n, want := range map[int]float64{1: 2, 50: 1.02, 100: 1.01, 1000: 1.01} {
		if got := maxRequestsPerTrigger(n); got != want {
			t.Errorf("maxRequestsPerTrigger(%d) = %g, want %g", n, got, want)
		}
	}
}

// sampleFigures meet every target.
func sampleFigures() figures {
	s := func(n int, tf, p, p0, sc time.Duration) sizeFigures {
		return sizeFigures{N: n, Reps: 1, ScriptReps: 1, Terraform: tf, Provider: p, ProviderNoLatency: p0, LatencyAdded: p - p0, Script: sc,
			Requests: map[string]int{"flows/updateAndTrigger": n, "token/get": 1}}
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
		"API requests per trigger, apply of 200 (20.0 ms, skip_flow_validation = true)": func(f *figures) { f.Sizes[1].Requests["flows/get"] = 200 },
		// beyond terraform: 1 s ÷ 4 s = 0.25
		"Apply beyond terraform, provider ÷ script, N = 200 (20.0 ms)": func(f *figures) { f.Sizes[1].Script = 9 * time.Second },
		// 600 ms added vs the ideal 420 ms: 1.43×
		"Time the latency adds (20.0 ms − 0 ms), N = 200":                                          func(f *figures) { f.Sizes[1].LatencyAdded = 600 * time.Millisecond },
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
	for _, part := range []string{"`make bench`", "0 of 14 targets fail", "| 200 | 1 (script 1) | 5.00 s | 6.00 s | 5.60 s | 15.00 s |"} {
		if !strings.Contains(report, part) {
			t.Errorf("report lacks %q:\n%s", part, report)
		}
	}
}

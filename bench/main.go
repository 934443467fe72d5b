// Command bench is the harness behind `make bench`: it drives the real
// terraform CLI and the provider against the in-process emulator, measures
// the rows of issue 8 with their references in the same run, and writes
// the table to BENCHMARKS.md (and prints it).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	latency := flag.Duration("latency", 20*time.Millisecond, "latency the emulator adds to every answer (env BENCH_LATENCY)")
	sizesFlag := flag.String("sizes", "1,200,1000", "comma-separated numbers of triggers per apply (env BENCH_SIZES)")
	floorSizesFlag := flag.String("floor-sizes", "200,1000,5000", "comma-separated numbers of triggers of the floor rows (env BENCH_FLOOR_SIZES)")
	spreadRuns := flag.Int("spread-runs", 1000, "runs of the plan of unfinished runs over 10 flows and 3 days (env BENCH_SPREAD_RUNS)")
	repo := flag.String("repo", "..", "the provider's repository: bench is a module of its own inside it")
	out := flag.String("out", "../BENCHMARKS.md", "where to write the report")
	render := flag.String("render", "", "write the report from the figures a run saved (BENCHMARKS.json) instead of measuring")
	baseline := flag.String("baseline", "", "a git revision of the repository whose plan is profiled beside this one's (env BENCH_BASELINE)")
	if v := os.Getenv("BENCH_LATENCY"); v != "" {
		_ = flag.Set("latency", v)
	}
	if v := os.Getenv("BENCH_SIZES"); v != "" {
		_ = flag.Set("sizes", v)
	}
	if v := os.Getenv("BENCH_SPREAD_RUNS"); v != "" {
		_ = flag.Set("spread-runs", v)
	}
	if v := os.Getenv("BENCH_BASELINE"); v != "" {
		_ = flag.Set("baseline", v)
	}
	if v := os.Getenv("BENCH_FLOOR_SIZES"); v != "" {
		_ = flag.Set("floor-sizes", v)
	}
	flag.Parse()
	if *render != "" {
		return renderSaved(*render, *out)
	}
	sizes, err := parseSizes(*sizesFlag)
	if err != nil {
		return err
	}
	floorSizes, err := parseSizes(*floorSizesFlag)
	if err != nil {
		return err
	}
	if err := requireTools("terraform", "bash", "curl", "openssl", "/usr/bin/time"); err != nil {
		return err
	}
	command := fmt.Sprintf("BENCH_LATENCY=%s BENCH_SIZES=%s BENCH_FLOOR_SIZES=%s BENCH_SPREAD_RUNS=%d make bench", *latency, *sizesFlag, *floorSizesFlag, *spreadRuns)
	if *baseline != "" {
		command = "BENCH_BASELINE=" + *baseline + " " + command
	}
	info := runInfo{Command: command,
		Started: time.Now(), LoadStart: loadAverage()}
	ws, err := newWorkspace(*repo)
	if err != nil {
		return err
	}
	defer ws.Close()
	b := &bench{ws: ws, repo: *repo, baseline: *baseline, latency: *latency}
	f, err := b.measure(sizes, floorSizes, *spreadRuns)
	if err != nil {
		return err
	}
	info.Took, info.LoadEnd = time.Since(info.Started), loadAverage()
	run := savedRun{Figures: f, Machine: describeMachine(), Info: info}
	data, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(strings.TrimSuffix(*out, ".md")+".json", append(data, '\n'), 0o644); err != nil {
		return err
	}
	report := renderReport(run.Figures, run.Machine, run.Info)
	fmt.Print(report)
	return os.WriteFile(*out, []byte(report), 0o644)
}

// savedRun is what a run measured, kept next to the report so that the
// report's text can change without measuring again.
type savedRun struct {
	Figures figures
	Machine machine
	Info    runInfo
}

func renderSaved(saved, out string) error {
	data, err := os.ReadFile(saved)
	if err != nil {
		return err
	}
	var run savedRun
	if err := json.Unmarshal(data, &run); err != nil {
		return fmt.Errorf("%s: %w", saved, err)
	}
	return os.WriteFile(out, []byte(renderReport(run.Figures, run.Machine, run.Info)), 0o644)
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for field := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("sizes %q: expected positive numbers separated by commas", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func requireTools(tools ...string) error {
	var missing []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return errors.New("missing tools: " + strings.Join(missing, ", ") +
			" (the script rows need bash, curl and openssl; peak memory needs GNU time at /usr/bin/time)")
	}
	return nil
}

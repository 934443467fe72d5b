package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// firstBenchFlowID is the id of the first flow the harness adds; flow i of a
// service is firstBenchFlowID + i.
const firstBenchFlowID = 100000

// bizdate is the parameter every benchmark trigger sets, as a backfill would.
const bizdate = "20240101"

// taskNames are the tasks of every flow the harness adds, run one after
// the other: three, so that a finished run's state is of a typical size
// (the floor fills the same three, see floor_provider.go).
var taskNames = []string{"extract", "transform", "load"}

// startService serves a fresh emulator with the given latency and one flow
// per trigger, so that no two runs of a measurement share a flow and the
// service's one-run-per-flow-and-minute rule never comes into play. Each
// flow has one task lasting taskTime.
func startService(latency time.Duration, flows int, taskTime time.Duration) (*emulator.Server, error) {
	seed := emulator.DefaultSeed()
	var tasks []emulator.TaskSpec
	for _, name := range taskNames {
		tasks = append(tasks, emulator.TaskSpec{Name: name, Duration: emulator.Duration(taskTime / time.Duration(len(taskNames))), Outcome: emulator.OutcomeSuccess})
	}
	for i := range flows {
		id := int64(firstBenchFlowID + i)
		seed.Flows = append(seed.Flows, emulator.FlowSpec{
			ID: id, Name: fmt.Sprintf("bench_flow_%d", i), OrgID: emulator.DefaultOrgID,
			Owners:     []string{"alice"},
			Parameters: []emulator.Parameter{{Key: "bizdate", Value: ""}},
			Tasks:      tasks,
		})
	}
	// The figures count every request of a run of up to 5000 triggers.
	return emulator.Start(emulator.Options{Seed: seed, Latency: latency, RequestLogSize: 1 << 20})
}

// waitFinished waits until every run the service started has finished.
func waitFinished(srv *emulator.Server, runs int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		finished := 0
		instances := srv.Instances()
		for _, in := range instances {
			if enos.Status(in.Status).Terminal() {
				finished++
			}
		}
		if len(instances) == runs && finished == runs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d runs finished (%d started) after %s", finished, runs, len(instances), limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countByOperation counts requests per operation, e.g. "token/get": 1.
func countByOperation(requests []emulator.Request) map[string]int {
	counts := map[string]int{}
	for _, r := range requests {
		counts[r.Operation]++
	}
	return counts
}

// requestTimes lists the arrival times of the requests whose operation is
// one of ops (all requests when ops is empty).
func requestTimes(requests []emulator.Request, ops ...string) []time.Time {
	var times []time.Time
	for _, r := range requests {
		if len(ops) == 0 || slices.Contains(ops, r.Operation) {
			times = append(times, r.Time)
		}
	}
	return times
}

package enos_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// maxRequestsPerTrigger is the API budget of an apply of many triggers
// (DESIGN.md, API budget): the trigger itself, and a tenth of a request
// for everything else (token, zone, the hour snapshot, read-backs).
const maxRequestsPerTrigger = 1.1

// TestRequestsPerTriggerStayInTheBudget triggers N runs of N flows the way
// an apply does (ten at a time, each started when one ends, times left to
// StartRun) against the emulator and counts every request it received:
// counts, not times, so the machine's speed does not matter.
func TestRequestsPerTriggerStayInTheBudget(t *testing.T) {
	for _, n := range []int{200, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			seed := emulator.DefaultSeed()
			for i := range n {
				seed.Flows = append(seed.Flows, emulator.FlowSpec{ID: int64(100000 + i), Name: fmt.Sprintf("budget_%d", i), OrgID: emulator.DefaultOrgID,
					Owners: []string{"alice"}, Tasks: []emulator.TaskSpec{{Name: "load", Outcome: emulator.OutcomeSuccess}}})
			}
			srv, err := emulator.Start(emulator.Options{Seed: seed, RequestLogSize: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			c := emulatorClient(t, srv, enos.APIVersion20)
			next := make(chan int64)
			go func() {
				for i := range n {
					next <- int64(100000 + i)
				}
				close(next)
			}()
			var wg sync.WaitGroup
			for range 10 { // Terraform's default parallelism
				wg.Go(func() {
					for flowID := range next {
						if _, err := c.StartRun(context.Background(), enos.TriggerRequest{FlowID: flowID, Parameters: map[string]string{"bizdate": "20240101"}}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			byOp := map[string]int{}
			for _, r := range srv.Requests() {
				byOp[r.Operation]++
			}
			total := 0
			for _, count := range byOp {
				total += count
			}
			if byOp["flows/updateAndTrigger"] != n {
				t.Errorf("%d triggers sent for %d runs", byOp["flows/updateAndTrigger"], n)
			}
			if perTrigger := float64(total) / float64(n); perTrigger > maxRequestsPerTrigger {
				t.Errorf("%.3f requests per trigger (%v), want at most %.2f", perTrigger, byOp, maxRequestsPerTrigger)
			}
			t.Logf("%d triggers: %d requests %v", n, total, byOp)
		})
	}
}

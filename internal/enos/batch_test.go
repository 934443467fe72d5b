package enos_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

func TestRunStatusBatchesConcurrentChecks(t *testing.T) {
	for name, flows := range map[string][]int64{"one flow": {1001}, "several flows": {1001, 1002, 1004}} {
		t.Run(name, func(t *testing.T) {
			testRunStatusBatches(t, flows)
		})
	}
}

func testRunStatusBatches(t *testing.T, flows []int64) {
	srv := startEmulator(t)
	c := emulatorClient(t, srv, enos.APIVersion20)
	ctx := context.Background()

	// Twenty past runs, one a minute, all in one hour, over the flows.
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	refs := make([]enos.RunRef, 20)
	for i := range refs {
		at := base.Add(time.Duration(i) * time.Minute)
		flowID := flows[i%len(flows)]
		run, err := c.StartRun(ctx, enos.TriggerRequest{FlowID: flowID, TriggerTime: at})
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = enos.RunRef{InstanceID: run.InstanceID, FlowID: flowID, TriggerTime: at}
	}
	srv.ResetRequests()

	// Every run is waited on already (so each search covers them all), and
	// this poll is due now.
	for _, ref := range refs {
		if _, err := c.RunStatus(ctx, ref, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	srv.ResetRequests()
	pollDue := time.Now()
	got := make([]*enos.FlowInstance, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() {
			inst, err := c.RunStatus(ctx, ref, pollDue)
			if err != nil {
				t.Errorf("RunStatus(%s): %v", ref.InstanceID, err)
				return
			}
			got[i] = inst
		})
	}
	wg.Wait()
	for i, inst := range got {
		if inst == nil || inst.InstanceID != refs[i].InstanceID || len(inst.Tasks) == 0 {
			t.Fatalf("RunStatus(%s) = %+v, want that run with its tasks", refs[i].InstanceID, inst)
		}
	}
	if n := srv.Count("flowInstances/get"); n != 0 {
		t.Errorf("%d flowInstances/get requests, want 0: the search answers for every run", n)
	}
	if n := srv.Count("flowInstances/search"); n != 1 {
		t.Errorf("%d flowInstances/search requests for 20 concurrent checks, want 1", n)
	}
}

func TestRunStatusReadsAloneWhatTheSearchMisses(t *testing.T) {
	srv := startEmulator(t)
	c := emulatorClient(t, srv, enos.APIVersion20)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	run, err := c.StartRun(ctx, enos.TriggerRequest{FlowID: 1001, TriggerTime: at})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()

	// A trigger time the service does not hold for the run (as with a
	// service whose times are in another zone) misses the search window.
	inst, err := c.RunStatus(ctx, enos.RunRef{InstanceID: run.InstanceID, FlowID: 1001, TriggerTime: at.Add(-8 * time.Hour)}, time.Time{})
	if err != nil || inst.InstanceID != run.InstanceID {
		t.Fatalf("RunStatus = %+v, %v; want run %s", inst, err, run.InstanceID)
	}
	if srv.Count("flowInstances/search") != 1 || srv.Count("flowInstances/get") != 1 {
		t.Errorf("requests: %d searches and %d gets, want one of each", srv.Count("flowInstances/search"), srv.Count("flowInstances/get"))
	}
}

func TestFlowGlobalsReadsEachFlowOnce(t *testing.T) {
	srv := startEmulator(t)
	c := emulatorClient(t, srv, enos.APIVersion20)
	ctx := context.Background()

	var wg sync.WaitGroup
	for i := range 20 {
		flowID := int64(1001 + i%2)
		wg.Go(func() {
			g, err := c.FlowGlobals(ctx, flowID)
			if err != nil || g.FlowID != flowID || g.FlowName == "" {
				t.Errorf("FlowGlobals(%d) = %+v, %v", flowID, g, err)
			}
		})
	}
	wg.Wait()
	g, err := c.FlowGlobals(ctx, 1001)
	if err != nil || len(g.Parameters) == 0 {
		t.Fatalf("FlowGlobals(1001) = %+v, %v; want the flow's global parameters", g, err)
	}
	if n := srv.Count("flows/get"); n != 2 {
		t.Errorf("%d flows/get requests for 21 reads of 2 flows, want 2", n)
	}
	if n := srv.Count("time/getTimeZone"); n != 0 {
		t.Errorf("%d time/getTimeZone requests, want 0: parameters need no zone", n)
	}
	if _, err := c.FlowGlobals(ctx, 999999); !enos.IsNotFound(err) {
		t.Errorf("FlowGlobals(unknown) error = %v, want not found", err)
	}
}

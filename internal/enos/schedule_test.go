package enos_test

import (
	"context"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

func TestFlowScheduleEnableDisable(t *testing.T) {
	for _, version := range []string{enos.APIVersion20, enos.APIVersion21} {
		t.Run(version, func(t *testing.T) {
			srv := startEmulator(t)
			c := emulatorClient(t, srv, version)
			ctx := context.Background()

			s, err := c.GetFlowSchedule(ctx, 1001)
			if err != nil || s.FlowID != 1001 || s.FlowName != "daily_sales_load" || !s.Active || s.Cycle == "" || s.Freq == "" {
				t.Fatalf("GetFlowSchedule: %+v, %v", s, err)
			}
			if err := c.DisableFlow(ctx, 1001); err != nil {
				t.Fatal(err)
			}
			if s, err := c.GetFlowSchedule(ctx, 1001); err != nil || s.Active {
				t.Errorf("after DisableFlow: %+v, %v", s, err)
			}
			if active, _ := srv.FlowActive(1001); active {
				t.Error("the emulator's flow 1001 is still active after DisableFlow")
			}
			if err := c.EnableFlow(ctx, 1001); err != nil {
				t.Fatal(err)
			}
			if active, _ := srv.FlowActive(1001); !active {
				t.Error("the emulator's flow 1001 is paused after EnableFlow")
			}
			if n := srv.Count("time/getTimeZone"); n != 0 {
				t.Errorf("schedule calls asked for the server zone %d times; they need none", n)
			}
		})
	}
}

func TestFlowScheduleRefusals(t *testing.T) {
	srv := startEmulator(t)
	c := emulatorClient(t, srv, enos.APIVersion20)
	ctx := context.Background()
	if err := c.EnableFlow(ctx, 1005); !enos.IsNoPrivilege(err) {
		t.Errorf("enabling bob's flow: %v, want no privilege", err)
	}
	if err := c.DisableFlow(ctx, 1006); !enos.IsLocked(err) {
		t.Errorf("pausing the locked flow: %v, want locked", err)
	}
	if _, err := c.GetFlowSchedule(ctx, 4242); !enos.IsNotFound(err) {
		t.Errorf("reading an unknown flow: %v, want not found", err)
	}
	if err := c.EnableFlow(ctx, 0); err == nil {
		t.Error("EnableFlow(0): no error")
	}
	if n := srv.Count("flows/enable"); n != 1 {
		t.Errorf("flows/enable requests = %d, want 1 (flow id 0 is refused before sending)", n)
	}
}

// Enable and disable are safe to repeat, so a lost answer is retried like a read.
func TestFlowScheduleWritesAreRetried(t *testing.T) {
	for _, kind := range []emulator.FaultKind{emulator.FaultHTTP503, emulator.FaultDropAfterAct, emulator.FaultInternal} {
		t.Run(string(kind), func(t *testing.T) {
			srv := startEmulator(t)
			c := emulatorClient(t, srv, enos.APIVersion20)
			srv.InjectFault(emulator.Fault{Operation: "flows/disable", Kind: kind, Count: 1})
			if err := c.DisableFlow(context.Background(), 1001); err != nil {
				t.Fatalf("DisableFlow after one %s: %v", kind, err)
			}
			if n := srv.Count("flows/disable"); n != 2 {
				t.Errorf("flows/disable requests = %d, want 2", n)
			}
			if active, _ := srv.FlowActive(1001); active {
				t.Error("flow 1001 still active")
			}
		})
	}
}

func TestGetMyFlowsFilterByVersion(t *testing.T) {
	for version, param := range map[string]string{enos.APIVersion20: "searchValue", enos.APIVersion21: "expression"} {
		t.Run(version, func(t *testing.T) {
			srv := startEmulator(t)
			flows, err := emulatorClient(t, srv, version).GetMyFlows(context.Background(), "report")
			if err != nil || len(flows) != 1 || flows[0].FlowID != 1005 || flows[0].Editable {
				t.Errorf("GetMyFlows(report) = %+v, %v", flows, err)
			}
			reqs := srv.Requests()
			if q := reqs[len(reqs)-1].Query; q.Get(param) != "report" {
				t.Errorf("query %v: the filter is not sent as %s", q, param)
			}
		})
	}
}

package enos_test

import (
	"context"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// These tests run the client against the project's emulator, which checks
// signatures and tokens on its own.

func startEmulator(t *testing.T) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func emulatorClient(t *testing.T, srv *emulator.Server, apiVersion string) *enos.Client {
	t.Helper()
	c, err := enos.New(enos.Config{
		Endpoint: srv.URL, APIVersion: apiVersion, MaxRetries: 2,
		AccessKey: emulator.DefaultAccessKey, SecretKey: emulator.DefaultSecretKey,
		OrgID: emulator.DefaultOrgID, UserID: emulator.DefaultUserID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmulatorRoundTrip(t *testing.T) {
	for _, version := range []string{enos.APIVersion20, enos.APIVersion21} {
		t.Run(version, func(t *testing.T) {
			srv := startEmulator(t)
			c := emulatorClient(t, srv, version)
			ctx := context.Background()

			flows, err := c.GetMyFlows(ctx, "")
			if err != nil || len(flows) == 0 {
				t.Fatalf("GetMyFlows: %v, %v", flows, err)
			}
			flow, err := c.GetFlow(ctx, 1001)
			if err != nil || flow.FlowID != 1001 || len(flow.Tasks) == 0 {
				t.Fatalf("GetFlow: %+v, %v", flow, err)
			}
			run, err := c.StartRun(ctx, enos.TriggerRequest{FlowID: 1001, Parameters: map[string]string{"region": "eu"}})
			if err != nil {
				t.Fatal(err)
			}
			inst, err := c.GetFlowInstance(ctx, run.InstanceID)
			if err != nil || inst.FlowID != 1001 || inst.TriggerTime.IsZero() {
				t.Fatalf("GetFlowInstance: %+v, %v", inst, err)
			}
			found, err := c.SearchFlowInstances(ctx, enos.InstanceSearch{Expression: "1001-"})
			if err != nil || len(found) != 1 || found[0].InstanceID != run.InstanceID {
				t.Fatalf("SearchFlowInstances: %+v, %v", found, err)
			}
			if err := c.CancelFlowInstance(ctx, run.InstanceID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetFlowInstance(ctx, "9999-20240101000000"); !enos.IsNotFound(err) {
				t.Errorf("unknown instance: %v", err)
			}
			for _, r := range srv.Requests() {
				if r.Operation != "token/get" && !r.SignatureValid {
					t.Errorf("%s: the emulator rejected the signature", r.Operation)
				}
			}
		})
	}
}

func TestEmulatorStartRunFaults(t *testing.T) {
	tests := []struct {
		kind        emulator.FaultKind
		wantAdopted bool
		wantSends   int
	}{
		{emulator.FaultDropAfterAct, true, 1},
		{emulator.FaultDropBeforeAct, false, 2},
		{emulator.FaultHTTP502, false, 2},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			srv := startEmulator(t)
			c := emulatorClient(t, srv, enos.APIVersion20)
			srv.InjectFault(emulator.Fault{Operation: "flows/updateAndTrigger", Kind: tt.kind, Count: 1})
			run, err := c.StartRun(context.Background(), enos.TriggerRequest{FlowID: 1001})
			if err != nil {
				t.Fatal(err)
			}
			if run.Adopted != tt.wantAdopted || srv.Count("flows/updateAndTrigger") != tt.wantSends || len(srv.Instances()) != 1 {
				t.Errorf("adopted %v after %d sends with %d instances", run.Adopted, srv.Count("flows/updateAndTrigger"), len(srv.Instances()))
			}
		})
	}
}

// A trigger time whose minute is taken moves to a free minute of the same
// day (flow 1001's cycle D), after a token renewal on the way.
func TestEmulatorExpiredTokenAndDuplicateMovesWithinTheDay(t *testing.T) {
	srv := startEmulator(t)
	c := emulatorClient(t, srv, enos.APIVersion20)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Minute) // both triggers fall in this minute
	first, err := c.StartRun(ctx, enos.TriggerRequest{FlowID: 1001, TriggerTime: at})
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(emulator.Fault{Operation: "flows/updateAndTrigger", Kind: emulator.FaultExpireToken, Count: 1})
	second, err := c.StartRun(ctx, enos.TriggerRequest{FlowID: 1001, TriggerTime: at.Add(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if second.Moved == nil || !second.Moved.From.Equal(at.Add(10*time.Second)) || !second.TriggerTime.Equal(at.Add(time.Minute)) ||
		second.Moved.ExistingInstanceID != first.InstanceID || second.Moved.Period.Cycle != "D" {
		t.Fatalf("second run = %+v (moved %+v), want it moved to the next minute past %s", second, second.Moved, first.InstanceID)
	}
	if n := srv.Count("token/get"); n != 2 {
		t.Errorf("token requests = %d, want 2 (one renewal after 1203)", n)
	}
	if len(srv.Instances()) != 2 {
		t.Errorf("instances = %d, want 2", len(srv.Instances()))
	}
}

package enos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// unknownStart triggers flow 1001 at at while the trigger's answers are
// lost (kind, on every send) and every look-up fails, so that StartRun's
// outcome stays unknown, and returns that outcome.
func unknownStart(t *testing.T, srv *emulator.Server, c *enos.Client, kind emulator.FaultKind, at time.Time) *enos.TriggerOutcomeUnknownError {
	t.Helper()
	removeTrigger := srv.InjectFault(emulator.Fault{Operation: "flows/updateAndTrigger", Kind: kind})
	removeSearch := srv.InjectFault(emulator.Fault{Operation: "flowInstances/search", Kind: emulator.FaultInternal})
	removeGet := srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultInternal})
	defer func() { removeTrigger(); removeSearch(); removeGet() }()
	_, err := c.StartRun(context.Background(), enos.TriggerRequest{FlowID: 1001, TriggerTime: at})
	var unknown *enos.TriggerOutcomeUnknownError
	if !errors.As(err, &unknown) || !unknown.RequestSent || unknown.ExpectedInstanceID == "" || unknown.Since.IsZero() {
		t.Fatalf("StartRun: %v; want an unknown outcome of a sent trigger naming its run and the server time", err)
	}
	return unknown
}

func recorded(u *enos.TriggerOutcomeUnknownError) enos.UnknownTrigger {
	return enos.UnknownTrigger{FlowID: u.FlowID, TriggerTime: u.TriggerTime, Since: u.Since}
}

// A recorded unknown outcome is settled by another client (the next
// refresh): the run the trigger started is found and claimed; a trigger
// that started nothing is reported as such; a look-up that cannot decide
// is an error, never a verdict.
func TestFindTriggeredRun(t *testing.T) {
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	t.Run("started", func(t *testing.T) {
		srv := startEmulator(t)
		unknown := unknownStart(t, srv, emulatorClient(t, srv, enos.APIVersion20), emulator.FaultDropAfterAct, at)
		inst, err := emulatorClient(t, srv, enos.APIVersion20).FindTriggeredRun(context.Background(), recorded(unknown))
		if err != nil || inst.InstanceID != unknown.ExpectedInstanceID {
			t.Fatalf("FindTriggeredRun: %+v, %v; want run %s", inst, err, unknown.ExpectedInstanceID)
		}
	})
	t.Run("not started", func(t *testing.T) {
		srv := startEmulator(t)
		unknown := unknownStart(t, srv, emulatorClient(t, srv, enos.APIVersion20), emulator.FaultDropBeforeAct, at)
		if runs := srv.Instances(); len(runs) != 0 {
			t.Fatalf("the emulator started %d runs", len(runs))
		}
		_, err := emulatorClient(t, srv, enos.APIVersion20).FindTriggeredRun(context.Background(), recorded(unknown))
		if !errors.Is(err, enos.ErrNoRunStarted) {
			t.Fatalf("FindTriggeredRun: %v; want ErrNoRunStarted", err)
		}
	})
	t.Run("an older run of the slot is not the trigger's", func(t *testing.T) {
		srv := startEmulator(t)
		c := emulatorClient(t, srv, enos.APIVersion20)
		older, err := c.StartRun(context.Background(), enos.TriggerRequest{FlowID: 1001, TriggerTime: at})
		if err != nil {
			t.Fatal(err)
		}
		since, err := c.GetCurrentTime(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// A trigger sent after the run began (its answer lost) found the
		// slot taken: the service started nothing for it.
		_, err = emulatorClient(t, srv, enos.APIVersion20).FindTriggeredRun(context.Background(),
			enos.UnknownTrigger{FlowID: 1001, TriggerTime: at, Since: since.Add(5 * time.Second)})
		if !errors.Is(err, enos.ErrNoRunStarted) {
			t.Fatalf("FindTriggeredRun: %v; want ErrNoRunStarted, %s being older than the trigger", err, older.InstanceID)
		}
	})
	t.Run("undecided", func(t *testing.T) {
		srv := startEmulator(t)
		unknown := unknownStart(t, srv, emulatorClient(t, srv, enos.APIVersion20), emulator.FaultDropBeforeAct, at)
		// The search finds nothing, but the run's id cannot be read.
		srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultInternal})
		_, err := emulatorClient(t, srv, enos.APIVersion20).FindTriggeredRun(context.Background(), recorded(unknown))
		if err == nil || errors.Is(err, enos.ErrNoRunStarted) {
			t.Fatalf("FindTriggeredRun: %v; want an error that decides nothing", err)
		}
	})
}

// Two triggers of one slot in one client, the first with an unknown
// outcome: the second never takes the run the first may have started, so
// that no two callers hold one run.
func TestUnknownOutcomeHoldsItsSlotsRun(t *testing.T) {
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, duplicates := range []emulator.DuplicateTrigger{emulator.DuplicateReject, emulator.DuplicateAnswerExisting} {
		t.Run(string(duplicates), func(t *testing.T) {
			srv, err := emulator.Start(emulator.Options{DuplicateTrigger: duplicates})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			c := emulatorClient(t, srv, enos.APIVersion20)
			// The first send is lost before the service acts: the slot
			// stays free, and the second send starts its run there.
			unknown := unknownStart(t, srv, c, emulator.FaultDropBeforeAct, at)
			second, err := c.StartRun(context.Background(), enos.TriggerRequest{FlowID: 1001, TriggerTime: at})
			if err != nil {
				t.Fatal(err)
			}
			if second.InstanceID == unknown.ExpectedInstanceID {
				t.Fatalf("the second trigger took %s, which the first one's unknown outcome holds", second.InstanceID)
			}
			first, err := emulatorClient(t, srv, enos.APIVersion20).FindTriggeredRun(context.Background(), recorded(unknown))
			if err != nil || first.InstanceID != unknown.ExpectedInstanceID {
				t.Fatalf("FindTriggeredRun: %+v, %v", first, err)
			}
			if runs := srv.Instances(); len(runs) != 2 {
				t.Fatalf("%d runs, want 2: one for each trigger", len(runs))
			}
		})
	}
}

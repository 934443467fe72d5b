package enos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// exploredFaults are the faults the exploration puts on the calls that
// carry a trigger's outcome: the trigger, and the searches and reads that
// look for its run.
var exploredFaults = []memFault{faultNone, faultLostBefore, faultLostAfter, fault5xx, faultCutBody, faultCancel}

// exploredCalls is how many of those calls, counted from the first, meet
// a fault of the sequence: every sequence of up to this many faults.
const exploredCalls = 5

// exploreScenario is one or two triggers of one slot, with the service's
// state before them.
type exploreScenario struct {
	name string
	// olderRun puts another process's run in the slot, created an hour
	// before.
	olderRun bool
	// second is "" (one trigger), "same process" or "other process".
	second    string
	defaulted bool // the first trigger's time is left to StartRun
	// topOfHour sends the first trigger for 10:01:00 and the second for
	// 10:00:00: one slot with hour ids, two with minute ids.
	topOfHour bool
}

var exploreScenarios = []exploreScenario{
	{name: "one trigger, chosen time"},
	{name: "one trigger, defaulted time", defaulted: true},
	{name: "one trigger, slot held by an older run", olderRun: true},
	{name: "two triggers of one slot, one process", second: "same process"},
	{name: "two triggers of one slot, two processes", second: "other process"},
	{name: "two triggers of one hour, the second at its top, one process", second: "same process", topOfHour: true},
}

// exploreEnv is how the service stores what it is sent.
type exploreEnv struct {
	answerExisting bool
	rewrite        bool // parameter values stored trimmed
	hourly         bool // instance ids name the trigger hour
}

// exploreEnvs are every combination of the service's behaviours.
func exploreEnvs() []exploreEnv {
	var envs []exploreEnv
	for _, answerExisting := range []bool{false, true} {
		for _, rewrite := range []bool{false, true} {
			for _, hourly := range []bool{false, true} {
				envs = append(envs, exploreEnv{answerExisting: answerExisting, rewrite: rewrite, hourly: hourly})
			}
		}
	}
	return envs
}

// TestStartRunNeverTwiceUnderEveryFaultSequence explores run matching
// exhaustively: every sequence of up to exploredCalls faults (answers lost
// before or after the service acts, 5xx pages, cut-off bodies, cancelled
// contexts) on the calls of one and of two triggers of one slot, under
// either duplicate behaviour, with values stored as sent or otherwise, and
// with instance ids of minutes or of hours.
// After each it checks the never-twice invariant (see checkNeverTwice).
func TestStartRunNeverTwiceUnderEveryFaultSequence(t *testing.T) {
	sequences := faultSequences(exploredCalls)
	explored := 0
	for _, sc := range exploreScenarios {
		for _, env := range exploreEnvs() {
			failures := 0
			for _, seq := range sequences {
				explored++
				var problem string
				// In a bubble, so that the detached searches and fetches of
				// one trigger have ended before the next begins: every
				// sequence plays the same way each time.
				synctest.Test(t, func(*testing.T) { problem = exploreOnce(sc, env, seq) })
				if problem != "" {
					failures++
					if failures <= 3 {
						t.Errorf("%s, %+v, faults %v: %s", sc.name, env, seq, problem)
					}
				}
			}
			if failures > 3 {
				t.Errorf("%s, %+v: %d more fault sequences fail", sc.name, env, failures-3)
			}
		}
	}
	t.Logf("explored %d fault sequences (%d scenarios × %d service behaviours × %d sequences of up to %d faults)",
		explored, len(exploreScenarios), len(exploreEnvs()), len(sequences), exploredCalls)
	fmt.Printf("run matching: explored %d fault sequences\n", explored)
}

// faultSequences lists every sequence of n faults of exploredFaults
// (faultNone standing for a call that goes well).
func faultSequences(n int) [][]memFault {
	seqs := [][]memFault{{}}
	for range n {
		var next [][]memFault
		for _, s := range seqs {
			for _, f := range exploredFaults {
				next = append(next, append(slices.Clone(s), f))
			}
		}
		seqs = next
	}
	return seqs
}

// exploreTrigger is one StartRun of a scenario and what became of it.
type exploreTrigger struct {
	label   string
	matcher *runMatcher
	// sawServerTime says that a server time was read in its process by
	// the time it ended, so that Since cannot have stayed unknown.
	sawServerTime bool
	req           TriggerRequest
	run           RunStart
	err           error
}

// exploreOnce plays one scenario under one fault sequence and returns what
// broke the invariant, or "".
func exploreOnce(sc exploreScenario, env exploreEnv, seq []memFault) string {
	ms := newMemService()
	ms.tick = 1500 * time.Millisecond // beyond clockMargin between a process's last call and the next one's first
	ms.localLag = 3 * time.Minute
	ms.answerExisting = env.answerExisting
	if env.rewrite {
		ms.rewrite = strings.TrimSpace
	}
	ms.hourIDs[1001] = env.hourly
	faulted := 0
	ms.fault = func(op string, _ int) memFault {
		if faulted >= len(seq) {
			return faultNone
		}
		faulted++
		return seq[faulted-1]
	}
	if sc.olderRun {
		// Created 47 minutes before: a whole number of half hours would
		// read as the service writing the time in another zone.
		id := "1001-20240101100000"
		if env.hourly {
			id = "1001-2024010110"
		}
		ms.addRun(FlowInstance{InstanceID: id, FlowID: 1001, TriggerTime: runNow.Truncate(time.Minute),
			CreatedAt: runNow.Add(-47 * time.Minute), Status: StatusSuccess})
	}
	params := map[string]string{"bizdate": " 2024-01-01 "}
	first := &exploreTrigger{label: "A", matcher: newMemMatcher(ms), req: TriggerRequest{FlowID: 1001, TriggerTime: runNow, Parameters: params}}
	if sc.defaulted {
		first.req.TriggerTime = time.Time{}
	}
	triggers := []*exploreTrigger{first}
	second := first.req
	if sc.topOfHour {
		top := runNow.Truncate(time.Hour)
		first.req.TriggerTime, second.TriggerTime = top.Add(time.Minute), top
	}
	switch sc.second {
	case "same process":
		triggers = append(triggers, &exploreTrigger{label: "B", matcher: first.matcher, req: second})
	case "other process":
		triggers = append(triggers, &exploreTrigger{label: "B", matcher: newMemMatcher(ms), req: second})
	}
	for _, tr := range triggers {
		ctx, cancel := context.WithCancel(context.Background())
		ms.mu.Lock()
		if tr.matcher != first.matcher {
			// The other process runs later (the next apply, another
			// pipeline), beyond lateActMargin: one within it cannot be told
			// from a trigger acted on late (DESIGN.md, limits).
			ms.now = ms.now.Add(5 * time.Minute)
		}
		ms.label, ms.cancel = tr.label, cancel
		ms.mu.Unlock()
		tr.run, tr.err = tr.matcher.startRun(ctx, tr.req)
		synctest.Wait()
		cancel()
		ms.mu.Lock()
		tr.sawServerTime = ms.timeReadsBy[tr.label] > 0 || tr.matcher == first.matcher && ms.timeReadsBy[first.label] > 0
		ms.mu.Unlock()
	}
	ms.mu.Lock()
	ms.fault, ms.label = nil, "settle"
	ms.mu.Unlock()
	return checkNeverTwice(ms, triggers)
}

// checkNeverTwice is the invariant, over the runs the service started
// during the scenario: once the next process has settled each unknown
// outcome (FindTriggeredRun, as the next refresh does), every run started
// is held by exactly one trigger (none forgotten, none started twice for
// one trigger), each trigger holds at most one, and a trigger holds a run
// it cannot prove new (another trigger's, the older one) only when its
// warnings name that run, or, settled, when its Since is unknown, which
// it may be only when its process read no server time. A trigger that started nothing may fail; an
// error that is not an unknown outcome holds nothing.
func checkNeverTwice(ms *memService, triggers []*exploreTrigger) string {
	holders := map[string][]string{}
	unproven := map[string]bool{} // trigger label + run id: kept with a warning naming it
	for _, tr := range triggers {
		var unknown *TriggerOutcomeUnknownError
		switch {
		case tr.err == nil:
			holders[tr.run.InstanceID] = append(holders[tr.run.InstanceID], tr.label)
			unproven[tr.label+" "+tr.run.InstanceID] = warnsKeptUnproven(tr.run.Warnings, tr.run.InstanceID)
		case errors.As(tr.err, &unknown) && unknown.RequestSent:
			found, err := newMemMatcher(ms).findTriggeredRun(context.Background(),
				UnknownTrigger{FlowID: tr.req.FlowID, TriggerTime: unknown.TriggerTime, Since: unknown.Since, Until: unknown.Until})
			switch {
			case err == nil:
				h := tr.label + " (settled)"
				holders[found.InstanceID] = append(holders[found.InstanceID], h)
				// Without a server time around the send nothing tells an
				// older run of the slot; the provider warns when it adopts one.
				if unknown.Since.IsZero() && tr.sawServerTime {
					return fmt.Sprintf("trigger %s records no server time though its process read one", tr.label)
				}
				unproven[h+" "+found.InstanceID] = unknown.Since.IsZero()
			case !errors.Is(err, ErrNoRunStarted):
				return fmt.Sprintf("trigger %s: the next refresh cannot settle its unknown outcome (%v): %v", tr.label, tr.err, err)
			}
		}
	}
	started := ms.idsStartedBy("A")
	started = append(started, ms.idsStartedBy("B")...)
	for _, id := range started {
		if len(holders[id]) == 0 {
			return fmt.Sprintf("run %s was started and is held by no trigger (holders %v)", id, holders)
		}
	}
	for id, hs := range holders {
		proven := 0
		for _, h := range hs {
			if !unproven[h+" "+id] {
				proven++
			}
		}
		if wasStarted := slices.Contains(started, id); proven > 1 || !wasStarted && proven > 0 {
			return fmt.Sprintf("run %s (started here: %t) is held by %v without a warning naming it", id, wasStarted, hs)
		}
	}
	return ""
}

// warnsKeptUnproven reports a warning that id was kept on the service's
// answer without proof that it is new.
func warnsKeptUnproven(warnings []string, id string) bool {
	for _, w := range warnings {
		if strings.Contains(w, id) && strings.Contains(w, "kept on the service's answer") {
			return true
		}
	}
	return false
}

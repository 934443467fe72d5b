package enos

import (
	"testing"
	"testing/synctest"
	"time"
)

// Two triggers of one slot answered with one id: the one that did not start
// the run may claim it first, to verify it. The run's starter waits for that
// verification instead of taking the claim as evidence that the run is
// another's (which would make it trigger a second run); once the claim is
// given up the run is free for the starter, once kept it is held.
func TestClaimBeingVerifiedIsWaitedFor(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 10, 0, 30, 0, gmt8)
	for _, tc := range []struct {
		name     string
		settle   func(r *runRegistry, id string)
		wantHeld bool
	}{
		{name: "given up", settle: (*runRegistry).release, wantHeld: false},
		{name: "kept", settle: (*runRegistry).keep, wantHeld: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var r runRegistry
				if _, held := r.claimUnlessHeld("1007-2024060110", 1007, t0.Add(time.Minute), true); held {
					t.Fatal("a free id was reported held")
				}
				claimed, looked := make(chan bool, 1), make(chan bool, 1)
				go func() {
					_, held := r.claimUnlessHeld("1007-2024060110", 1007, t0, true)
					if !held {
						r.keep("1007-2024060110") // its own read-back decided
					}
					claimed <- held
				}()
				go func() {
					looked <- r.held("1007-2024060110")
				}()
				synctest.Wait()
				select {
				case <-claimed:
					t.Fatal("a claim still being verified was taken as settled")
				case <-looked:
					t.Fatal("held reported a claim still being verified")
				default:
				}
				tc.settle(&r, "1007-2024060110")
				if held := <-claimed; held != tc.wantHeld {
					t.Errorf("claim after the verification: held %v, want %v", held, tc.wantHeld)
				}
				// After a give-up the look-up may come before or after the
				// waiting claim took the id; after a keep it is held.
				if held := <-looked; tc.wantHeld && !held {
					t.Error("held: not held after the claim was kept")
				}
			})
		})
	}
}

package enos

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// instanceAnswer is the answer of a wire's flowInstances/get: a run of flow 1001.
func instanceAnswer(w *wire) http.HandlerFunc {
	return func(rw http.ResponseWriter, _ *http.Request) {
		w.ok(rw, map[string]any{"instanceId": "1001-20240101100000", "flowId": 1001, "triggerTime": "2024-01-01 10:00:00"})
	}
}

func TestConcurrentCallersShareOneTokenRequest(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	release := make(chan struct{})
	var tokenRequests, gets atomic.Int32
	w.HandleFunc(apim.TokenPath, func(rw http.ResponseWriter, _ *http.Request) {
		tokenRequests.Add(1)
		<-release // hold the answer until every caller has started
		writeJSON(rw, map[string]any{"status": 0, "data": map[string]any{"accessToken": wireToken, "expire": 7200}})
	})
	answer := instanceAnswer(w)
	w.handle("flowInstances/get", func(rw http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		answer(rw, r)
	})

	const callers = 50
	var started, done sync.WaitGroup
	var failures atomic.Int32
	started.Add(callers)
	done.Add(callers)
	for range callers {
		go func() {
			defer done.Done()
			started.Done()
			if _, err := w.client.GetFlowInstance(context.Background(), "1001-20240101100000"); err != nil {
				failures.Add(1)
				t.Error(err)
			}
		}()
	}
	started.Wait()
	close(release)
	done.Wait()

	if n := tokenRequests.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if n := gets.Load(); n != callers || failures.Load() != 0 {
		t.Errorf("served %d calls with %d failures, want %d and 0", n, failures.Load(), callers)
	}
}

// Once a token exists, a slow call must not hold up the others.
func TestCallsAreNotSerialisedBehindEachOther(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	slowSeen, unblock := make(chan struct{}), make(chan struct{})
	w.handle("flows/get", func(rw http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("flowId")
		if id == "1" {
			close(slowSeen)
			<-unblock
		}
		w.ok(rw, map[string]any{"flowId": id})
	})
	c := w.client

	slowDone := make(chan error, 1)
	go func() {
		_, err := c.GetFlow(context.Background(), 1)
		slowDone <- err
	}()
	<-slowSeen
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a safety net, not an assertion on time
	defer cancel()
	flow, err := c.GetFlow(ctx, 2)
	close(unblock)
	if err != nil || flow.FlowID != 2 {
		t.Fatalf("second call while the first is in flight: %v, %+v", err, flow)
	}
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
}

// The emulator expires the token a call presents and answers 1203; it
// answers the retry only if it is signed with a valid token.
func TestExpiredTokenIsRenewedAndTheCallResignedOnce(t *testing.T) {
	srv, c, _, id := instanceEmu(t, nil)
	ctx := context.Background()
	if _, err := c.GetFlowInstance(ctx, id); err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultExpireToken, Count: 1})
	if _, err := c.GetFlowInstance(ctx, id); err != nil {
		t.Fatalf("call after the token expired: %v", err)
	}
	calls := srv.arrivedAt("/dataflow-batch-service/v2.0/flowInstances")
	if srv.Count("token/get") != 2 || len(calls) != 3 {
		t.Fatalf("token requests %d, calls %d; want 2 and 3", srv.Count("token/get"), len(calls))
	}
	if calls[1].Header.Get(apim.HeaderAccessToken) == calls[2].Header.Get(apim.HeaderAccessToken) {
		t.Errorf("the retried call reused the expired token")
	}

	// A gateway that keeps answering 1203 gets exactly one renewal per call.
	srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultExpireToken})
	_, err := c.GetFlowInstance(ctx, id)
	if e, ok := asAPIError(err); !ok || e.Code != 1203 {
		t.Fatalf("err = %v, want code 1203", err)
	}
	if srv.Count("token/get") != 3 || srv.Count("flowInstances/get") != 5 {
		t.Errorf("token requests %d, calls %d; want 3 and 5", srv.Count("token/get"), srv.Count("flowInstances/get"))
	}
}

// Two token requests within one millisecond must not repeat the
// encryption, which the gateway rejects (and the client would then send
// a fourth).
func TestTokenRequestsNeverRepeatTheirTimestamp(t *testing.T) {
	srv, c, _, id := instanceEmu(t, func(cfg *Config) {
		frozen := time.Now()
		cfg.Now = func() time.Time { return frozen }
	})
	for range 2 {
		srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultExpireToken, Count: 1})
		if _, err := c.GetFlowInstance(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count("token/get"); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

// Clients of one process and app key (provider aliases, the tenant
// check's clients of two API versions) never repeat each other's token
// timestamp, even on one frozen clock: the gateway would refuse the
// repeated encryption.
func TestClientsOfOneKeyNeverRepeatATokenTimestamp(t *testing.T) {
	clock := emulator.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := newEmu(t, emulator.Options{Clock: clock})
	for i := range 4 {
		c, _ := srv.client(t, nil) // all on the one stopped clock
		if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
			t.Fatalf("client %d: %v", i+1, err)
		}
	}
	if n := srv.Count("token/get"); n != 4 {
		t.Errorf("token requests = %d, want 4, none refused", n)
	}
}

// A client whose clock is far from the last token request's of its key
// (a test's manual clock on a reused port) sends its own time, which its
// gateway checks against the 15-minute window.
func TestTokenTimestampFollowsAFarClock(t *testing.T) {
	key := "http://127.0.0.1:1 far-clock-key"
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if got := nextTokenTimestamp(key, now); got != now.UnixMilli() {
		t.Fatalf("first: %d, want now", got)
	}
	if got := nextTokenTimestamp(key, now); got != now.UnixMilli()+1 {
		t.Errorf("same millisecond: %d, want one later", got)
	}
	past := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	if got := nextTokenTimestamp(key, past); got != past.UnixMilli() {
		t.Errorf("a clock two years behind: %d, want its own time %d", got, past.UnixMilli())
	}
}

// Another client of the same app key, in another process, may use the
// same millisecond: here a token request sent before the client's, with
// the timestamp the client's stopped clock gives its first.
func TestRepeatedEncryptionIsRetriedWithANewTimestamp(t *testing.T) {
	clock := emulator.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := newEmu(t, emulator.Options{Clock: clock})
	ts := clock.Now().UnixMilli()
	other, _ := json.Marshal(tokenRequest{AppKey: emulator.DefaultAccessKey, Encryption: apim.Encryption(emulator.DefaultAccessKey, ts, emulator.DefaultSecretKey), Timestamp: ts})
	resp, err := http.Post(srv.URL+apim.TokenPath, "application/json", bytes.NewReader(other))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	c, _ := srv.client(t, nil) // no retries configured
	if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	tokens := srv.requestsOf("token/get")
	if len(tokens) != 3 || tokens[1].Code != 1001 || tokens[2].Code != 0 {
		t.Errorf("token requests %+v, want the other's, the client's refused with 1001 and its second", tokens)
	}
}

// The client's clock is the emulator's, which the test moves.
func TestTokenIsReusedUntilNearExpiry(t *testing.T) {
	clock := emulator.NewManualClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := newEmu(t, emulator.Options{Clock: clock})
	c, _ := srv.client(t, nil)
	get := func() {
		t.Helper()
		if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
			t.Fatal(err)
		}
	}
	get()
	clock.Advance((7200 - 301) * time.Second) // still more than 5 minutes left
	get()
	if n := srv.Count("token/get"); n != 1 {
		t.Fatalf("token requests = %d before the renewal margin, want 1", n)
	}
	clock.Advance(2 * time.Second) // within 5 minutes of expiry
	get()
	if n := srv.Count("token/get"); n != 2 {
		t.Errorf("token requests = %d within the renewal margin, want 2", n)
	}
	// Every token request carried its own timestamp.
	seen := map[string]bool{}
	for _, r := range srv.requestsOf("token/get") {
		var b struct {
			Timestamp json.RawMessage `json:"timestamp"`
		}
		_ = json.Unmarshal(r.Body, &b)
		seen[string(b.Timestamp)] = true
	}
	if len(seen) != 2 {
		t.Errorf("token timestamps %v are not fresh per request", seen)
	}
}

// The emulator knows no such app key.
func TestTokenFailureIsReported(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, func(cfg *Config) { cfg.MaxRetries = 3; cfg.AccessKey = "unknown-app-key" })
	_, err := c.GetMyFlows(context.Background(), "")
	e, ok := asAPIError(err)
	if !ok || e.Code != 1002 || e.Operation != tokenOperation {
		t.Fatalf("err = %v, want the token service's 1002", err)
	}
	if want := "flows/getMyFlow: token/get: code 1002: The appKey does not exist (requestId emu-"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to start %q", err, want)
	}
	if n := srv.Count("token/get"); n != 1 {
		t.Errorf("a definite token refusal was sent %d times, want 1", n)
	}
}

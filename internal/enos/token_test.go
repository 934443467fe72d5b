package enos

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func serveFlowInstance(fs *fakeService) {
	fs.addInstance(fakeInstance{ID: "1001-20240101100000", FlowID: 1001, TriggerTime: time.Date(2024, 1, 1, 10, 0, 0, 0, gmt8)})
}

func TestConcurrentCallersShareOneTokenRequest(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	serveFlowInstance(fs)
	release := make(chan struct{})
	fs.onToken = func(http.ResponseWriter, int) bool { <-release; return false } // hold the answer until every caller has started
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })

	const callers = 50
	var started, done sync.WaitGroup
	var failures atomic.Int32
	started.Add(callers)
	done.Add(callers)
	for range callers {
		go func() {
			defer done.Done()
			started.Done()
			if _, err := c.GetFlowInstance(context.Background(), "1001-20240101100000"); err != nil {
				failures.Add(1)
				t.Error(err)
			}
		}()
	}
	started.Wait()
	close(release)
	done.Wait()

	if n := fs.tokenCount(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if n := fs.count("flowInstances/get"); n != callers || failures.Load() != 0 {
		t.Errorf("served %d calls with %d failures, want %d and 0", n, failures.Load(), callers)
	}
}

// Once a token exists, a slow call must not hold up the others.
func TestCallsAreNotSerialisedBehindEachOther(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	serveFlowInstance(fs)
	slowSeen, unblock := make(chan struct{}), make(chan struct{})
	fs.handle("flows/get", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
		if call.Query.Get("flowId") == "1" {
			close(slowSeen)
			<-unblock
		}
		fs.ok(w, map[string]any{"flowId": call.Query.Get("flowId")})
	})
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })

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

func TestExpiredTokenIsRenewedAndTheCallResignedOnce(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	serveFlowInstance(fs)
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	ctx := context.Background()
	if _, err := c.GetFlowInstance(ctx, "1001-20240101100000"); err != nil {
		t.Fatal(err)
	}
	fs.revokeTokens()
	if _, err := c.GetFlowInstance(ctx, "1001-20240101100000"); err != nil {
		t.Fatalf("call after the token expired: %v", err)
	}
	calls := fs.callsOf("flowInstances/get")
	if fs.tokenCount() != 2 || len(calls) != 3 {
		t.Fatalf("token requests %d, calls %d; want 2 and 3", fs.tokenCount(), len(calls))
	}
	if calls[1].Token == calls[2].Token {
		t.Errorf("the retried call reused the expired token")
	}
	// The fake checked the retry's signature against the new token.

	// A gateway that keeps answering 1203 gets exactly one renewal per call.
	fs.handle("flowInstances/get", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.replyCode(w, 1203, "The access token has expired", nil)
	})
	_, err := c.GetFlowInstance(ctx, "1001-20240101100000")
	if e, ok := asAPIError(err); !ok || e.Code != 1203 {
		t.Fatalf("err = %v, want code 1203", err)
	}
	if fs.tokenCount() != 3 || len(fs.callsOf("flowInstances/get")) != 5 {
		t.Errorf("token requests %d, calls %d; want 3 and 5", fs.tokenCount(), len(fs.callsOf("flowInstances/get")))
	}
}

// Two token requests within one millisecond must not repeat the
// encryption, which the gateway rejects.
func TestTokenRequestsNeverRepeatTheirTimestamp(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	serveFlowInstance(fs)
	frozen := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := newTestClient(t, fs, func(cfg *Config) {
		cfg.ServerTimeZone = "GMT+8"
		cfg.Now = func() time.Time { return frozen }
	})
	for range 3 {
		if _, err := c.GetFlowInstance(context.Background(), "1001-20240101100000"); err != nil {
			t.Fatal(err)
		}
		fs.revokeTokens()
	}
	if n := fs.tokenCount(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

// Clients of one process and app key (provider aliases, the tenant
// check's clients of two API versions) never repeat each other's token
// timestamp, even on one frozen clock: the gateway would refuse the
// repeated encryption.
func TestClientsOfOneKeyNeverRepeatATokenTimestamp(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/getMyFlow", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { fs.ok(w, []any{}) })
	frozen := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.Now = func() time.Time { return frozen } })
		if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
			t.Fatalf("client %d: %v", i+1, err)
		}
	}
	if n := fs.tokenCount(); n != 4 {
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

// Another client of the same app key may use the same millisecond.
func TestRepeatedEncryptionIsRetriedWithANewTimestamp(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/getMyFlow", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { fs.ok(w, []any{}) })
	fs.onToken = func(w http.ResponseWriter, n int) bool {
		if n == 1 {
			writeJSON(w, map[string]any{"status": 1001, "msg": "Repeated requests with duplicated encryption"})
			return true
		}
		return false
	}
	c, _ := newTestClient(t, fs, nil) // no retries configured
	if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if n := fs.tokenCount(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestTokenIsReusedUntilNearExpiry(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	serveFlowInstance(fs)
	var now atomic.Int64
	now.Store(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	c, _ := newTestClient(t, fs, func(cfg *Config) {
		cfg.ServerTimeZone = "GMT+8"
		cfg.Now = func() time.Time { return time.UnixMilli(now.Load()) }
	})
	get := func() {
		t.Helper()
		if _, err := c.GetFlowInstance(context.Background(), "1001-20240101100000"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	now.Add((7200 - 301) * 1000) // still more than 5 minutes left
	get()
	if n := fs.tokenCount(); n != 1 {
		t.Fatalf("token requests = %d before the renewal margin, want 1", n)
	}
	now.Add(2 * 1000) // within 5 minutes of expiry
	get()
	if n := fs.tokenCount(); n != 2 {
		t.Errorf("token requests = %d within the renewal margin, want 2", n)
	}
	// Every token request carried its own timestamp.
	seen := map[string]bool{}
	for _, b := range fs.tokenBodies {
		seen[string(b["timestamp"])] = true
	}
	if len(seen) != 2 {
		t.Errorf("token timestamps %v are not fresh per request", seen)
	}
}

func TestTokenFailureIsReported(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.onToken = func(w http.ResponseWriter, n int) bool {
		writeJSON(w, map[string]any{"status": 1002, "msg": "The appKey does not exist", "requestId": "rq-" + strconv.Itoa(n)})
		return true
	}
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 3 })
	_, err := c.GetMyFlows(context.Background(), "")
	e, ok := asAPIError(err)
	if !ok || e.Code != 1002 || e.Operation != tokenOperation {
		t.Fatalf("err = %v, want the token service's 1002", err)
	}
	if want := "flows/getMyFlow: token/get: code 1002: The appKey does not exist (requestId rq-1)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if n := fs.tokenCount(); n != 1 {
		t.Errorf("a definite token refusal was sent %d times, want 1", n)
	}
}

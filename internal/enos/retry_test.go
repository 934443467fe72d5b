package enos

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// failFirst answers the first n calls with h, then behaves normally.
func failFirst(fs *fakeService, op string, n int, h fakeHandler) {
	normal := fs.handlers[op]
	var seen atomic.Int32
	fs.handle(op, func(w http.ResponseWriter, r *http.Request, call fakeCall) {
		if int(seen.Add(1)) <= n {
			h(w, r, call)
			return
		}
		normal(w, r, call)
	})
}

func withRetryAfter(status int, retryAfter string) fakeHandler {
	return func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html>busy</html>"))
	}
}

func TestReadsAreRetriedOnTransientFailures(t *testing.T) {
	failures := map[string]fakeHandler{
		"429":       withRetryAfter(429, "7"),
		"502":       rawReply(502, "text/html", "<html>bad gateway</html>"),
		"503":       rawReply(503, "text/html", "<html>unavailable</html>"),
		"504":       rawReply(504, "text/html", "<html>timeout</html>"),
		"62109":     rawReply(200, "application/json", `{"status":62109,"msg":"Server internal exception"}`),
		"drop":      func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { dropConnection(w) },
		"truncated": truncatedBody,
	}
	for name, failure := range failures {
		t.Run(name, func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			serveFlowInstance(fs)
			failFirst(fs, "flowInstances/get", 2, failure)
			c, rec := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 3; cfg.ServerTimeZone = "GMT+8" })
			if _, err := c.GetFlowInstance(context.Background(), "1001-20240101100000"); err != nil {
				t.Fatal(err)
			}
			if n := fs.count("flowInstances/get"); n != 3 {
				t.Errorf("attempts = %d, want 3", n)
			}
			// Go's transport itself replays a GET whose reused connection
			// was dropped, so a drop may cost the client no backoff.
			delays := rec.recorded()
			if name != "drop" && len(delays) != 2 {
				t.Fatalf("backoff delays %v, want 2", delays)
			}
			if name == "429" && (delays[0] < 7*time.Second || delays[1] < 7*time.Second) {
				t.Errorf("Retry-After of 7s not honoured: %v", delays)
			}
		})
	}
}

// truncatedBody promises more bytes than it sends, then hangs up.
func truncatedBody(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
	w.Header().Set("Content-Length", "500")
	w.WriteHeader(200)
	_, _ = w.Write([]byte(`{"status":0,"data":{"instanceId":"10`))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	dropConnection(w)
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flowInstances/get", rawReply(503, "text/html", "<html>down</html>"))
	c, rec := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.GetFlowInstance(context.Background(), "x")
	if !IsTransient(err) {
		t.Errorf("err = %v, want a transient error", err)
	}
	if n := fs.count("flowInstances/get"); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	d := rec.recorded()
	if len(d) != 2 || d[0] < 125*time.Millisecond || d[0] > 250*time.Millisecond || d[1] < 250*time.Millisecond || d[1] > 500*time.Millisecond {
		t.Errorf("delays %v are not exponential with jitter from 250ms", d)
	}

	fs2 := newFakeService(t, APIVersion20)
	fs2.handle("flowInstances/get", rawReply(503, "text/html", "<html>down</html>"))
	c2, _ := newTestClient(t, fs2, nil) // MaxRetries 0
	if _, err := c2.GetFlowInstance(context.Background(), "x"); err == nil || fs2.count("flowInstances/get") != 1 {
		t.Errorf("without retries: err %v after %d attempts", err, fs2.count("flowInstances/get"))
	}
}

func TestBackoffIsCapped(t *testing.T) {
	b := defaultBackoff()
	for n := 1; n < 100; n++ {
		if d := b.delay(n, 0); d > b.max || d < b.base/2 {
			t.Fatalf("delay(%d) = %v outside [%v, %v]", n, d, b.base/2, b.max)
		}
	}
	if d := b.delay(1, time.Hour); d != b.maxRetryAfter {
		t.Errorf("a Retry-After of an hour waits %v, want the cap %v", d, b.maxRetryAfter)
	}
	if d := parseRetryAfter(time.Unix(1000, 0).UTC().Format(http.TimeFormat), time.Unix(990, 0)); d != 10*time.Second {
		t.Errorf("HTTP-date Retry-After = %v", d)
	}
}

func TestTriggersAreNeverRetriedBlindly(t *testing.T) {
	failures := map[string]fakeHandler{
		"502":                       rawReply(502, "text/html", "<html>bad gateway</html>"),
		"503":                       rawReply(503, "text/html", "<html>unavailable</html>"),
		"504":                       rawReply(504, "text/html", "<html>timeout</html>"),
		"62109":                     rawReply(200, "application/json", `{"status":62109,"msg":"Server internal exception"}`),
		"dropped after it was sent": func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { dropConnection(w) },
		"truncated":                 truncatedBody,
		"success without id":        rawReply(200, "application/json", `{"status":0,"data":""}`),
	}
	for name, failure := range failures {
		t.Run(name, func(t *testing.T) {
			fs := newFakeService(t, APIVersion20)
			fs.handle("flows/updateAndTrigger", failure)
			c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 5 })
			_, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
			if !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("err = %v, want ErrOutcomeUnknown", err)
			}
			if n := fs.count("flows/updateAndTrigger"); n != 1 {
				t.Errorf("trigger sent %d times, want 1", n)
			}
		})
	}
}

func TestTriggerRefusalsAreDefinite(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/updateAndTrigger", rawReply(200, "application/json", `{"status":62104,"msg":"This workflow has no task. You cannot trigger it."}`))
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 5 })
	_, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1003, TriggerTime: time.Now()})
	if !IsNoTask(err) || errors.Is(err, ErrOutcomeUnknown) || fs.count("flows/updateAndTrigger") != 1 {
		t.Errorf("err = %v after %d sends", err, fs.count("flows/updateAndTrigger"))
	}
}

// A throttled trigger was refused before the service acted on it.
func TestThrottledTriggerIsRetried(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	failFirst(fs, "flows/updateAndTrigger", 1, withRetryAfter(429, "2"))
	c, rec := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 1 })
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if fs.count("flows/updateAndTrigger") != 2 || fs.instanceCount() != 1 || rec.recorded()[0] < 2*time.Second {
		t.Errorf("sends %d, instances %d, delays %v", fs.count("flows/updateAndTrigger"), fs.instanceCount(), rec.recorded())
	}
}

// refuseFirstConnections fails the first n round trips before anything is
// written, like a refused connection.
type refuseFirstConnections struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (r *refuseFirstConnections) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.n.Add(-1) >= 0 {
		return nil, errors.New("dial tcp: connection refused")
	}
	return r.next.RoundTrip(req)
}

func TestTriggerIsRetriedWhenNothingWasSent(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	refuse := &refuseFirstConnections{next: http.DefaultTransport}
	c, _ := newTestClient(t, fs, func(cfg *Config) {
		cfg.MaxRetries = 2
		cfg.HTTPClient = &http.Client{Transport: refuse}
	})
	c.tokens.store("access-token-1-secretish", time.Now(), time.Hour)
	fs.validTokens["access-token-1-secretish"] = true
	refuse.n.Store(2)
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if fs.count("flows/updateAndTrigger") != 1 || fs.instanceCount() != 1 {
		t.Errorf("sends %d, instances %d", fs.count("flows/updateAndTrigger"), fs.instanceCount())
	}

	refuse.n.Store(5)
	_, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now().Add(time.Hour)})
	if err == nil || errors.Is(err, ErrOutcomeUnknown) || !IsTransient(err) || !strings.Contains(err.Error(), "request not sent") {
		t.Errorf("refused connections: err = %v, want a definite, transient error", err)
	}
}

func TestContextCancellationEndsACall(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	arrived := make(chan struct{}, 1)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	hang := func(w http.ResponseWriter, r *http.Request, _ fakeCall) {
		arrived <- struct{}{}
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}
	fs.handle("flowInstances/get", hang)
	fs.handle("flows/updateAndTrigger", hang)
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.MaxRetries = 5 })

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := c.GetFlowInstance(ctx, "x")
	if !errors.Is(err, context.Canceled) || fs.count("flowInstances/get") != 1 {
		t.Errorf("read: err = %v after %d attempts, want context.Canceled after 1", err, fs.count("flowInstances/get"))
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err = c.updateAndTrigger(ctx, TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("trigger: err = %v, want context.Canceled and ErrOutcomeUnknown", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetMyFlows(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the call: err = %v", err)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	fs.handle("flowInstances/get", func(w http.ResponseWriter, r *http.Request, _ fakeCall) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	})
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.RequestTimeout = 50 * time.Millisecond; cfg.MaxRetries = 1 })
	_, err := c.GetFlowInstance(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") || fs.count("flowInstances/get") != 2 {
		t.Errorf("err = %v after %d attempts", err, fs.count("flowInstances/get"))
	}
}

func TestRateLimitStartsEmptyAndCoversEveryCall(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/getMyFlow", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { fs.ok(w, []any{}) })
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.RequestsPerSecond = 0.001 })
	// A new client has no burst to spend: even its first request (the token
	// call) would wait ~1000s, beyond the deadline, so nothing is sent.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetMyFlows(ctx, "")
	if !errors.Is(err, context.DeadlineExceeded) || fs.tokenCount() != 0 || fs.count("flows/getMyFlow") != 0 {
		t.Errorf("err = %v after %d token and %d getMyFlow calls, want the deadline and no call", err, fs.tokenCount(), fs.count("flows/getMyFlow"))
	}
}

// Callers that wait together for a new client's first token must not all go
// out together when it arrives: the rate limit is waited for after the token.
func TestRateLimitSpacesCallsThatWaitedForTheToken(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	var mu sync.Mutex
	var arrivals []time.Time
	fs.handle("flows/getMyFlow", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		fs.ok(w, []any{})
	})
	const perSecond = 20
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.RequestsPerSecond = perSecond })
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := c.GetMyFlows(t.Context(), ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	// Admissions are 51 ms apart; half of that leaves room for delivery
	// jitter and still fails a burst, whose calls arrive within a few ms.
	minGap := time.Second / perSecond / 2
	for i := 1; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < minGap {
			t.Errorf("calls %d and %d arrived %s apart, want at least %s", i, i+1, gap, minGap)
		}
	}
	if fs.tokenCount() != 1 || len(arrivals) != 6 {
		t.Errorf("%d token requests and %d calls, want 1 and 6", fs.tokenCount(), len(arrivals))
	}
}

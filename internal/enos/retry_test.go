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

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// instanceEmu is an emulator with one run of flow 1001, its id, and a
// client of it after mutate.
func instanceEmu(t *testing.T, mutate func(*Config)) (*emu, *Client, *delayRecorder, string) {
	t.Helper()
	srv := newEmu(t, emulator.Options{})
	c, rec := srv.client(t, func(cfg *Config) {
		cfg.ServerTimeZone = "GMT+8"
		if mutate != nil {
			mutate(cfg)
		}
	})
	id, err := c.updateAndTrigger(t.Context(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, rec, id
}

func TestReadsAreRetriedOnTransientFailures(t *testing.T) {
	failures := map[string]emulator.Fault{
		"429":       {Kind: emulator.FaultThrottle, RetryAfter: 7 * time.Second},
		"502":       {Kind: emulator.FaultHTTP502},
		"503":       {Kind: emulator.FaultHTTP503},
		"62109":     {Kind: emulator.FaultInternal},
		"drop":      {Kind: emulator.FaultDropBeforeAct},
		"truncated": {Kind: emulator.FaultTruncatedBody},
	}
	for name, failure := range failures {
		t.Run(name, func(t *testing.T) {
			srv, c, rec, id := instanceEmu(t, func(cfg *Config) { cfg.MaxRetries = 3 })
			failure.Operation, failure.Count = "flowInstances/get", 2
			srv.InjectFault(failure)
			if _, err := c.GetFlowInstance(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if n := srv.Count("flowInstances/get"); n != 3 {
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
	// A gateway timeout, which the emulator does not answer.
	w := newWire(t, func(cfg *Config) { cfg.MaxRetries = 3; cfg.ServerTimeZone = "GMT+8" })
	var attempts atomic.Int32
	w.handle("flowInstances/get", func(rw http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) <= 2 {
			rawAnswer(504, "text/html", "<html>timeout</html>")(rw, r)
			return
		}
		w.ok(rw, map[string]any{"instanceId": "1001-1", "flowId": 1001})
	})
	if _, err := w.client.GetFlowInstance(context.Background(), "1001-1"); err != nil || attempts.Load() != 3 || len(w.delays.recorded()) != 2 {
		t.Errorf("504: err %v after %d attempts and delays %v, want 3 attempts and 2 delays", err, attempts.Load(), w.delays.recorded())
	}
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultHTTP503})
	c, rec := srv.client(t, func(cfg *Config) { cfg.MaxRetries = 2; cfg.ServerTimeZone = "GMT+8" })
	_, err := c.GetFlowInstance(context.Background(), "x")
	if !IsTransient(err) {
		t.Errorf("err = %v, want a transient error", err)
	}
	if n := srv.Count("flowInstances/get"); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	d := rec.recorded()
	if len(d) != 2 || d[0] < 125*time.Millisecond || d[0] > 250*time.Millisecond || d[1] < 250*time.Millisecond || d[1] > 500*time.Millisecond {
		t.Errorf("delays %v are not exponential with jitter from 250ms", d)
	}

	srv.ResetRequests()
	c2, _ := srv.client(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" }) // MaxRetries 0
	if _, err := c2.GetFlowInstance(context.Background(), "x"); err == nil || srv.Count("flowInstances/get") != 1 {
		t.Errorf("without retries: err %v after %d attempts", err, srv.Count("flowInstances/get"))
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
	failures := map[string]emulator.FaultKind{
		"502":                         emulator.FaultHTTP502,
		"503":                         emulator.FaultHTTP503,
		"62109":                       emulator.FaultInternal,
		"dropped before it was acted": emulator.FaultDropBeforeAct,
		"dropped after it was acted":  emulator.FaultDropAfterAct,
		"truncated":                   emulator.FaultTruncatedBody,
	}
	for name, kind := range failures {
		t.Run(name, func(t *testing.T) {
			srv := newEmu(t, emulator.Options{})
			srv.InjectFault(emulator.Fault{Operation: "flows/updateAndTrigger", Kind: kind})
			c, _ := srv.client(t, func(cfg *Config) { cfg.MaxRetries = 5 })
			_, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
			if !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("err = %v, want ErrOutcomeUnknown", err)
			}
			if n := srv.Count("flows/updateAndTrigger"); n != 1 {
				t.Errorf("trigger sent %d times, want 1", n)
			}
		})
	}
	// Answers the emulator never gives.
	for name, answer := range map[string]http.HandlerFunc{
		"504":                rawAnswer(504, "text/html", "<html>timeout</html>"),
		"success without id": jsonAnswer(`{"status":0,"data":""}`),
	} {
		t.Run(name, func(t *testing.T) {
			w := newWire(t, func(cfg *Config) { cfg.MaxRetries = 5 })
			var sends atomic.Int32
			w.handle("flows/updateAndTrigger", func(rw http.ResponseWriter, r *http.Request) {
				sends.Add(1)
				answer(rw, r)
			})
			_, err := w.client.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
			if !errors.Is(err, ErrOutcomeUnknown) || sends.Load() != 1 {
				t.Errorf("err = %v after %d sends, want ErrOutcomeUnknown after 1", err, sends.Load())
			}
		})
	}
}

// Flow 1003 has no task: the service refuses its trigger.
func TestTriggerRefusalsAreDefinite(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, func(cfg *Config) { cfg.MaxRetries = 5 })
	_, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1003, TriggerTime: time.Now()})
	if !IsNoTask(err) || errors.Is(err, ErrOutcomeUnknown) || srv.Count("flows/updateAndTrigger") != 1 {
		t.Errorf("err = %v after %d sends", err, srv.Count("flows/updateAndTrigger"))
	}
}

// A throttled trigger was refused before the service acted on it.
func TestThrottledTriggerIsRetried(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	srv.InjectFault(emulator.Fault{Operation: "flows/updateAndTrigger", Kind: emulator.FaultThrottle, RetryAfter: 2 * time.Second, Count: 1})
	c, rec := srv.client(t, func(cfg *Config) { cfg.MaxRetries = 1 })
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if srv.Count("flows/updateAndTrigger") != 2 || len(srv.Instances()) != 1 || rec.recorded()[0] < 2*time.Second {
		t.Errorf("sends %d, instances %d, delays %v", srv.Count("flows/updateAndTrigger"), len(srv.Instances()), rec.recorded())
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
	srv := newEmu(t, emulator.Options{})
	refuse := &refuseFirstConnections{next: http.DefaultTransport}
	c, _ := srv.client(t, func(cfg *Config) {
		cfg.MaxRetries = 2
		cfg.HTTPClient = &http.Client{Transport: refuse}
	})
	if _, err := c.accessToken(t.Context()); err != nil { // the refusals hit the trigger only
		t.Fatal(err)
	}
	refuse.n.Store(2)
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if srv.Count("flows/updateAndTrigger") != 1 || len(srv.Instances()) != 1 {
		t.Errorf("sends %d, instances %d", srv.Count("flows/updateAndTrigger"), len(srv.Instances()))
	}

	refuse.n.Store(5)
	_, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now().Add(time.Hour)})
	if err == nil || errors.Is(err, ErrOutcomeUnknown) || !IsTransient(err) || !strings.Contains(err.Error(), "request not sent") {
		t.Errorf("refused connections: err = %v, want a definite, transient error", err)
	}
}

func TestContextCancellationEndsACall(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.MaxRetries = 5 })
	arrived := make(chan struct{}, 1)
	hold := holdUntilCancelled(t)
	var gets atomic.Int32
	w.handle("flowInstances/get", func(rw http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		arrived <- struct{}{}
		hold(rw, r)
	})
	w.handle("flows/updateAndTrigger", func(rw http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		hold(rw, r)
	})
	c := w.client

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := c.GetFlowInstance(ctx, "x")
	if !errors.Is(err, context.Canceled) || gets.Load() != 1 {
		t.Errorf("read: err = %v after %d attempts, want context.Canceled after 1", err, gets.Load())
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
	w := newWire(t, func(cfg *Config) {
		cfg.RequestTimeout = 50 * time.Millisecond
		cfg.MaxRetries = 1
		cfg.ServerTimeZone = "GMT+8"
	})
	hold := holdUntilCancelled(t)
	var attempts atomic.Int32
	w.handle("flowInstances/get", func(rw http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		hold(rw, r)
	})
	_, err := w.client.GetFlowInstance(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") || attempts.Load() != 2 {
		t.Errorf("err = %v after %d attempts", err, attempts.Load())
	}
}

func TestRateLimitStartsEmptyAndCoversEveryCall(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, func(cfg *Config) { cfg.RequestsPerSecond = 0.001 })
	// A new client has no burst to spend: even its first request (the token
	// call) would wait ~1000s, beyond the deadline, so nothing is sent.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetMyFlows(ctx, "")
	if !errors.Is(err, context.DeadlineExceeded) || srv.Count("token/get") != 0 || srv.Count("flows/getMyFlow") != 0 {
		t.Errorf("err = %v after %d token and %d getMyFlow calls, want the deadline and no call", err, srv.Count("token/get"), srv.Count("flows/getMyFlow"))
	}
}

// Callers that wait together for a new client's first token must not all go
// out together when it arrives: the rate limit is waited for after the token.
func TestRateLimitSpacesCallsThatWaitedForTheToken(t *testing.T) {
	srv := newEmu(t, emulator.Options{}) // on real time: the log's times are the arrivals
	const perSecond = 20
	c, _ := srv.client(t, func(cfg *Config) { cfg.RequestsPerSecond = perSecond })
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := c.GetMyFlows(t.Context(), ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var arrivals []time.Time
	for _, r := range srv.requestsOf("flows/getMyFlow") {
		arrivals = append(arrivals, r.Time)
	}
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	// Admissions are 51 ms apart; half of that leaves room for delivery
	// jitter and still fails a burst, whose calls arrive within a few ms.
	minGap := time.Second / perSecond / 2
	for i := 1; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < minGap {
			t.Errorf("calls %d and %d arrived %s apart, want at least %s", i, i+1, gap, minGap)
		}
	}
	if srv.Count("token/get") != 1 || len(arrivals) != 6 {
		t.Errorf("%d token requests and %d calls, want 1 and 6", srv.Count("token/get"), len(arrivals))
	}
}

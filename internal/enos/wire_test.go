package enos

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// The tests of this package run the client against one of two servers:
// the emulator (newEmu), which serves the service as specified and checks
// every token and signature, for every behaviour it can show; and a
// test's own handlers (newWire), for the exact answers the emulator never
// gives: malformed bodies, odd codes, an answer held until the test says.

var gmt8 = time.FixedZone("GMT+8", 8*3600)

// testUserAgent is the User-Agent of every test client.
const testUserAgent = "enos-client-test/1.0"

// delayRecorder replaces the client's backoff sleep: it records the delay
// and returns at once, so tests check the policy without waiting.
type delayRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (d *delayRecorder) sleep(ctx context.Context, delay time.Duration) error {
	d.mu.Lock()
	d.delays = append(d.delays, delay)
	d.mu.Unlock()
	return ctx.Err()
}

func (d *delayRecorder) recorded() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.delays...)
}

// newClient returns a client of cfg whose backoff does not wait.
func newClient(t *testing.T, cfg Config) (*Client, *delayRecorder) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &delayRecorder{}
	c.backoff.sleep = rec.sleep
	return c, rec
}

// clientConfig is the configuration of a client of endpoint with the
// emulator's default app and user, after mutate.
func clientConfig(endpoint string, mutate func(*Config)) Config {
	cfg := Config{
		Endpoint: endpoint, AccessKey: emulator.DefaultAccessKey, SecretKey: emulator.DefaultSecretKey,
		OrgID: emulator.DefaultOrgID, UserID: emulator.DefaultUserID, UserAgent: testUserAgent,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	return cfg
}

// emu is an emulator serving one test, behind a front that keeps what the
// emulator's request log leaves out: each request's raw query and headers
// (access token, signature, User-Agent).
type emu struct {
	*emulator.Emulator
	URL    string
	server *httptest.Server
	clock  *emulator.ManualClock // nil: real time

	mu       sync.Mutex
	arrivals []arrival
}

// arrival is one request as it reached the front.
type arrival struct {
	Path     string
	RawQuery string
	Header   http.Header
}

// newEmu serves an emulator with opts until the test ends. A ManualClock
// in opts is also the clock of the clients of newEmu.client, so that their
// timestamps pass the gateway's freshness check.
func newEmu(t *testing.T, opts emulator.Options) *emu {
	t.Helper()
	e, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &emu{Emulator: e}
	s.clock, _ = opts.Clock.(*emulator.ManualClock)
	s.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrivals = append(s.arrivals, arrival{Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone()})
		s.mu.Unlock()
		e.ServeHTTP(w, r)
	}))
	t.Cleanup(s.server.Close)
	s.URL = s.server.URL
	return s
}

// client returns a client of the emulator whose backoff does not wait.
func (s *emu) client(t *testing.T, mutate func(*Config)) (*Client, *delayRecorder) {
	t.Helper()
	return newClient(t, clientConfig(s.URL, func(cfg *Config) {
		if s.clock != nil {
			cfg.Now = s.clock.Now
		}
		if mutate != nil {
			mutate(cfg)
		}
	}))
}

// requestsOf lists the emulator's log of operation op, oldest first.
func (s *emu) requestsOf(op string) []emulator.Request {
	var out []emulator.Request
	for _, r := range s.Requests() {
		if r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

// arrivedAt lists the requests that reached the front for path, oldest first.
func (s *emu) arrivedAt(path string) []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []arrival
	for _, a := range s.arrivals {
		if a.Path == path {
			out = append(out, a)
		}
	}
	return out
}

// startRuns triggers n runs of flow 1001, one a minute from start.
func startRuns(t *testing.T, c *Client, start time.Time, n int) {
	t.Helper()
	for i := range n {
		if _, err := c.updateAndTrigger(t.Context(), TriggerRequest{FlowID: 1001, TriggerTime: start.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
}

// wire is a test's own server, in the manner of go-github's tests: each
// test registers the handlers of the calls it makes, and any other
// request fails the test. A token request finds wireToken unless the test
// registers its own route for apim.TokenPath.
type wire struct {
	*http.ServeMux
	t           *testing.T
	server      *httptest.Server
	prefix      string       // the service path prefix of the client's API version
	resultKey   string       // "status" (v2.0) or "code" (v2.1)
	connections atomic.Int64 // TCP connections accepted
	client      *Client
	delays      *delayRecorder
}

const wireToken = "wire-token-secretish"

// newWire starts a wire server and a client of it, configured by mutate.
func newWire(t *testing.T, mutate func(*Config)) *wire {
	t.Helper()
	w := &wire{ServeMux: http.NewServeMux(), t: t}
	w.server = httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	w.server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			w.connections.Add(1)
		}
	}
	w.server.Start()
	t.Cleanup(w.server.Close)
	cfg := clientConfig(w.server.URL, mutate)
	w.prefix, w.resultKey = "/dataflow-batch-service/v2.0", "status"
	if cfg.APIVersion == APIVersion21 {
		w.prefix, w.resultKey = "/batch-processing-service/v2.1", "code"
	}
	w.client, w.delays = newClient(t, cfg)
	return w
}

func (w *wire) serve(rw http.ResponseWriter, r *http.Request) {
	if _, pattern := w.Handler(r); pattern == "" {
		if r.URL.Path == apim.TokenPath {
			writeJSON(rw, map[string]any{"status": 0, "msg": "SUCCESS", "data": map[string]any{"accessToken": wireToken, "expire": 7200}})
			return
		}
		w.t.Errorf("unexpected request %s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
		http.NotFound(rw, r)
		return
	}
	w.ServeHTTP(rw, r)
}

// handle serves op, a resource and its action ("flows/getMyFlow"), with h.
func (w *wire) handle(op string, h http.HandlerFunc) {
	resource, action, _ := strings.Cut(op, "/")
	w.HandleFunc(w.prefix+"/"+resource, func(rw http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("action"); got != action {
			w.t.Errorf("%s: action %q, want %q", r.URL.Path, got, action)
			http.NotFound(rw, r)
			return
		}
		h(rw, r)
	})
}

// ok answers data in the envelope of the client's API version.
func (w *wire) ok(rw http.ResponseWriter, data any) {
	writeJSON(rw, map[string]any{w.resultKey: 0, "msg": "OK", "data": data})
}

// rawAnswer answers body as it is, with the status and content type given.
func rawAnswer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// jsonAnswer answers body as a JSON 200.
func jsonAnswer(body string) http.HandlerFunc {
	return rawAnswer(http.StatusOK, "application/json", body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// holdUntilCancelled is a handler that answers nothing until the request's
// context ends or the test does.
func holdUntilCancelled(t *testing.T) http.HandlerFunc {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}
}

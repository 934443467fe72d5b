package enos

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
)

func validConfig(endpoint string) Config {
	return Config{Endpoint: endpoint, AccessKey: "k", SecretKey: "s", OrgID: "o", UserID: "u"}
}

func TestPlainHTTPOnlyForLoopbackHosts(t *testing.T) {
	allowed := []string{"http://127.0.0.1:8080", "http://127.8.9.10", "http://[::1]:9000", "http://localhost:1", "http://LOCALHOST/", "https://apim-ppe1.envisioniot.com", "https://10.0.0.1:8443"}
	for _, endpoint := range allowed {
		if _, err := New(validConfig(endpoint)); err != nil {
			t.Errorf("%s refused: %v", endpoint, err)
		}
	}
	refused := map[string]string{
		"http://apim.example.com":      "plain http to a non-loopback host",
		"http://10.0.0.1":              "plain http to a non-loopback host",
		"http://localhost.example.com": "plain http to a non-loopback host",
		"http://127.0.0.1.nip.io":      "plain http to a non-loopback host",
		"ftp://127.0.0.1":              "must start with https://",
		"https://host/path":            "without path, query",
		"https://user:pw@host":         "without path, query",
		"apim.example.com":             "is not an absolute URL",
		"https://host?x=1":             "without path, query",
		"https://host#frag":            "without path, query",
		"://bad":                       "is not an absolute URL",
	}
	for endpoint, want := range refused {
		_, err := New(validConfig(endpoint))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", endpoint, err, want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := New(Config{APIVersion: "v3", RequestTimeout: -1, MaxRetries: -1, RequestsPerSecond: -1, ServerTimeZone: "Mars"})
	for _, want := range []string{"endpoint is required", "access key is required", "secret key is required", "org id is required",
		"user id is required", `api version "v3"`, "request timeout", "max retries", "requests per second", `time zone "Mars"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
	insecure := validConfig("https://host")
	insecure.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the client must refuse it
	if _, err := New(insecure); err == nil || !strings.Contains(err.Error(), "verification cannot be disabled") {
		t.Errorf("insecure HTTP client accepted: %v", err)
	}
	badCA := validConfig("https://host")
	badCA.CACertPEM = []byte("not a certificate")
	if _, err := New(badCA); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA bundle: %v", err)
	}
}

func TestTLSVerificationWithExtraCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == apim.TokenPath {
			writeJSON(w, map[string]any{"status": 0, "data": map[string]any{"accessToken": "t", "expire": 7200}})
			return
		}
		writeJSON(w, map[string]any{"status": 0, "data": []any{}})
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()

	untrusted, err := New(validConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := untrusted.GetMyFlows(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("self-signed server accepted without its CA: %v", err)
	}

	cfg := validConfig(srv.URL)
	cfg.CACertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	trusted, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusted.GetMyFlows(context.Background(), ""); err != nil {
		t.Errorf("with the server's CA: %v", err)
	}
}

// Terraform sends ten requests at a time to the one gateway host; the
// client keeps their connections for the next ten instead of dialing anew.
func TestClientReusesTheConnectionsOfParallelCalls(t *testing.T) {
	const parallel = 10
	w := newWire(t, nil)
	var callers sync.WaitGroup
	var round atomic.Pointer[sync.WaitGroup]
	w.handle("flows/getMyFlow", func(rw http.ResponseWriter, _ *http.Request) {
		// Hold every call until all of its round have callers, so the round
		// really needs ten connections at once.
		wg := round.Load()
		wg.Done()
		wg.Wait()
		w.ok(rw, []any{})
	})
	c := w.client
	if _, err := c.accessToken(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		wg := &sync.WaitGroup{}
		wg.Add(parallel)
		round.Store(wg)
		for range parallel {
			callers.Go(func() {
				if _, err := c.GetMyFlows(t.Context(), ""); err != nil {
					t.Error(err)
				}
			})
		}
		callers.Wait()
	}
	if n := w.connections.Load(); n > parallel {
		t.Errorf("three rounds of %d parallel calls opened %d connections, want at most %d", parallel, n, parallel)
	}
}

// A loopback endpoint however written is used in one spelling, and plain
// http never goes through a proxy: with HTTP_PROXY set, "http://LOCALHOST."
// would otherwise send the token request to the proxy in the clear.
func TestPlainHTTPNeverUsesAProxy(t *testing.T) {
	for raw, want := range map[string]string{
		"http://LOCALHOST.:8080":   "http://localhost:8080",
		"http://localhost.":        "http://localhost",
		"http://[::1]:9000":        "http://[::1]:9000",
		"https://APIM.Example.COM": "https://apim.example.com",
	} {
		u, err := parseEndpoint(raw)
		if err != nil || u.String() != want {
			t.Errorf("parseEndpoint(%q) = %v, %v; want %s", raw, u, err, want)
		}
	}
	for _, raw := range []string{"http://localhost.:8080/x", "http://127.0.0.1:1/x", "http://LOCALHOST:1/x"} {
		req, _ := http.NewRequest(http.MethodGet, raw, nil)
		if proxy, err := proxyFor(req); proxy != nil || err != nil {
			t.Errorf("%s goes through proxy %v (%v)", raw, proxy, err)
		}
	}
}

package enos

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type recordingLogger struct {
	mu      sync.Mutex
	entries []map[string]any
	text    strings.Builder
}

func (l *recordingLogger) Debug(_ context.Context, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fields)
	fmt.Fprintf(&l.text, "%s %v\n", msg, fields)
}

func TestSecretsNeverReachLogsOrErrors(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	serveFlowInstance(fs)
	log := &recordingLogger{}
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.Logger = log; cfg.MaxRetries = 1 })
	ctx := context.Background()
	var errs []string
	record := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}

	_, err := c.GetFlowInstance(ctx, "1001-20240101100000")
	record(err)
	fs.revokeTokens() // 1203, renewal, re-signed retry
	_, err = c.GetFlowInstance(ctx, "1001-20240101100000")
	record(err)
	_, err = c.StartRun(ctx, TriggerRequest{FlowID: 1001, TriggerTime: time.Date(2024, 1, 1, 10, 0, 0, 0, gmt8)})
	record(err) // a duplicate
	fs.handle("flows/updateAndTrigger", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { dropConnection(w) })
	_, err = c.updateAndTrigger(ctx, TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
	record(err)
	fs.handle("flows/getMyFlow", rawReply(502, "text/html", "<html>bad gateway</html>"))
	_, err = c.GetMyFlows(ctx, "")
	record(err)
	// A gateway that echoes the token and the secret key in its error page.
	token, err := c.accessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs.handle("flows/getMyFlow", rawReply(502, "text/html", "<html>bad gateway for "+token+" "+fs.secretKey+"</html>"))
	_, err = c.GetMyFlows(ctx, "")
	if err == nil || !strings.Contains(err.Error(), "bad gateway for (redacted)") {
		t.Fatalf("the echoing error page: %v", err)
	}
	record(err)
	fs.onToken = func(w http.ResponseWriter, _ int) bool {
		writeJSON(w, map[string]any{"status": 1003, "msg": "The encryption is not valid"})
		return true
	}
	fs.revokeTokens()
	c.tokens.invalidate(c.tokens.token)
	_, err = c.GetMyFlows(ctx, "")
	record(err)

	if len(errs) < 4 || len(log.entries) < 10 {
		t.Fatalf("the scenario produced %d errors and %d log entries", len(errs), len(log.entries))
	}
	everything := log.text.String() + strings.Join(errs, "\n")
	for _, secret := range fs.secretsSeen() {
		if secret != "" && strings.Contains(everything, secret) {
			t.Errorf("secret-derived value %q leaked into logs or errors", secret)
		}
	}
	for _, entry := range log.entries {
		for _, key := range []string{"operation", "method", "attempt", "http_status", "code", "duration_ms"} {
			if _, ok := entry[key]; !ok {
				t.Errorf("log entry %v lacks %s", entry, key)
			}
		}
	}
	if !strings.Contains(log.text.String(), "request_id:req-1203") || !strings.Contains(log.text.String(), "code:1203") {
		t.Errorf("the 1203 answer is not logged with its code and request id:\n%s", log.text.String())
	}
}

// redact takes the secret key and the access token out of text that may
// echo them (a task's log), and leaves the rest as it is.
func TestRedactRemovesTheClientsSecrets(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	c, _ := newTestClient(t, fs, nil)
	token, err := c.accessToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := c.redact("key " + fs.secretKey + ", token " + token + ", bizdate 20240101")
	if strings.Contains(got, fs.secretKey) || strings.Contains(got, token) || !strings.Contains(got, "bizdate 20240101") {
		t.Errorf("Redact gave %q", got)
	}
}

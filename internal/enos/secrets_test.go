package enos

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
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

// secretsSeen lists every secret-derived value that crossed the wire to
// srv: the access tokens and signatures of every request and the token
// requests' encryptions, with the secret keys given.
func secretsSeen(srv *emu, secretKeys ...string) []string {
	out := secretKeys
	srv.mu.Lock()
	for _, a := range srv.arrivals {
		out = append(out, a.Header.Get(apim.HeaderAccessToken), a.Header.Get(apim.HeaderSignature))
	}
	srv.mu.Unlock()
	for _, r := range srv.requestsOf("token/get") {
		var b struct {
			Encryption string `json:"encryption"`
		}
		_ = json.Unmarshal(r.Body, &b)
		out = append(out, b.Encryption)
	}
	return out
}

func TestSecretsNeverReachLogsOrErrors(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	log := &recordingLogger{}
	c, _ := srv.client(t, func(cfg *Config) { cfg.Logger = log; cfg.MaxRetries = 1 })
	ctx := context.Background()
	var errs []string
	record := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}

	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	run, err := c.StartRun(ctx, TriggerRequest{FlowID: 1001, TriggerTime: at})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFlowInstance(ctx, run.InstanceID)
	record(err)
	srv.InjectFault(emulator.Fault{Operation: "flowInstances/get", Kind: emulator.FaultExpireToken, Count: 1}) // 1203, renewal, re-signed retry
	_, err = c.GetFlowInstance(ctx, run.InstanceID)
	record(err)
	_, err = c.StartRun(ctx, TriggerRequest{FlowID: 1001, TriggerTime: at})
	record(err) // a duplicate, moved to the next minute
	srv.InjectFault(emulator.Fault{Operation: "flows/updateAndTrigger", Kind: emulator.FaultDropAfterAct, Count: 1})
	_, err = c.updateAndTrigger(ctx, TriggerRequest{FlowID: 1001, TriggerTime: time.Now()})
	record(err)
	srv.InjectFault(emulator.Fault{Operation: "flows/getMyFlow", Kind: emulator.FaultHTTP502, Count: 2})
	_, err = c.GetMyFlows(ctx, "")
	record(err)
	// A client whose secret key the gateway refuses (1003).
	const wrongSecret = "wrong-secret-key-do-not-leak"
	refused, _ := srv.client(t, func(cfg *Config) { cfg.Logger = log; cfg.SecretKey = wrongSecret })
	_, err = refused.GetMyFlows(ctx, "")
	if KindOf(err) != KindBadSignature {
		t.Errorf("wrong secret key: %v, want code 1003", err)
	}
	record(err)

	if len(errs) < 3 || len(log.entries) < 10 {
		t.Fatalf("the scenario produced %d errors and %d log entries", len(errs), len(log.entries))
	}
	everything := log.text.String() + strings.Join(errs, "\n")
	for _, secret := range secretsSeen(srv, emulator.DefaultSecretKey, wrongSecret) {
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
	logged1203 := false
	for _, entry := range log.entries {
		id, _ := entry["request_id"].(string)
		logged1203 = logged1203 || fmt.Sprint(entry["code"]) == "1203" && strings.HasPrefix(id, "emu-")
	}
	if !logged1203 {
		t.Errorf("the 1203 answer is not logged with its code and request id:\n%s", log.text.String())
	}
}

// A gateway that echoes the token and the secret key in its error page.
func TestErrorPagesEchoingSecretsAreRedacted(t *testing.T) {
	log := &recordingLogger{}
	w := newWire(t, func(cfg *Config) { cfg.Logger = log })
	w.handle("flows/getMyFlow", rawAnswer(502, "text/html", "<html>bad gateway for "+wireToken+" "+emulator.DefaultSecretKey+"</html>"))
	_, err := w.client.GetMyFlows(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "bad gateway for (redacted) (redacted)") {
		t.Fatalf("the echoing error page: %v", err)
	}
	if text := log.text.String(); strings.Contains(text, wireToken) || strings.Contains(text, emulator.DefaultSecretKey) {
		t.Errorf("the echoed secrets reached the log:\n%s", text)
	}
}

// redact takes the secret key and the access token out of text that may
// echo them (a task's log), and leaves the rest as it is.
func TestRedactRemovesTheClientsSecrets(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, nil)
	token, err := c.accessToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := c.redact("key " + emulator.DefaultSecretKey + ", token " + token + ", bizdate 20240101")
	if strings.Contains(got, emulator.DefaultSecretKey) || strings.Contains(got, token) || !strings.Contains(got, "bizdate 20240101") {
		t.Errorf("Redact gave %q", got)
	}
}

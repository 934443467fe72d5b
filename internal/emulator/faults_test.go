package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawDo sends a request and returns the response with its body read, or the
// transport error.
func rawDo(client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func triggerRequest(c *caller, at time.Time) *http.Request {
	return c.request(http.MethodPost, "flows", "updateAndTrigger", nil,
		fmt.Sprintf(`{"flowId":1001,"triggerTime":%d,"parameters":[]}`, at.UnixMilli()))
}

func TestFaultsThatPreventTheAction(t *testing.T) {
	tests := []struct {
		kind        FaultKind
		retryAfter  time.Duration
		wantStatus  int
		wantRetry   string
		wantCode    int
		wantDropped bool
	}{
		{kind: FaultHTTP502, wantStatus: 502},
		{kind: FaultHTTP503, retryAfter: 3 * time.Second, wantStatus: 503, wantRetry: "3"},
		{kind: FaultThrottle, wantStatus: 429, wantRetry: "1"},
		{kind: FaultInternal, wantStatus: 200, wantCode: 62109},
		{kind: FaultDropBeforeAct, wantDropped: true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			env := startEnv(t, Options{})
			alice := env.alice()
			env.srv.InjectFault(Fault{Operation: "flows/updateAndTrigger", Kind: tt.kind, Count: 1, RetryAfter: tt.retryAfter})
			wantCode(t, alice.get("flows", "getMyFlow", nil), 0, "") // other operations are untouched
			resp, body, err := rawDo(env.http, triggerRequest(alice, env.clock.Now()))
			switch {
			case tt.wantDropped:
				if err == nil {
					t.Fatalf("got HTTP %d, want a dropped connection", resp.StatusCode)
				}
			case err != nil:
				t.Fatal(err)
			case resp.StatusCode != tt.wantStatus || resp.Header.Get("Retry-After") != tt.wantRetry:
				t.Fatalf("HTTP %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
			case tt.wantStatus != 200 && !strings.Contains(resp.Header.Get("Content-Type"), "text/html"):
				t.Errorf("content type %q, want an HTML page", resp.Header.Get("Content-Type"))
			case tt.wantCode != 0 && !strings.Contains(string(body), fmt.Sprintf(`"status":%d`, tt.wantCode)):
				t.Errorf("body %s, want code %d", body, tt.wantCode)
			}
			if n := len(env.srv.Instances()); n != 0 {
				t.Fatalf("%d instances started, want none", n)
			}
			// Count 1: the next call goes through.
			wantCode(t, alice.trigger(1001, env.clock.Now(), "[]"), 0, "")
			reqs := env.srv.Requests()
			if r := reqs[len(reqs)-2]; r.Fault != tt.kind || r.Operation != "flows/updateAndTrigger" {
				t.Errorf("logged %+v", r)
			}
		})
	}
}

func TestFaultsAfterTheAction(t *testing.T) {
	for _, kind := range []FaultKind{FaultDropAfterAct, FaultTruncatedBody} {
		t.Run(string(kind), func(t *testing.T) {
			env := startEnv(t, Options{})
			alice := env.alice()
			env.srv.InjectFault(Fault{Operation: "flows/updateAndTrigger", Kind: kind})
			resp, _, err := rawDo(env.http, triggerRequest(alice, env.clock.Now()))
			if err == nil {
				t.Fatalf("got a whole response (HTTP %d), want an error", resp.StatusCode)
			}
			if kind == FaultTruncatedBody && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v, want unexpected EOF", err)
			}
			got := env.srv.Instances()
			if len(got) != 1 || got[0].ID != "1001-20240305102000" {
				t.Fatalf("instances = %+v, want the run started", got)
			}
			reqs := env.srv.Requests()
			if r := reqs[len(reqs)-1]; r.Code != 0 || r.Fault != kind {
				t.Errorf("logged %+v", r)
			}
		})
	}
}

func TestSlowBodyAndLatency(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	env.srv.InjectFault(Fault{Operation: "flows/getMyFlow", Kind: FaultSlowBody, Delay: 20 * time.Millisecond, Count: 1})
	env.srv.InjectFault(Fault{Operation: "flows/getMyFlow", Kind: FaultLatency, Delay: time.Millisecond, Count: 1})
	wantCode(t, alice.get("flows", "getMyFlow", nil), 0, "") // slow but whole
	reqs := env.srv.Requests()
	if r := reqs[len(reqs)-1]; r.Fault != FaultSlowBody {
		t.Errorf("logged fault %q", r.Fault)
	}
	// A client that gives up before the body has trickled in fails.
	env.srv.InjectFault(Fault{Operation: "flows/getMyFlow", Kind: FaultSlowBody, Delay: time.Minute, Count: 1})
	ctx, cancel := context.WithCancel(context.Background())
	req := alice.request(http.MethodGet, "flows", "getMyFlow", nil, "").WithContext(ctx)
	resp, err := env.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel() // headers arrived; the body never completes
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("reading a slow body after cancelling succeeded")
	}
	resp.Body.Close()
}

func TestExpireTokenFault(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	env.srv.InjectFault(Fault{Operation: "flowInstances/search", Kind: FaultExpireToken, Count: 1})
	wantCode(t, alice.post("flowInstances", "search", `{}`), 1203, "The access token has expired")
	wantCode(t, alice.get("flows", "getMyFlow", nil), 1203, "") // the token really expired
	if fresh := env.token(); fresh == alice.token {
		t.Error("token/get returned the expired token")
	}
}

func TestClockSkewFault(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	env.srv.InjectFault(Fault{Kind: FaultClockSkew, Skew: 20 * time.Minute, Count: 2})
	wantCode(t, alice.get("flows", "getMyFlow", nil), 1004, "Invalid parameter")
	wantCode(t, env.post(tokenPath, env.tokenBody("")), 1004, "")
	wantCode(t, alice.get("flows", "getMyFlow", nil), 0, "")
}

func TestFaultRateAndRemoval(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	remove := env.srv.InjectFault(Fault{Operation: "time/getCurrentTime", Kind: FaultInternal, Rate: 0.5})
	failed := 0
	const calls = 200
	for range calls {
		if alice.get("time", "getCurrentTime", nil).Code == 62109 {
			failed++
		}
	}
	if failed == 0 || failed == calls {
		t.Errorf("rate 0.5 failed %d of %d calls", failed, calls)
	}
	remove()
	wantCode(t, alice.get("time", "getCurrentTime", nil), 0, "")
	if n := env.srv.Count("time/getCurrentTime"); n != calls+1 {
		t.Errorf("Count = %d", n)
	}
	env.srv.InjectFault(Fault{Kind: FaultInternal, Operation: "token/get"})
	wantCode(t, env.post(tokenPath, env.tokenBody("")), 1005, "Internal service exception")
}

func TestConcurrentRequests(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			at := env.clock.Now().Add(time.Duration(-i) * time.Minute)
			req := triggerRequest(alice, at)
			if _, _, err := rawDo(env.http, req); err != nil {
				t.Error(err)
			}
			env.clock.Advance(time.Second)
			if _, _, err := rawDo(env.http, alice.request(http.MethodPost, "flowInstances", "search", nil, `{}`)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(env.srv.Instances()); n < 10 {
		t.Errorf("%d instances", n)
	}
}

func TestParseFault(t *testing.T) {
	f, err := ParseFault("op=flows/updateAndTrigger,kind=drop-after,count=1,rate=0.5,delay=2s,retry-after=3s,skew=-20m")
	want := Fault{Operation: "flows/updateAndTrigger", Kind: FaultDropAfterAct, Count: 1, Rate: 0.5,
		Delay: 2 * time.Second, RetryAfter: 3 * time.Second, Skew: -20 * time.Minute}
	if err != nil || f != want {
		t.Fatalf("ParseFault = %+v, %v", f, err)
	}
	for spec, wantErr := range map[string]string{
		"kind=boom":            "expected one of latency",
		"op=x":                 "expected kind=",
		"kind=latency,delay=x": "delay=x",
		"kind=latency,rate=2":  "between 0 and 1",
		"kind=latency,colour=": "unknown key",
		"kind":                 "expected key=value",
	} {
		if _, err := ParseFault(spec); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseFault(%q) error %v, want it to mention %q", spec, err, wantErr)
		}
	}
}

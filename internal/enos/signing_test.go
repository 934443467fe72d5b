package enos

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fake verifies every signature over the decoded query it received and
// the body bytes it read; these tests add what it cannot see on its own.
func TestSignedQueryIsDecodedSortedAndUsesPercent20(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/getMyFlow", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.ok(w, []map[string]any{{"flowId": "3318", "flowName": "daily load + more", "cycle": "D", "editable": true}})
	})
	c, _ := newTestClient(t, fs, nil)

	flows, err := c.GetMyFlows(context.Background(), "daily load + more")
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1 || flows[0].FlowID != 3318 || !flows[0].Editable {
		t.Errorf("flows = %+v", flows)
	}
	call := fs.callsOf("flows/getMyFlow")[0]
	wantQuery := "action=getMyFlow&orgId=" + testOrgID + "&searchValue=daily%20load%20%2B%20more&userId=" + testUserID
	if call.RawQuery != wantQuery {
		t.Errorf("raw query = %s, want %s", call.RawQuery, wantQuery)
	}
	if call.Query.Get("searchValue") != "daily load + more" {
		t.Errorf("decoded searchValue = %q", call.Query.Get("searchValue"))
	}
	if call.Method != http.MethodGet || len(call.Body) != 0 {
		t.Errorf("GET sent method %s with body %q", call.Method, call.Body)
	}
	if call.UserAgent != "enos-client-test/1.0" {
		t.Errorf("User-Agent = %q", call.UserAgent)
	}
}

func TestEmptyQueryValuesAreNotSent(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.handle("flows/getMyFlow", func(w http.ResponseWriter, _ *http.Request, _ fakeCall) { fs.ok(w, []any{}) })
	c, _ := newTestClient(t, fs, nil)
	if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if q := fs.callsOf("flows/getMyFlow")[0].RawQuery; strings.Contains(q, "searchValue") {
		t.Errorf("query %s carries an empty searchValue", q)
	}
}

// Vector D of SERVICE.md §2.3, produced end to end: the token, clock, query and
// body the client builds must sign to the published digest.
func TestTriggerRequestReproducesSpecVectorD(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	fs.accessKey, fs.secretKey = "demo-app-key", "demo-secret"
	fs.tokenName = func(int) string { return "demo-token-0001" }
	c, _ := newTestClient(t, fs, func(cfg *Config) {
		cfg.Now = func() time.Time { return time.UnixMilli(1700000000000) }
	})

	_, err := c.updateAndTrigger(context.Background(), TriggerRequest{
		FlowID: 3377, TriggerTime: time.UnixMilli(1700000000000), Parameters: map[string]string{"REPLACE": "ddee"},
	})
	if err != nil {
		t.Fatal(err)
	}
	call := fs.callsOf("flows/updateAndTrigger")[0]
	const wantBody = `{"flowId":3377,"triggerTime":1700000000000,"parameters":[{"key":"REPLACE","value":"ddee"}]}`
	if string(call.Body) != wantBody {
		t.Errorf("body = %s, want %s", call.Body, wantBody)
	}
	const wantSignature = "7b246aace37f6555e146666fa34c0735cbd8c070992755cf471400b51062de31"
	if got := fs.signatures[0]; got != wantSignature {
		t.Errorf("signature = %s, want %s", got, wantSignature)
	}
}

func TestPostBodySignedExactlyAsSent(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	c, _ := newTestClient(t, fs, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	// Characters json.Marshal escapes and multi-byte UTF-8: the signature
	// must cover the escaped bytes on the wire, which the fake checks.
	params := map[string]string{"desc": "描述 <a&b>", "z": "", "a": "x y"}
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now(), Parameters: params}); err != nil {
		t.Fatal(err)
	}
	call := fs.callsOf("flows/updateAndTrigger")[0]
	if !strings.Contains(string(call.Body), `"parameters":[{"key":"a","value":"x y"},{"key":"desc","value":"描述 \u003ca\u0026b\u003e"},{"key":"z","value":""}]`) {
		t.Errorf("parameters not sent as a sorted key/value array: %s", call.Body)
	}
}

func TestTriggerWithoutParametersSendsEmptyArray(t *testing.T) {
	fs := newFakeService(t, APIVersion20)
	c, _ := newTestClient(t, fs, nil)
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if body := fs.callsOf("flows/updateAndTrigger")[0].Body; !strings.HasSuffix(string(body), `"parameters":[]}`) {
		t.Errorf("body = %s", body)
	}
}

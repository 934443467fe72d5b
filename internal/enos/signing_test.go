package enos

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// The emulator verifies every signature over the decoded query it received
// and the body bytes it read; these tests add what it cannot see on its own.
func TestSignedQueryIsDecodedSortedAndUsesPercent20(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	if err := srv.AddFlow(emulator.FlowSpec{ID: 3318, Name: "daily load + more", OrgID: emulator.DefaultOrgID, Owners: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	c, _ := srv.client(t, nil)

	flows, err := c.GetMyFlows(context.Background(), "daily load + more")
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1 || flows[0].FlowID != 3318 || !flows[0].Editable {
		t.Errorf("flows = %+v", flows)
	}
	call := srv.requestsOf("flows/getMyFlow")[0]
	if !call.SignatureValid {
		t.Error("the emulator rejected the signature")
	}
	arrived := srv.arrivedAt("/dataflow-batch-service/v2.0/flows")[0]
	wantQuery := "action=getMyFlow&orgId=" + emulator.DefaultOrgID + "&searchValue=daily%20load%20%2B%20more&userId=" + emulator.DefaultUserID
	if arrived.RawQuery != wantQuery {
		t.Errorf("raw query = %s, want %s", arrived.RawQuery, wantQuery)
	}
	if call.Query.Get("searchValue") != "daily load + more" {
		t.Errorf("decoded searchValue = %q", call.Query.Get("searchValue"))
	}
	if call.Method != http.MethodGet || len(call.Body) != 0 {
		t.Errorf("GET sent method %s with body %q", call.Method, call.Body)
	}
	if ua := arrived.Header.Get("User-Agent"); ua != testUserAgent {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestEmptyQueryValuesAreNotSent(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, nil)
	if _, err := c.GetMyFlows(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if q := srv.requestsOf("flows/getMyFlow")[0].Query; q.Has("searchValue") {
		t.Errorf("query %s carries an empty searchValue", q.Encode())
	}
}

// Vector D of SERVICE.md §2.3, produced end to end: the token, clock, query and
// body the client builds must sign to the published digest.
func TestTriggerRequestReproducesSpecVectorD(t *testing.T) {
	w := newWire(t, func(cfg *Config) {
		cfg.AccessKey, cfg.SecretKey = "demo-app-key", "demo-secret"
		cfg.Now = func() time.Time { return time.UnixMilli(1700000000000) }
	})
	w.HandleFunc(apim.TokenPath, func(rw http.ResponseWriter, _ *http.Request) {
		writeJSON(rw, map[string]any{"status": 0, "data": map[string]any{"accessToken": "demo-token-0001", "expire": 7200}})
	})
	const wantBody = `{"flowId":3377,"triggerTime":1700000000000,"parameters":[{"key":"REPLACE","value":"ddee"}]}`
	const wantSignature = "7b246aace37f6555e146666fa34c0735cbd8c070992755cf471400b51062de31"
	var sends atomic.Int32
	w.handle("flows/updateAndTrigger", func(rw http.ResponseWriter, r *http.Request) {
		sends.Add(1)
		if body, _ := io.ReadAll(r.Body); string(body) != wantBody {
			t.Errorf("body = %s, want %s", body, wantBody)
		}
		if got := r.Header.Get(apim.HeaderSignature); got != wantSignature {
			t.Errorf("signature = %s, want %s", got, wantSignature)
		}
		w.ok(rw, map[string]string{"flowInstanceId": "3377-20231115062000"})
	})

	_, err := w.client.updateAndTrigger(context.Background(), TriggerRequest{
		FlowID: 3377, TriggerTime: time.UnixMilli(1700000000000), Parameters: map[string]string{"REPLACE": "ddee"},
	})
	if err != nil || sends.Load() != 1 {
		t.Fatalf("err %v after %d sends", err, sends.Load())
	}
}

func TestPostBodySignedExactlyAsSent(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	// Characters json.Marshal escapes and multi-byte UTF-8: the signature
	// must cover the escaped bytes on the wire, which the emulator checks.
	params := map[string]string{"desc": "描述 <a&b>", "z": "", "a": "x y"}
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now(), Parameters: params}); err != nil {
		t.Fatal(err)
	}
	call := srv.requestsOf("flows/updateAndTrigger")[0]
	if !call.SignatureValid {
		t.Error("the emulator rejected the signature")
	}
	if !strings.Contains(string(call.Body), `"parameters":[{"key":"a","value":"x y"},{"key":"desc","value":"描述 \u003ca\u0026b\u003e"},{"key":"z","value":""}]`) {
		t.Errorf("parameters not sent as a sorted key/value array: %s", call.Body)
	}
}

func TestTriggerWithoutParametersSendsEmptyArray(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, nil)
	if _, err := c.updateAndTrigger(context.Background(), TriggerRequest{FlowID: 1001, TriggerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if body := srv.requestsOf("flows/updateAndTrigger")[0].Body; !strings.HasSuffix(string(body), `"parameters":[]}`) {
		t.Errorf("body = %s", body)
	}
}

package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

const tokenPath = "/apim-token-service/v2.0/token/get"

func TestTokenGetFailures(t *testing.T) {
	env := startEnv(t, Options{})
	ts := t0.UnixMilli()
	enc := func(key string, ts int64, secret string) string {
		return sha256Hex(key + strconv.FormatInt(ts, 10) + secret)
	}
	tests := []struct {
		name string
		body string
		code int
	}{
		{"unknown appKey", fmt.Sprintf(`{"appKey":"nope","encryption":%q,"timestamp":%d}`, enc("nope", ts, DefaultSecretKey), ts), 1002},
		{"wrong secret", fmt.Sprintf(`{"appKey":%q,"encryption":%q,"timestamp":%d}`, DefaultAccessKey, enc(DefaultAccessKey, ts, "wrong"), ts), 1003},
		{"missing encryption", fmt.Sprintf(`{"appKey":%q,"timestamp":%d}`, DefaultAccessKey, ts), 1202},
		{"missing timestamp", fmt.Sprintf(`{"appKey":%q,"encryption":"x"}`, DefaultAccessKey), 1202},
		{"malformed body", `{"appKey":`, 1004},
		{"non-numeric timestamp", fmt.Sprintf(`{"appKey":%q,"encryption":"x","timestamp":"soon"}`, DefaultAccessKey), 1004},
		{"stale by 16 minutes", fmt.Sprintf(`{"appKey":%q,"encryption":%q,"timestamp":%d}`, DefaultAccessKey,
			enc(DefaultAccessKey, ts-16*60000, DefaultSecretKey), ts-16*60000), 1004},
		{"16 minutes ahead", fmt.Sprintf(`{"appKey":%q,"encryption":%q,"timestamp":%d}`, DefaultAccessKey,
			enc(DefaultAccessKey, ts+16*60000, DefaultSecretKey), ts+16*60000), 1004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := env.post(tokenPath, tt.body)
			wantCode(t, a, tt.code, gatewayMessages[tt.code])
			if a.HTTP != http.StatusOK || a.RequestID == "" {
				t.Errorf("HTTP %d requestId %q", a.HTTP, a.RequestID)
			}
		})
	}
}

func TestTokenGetAcceptsStringTimestampAndRefusesReplay(t *testing.T) {
	env := startEnv(t, Options{})
	ts := t0.UnixMilli() - 14*60000 // inside the window
	body := fmt.Sprintf(`{"appKey":%q,"encryption":%q,"timestamp":"%d"}`, DefaultAccessKey,
		sha256Hex(DefaultAccessKey+strconv.FormatInt(ts, 10)+DefaultSecretKey), ts)
	a := env.post(tokenPath, body)
	wantCode(t, a, 0, "SUCCESS")
	var d struct {
		AccessToken string `json:"accessToken"`
		Expire      int    `json:"expire"`
	}
	decodeStrictly(t, a.Data, &d)
	if d.AccessToken == "" || d.Expire != 7200 {
		t.Errorf("data = %+v, want a token expiring in 7200s", d)
	}
	if string(a.Keys["business"]) != `"apim-token-service"` {
		t.Errorf("business = %s", a.Keys["business"])
	}
	wantCode(t, env.post(tokenPath, body), 1001, "")
}

func TestTokenSharedUntilExpiry(t *testing.T) {
	env := startEnv(t, Options{TokenTTL: time.Hour})
	alice := env.alice()
	env.clock.Advance(10 * time.Minute)
	if again := env.token(); again != alice.token {
		t.Errorf("a second get while valid returned a different token")
	}
	wantCode(t, alice.get("time", "getCurrentTime", nil), 0, "Success")
	env.clock.Advance(50 * time.Minute)
	wantCode(t, alice.get("time", "getCurrentTime", nil), 1203, "The access token has expired")
	fresh := env.token()
	if fresh == alice.token {
		t.Fatal("get after expiry returned the expired token")
	}
	alice.token = fresh
	wantCode(t, alice.get("time", "getCurrentTime", nil), 0, "")
}

func TestTokenRefresh(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	a := env.post("/apim-token-service/v2.0/token/refresh",
		env.tokenBody(fmt.Sprintf(`,"accessToken":%q`, alice.token)))
	wantCode(t, a, 0, "SUCCESS")
	var d struct {
		AccessToken string `json:"accessToken"`
	}
	decodeStrictly(t, a.Data, &d)
	if d.AccessToken == alice.token {
		t.Fatal("refresh returned the old token")
	}
	wantCode(t, alice.get("time", "getCurrentTime", nil), 1203, "")
	alice.token = d.AccessToken
	wantCode(t, alice.get("time", "getCurrentTime", nil), 0, "")

	again := env.post("/apim-token-service/v2.0/token/refresh",
		env.tokenBody(`,"accessToken":"revoked-or-unknown"`))
	wantCode(t, again, 1204, "Failed to refresh access token")
	missing := env.post("/apim-token-service/v2.0/token/refresh", env.tokenBody(""))
	wantCode(t, missing, 1202, "")
}

func TestSignedCallFailures(t *testing.T) {
	env := startEnv(t, Options{})
	tests := []struct {
		name   string
		modify func(c *caller)
		code   int
	}{
		{"missing signature", func(c *caller) { c.mangle = func(r *http.Request) { r.Header.Del("apim-signature") } }, 1202},
		{"missing token", func(c *caller) { c.mangle = func(r *http.Request) { r.Header.Del("apim-accesstoken") } }, 1202},
		{"unknown token", func(c *caller) { c.token = "not-a-token" }, 1203},
		{"bad signature", func(c *caller) { c.mangle = func(r *http.Request) { r.Header.Set("apim-signature", sha256Hex("x")) } }, 1003},
		{"query changed after signing", func(c *caller) {
			c.mangle = func(r *http.Request) { r.URL.RawQuery += "&extra=1" }
		}, 1003},
		{"timestamp 16 minutes old", func(c *caller) { c.skewTS = -16 * time.Minute }, 1004},
		{"timestamp 16 minutes ahead", func(c *caller) { c.skewTS = 16 * time.Minute }, 1004},
		{"non-numeric timestamp", func(c *caller) {
			c.mangle = func(r *http.Request) { r.Header.Set("apim-timestamp", "now") }
		}, 1004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := env.alice()
			tt.modify(c)
			wantCode(t, c.get("flows", "getMyFlow", nil), tt.code, gatewayMessages[tt.code])
		})
	}
	t.Run("within 14 minutes either way", func(t *testing.T) {
		for _, skew := range []time.Duration{-14 * time.Minute, 14 * time.Minute} {
			c := env.alice()
			c.skewTS = skew
			wantCode(t, c.get("flows", "getMyFlow", nil), 0, "")
		}
	})
	reqs := env.srv.Requests()
	if last := reqs[len(reqs)-1]; !last.SignatureValid || last.Operation != "flows/getMyFlow" || last.APIVersion != "v2.0" {
		t.Errorf("last request = %+v", last)
	}
}

func TestSignatureRulesFromSpec(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	// A decoded %20 value and a repeated name (only its first value signed).
	a := alice.get("flows", "getMyFlow", url.Values{"searchValue": {"sales load", "ignored"}})
	wantCode(t, a, 0, "")
	// The same signed request twice (identical signatures) is accepted.
	body := `{"expression":"daily"}`
	req := alice.request(http.MethodPost, "flows", "search", nil, body)
	wantCode(t, env.do(req), 0, "")
	again := alice.request(http.MethodPost, "flows", "search", nil, body)
	again.Header.Set("apim-signature", req.Header.Get("apim-signature"))
	again.Header.Set("apim-timestamp", req.Header.Get("apim-timestamp"))
	wantCode(t, env.do(again), 0, "")
	// The body is signed as received: whitespace matters.
	changed := alice.request(http.MethodPost, "flows", "search", nil, body)
	changed.Body = http.NoBody
	changed.ContentLength = 0
	wantCode(t, env.do(changed), 1003, "")
}

func TestEnvelopesAndRequestIDs(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	a20 := alice.get("time", "getTimeZone", nil)
	a21 := alice.v21().get("time", "getTimeZone", nil)
	if _, ok := a20.Keys["status"]; !ok || a20.Msg != "Success" {
		t.Errorf("v2.0 envelope = %v", a20.Keys)
	}
	if _, ok := a21.Keys["code"]; !ok || a21.Msg != "OK" {
		t.Errorf("v2.1 envelope = %v", a21.Keys)
	}
	if _, ok := a21.Keys["status"]; ok {
		t.Errorf("v2.1 envelope has status: %v", a21.Keys)
	}
	if a20.RequestID == "" || a20.RequestID == a21.RequestID {
		t.Errorf("request ids %q and %q are not unique", a20.RequestID, a21.RequestID)
	}
	var tz map[string]string
	decodeStrictly(t, a20.Data, &tz)
	if tz["timezone"] != "GMT+8" {
		t.Errorf("timezone = %v", tz)
	}
	var now int64
	decodeStrictly(t, alice.get("time", "getCurrentTime", nil).Data, &now)
	if now != t0.UnixMilli() {
		t.Errorf("getCurrentTime = %d, want %d", now, t0.UnixMilli())
	}
	un := alice.get("flows", "export", nil)
	wantCode(t, un, 62102, "unsupported action: export")
	if un.HTTP != http.StatusOK {
		t.Errorf("unsupported action: HTTP %d", un.HTTP)
	}
	wantCode(t, alice.get("flows", "triggerFromTask", nil), 62102, "unsupported action: triggerFromTask")
	if cmd := alice.post("flows", "enable", `{"flowId":1001}`); cmd.Code != 0 || string(cmd.Data) != `""` {
		t.Errorf("command data = %s, want \"\"", cmd.Data)
	}
}

package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
)

// Gateway and token-service codes (SERVICE.md §5.2).
const (
	codeReusedEncryption = 1001
	codeUnknownAppKey    = 1002
	codeBadEncryption    = 1003
	codeInvalidParameter = 1004
	codeGatewayInternal  = 1005
	codeEmptyParameter   = 1202
	codeTokenExpired     = 1203
	codeRefreshFailed    = 1204
)

var gatewayMessages = map[int]string{
	codeReusedEncryption: "Repeated requests with duplicated encryption",
	codeUnknownAppKey:    "The appKey does not exist",
	codeBadEncryption:    "The encryption is not valid",
	codeInvalidParameter: "Invalid parameter",
	codeGatewayInternal:  "Internal service exception",
	codeEmptyParameter:   "The parameter is empty",
	codeTokenExpired:     "The access token has expired",
	codeRefreshFailed:    "Failed to refresh access token",
}

func gatewayError(code int) reply { return fail(code, gatewayMessages[code]) }

// freshnessWindow is how far a request's timestamp may be from now, either way.
const freshnessWindow = 15 * time.Minute

type token struct {
	value   string
	app     *App
	expires time.Time
	revoked bool // replaced by a refresh
}

func (t *token) valid(now time.Time) bool { return !t.revoked && now.Before(t.expires) }

type tokenBody struct {
	AppKey      string          `json:"appKey"`
	Encryption  string          `json:"encryption"`
	Timestamp   json.RawMessage `json:"timestamp"`
	AccessToken string          `json:"accessToken"`
}

// tokenCall serves token/get and token/refresh.
func (e *Emulator) tokenCall(c *call, refresh bool) reply {
	var b tokenBody
	if json.Unmarshal(c.body, &b) != nil {
		return gatewayError(codeInvalidParameter)
	}
	if b.AppKey == "" || b.Encryption == "" || len(b.Timestamp) == 0 || string(b.Timestamp) == "null" ||
		refresh && b.AccessToken == "" {
		return gatewayError(codeEmptyParameter)
	}
	ts, ok := parseTokenTimestamp(b.Timestamp)
	if !ok {
		return gatewayError(codeInvalidParameter)
	}
	app, ok := e.apps[b.AppKey]
	if !ok {
		return gatewayError(codeUnknownAppKey)
	}
	if !fresh(ts, c.now.Add(c.skew)) {
		return gatewayError(codeInvalidParameter)
	}
	if !equalSecret(apim.Encryption(app.AccessKey, ts, app.SecretKey), b.Encryption) {
		return gatewayError(codeBadEncryption)
	}
	c.signatureValid = true
	e.pruneEncryptions(c.now)
	if _, used := e.usedEncrypt[b.Encryption]; used {
		return gatewayError(codeReusedEncryption)
	}
	e.usedEncrypt[b.Encryption] = time.UnixMilli(ts)
	tok := e.appTokens[app.AccessKey]
	if refresh {
		old, ok := e.tokens[b.AccessToken]
		if !ok || old.app != app || old.revoked {
			return gatewayError(codeRefreshFailed)
		}
		old.revoked = true
		tok = nil
	}
	if tok == nil || !tok.valid(c.now) {
		tok = &token{value: randomHex(16), app: app, expires: c.now.Add(e.tokenTTL)}
		e.tokens[tok.value] = tok
		e.appTokens[app.AccessKey] = tok
	}
	return ok200(map[string]any{"accessToken": tok.value, "expire": int64(tok.expires.Sub(c.now) / time.Second)})
}

// parseTokenTimestamp accepts ms as a JSON number or a numeric string.
func parseTokenTimestamp(raw json.RawMessage) (int64, bool) {
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// pruneEncryptions forgets encryptions too old to pass the freshness check anyway.
func (e *Emulator) pruneEncryptions(now time.Time) {
	for enc, ts := range e.usedEncrypt {
		if now.Sub(ts) > 2*freshnessWindow {
			delete(e.usedEncrypt, enc)
		}
	}
}

func fresh(tsMillis int64, now time.Time) bool {
	d := now.Sub(time.UnixMilli(tsMillis))
	return d <= freshnessWindow && d >= -freshnessWindow
}

// authenticate checks a service call's token, timestamp and signature.
// Repeated signatures are accepted, as the vendor clients rely on it.
func (e *Emulator) authenticate(c *call) *reply {
	accessToken := c.header.Get(apim.HeaderAccessToken)
	signature := c.header.Get(apim.HeaderSignature)
	timestamp := c.header.Get(apim.HeaderTimestamp)
	if accessToken == "" || signature == "" || timestamp == "" {
		r := gatewayError(codeEmptyParameter)
		return &r
	}
	tok, ok := e.tokens[accessToken]
	if !ok || !tok.valid(c.now) {
		r := gatewayError(codeTokenExpired)
		return &r
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || !fresh(ts, c.now.Add(c.skew)) {
		r := gatewayError(codeInvalidParameter)
		return &r
	}
	if !equalSecret(apim.Signature(accessToken, c.query, c.body, timestamp, tok.app.SecretKey), signature) {
		r := gatewayError(codeBadEncryption)
		return &r
	}
	c.signatureValid = true
	return nil
}

func equalSecret(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

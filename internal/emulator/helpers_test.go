package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The helpers below sign requests from SERVICE.md §2 with
// crypto/sha256 directly, independently of package apim.

// t0 is 2024-03-05 10:20:30 in GMT+8.
var t0 = time.Date(2024, 3, 5, 2, 20, 30, 0, time.UTC)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// specSignature follows §2.2: sorted names, name+decoded first value, body,
// timestamp, secret.
func specSignature(token string, query url.Values, body, timestamp, secret string) string {
	names := make([]string, 0, len(query))
	for n := range query {
		names = append(names, n)
	}
	sort.Strings(names)
	pd := ""
	for _, n := range names {
		pd += n + query[n][0]
	}
	return sha256Hex(token + pd + body + timestamp + secret)
}

type testEnv struct {
	t      *testing.T
	srv    *Server
	clock  *ManualClock
	http   *http.Client
	stamps atomic.Int64 // keeps token timestamps distinct on a stopped clock
}

func startEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	clock := NewManualClock(t0)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &testEnv{t: t, srv: srv, clock: clock, http: &http.Client{Timeout: 30 * time.Second}}
}

// answer is a decoded response envelope.
type answer struct {
	HTTP      int
	Code      int
	Msg       string
	RequestID string
	Data      json.RawMessage
	Keys      map[string]json.RawMessage
}

func (e *testEnv) post(path, body string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewBufferString(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

func (e *testEnv) do(req *http.Request) answer {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := answer{HTTP: resp.StatusCode}
	if err := json.Unmarshal(raw, &a.Keys); err != nil {
		e.t.Fatalf("%s %s: body is not JSON: %s", req.Method, req.URL, raw)
	}
	for _, k := range []string{"status", "code"} {
		if v, ok := a.Keys[k]; ok {
			_ = json.Unmarshal(v, &a.Code)
		}
	}
	_ = json.Unmarshal(a.Keys["msg"], &a.Msg)
	_ = json.Unmarshal(a.Keys["requestId"], &a.RequestID)
	a.Data = a.Keys["data"]
	return a
}

// tokenBody builds a token request of the default app with a fresh
// timestamp; extra adds fields.
func (e *testEnv) tokenBody(extra string) string {
	ts := e.clock.Now().UnixMilli() + e.stamps.Add(1)
	enc := sha256Hex(DefaultAccessKey + strconv.FormatInt(ts, 10) + DefaultSecretKey)
	return fmt.Sprintf(`{"appKey":%q,"encryption":%q,"timestamp":%d%s}`, DefaultAccessKey, enc, ts, extra)
}

func (e *testEnv) token() string {
	e.t.Helper()
	a := e.post("/apim-token-service/v2.0/token/get", e.tokenBody(""))
	var d struct {
		AccessToken string `json:"accessToken"`
		Expire      int    `json:"expire"`
	}
	if a.Code != 0 || json.Unmarshal(a.Data, &d) != nil || d.AccessToken == "" {
		e.t.Fatalf("token/get: %+v", a)
	}
	return d.AccessToken
}

// caller makes signed service calls as one user.
type caller struct {
	env    *testEnv
	prefix string
	token  string
	userID string
	orgID  string
	skewTS time.Duration // shifts the signed timestamp
	mangle func(*http.Request)
}

func (e *testEnv) alice() *caller {
	return &caller{env: e, prefix: "/dataflow-batch-service/v2.0/", token: e.token(), userID: DefaultUserID, orgID: DefaultOrgID}
}

func (e *testEnv) as(userID string) *caller {
	c := e.alice()
	c.userID = userID
	return c
}

func (c *caller) v21() *caller {
	d := *c
	d.prefix = "/batch-processing-service/v2.1/"
	return &d
}

func (c *caller) request(method, resource, action string, params url.Values, body string) *http.Request {
	c.env.t.Helper()
	q := url.Values{"action": {action}}
	if resource != "time" {
		q.Set("userId", c.userID)
		q.Set("orgId", c.orgID)
	}
	for k, v := range params {
		q[k] = v
	}
	ts := strconv.FormatInt(c.env.clock.Now().Add(c.skewTS).UnixMilli(), 10)
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, c.env.srv.URL+c.prefix+resource+"?"+encodeQuery(q), rd)
	if err != nil {
		c.env.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("apim-accesstoken", c.token)
	req.Header.Set("apim-timestamp", ts)
	req.Header.Set("apim-signature", specSignature(c.token, q, body, ts, DefaultSecretKey))
	if c.mangle != nil {
		c.mangle(req)
	}
	return req
}

// encodeQuery encodes spaces as %20, as the spec asks clients to.
func encodeQuery(q url.Values) string {
	var b bytes.Buffer
	for k, vs := range q {
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.PathEscape(k) + "=" + url.PathEscape(v))
		}
	}
	return b.String()
}

func (c *caller) get(resource, action string, params url.Values) answer {
	c.env.t.Helper()
	return c.env.do(c.request(http.MethodGet, resource, action, params, ""))
}

func (c *caller) post(resource, action, body string) answer {
	c.env.t.Helper()
	return c.env.do(c.request(http.MethodPost, resource, action, nil, body))
}

// trigger starts flowID at the given time with overrides (a JSON value).
func (c *caller) trigger(flowID int64, at time.Time, params string) answer {
	c.env.t.Helper()
	return c.post("flows", "updateAndTrigger",
		fmt.Sprintf(`{"flowId":%d,"triggerTime":%d,"parameters":%s}`, flowID, at.UnixMilli(), params))
}

// mustTrigger starts a run and returns its instance ID.
func (c *caller) mustTrigger(flowID int64, at time.Time) string {
	c.env.t.Helper()
	a := c.trigger(flowID, at, "[]")
	var d struct {
		FlowInstanceID string `json:"flowInstanceId"`
	}
	if a.Code != 0 || json.Unmarshal(a.Data, &d) != nil {
		c.env.t.Fatalf("trigger %d at %s: %+v", flowID, at, a)
	}
	return d.FlowInstanceID
}

// wireInstance is a FlowInstance as the spec types it.
type wireInstance struct {
	InstanceID  string  `json:"instanceId"`
	FlowID      int64   `json:"flowId"`
	FlowName    string  `json:"flowName"`
	Owner       string  `json:"owner"`
	Parameters  string  `json:"parameters"`
	Status      int     `json:"status"`
	StatusDesc  string  `json:"statusDesc"`
	TriggerTime *string `json:"triggerTime"`
	StartTime   *string `json:"startTime"`
	EndTime     *string `json:"endTime"`
	Timestamp   string  `json:"timestamp"`
	CalDt       string  `json:"calDt"`
	Graph       string  `json:"graph"`
	IsCancelled *bool   `json:"isCancelled"`
	HasEditPri  bool    `json:"hasEditPri"`
}

type wireGraph struct {
	InstID string `json:"instId"`
	Tasks  []struct {
		TaskID     string `json:"taskId"`
		TaskName   string `json:"taskName"`
		TaskInstID string `json:"taskInstId"`
		Status     string `json:"status"`
	} `json:"tasks"`
}

func (c *caller) instance(id string) (wireInstance, wireGraph) {
	c.env.t.Helper()
	a := c.get("flowInstances", "get", url.Values{"flowInstId": {id}})
	var in wireInstance
	if a.Code != 0 {
		c.env.t.Fatalf("flowInstances/get %s: %+v", id, a)
	}
	decodeStrictly(c.env.t, a.Data, &in)
	var g wireGraph
	if err := json.Unmarshal([]byte(in.Graph), &g); err != nil {
		c.env.t.Fatalf("graph of %s is not a JSON string: %v", id, err)
	}
	return in, g
}

func (c *caller) taskStatuses(id string) []string {
	_, g := c.instance(id)
	var out []string
	for _, t := range g.Tasks {
		out = append(out, t.Status)
	}
	return out
}

// decodeStrictly decodes JSON and fails the test on a type mismatch.
func decodeStrictly(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

func wantCode(t *testing.T, a answer, code int, msg string) {
	t.Helper()
	if a.Code != code || msg != "" && a.Msg != msg {
		t.Fatalf("got code %d msg %q, want code %d msg %q", a.Code, a.Msg, code, msg)
	}
}

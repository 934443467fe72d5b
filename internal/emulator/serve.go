package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
)

// Path prefixes of the two service versions.
const (
	prefixV20 = "/dataflow-batch-service/v2.0/"
	prefixV21 = "/batch-processing-service/v2.1/"
)

// maxBodyBytes bounds what the emulator reads of a request body.
const maxBodyBytes = 1 << 20

// call is one request being served.
type call struct {
	method    string
	version   string // "v2.0", "v2.1", or "" for the token service and unknown paths
	token     bool   // a token-service call
	operation string // e.g. "flows/updateAndTrigger", "token/get"
	action    string
	query     url.Values
	body      []byte
	header    http.Header

	now            time.Time
	skew           time.Duration // injected clock skew, for the freshness check only
	user           *User
	signatureValid bool
}

// reply is a handler's answer before it is put into the envelope.
type reply struct {
	httpStatus int // 0 means 200
	code       int
	msg        string
	data       any
}

func ok200(data any) reply { return reply{data: data} }

func fail(code int, msg string) reply { return reply{code: code, msg: msg} }

// Request is one request the emulator received, for test assertions.
type Request struct {
	Time           time.Time  `json:"time"`
	Method         string     `json:"method"`
	APIVersion     string     `json:"apiVersion"` // "v2.0", "v2.1"; "" for the token service
	Operation      string     `json:"operation"`  // "flows/updateAndTrigger", "token/get", ...
	Query          url.Values `json:"query"`
	Body           []byte     `json:"body"`
	SignatureValid bool       `json:"signatureValid"` // for token calls: the encryption was valid
	HTTPStatus     int        `json:"httpStatus"`     // 0 when the connection was dropped
	Code           int        `json:"code"`           // the envelope's code; 0 also when there was no envelope
	Fault          FaultKind  `json:"fault,omitempty"`
}

func newCall(r *http.Request, body []byte) *call {
	query, _ := url.ParseQuery(r.URL.RawQuery) // malformed pairs are dropped, so the signature fails
	c := &call{method: r.Method, query: query, body: body, header: r.Header, action: query.Get("action")}
	path := r.URL.Path
	switch {
	case path == apim.TokenPath:
		c.token, c.operation = true, "token/get"
	case path == apim.RefreshPath:
		c.token, c.operation = true, "token/refresh"
	case strings.HasPrefix(path, prefixV20):
		c.version, c.operation = "v2.0", strings.TrimPrefix(path, prefixV20)+"/"+c.action
	case strings.HasPrefix(path, prefixV21):
		c.version, c.operation = "v2.1", strings.TrimPrefix(path, prefixV21)+"/"+c.action
	default:
		c.operation = path
	}
	return c
}

// ServeHTTP serves the gateway, both service versions and the admin routes.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		e.serveAdmin(w, r)
		return
	}
	began := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return // the client went away
	}
	c := newCall(r, body)
	if c.version != "" && len(e.apiVersions) > 0 && !slices.Contains(e.apiVersions, c.version) {
		c.version, c.operation = "", r.URL.Path // a version this tenant does not offer
	}
	plan := e.takeFaults(c)
	c.skew = plan.skew
	if !sleep(r.Context(), e.latency+plan.delay) {
		return
	}
	status, code, send := e.respond(w, r, c, plan.primary)
	// Record before answering, so a client that got its answer finds its request logged.
	e.record(c, status, code, plan.kind())
	if e.logf != nil {
		outcome := fmt.Sprintf("HTTP %d code %d", status, code)
		if status == 0 {
			outcome = fmt.Sprintf("dropped (code %d)", code)
		}
		if k := plan.kind(); k != "" {
			outcome += " [fault " + string(k) + "]"
		}
		e.logf("%s %s %s -> %s in %s", c.method, orDefault(c.version, "token"), c.operation, outcome,
			time.Since(began).Round(time.Millisecond))
	}
	send()
}

// respond works out the answer to the call, shaped by the primary fault if
// any: the HTTP status (0: no response), the envelope code, and how to send it.
func (e *Emulator) respond(w http.ResponseWriter, r *http.Request, c *call, f *Fault) (int, int, func()) {
	kind := FaultKind("")
	if f != nil {
		kind = f.Kind
	}
	switch kind {
	case FaultHTTP502:
		return http.StatusBadGateway, 0, func() { writeHTMLError(w, http.StatusBadGateway, 0) }
	case FaultHTTP503:
		return http.StatusServiceUnavailable, 0, func() { writeHTMLError(w, http.StatusServiceUnavailable, f.RetryAfter) }
	case FaultThrottle:
		return http.StatusTooManyRequests, 0, func() {
			writeHTMLError(w, http.StatusTooManyRequests, orDefault(f.RetryAfter, time.Second))
		}
	case FaultDropBeforeAct:
		return 0, 0, func() { dropConnection(w) }
	}
	e.mu.Lock()
	c.now = e.clock.Now()
	var rep reply
	switch kind {
	case FaultInternal:
		rep = fail(codeInternal, "Server internal exception")
		if c.token {
			rep = gatewayError(codeGatewayInternal)
		}
	case FaultExpireToken:
		if t, ok := e.tokens[c.header.Get(apim.HeaderAccessToken)]; ok {
			t.expires = c.now // the token really expires, so get issues a new one
		}
		rep = gatewayError(codeTokenExpired)
	default:
		rep = e.dispatch(c)
	}
	payload := e.envelope(c, rep)
	e.mu.Unlock()

	status := orDefault(rep.httpStatus, http.StatusOK)
	switch kind {
	case FaultDropAfterAct:
		return 0, rep.code, func() { dropConnection(w) }
	case FaultSlowBody:
		return status, rep.code, func() { writeSlowly(w, r.Context(), status, payload, orDefault(f.Delay, time.Second)) }
	case FaultTruncatedBody:
		return status, rep.code, func() { writeTruncated(w, status, payload) }
	}
	return status, rep.code, func() { writeJSON(w, status, payload) }
}

// dispatch runs a call that no fault replaced. The caller holds e.mu.
func (e *Emulator) dispatch(c *call) reply {
	if c.token {
		return e.tokenCall(c, c.operation == "token/refresh")
	}
	if c.version == "" {
		return reply{httpStatus: http.StatusNotFound, code: 404, msg: "no such path"}
	}
	if r := e.authenticate(c); r != nil {
		return *r
	}
	ep, ok := endpoints[c.operation]
	if !ok || ep.v21Only && c.version != "v2.1" {
		return fail(codeInvalid, "unsupported action: "+c.action)
	}
	if c.method != ep.method {
		return reply{httpStatus: http.StatusMethodNotAllowed, code: codeInvalid,
			msg: fmt.Sprintf("action %s requires %s", c.action, ep.method)}
	}
	e.advance(c.now)
	if !ep.noUser {
		u, ok := e.users[c.query.Get("userId")]
		if !ok || u.OrgID != c.query.Get("orgId") {
			return fail(codeNoUser, "userId does not exist, or it does not match to orgId.")
		}
		c.user = u
	}
	return ep.handle(e, c)
}

// envelope wraps a reply: "status" under v2.0 and the token service, "code"
// under v2.1, with a unique requestId.
func (e *Emulator) envelope(c *call, r reply) []byte {
	key, okMsg := "status", "Success"
	switch {
	case c.version == "v2.1":
		key, okMsg = "code", "OK"
	case c.token:
		okMsg = "SUCCESS"
	}
	env := map[string]any{key: r.code, "msg": r.msg, "requestId": e.newRequestID()}
	if r.code == 0 {
		env["msg"], env["data"] = okMsg, r.data
	}
	if c.token {
		env["business"] = "apim-token-service"
	}
	b, err := json.Marshal(env)
	if err != nil { // only emulator-built values are marshalled; this is a bug
		return []byte(`{"` + key + `":62109,"msg":"Server internal exception"}`)
	}
	return b
}

func (e *Emulator) newRequestID() string {
	return fmt.Sprintf("emu-%s-%06d", e.bootID, e.requestSeq.Add(1))
}

func (e *Emulator) record(c *call, status, code int, fault FaultKind) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests.add(Request{
		Time: e.clock.Now(), Method: c.method, APIVersion: c.version, Operation: c.operation,
		Query: c.query, Body: c.body, SignatureValid: c.signatureValid, HTTPStatus: status, Code: code, Fault: fault,
	})
}

// Requests returns the requests received so far, oldest first: the newest
// Options.RequestLogSize of them (and 64 MiB of their bodies).
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests.all()
}

// ResetRequests clears the request log and the counts.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests.reset()
}

// Count returns how many requests of an operation were received since the
// start or the last ResetRequests, including those the log no longer keeps.
func (e *Emulator) Count(operation string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests.counts[operation]
}

func writeJSON(w http.ResponseWriter, status int, payload []byte) {
	writeJSONHeader(w, status, len(payload))
	_, _ = w.Write(payload)
}

// writeHTMLError answers like a load balancer in front of the gateway.
func writeHTMLError(w http.ResponseWriter, status int, retryAfter time.Duration) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int64((retryAfter+time.Second-1)/time.Second)))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	_, _ = fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", text, text)
}

// writeSlowly sends the body in ten pieces spread over total.
func writeSlowly(w http.ResponseWriter, ctx context.Context, status int, payload []byte, total time.Duration) {
	writeJSONHeader(w, status, len(payload))
	const pieces = 10
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush() // the headers go out at once; the body trickles
	}
	for i := range pieces {
		if !sleep(ctx, total/pieces) {
			return
		}
		_, _ = w.Write(payload[i*len(payload)/pieces : (i+1)*len(payload)/pieces])
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// writeTruncated announces the whole body, sends half of it and closes the connection.
func writeTruncated(w http.ResponseWriter, status int, payload []byte) {
	writeJSONHeader(w, status, len(payload))
	_, _ = w.Write(payload[:len(payload)/2])
	dropConnection(w)
}

func writeJSONHeader(w http.ResponseWriter, status, length int) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(length))
	w.WriteHeader(status)
}

// dropConnection closes the client's connection without (the rest of) a response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // not a real connection: abort the handler instead
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = buf.Flush()
	_ = conn.Close()
}

// sleep waits d unless ctx ends first; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

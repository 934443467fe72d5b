package emulator

import (
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// adminPrefix holds the emulator's own routes, outside the vendor prefixes:
//
//	GET    /_emulator/requests        the request log
//	GET    /_emulator/instances       every instance
//	POST   /_emulator/faults          inject a fault: {"kind","operation","count","rate","delay","retryAfter","skew"}
//	DELETE /_emulator/faults          remove every fault
//	POST   /_emulator/flows           add a flow (a seed flow object)
//	POST   /_emulator/reset-requests  clear the request log
//	POST   /_emulator/rewrite-values  store a flow's sent values trimmed: {"flowId","on"}
const adminPrefix = "/_emulator/"

// faultJSON is a Fault with durations written as strings ("2s").
type faultJSON struct {
	Operation  string    `json:"operation"`
	Kind       FaultKind `json:"kind"`
	Count      int       `json:"count"`
	Rate       float64   `json:"rate"`
	Delay      Duration  `json:"delay"`
	RetryAfter Duration  `json:"retryAfter"`
	Skew       Duration  `json:"skew"`
}

// The admin routes serve a loopback host only, and take JSON only: a web
// page the user visits cannot reach them by a form post (no JSON content
// type without a CORS preflight, which they do not answer) or by DNS
// rebinding (its Host is the attacker's name). What they show is redacted
// (parameter values, which may be write-only, and token encryptions).
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !LoopbackHost(r.Host) {
		adminError(w, http.StatusForbidden, "the admin routes answer requests to a loopback host only (127.0.0.1, ::1 or localhost), not "+strconv.Quote(r.Host))
		return
	}
	if r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			adminError(w, http.StatusUnsupportedMediaType, "the admin routes take Content-Type: application/json")
			return
		}
	}
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /_emulator/requests":
		type requestJSON struct {
			Request
			Body string `json:"body"`
		}
		reqs := e.Requests()
		out := make([]requestJSON, len(reqs))
		for i, req := range reqs {
			out[i] = requestJSON{Request: req, Body: redactBody(req.Body)}
		}
		adminJSON(w, http.StatusOK, out)
	case "GET /_emulator/instances":
		instances := e.Instances()
		for i := range instances {
			for k := range instances[i].Parameters {
				instances[i].Parameters[k] = redacted
			}
		}
		adminJSON(w, http.StatusOK, instances)
	case "POST /_emulator/faults":
		var f faultJSON
		if !decodeStrict(w, r, &f) {
			return
		}
		if _, err := ParseFault("kind=" + string(f.Kind)); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		e.InjectFault(Fault{Operation: f.Operation, Kind: f.Kind, Count: f.Count, Rate: f.Rate,
			Delay: time.Duration(f.Delay), RetryAfter: time.Duration(f.RetryAfter), Skew: time.Duration(f.Skew)})
		adminJSON(w, http.StatusCreated, f)
	case "DELETE /_emulator/faults":
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case "POST /_emulator/flows":
		var spec FlowSpec
		if !decodeStrict(w, r, &spec) {
			return
		}
		if err := e.AddFlow(spec); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusCreated, map[string]int64{"id": spec.ID})
	case "POST /_emulator/rewrite-values":
		var body struct {
			FlowID int64 `json:"flowId"`
			On     bool  `json:"on"`
		}
		if !decodeStrict(w, r, &body) {
			return
		}
		if err := e.SetRewriteValues(body.FlowID, body.On); err != nil {
			adminError(w, http.StatusNotFound, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, body)
	case "POST /_emulator/reset-requests":
		e.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	default:
		adminError(w, http.StatusNotFound, "no admin route "+route)
	}
}

func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		adminError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, status, b)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	writeJSON(w, status, b)
}

// redacted stands for a value the admin routes do not show.
const redacted = "(redacted)"

var (
	encryptionField     = regexp.MustCompile(`"encryption"\s*:\s*"(?:[^"\\]|\\.)*"`)
	parameterValueField = regexp.MustCompile(`"value"\s*:\s*"(?:[^"\\]|\\.)*"`)
)

// redactBody is a logged request body without token encryptions and
// parameter values.
func redactBody(body []byte) string {
	out := encryptionField.ReplaceAll(body, []byte(`"encryption":"`+redacted+`"`))
	return string(parameterValueField.ReplaceAll(out, []byte(`"value":"`+redacted+`"`)))
}

// LoopbackHost reports whether a host, or host:port (a Host header, a
// listen address), names a loopback host only; an empty host (":8090")
// is every interface.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

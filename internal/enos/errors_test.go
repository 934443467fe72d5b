package enos

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

func TestErrorClasses(t *testing.T) {
	const html502 = `<html><head><title>502 Bad Gateway</title><style>body{}</style></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>`
	tests := []struct {
		name       string
		apiVersion string
		reply      http.HandlerFunc
		wantText   string
		wantHTTP   int
		wantCode   int
		transient  bool
	}{
		{"HTML 502 page", APIVersion20, rawAnswer(502, "text/html", html502),
			"flows/getMyFlow: HTTP 502: unexpected response (invalid character '<' looking for beginning of value): 502 Bad Gateway 502 Bad Gateway nginx", 502, 0, true},
		// A successful JSON answer is never quoted: it may carry a token.
		{"truncated JSON", APIVersion20, rawAnswer(200, "application/json", `{"status":0,"msg":"Success","data":[{"flowId":"33`),
			"flows/getMyFlow: malformed response (unexpected end of JSON input)", 200, 0, false},
		{"empty 200 body", APIVersion20, rawAnswer(200, "application/json", ``),
			"flows/getMyFlow: malformed response: empty body", 200, 0, false},
		{"2xx without status or code", APIVersion20, rawAnswer(200, "application/json", `{"msg":"Success","data":[],"requestId":"r-1"}`),
			"flows/getMyFlow: malformed response: the envelope has neither status nor code (requestId r-1)", 200, 0, false},
		{"v2.0 service error with submsg", APIVersion20, rawAnswer(200, "application/json", `{"status":62103,"msg":"User has no privilege.","submsg":"not an owner","requestId":"r-2","data":""}`),
			"flows/getMyFlow: code 62103: User has no privilege.; not an owner (requestId r-2)", 200, 62103, false},
		{"v2.1 code envelope error", APIVersion21, rawAnswer(200, "application/json", `{"code":62109,"msg":"Internal server exception","requestId":"r-3"}`),
			"flows/getMyFlow: code 62109: Internal server exception (requestId r-3)", 200, 62109, true},
		{"non-2xx JSON envelope", APIVersion20, rawAnswer(401, "application/json", `{"status":1203,"msg":"The access token has expired"}`),
			"flows/getMyFlow: code 1203: The access token has expired (HTTP 401)", 401, 1203, false},
		{"non-2xx with code 0", APIVersion20, rawAnswer(500, "application/json", `{"status":0,"msg":"Success","requestId":"r-4"}`),
			"flows/getMyFlow: HTTP 500: Success (requestId r-4)", 500, 0, false},
		{"non-2xx JSON without code", APIVersion20, rawAnswer(404, "application/json", `{"error":"no route"}`),
			`flows/getMyFlow: HTTP 404: unexpected response: {"error":"no route"}`, 404, 0, false},
		{"data of the wrong shape", APIVersion20, rawAnswer(200, "application/json", `{"status":0,"data":{"not":"a list"}}`),
			"flows/getMyFlow: malformed response data: json: cannot unmarshal object into Go value of type []", 200, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, func(cfg *Config) { cfg.APIVersion = tt.apiVersion })
			w.handle("flows/getMyFlow", tt.reply)
			_, err := w.client.GetMyFlows(context.Background(), "")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.wantText) {
				t.Errorf("error text\n got %q\nwant %q", err, tt.wantText)
			}
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("%T is not an *APIError", err)
			}
			if e.HTTPStatus != tt.wantHTTP || e.Code != tt.wantCode {
				t.Errorf("HTTP %d code %d, want %d and %d", e.HTTPStatus, e.Code, tt.wantHTTP, tt.wantCode)
			}
			if IsTransient(err) != tt.transient {
				t.Errorf("IsTransient = %v", !tt.transient)
			}
		})
	}
}

// A v2.1 client uses its paths and reads the code envelope: an emulator
// serving v2.1 only answers it.
func TestV21SuccessUsesCodeEnvelopeAndPath(t *testing.T) {
	srv := newEmu(t, emulator.Options{APIVersions: []string{APIVersion21}})
	c, _ := srv.client(t, func(cfg *Config) { cfg.APIVersion = APIVersion21 })
	flows, err := c.GetMyFlows(context.Background(), "")
	if err != nil || len(flows) == 0 || flows[0].FlowID == 0 {
		t.Fatalf("flows %+v, err %v", flows, err)
	}
	if got := srv.arrivedAt("/batch-processing-service/v2.1/flows"); len(got) != 1 {
		t.Errorf("calls to the v2.1 flows path = %d, want 1", len(got))
	}
}

func TestStatusWinsOverCode(t *testing.T) {
	data, _, err := decodeEnvelope("op", 200, []byte(`{"status":0,"code":62109,"data":1}`))
	if err != nil || string(data) != "1" {
		t.Errorf("data %s err %v: status must be read first", data, err)
	}
	if _, _, err := decodeEnvelope("op", 200, []byte(`{"status":"62102","msg":"bad"}`)); !strings.Contains(err.Error(), "code 62102") {
		t.Errorf("a numeric-string status was not read: %v", err)
	}
}

func TestClassificationHelpers(t *testing.T) {
	apiErr := func(code int, msg string) error {
		return &APIError{Operation: "op", HTTPStatus: 200, Code: code, Message: msg}
	}
	tests := []struct {
		name string
		err  error
		is   func(error) bool
		want bool
	}{
		{"flow not found", apiErr(62102, "Flow not found: 9"), IsNotFound, true},
		{"instance not found", apiErr(62102, "Instance not found"), IsNotFound, true},
		{"invalid body is not not-found", apiErr(62102, "Invalid request body."), IsNotFound, false},
		{"HTTP 404", &APIError{HTTPStatus: 404}, IsNotFound, true},
		{"no task", apiErr(62104, "This workflow has no task. You cannot trigger it."), IsNoTask, true},
		{"relied on is not no-task", apiErr(62104, "This workflow is relied on by other workflows."), IsNoTask, false},
		{"no privilege", apiErr(62103, "User has no privilege."), IsNoPrivilege, true},
		{"locked flow is not no-privilege", apiErr(62103, "Workflow is locked"), IsNoPrivilege, false},
		{"locked flow", apiErr(62103, "Workflow is locked"), IsLocked, true},
		{"locked user", apiErr(62105, "Your account has been locked"), IsLocked, true},
		{"user org mismatch", apiErr(62101, "userId does not exist, or it does not match to orgId."), IsUserOrgMismatch, true},
		{"62109 transient", apiErr(62109, "Server internal exception"), IsTransient, true},
		{"429 transient", &APIError{HTTPStatus: 429}, IsTransient, true},
		{"lost connection transient", &transportError{op: "op", err: errors.New("EOF"), written: true}, IsTransient, true},
		{"62102 not transient", apiErr(62102, "x"), IsTransient, false},
		{"duplicate", apiErr(62102, "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute."), IsDuplicateTrigger, true},
		{"duplicate type", &DuplicateTriggerError{FlowID: 1}, IsDuplicateTrigger, true},
		{"wrapped", errors.Join(errors.New("ctx"), apiErr(62101, "")), IsUserOrgMismatch, true},
		{"plain error", errors.New("Instance not found"), IsNotFound, false},
	}
	for _, tt := range tests {
		if got := tt.is(tt.err); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A bad body's description quotes the text of an error page without its
// markup, scripts or terminal control sequences, reads no more than the
// first maxScanned bytes (so no body costs more than that to describe),
// and never quotes a successful JSON answer, which may carry a token.
func TestDescribeBadBody(t *testing.T) {
	for _, tc := range []struct {
		name       string
		httpStatus int
		body       string
		want       string
	}{
		{"error page", 502, "<html><head><style>body{color:red}</style><script>var a = '<b>';</script></head><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>",
			"unexpected response: 502 Bad Gateway nginx"},
		{"control sequences", 503, "Service \x1b[32mApply complete!\x1b[0m\r\nunavailable\a",
			"unexpected response: Service [32mApply complete! [0m unavailable"},
		{"a tag left open past the scanned start", 502, "<" + strings.Repeat("x", maxScanned) + ">visible",
			"unexpected response"},
		{"unclosed tags", 502, strings.Repeat("<a", 1<<20), "unexpected response"},
		{"token reply with a field of the wrong type", 200, `{"status":0,"msg":1,"data":{"accessToken":"tok-secret-1234","expire":7200}}`,
			"malformed response (json: cannot unmarshal number into Go struct field envelope.msg of type string)"},
		{"JSON error answer", 404, `{"error":"no route"}`, `unexpected response: {"error":"no route"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var decodeErr error
			if tc.body != "" && (tc.body[0] == '{') {
				var env envelope
				decodeErr = json.Unmarshal([]byte(tc.body), &env)
			}
			if got := describeBadBody(tc.httpStatus, []byte(tc.body), decodeErr); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

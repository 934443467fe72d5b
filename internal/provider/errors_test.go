package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// serviceError is a refusal as the client decodes it from the envelope.
func serviceError(op string, code int, msg, submsg string) error {
	return &enos.APIError{Operation: op, HTTPStatus: http.StatusOK, Code: code, Message: msg, SubMessage: submsg, RequestID: "req-1"}
}

// unreachableError is what the client returns when nothing listens.
func unreachableError(t *testing.T) error {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := enos.New(enos.Config{Endpoint: srv.URL, AccessKey: "k", SecretKey: "s", OrgID: "o", UserID: "u", MaxRetries: 0, ServerTimeZone: "GMT+8"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFlowInstance(t.Context(), "1001-20240101080000")
	if err == nil {
		t.Fatal("a call to a closed server succeeded")
	}
	return err
}

func TestDescribeCallError(t *testing.T) {
	const run = "1001-20240101080000"
	reading := callSubject{flowID: 1001}
	cancelling := callSubject{flowID: 1001, runID: run}
	tests := []struct {
		name    string
		action  string
		about   callSubject
		err     error
		summary string
		detail  []string // fragments, in order
	}{
		{"flow not found", "Reading flow 1001", reading, serviceError("flows/get", 62102, "Flow not found: 1001", ""),
			"Flow not found", []string{"Reading flow 1001 failed:", "no flow 1001", "does not know flow 1001", "Check flow_id", "code 62102: Flow not found: 1001 (requestId req-1)"}},
		{"run not found on cancel", "Cancelling run " + run + " of flow 1001", cancelling, serviceError("flowInstances/cancel", 62102, "Instance not found", ""),
			"Flow instance not found", []string{"Cancelling run " + run + " of flow 1001 failed:", `flow instance "` + run + `"`, "Check the id"}},
		{"invalid body", "Triggering flow 1001", reading, serviceError("flows/updateAndTrigger", 62102, "Invalid request body.", ""),
			"Request refused as invalid", []string{"Triggering flow 1001 failed:", "api_version", "report"}},
		{"illegal sorter", "Searching flow instances", callSubject{}, serviceError("flowInstances/search", 62102, "illegal sorted by field", ""),
			"Request refused as invalid", []string{"Searching flow instances failed:", "illegal sorted by field"}},
		{"duplicate from the service", "Triggering flow 1001", reading,
			serviceError("flows/updateAndTrigger", 62102, "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.", ""),
			"Flow already triggered in this minute", []string{"flow 1001 already has a run in this minute", "another minute"}},
		{"no privilege", "Reading flow 1001", reading, serviceError("flows/get", 62103, "User has no privilege.", ""),
			"No privilege on the flow", []string{"Reading flow 1001 failed:", "62103", "Only an owner of flow 1001", "only users of its organization may read it"}},
		{"no privilege on the schedule", "Pausing the schedule of flow 1005", callSubject{flowID: 1005}, serviceError("flows/disable", 62103, "User has no privilege.", ""),
			"No privilege on the flow", []string{"Pausing the schedule of flow 1005 failed:", "Only an owner of flow 1005 may change it", "pause or resume its schedule"}},
		{"locked flow", "Cancelling run " + run + " of flow 1001", cancelling, serviceError("flowInstances/cancel", 62103, "Workflow is locked", ""),
			"User or flow locked", []string{"flow 1001 is locked", "unlock it"}},
		{"locked user", "Triggering flow 1001", reading, serviceError("flows/updateAndTrigger", 62105, "Your account has been locked", ""),
			"User or flow locked", []string{"user (user_id) is locked (62105)", "unlock the account"}},
		{"user not in org", "Reading run " + run, callSubject{runID: run}, serviceError("flowInstances/get", 62101, "userId does not exist, or it does not match to orgId.", ""),
			"User does not belong to the organization", []string{"Reading run " + run + " failed:", "Check user_id and org_id"}},
		{"no task", "Triggering flow 1003", callSubject{flowID: 1003}, serviceError("flows/updateAndTrigger", 62104, "This workflow has no task. You cannot trigger it.", ""),
			"Flow has no task", []string{"flow 1003 has no task", "Add tasks"}},
		{"other business rule", "Triggering flow 1003", callSubject{flowID: 1003}, serviceError("flows/updateAndTrigger", 62104, "This workflow is relied on by other workflows.", ""),
			"Refused by the service", []string{"flow 1003 (62104)", "relied on"}},
		{"internal", "Reading flow 1001", reading, serviceError("flows/get", 62109, "Server internal exception", ""),
			"Service error", []string{"internal error", "Try again later"}},
		{"repeated token", "Reading flow 1001", reading, serviceError("token/get", 1001, "Repeated requests", ""),
			"Access token refused", []string{"clock is synchronized"}},
		{"unknown app key", "Reading flow 1001", reading, serviceError("token/get", 1002, "The appKey does not exist", ""),
			"Unknown access key", []string{"Check access_key (ENOS_ACCESS_KEY)"}},
		{"bad signature", "Reading flow 1001", reading, serviceError("flows/get", 1003, "The encryption is not valid", ""),
			"Invalid signature", []string{"Check secret_key (ENOS_SECRET_KEY)"}},
		{"clock skew", "Reading flow 1001", reading, serviceError("flows/get", 1004, "Invalid parameter", "check that this machine's clock is synchronized"),
			"Request timestamp refused", []string{"15 minutes", "clock is synchronized"}},
		{"gateway internal", "Reading flow 1001", reading, serviceError("flows/get", 1005, "Internal service exception", ""),
			"Service error", []string{"Try again later"}},
		{"empty parameter", "Reading flow 1001", reading, serviceError("flows/get", 1202, "The parameter is empty", ""),
			"Request refused as invalid", []string{"report"}},
		{"token expired", "Reading flow 1001", reading, &enos.APIError{Operation: "flows/get", HTTPStatus: 401, Code: 1203, Message: "The access token has expired"},
			"Access token refused", []string{"even after a new one was obtained"}},
		{"token refresh", "Reading flow 1001", reading, serviceError("token/refresh", 1204, "Failed to refresh access token", ""),
			"Access token refused", []string{"Try again"}},
		{"throttled", "Reading flow 1001", reading, &enos.APIError{Operation: "flows/get", HTTPStatus: 429, Message: "unexpected response: Too Many Requests"},
			"Rate limited", []string{"HTTP 429", "max_requests_per_second"}},
		{"bad gateway", "Reading flow 1001", reading, &enos.APIError{Operation: "flows/get", HTTPStatus: 502, Message: "unexpected response: 502 Bad Gateway"},
			"Service unavailable", []string{"HTTP 502", "Try again later"}},
		{"forbidden", "Reading flow 1001", reading, &enos.APIError{Operation: "flows/get", HTTPStatus: 403, Message: "unexpected response"},
			"Access refused", []string{"HTTP 403", "access_key, secret_key and endpoint"}},
		{"malformed", "Reading flow 1001", reading, &enos.APIError{Operation: "flows/get", HTTPStatus: 200, Message: "malformed response: empty body"},
			"Unreadable answer", []string{"could not be read", "malformed response: empty body"}},
		{"unreachable", "Reading run " + run, callSubject{runID: run}, unreachableError(t),
			"Service unreachable", []string{"Reading run " + run + " failed:", "Check endpoint"}},
		{"not a service error", "Reading flow 1001", reading, fmt.Errorf("context deadline exceeded"),
			"Reading flow 1001 failed", []string{"context deadline exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			summary, detail := describeCallError(tt.action, tt.about, tt.err)
			if summary != tt.summary {
				t.Errorf("summary %q, want %q", summary, tt.summary)
			}
			if !strings.Contains(detail, tt.err.Error()) {
				t.Errorf("detail leaves out the client's error %q:\n%s", tt.err, detail)
			}
			rest := detail
			for _, f := range tt.detail {
				i := strings.Index(rest, f)
				if i < 0 {
					t.Fatalf("detail lacks %q (in order):\n%s", f, detail)
				}
				rest = rest[i+len(f):]
			}
		})
	}
}

func TestDescribeTriggerError(t *testing.T) {
	minute := time.Date(2024, 2, 1, 18, 0, 0, 0, time.FixedZone("GMT+8", 8*3600))
	summary, detail := describeTriggerError(1001, fmt.Errorf("starting run: %w", &enos.DuplicateTriggerError{FlowID: 1001, Slot: minute, SlotSize: time.Minute, ExistingInstanceID: "1001-20240201180000"}), byResource)
	if summary != "Flow already triggered in this minute" || !strings.Contains(detail, "the existing run 1001-20240201180000") || !strings.Contains(detail, "Nothing was started") {
		t.Errorf("duplicate: %q\n%s", summary, detail)
	}
	summary, detail = describeTriggerError(1001, fmt.Errorf("flows/updateAndTrigger: HTTP 502: %w", enos.ErrOutcomeUnknown), byResource)
	if summary != "Outcome of the trigger unknown" || !strings.Contains(detail, "Nothing was recorded in state") {
		t.Errorf("outcome unknown: %q\n%s", summary, detail)
	}
	summary, detail = describeTriggerError(1005, serviceError("flows/updateAndTrigger", 62103, "User has no privilege.", ""), byResource)
	if summary != "No privilege on the flow" || !strings.HasPrefix(detail, "Triggering flow 1005 failed:") {
		t.Errorf("refusal: %q\n%s", summary, detail)
	}
}

// A not-found points at the attribute that named what was looked up; other
// failures are not about an attribute.
func TestAddCallErrorAttachesNotFoundToTheLookedUpAttribute(t *testing.T) {
	var diags diag.Diagnostics
	addCallError(&diags, path.Root("flow_id"), "Reading flow 9", callSubject{flowID: 9}, serviceError("flows/get", 62102, "Flow not found: 9", ""))
	addCallError(&diags, path.Root("flow_id"), "Reading flow 9", callSubject{flowID: 9}, serviceError("flows/get", 62101, "userId does not exist", ""))
	if len(diags) != 2 {
		t.Fatalf("got %v", diags)
	}
	if d, ok := diags[0].(diag.DiagnosticWithPath); !ok || !d.Path().Equal(path.Root("flow_id")) {
		t.Errorf("not found is not on flow_id: %v", diags[0])
	}
	if _, ok := diags[1].(diag.DiagnosticWithPath); ok {
		t.Errorf("a user/org mismatch is on an attribute: %v", diags[1])
	}
}

// foreignUserProviderBlock is acctest.ProviderBlock with a user id the
// emulator does not know in the organization (62101 on every call).
func foreignUserProviderBlock(srv *emulator.Server) string {
	return strings.Replace(acctest.ProviderBlock(srv), fmt.Sprintf("%q", emulator.DefaultUserID), `"u99999999999999"`, 1)
}

// The texts of an unknown outcome say what was done (sent or not, looked
// for or not) and what holds the run: the resource's state, or nothing for
// the action, which must not speak of "this resource".
func TestDescribeTriggerError_unknownOutcome(t *testing.T) {
	at := time.Date(2024, 2, 1, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		err         enos.TriggerOutcomeUnknownError
		by          triggerCaller
		want, avoid []string
	}{
		{name: "not sent", err: enos.TriggerOutcomeUnknownError{FlowID: 1001, TriggerTime: at},
			want: []string{"Trigger not sent", "was not sent, so it started no run"}, avoid: []string{"looked for", "import"}},
		{name: "sent, looked up, no id", err: enos.TriggerOutcomeUnknownError{FlowID: 1001, TriggerTime: at, RequestSent: true, LookedUp: true},
			want: []string{"was sent, but its answer was lost; the provider then looked for the run and did not find it", "Nothing was recorded in state", "import it into this resource"}},
		{name: "sent, not looked up", err: enos.TriggerOutcomeUnknownError{FlowID: 1001, TriggerTime: at, RequestSent: true, ExpectedInstanceID: "1001-20240201180000"},
			want: []string{"the run could not be looked for afterwards", "terraform import '<resource address>' 1001-20240201180000"}, avoid: []string{"did not find"}},
		{name: "action", err: enos.TriggerOutcomeUnknownError{FlowID: 1001, TriggerTime: at, RequestSent: true, LookedUp: true, ExpectedInstanceID: "1001-20240201180000"}, by: byAction,
			want: []string{"The action holds no state", "the service names it 1001-20240201180000", "invoking the action again", "terraform query"}, avoid: []string{"this resource", "Nothing was recorded in state"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err
			summary, detail := describeTriggerError(1001, fmt.Errorf("starting run: %w", &err), tc.by)
			text := summary + "\n" + detail
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, a := range tc.avoid {
				if strings.Contains(text, a) {
					t.Errorf("unexpected %q in:\n%s", a, text)
				}
			}
		})
	}
}

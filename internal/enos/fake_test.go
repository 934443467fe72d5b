package enos

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

const (
	testOrgID  = "o15000000000001"
	testUserID = "u15426865866571"
)

// fakeCall is one signed service request the fake received.
type fakeCall struct {
	Operation string
	Query     url.Values
	Body      []byte
	Token     string
}

// fakeHandler answers one service call; it may write anything, or drop
// the connection.
type fakeHandler func(w http.ResponseWriter, r *http.Request, call fakeCall)

// fakeService is a small in-test stand-in for the gateway and the service:
// it issues tokens, verifies every signature, records calls, and serves
// triggers, instance get/search and the time zone from in-memory state.
type fakeService struct {
	t         *testing.T
	server    *httptest.Server
	accessKey string
	secretKey string

	mu            sync.Mutex
	tokenRequests int
	tokenBodies   []map[string]json.RawMessage
	validTokens   map[string]bool
	calls         []fakeCall
	handlers      map[string]fakeHandler
	instances     []fakeInstance

	// answerExisting answers a duplicate trigger with the existing run's id
	// (status 0) instead of refusing it, the second behaviour of SERVICE.md §4.6.
	answerExisting bool
	hourIDs        bool      // instance ids name the trigger hour (SERVICE.md §4.5)
	serverTime     time.Time // getCurrentTime's answer and new runs' creation time
	// rewrite, when set, is how the service stores each sent parameter
	// value (trimmed, normalised, cut): not always as it was sent.
	rewrite        func(string) string
	instanceStatus int // the status of new runs
	cycles         map[int64]string
}

type fakeInstance struct {
	ID          string
	FlowID      int64
	TriggerTime time.Time
	Parameters  []Parameter
	Created     time.Time // the "timestamp"; zero: the trigger time
	Status      int
}

// fakePrefix is the path prefix of the one version the fake serves, v2.0.
const fakePrefix = "/dataflow-batch-service/v2.0"

// newFakeService starts a fake of v2.0; its callers name that version.
func newFakeService(t *testing.T, _ string) *fakeService {
	t.Helper()
	fs := &fakeService{
		t: t, validTokens: map[string]bool{}, handlers: map[string]fakeHandler{},
		accessKey: emulator.DefaultAccessKey, secretKey: emulator.DefaultSecretKey,
	}
	fs.handlers["flows/updateAndTrigger"] = fs.serveTrigger
	fs.handlers["flowInstances/get"] = fs.serveInstanceGet
	fs.handlers["flowInstances/search"] = fs.serveInstanceSearch
	fs.handlers["time/getTimeZone"] = func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.ok(w, map[string]string{"timezone": "GMT+8"})
	}
	fs.serverTime = runNow
	fs.handlers["time/getCurrentTime"] = func(w http.ResponseWriter, _ *http.Request, _ fakeCall) {
		fs.mu.Lock()
		now := fs.serverTime
		fs.mu.Unlock()
		fs.ok(w, now.UnixMilli())
	}
	fs.server = httptest.NewServer(http.HandlerFunc(fs.serveHTTP))
	t.Cleanup(fs.server.Close)
	return fs
}

func (fs *fakeService) handle(op string, h fakeHandler) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.handlers[op] = h
}

func (fs *fakeService) count(op string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, c := range fs.calls {
		if c.Operation == op {
			n++
		}
	}
	return n
}

func (fs *fakeService) callsOf(op string) []fakeCall {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []fakeCall
	for _, c := range fs.calls {
		if c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

func (fs *fakeService) instanceCount() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.instances)
}

func (fs *fakeService) addInstance(inst fakeInstance) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.instances = append(fs.instances, inst)
}

func (fs *fakeService) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.URL.Path == apim.TokenPath {
		fs.serveToken(w, r, body)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, fakePrefix+"/")
	if !ok {
		fs.t.Errorf("request to unexpected path %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	query := r.URL.Query()
	call := fakeCall{
		Operation: rest + "/" + query.Get("action"), Query: query, Body: body, Token: r.Header.Get(apim.HeaderAccessToken),
	}
	fs.mu.Lock()
	fs.calls = append(fs.calls, call)
	tokenValid := fs.validTokens[call.Token]
	handler := fs.handlers[call.Operation]
	fs.mu.Unlock()

	want := apim.Signature(call.Token, query, body, r.Header.Get(apim.HeaderTimestamp), fs.secretKey)
	if r.Header.Get(apim.HeaderSignature) != want {
		fs.t.Errorf("%s: bad signature", call.Operation)
		fs.replyCode(w, 1003, "The encryption is not valid", nil)
		return
	}
	if !tokenValid {
		fs.replyCode(w, 1203, "The access token has expired", nil)
		return
	}
	if handler == nil {
		fs.replyCode(w, 62102, "unsupported action: "+query.Get("action"), nil)
		return
	}
	handler(w, r, call)
}

func (fs *fakeService) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		fs.t.Errorf("token body is not JSON: %s", body)
		return
	}
	var appKey, encryption string
	var timestamp int64
	errKey := json.Unmarshal(req["appKey"], &appKey)
	errEnc := json.Unmarshal(req["encryption"], &encryption)
	errTS := json.Unmarshal(req["timestamp"], &timestamp) // a JSON number, not a string
	if errKey != nil || errEnc != nil || errTS != nil || r.Header.Get(apim.HeaderSignature) != "" || r.URL.RawQuery != "" {
		fs.t.Errorf("malformed token request %s", body)
	}
	if appKey != fs.accessKey || encryption != apim.Encryption(fs.accessKey, timestamp, fs.secretKey) {
		fs.t.Errorf("bad token encryption")
	}
	fs.mu.Lock()
	repeated := false
	for _, earlier := range fs.tokenBodies {
		repeated = repeated || string(earlier["encryption"]) == string(req["encryption"])
	}
	fs.tokenRequests++
	n := fs.tokenRequests
	fs.tokenBodies = append(fs.tokenBodies, req)
	fs.mu.Unlock()
	if repeated {
		writeJSON(w, map[string]any{"status": 1001, "msg": "Repeated requests with duplicated encryption"})
		return
	}
	token := fmt.Sprintf("access-token-%d-secretish", n)
	fs.mu.Lock()
	fs.validTokens[token] = true
	fs.mu.Unlock()
	writeJSON(w, map[string]any{"status": 0, "msg": "SUCCESS", "data": map[string]any{"accessToken": token, "expire": 7200}})
}

func (fs *fakeService) ok(w http.ResponseWriter, data any) {
	fs.replyCode(w, 0, "OK", data)
}

func (fs *fakeService) replyCode(w http.ResponseWriter, code int, msg string, data any) {
	writeJSON(w, map[string]any{"status": code, "msg": msg, "requestId": "req-" + strconv.Itoa(code), "data": data})
}

func (fs *fakeService) serveTrigger(w http.ResponseWriter, _ *http.Request, call fakeCall) {
	id, ok := fs.act(call)
	fs.mu.Lock()
	answerExisting := fs.answerExisting
	fs.mu.Unlock()
	if !ok && !answerExisting {
		fs.replyCode(w, 62102, "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.", nil)
		return
	}
	fs.ok(w, map[string]string{"flowInstanceId": id})
}

// act starts the run a trigger asks for, or reports that its slot is taken.
func (fs *fakeService) act(call fakeCall) (string, bool) {
	var req struct {
		FlowID      int64       `json:"flowId"`
		TriggerTime int64       `json:"triggerTime"`
		Parameters  []Parameter `json:"parameters"`
	}
	if err := json.Unmarshal(call.Body, &req); err != nil {
		fs.t.Errorf("bad trigger body %s", call.Body)
	}
	at := time.UnixMilli(req.TriggerTime).In(gmt8)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	id := fmt.Sprintf("%d-%s00", req.FlowID, at.Format("200601021504"))
	if fs.hourIDs {
		id = fmt.Sprintf("%d-%s", req.FlowID, at.Format("2006010215"))
	}
	for _, inst := range fs.instances {
		if inst.ID == id {
			return id, false
		}
	}
	if fs.rewrite != nil {
		for i := range req.Parameters {
			req.Parameters[i].Value = fs.rewrite(req.Parameters[i].Value)
		}
	}
	fs.instances = append(fs.instances, fakeInstance{ID: id, FlowID: req.FlowID, TriggerTime: at, Parameters: req.Parameters, Created: fs.serverTime, Status: fs.instanceStatus})
	return id, true
}

func (fs *fakeService) instanceJSON(inst fakeInstance) map[string]any {
	params, _ := json.Marshal(inst.Parameters)
	created := inst.Created
	if created.IsZero() {
		created = inst.TriggerTime
	}
	graph, _ := json.Marshal(map[string]any{"tasks": []map[string]any{
		{"taskId": 7, "taskName": "load", "nodeId": "t_7", "taskInstId": "7-" + strings.SplitN(inst.ID, "-", 2)[1], "status": "INIT"},
	}})
	return map[string]any{
		"instanceId": inst.ID, "flowId": inst.FlowID, "flowName": "flow " + strconv.FormatInt(inst.FlowID, 10),
		"parameters": string(params), "status": inst.Status, "statusDesc": Status(inst.Status).Name(),
		"triggerTime": inst.TriggerTime.In(gmt8).Format("2006-01-02 15:04:05"),
		"startTime":   nil, "endTime": nil, "timestamp": created.In(gmt8).Format("2006-01-02 15:04:05.0"),
		"graph": string(graph),
	}
}

func (fs *fakeService) serveInstanceGet(w http.ResponseWriter, _ *http.Request, call fakeCall) {
	fs.mu.Lock()
	var found map[string]any
	for _, inst := range fs.instances {
		if inst.ID == call.Query.Get("flowInstId") {
			found = fs.instanceJSON(inst)
		}
	}
	fs.mu.Unlock()
	if found == nil {
		fs.replyCode(w, 62102, "Instance not found", nil)
		return
	}
	fs.ok(w, found)
}

type fakeSearch struct {
	Expression      string `json:"expression"`
	Owner           *string
	Status          string `json:"status"`
	FromTriggerTime *int64 `json:"fromTriggerTime"`
	ToTriggerTime   *int64 `json:"toTriggerTime"`
	Pagination      *struct {
		PageNo   int `json:"pageNo"`
		PageSize int `json:"pageSize"`
		Sorters  []struct {
			Field string `json:"field"`
			Order string `json:"order"`
		} `json:"sorters"`
	} `json:"pagination"`
}

func (fs *fakeService) serveInstanceSearch(w http.ResponseWriter, _ *http.Request, call fakeCall) {
	var s fakeSearch
	if err := json.Unmarshal(call.Body, &s); err != nil || s.Pagination == nil || s.Owner == nil || s.Status == "" {
		fs.t.Errorf("search body lacks owner, status or pagination: %s", call.Body)
		fs.replyCode(w, 62102, "Invalid request body.", nil)
		return
	}
	fs.mu.Lock()
	var matches []fakeInstance
	for _, inst := range fs.instances {
		ms := inst.TriggerTime.UnixMilli()
		if !strings.Contains(inst.ID, s.Expression) ||
			(s.FromTriggerTime != nil && ms < *s.FromTriggerTime) || (s.ToTriggerTime != nil && ms > *s.ToTriggerTime) {
			continue
		}
		matches = append(matches, inst)
	}
	fs.mu.Unlock()
	descending := len(s.Pagination.Sorters) > 0 && s.Pagination.Sorters[0].Order == "DESC"
	byTriggerTime := len(s.Pagination.Sorters) > 0 && strings.EqualFold(strings.ReplaceAll(s.Pagination.Sorters[0].Field, "_", ""), "triggerTime")
	sort.Slice(matches, func(i, j int) bool {
		a, b := matches[i], matches[j]
		if byTriggerTime && !a.TriggerTime.Equal(b.TriggerTime) {
			return a.TriggerTime.Before(b.TriggerTime) != descending
		}
		return (a.ID < b.ID) != descending
	})
	start := s.Pagination.PageNo * s.Pagination.PageSize
	page := []map[string]any{}
	for i := start; i >= 0 && i < len(matches) && i < start+s.Pagination.PageSize; i++ {
		item := fs.instanceJSON(matches[i])
		item["isCancelled"] = false
		page = append(page, item)
	}
	fs.ok(w, map[string]any{"flowInsts": page, "count": len(matches)})
}

// newTestClient returns a client of fs whose backoff does not wait.
func newTestClient(t *testing.T, fs *fakeService, mutate func(*Config)) (*Client, *delayRecorder) {
	t.Helper()
	return newClient(t, clientConfig(fs.server.URL, mutate))
}

// flowCycle serves flows/get for flowID with the given cycle.
func (fs *fakeService) flowCycle(flowID int64, cycle string) {
	fs.mu.Lock()
	if fs.cycles == nil {
		fs.cycles = map[int64]string{}
	}
	fs.cycles[flowID] = cycle
	fs.mu.Unlock()
	fs.handle("flows/get", func(w http.ResponseWriter, _ *http.Request, call fakeCall) {
		id, _ := strconv.ParseInt(call.Query.Get("flowId"), 10, 64)
		fs.mu.Lock()
		cycle, ok := fs.cycles[id]
		fs.mu.Unlock()
		if !ok {
			fs.replyCode(w, 62102, "Flow not found: "+call.Query.Get("flowId"), nil)
			return
		}
		fs.ok(w, map[string]any{"flowId": id, "flowName": "flow " + call.Query.Get("flowId"), "cycle": cycle, "parameters": "[]", "graph": "{}"})
	})
}

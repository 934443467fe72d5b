package enos

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// An instance as SERVICE.md §3.7's samples show it: parameters and graph as
// strings, zone-less times with a fraction, an unset end time.
const sampleInstance = `{"status":0,"msg":" Success","data":{
 "instanceId":"2430-20190718075000","flowId":"2430","flowName":"daily","owner":";alice;",
 "parameters":"[{\"key\":\"bizdate\",\"value\":\"20190717\"}]","status":2,"statusDesc":"RUNNING",
 "triggerTime":"2019-07-18 07:50:00","startTime":"2019-07-18 07:50:36.0","endTime":null,"timestamp":"",
 "calDt":"2019-07-17",
 "graph":"{\"tasks\":[{\"taskId\":104890,\"taskName\":\"load\",\"nodeId\":\"t_104890\",\"taskInstId\":\"104890-20190718075000\",\"status\":\"RUNNING\"},{\"taskId\":\"104891\",\"taskName\":\"check\",\"nodeId\":\"t_104891\",\"taskInstId\":\"104891-20190718075000\",\"status\":\"NONE\"}]}"}}`

func TestDecodeInstanceFromStrings(t *testing.T) {
	w := newWire(t, nil)
	w.handle("flowInstances/get", jsonAnswer(sampleInstance))
	var zoneReads atomic.Int32
	w.handle("time/getTimeZone", func(rw http.ResponseWriter, _ *http.Request) {
		zoneReads.Add(1)
		w.ok(rw, map[string]string{"timezone": "GMT+8"})
	})
	c := w.client
	ctx := context.Background()
	inst, err := c.GetFlowInstance(ctx, "2430-20190718075000")
	if err != nil {
		t.Fatal(err)
	}
	want := &FlowInstance{
		InstanceID: "2430-20190718075000", FlowID: 2430, FlowName: "daily", Owner: ";alice;",
		Parameters: []Parameter{{Key: "bizdate", Value: "20190717"}}, Status: StatusRunning, StatusDesc: "RUNNING",
		TriggerTime: time.Date(2019, 7, 18, 7, 50, 0, 0, gmt8), StartTime: time.Date(2019, 7, 18, 7, 50, 36, 0, gmt8),
		CalDt: "2019-07-17",
		Tasks: []TaskInstance{
			{TaskID: "104890", TaskName: "load", NodeID: "t_104890", TaskInstID: "104890-20190718075000", Status: "RUNNING"},
			{TaskID: "104891", TaskName: "check", NodeID: "t_104891", TaskInstID: "104891-20190718075000", Status: "NONE"},
		},
	}
	if !inst.TriggerTime.Equal(want.TriggerTime) || inst.TriggerTime.Location().String() != "GMT+8" {
		t.Errorf("trigger time %v, want %v in the server zone", inst.TriggerTime, want.TriggerTime)
	}
	inst.TriggerTime, inst.StartTime = inst.TriggerTime.In(gmt8), inst.StartTime.In(gmt8)
	if !reflect.DeepEqual(inst, want) {
		t.Errorf("decoded\n %+v\nwant\n %+v", inst, want)
	}
	// The zone is fetched once per Client.
	if _, err := c.GetFlowInstance(ctx, "2430-20190718075000"); err != nil {
		t.Fatal(err)
	}
	if n := zoneReads.Load(); n != 1 {
		t.Errorf("getTimeZone calls = %d, want 1", n)
	}
}

func TestDecodeInstanceFromRawJSONAndConfiguredZone(t *testing.T) {
	// The wire serves no time/getTimeZone: a call to it fails the test.
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT-05:30" })
	w.handle("flowInstances/get", jsonAnswer(`{"status":0,"data":{
 "instanceId":"7-1","flowId":7,"parameters":[{"key":"a","value":"1"}],"status":1,
 "triggerTime":"2024-03-01 00:00:00","endTime":"","graph":{"tasks":[{"taskId":1,"taskName":"t"}]}}}`))
	inst, err := w.client.GetFlowInstance(context.Background(), "7-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := inst.TriggerTime.UTC(), time.Date(2024, 3, 1, 5, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("trigger time %v, want %v", got, want)
	}
	if !inst.EndTime.IsZero() || !inst.StartTime.IsZero() || !inst.CreatedAt.IsZero() {
		t.Errorf("unset times are not zero: %+v", inst)
	}
	if len(inst.Parameters) != 1 || inst.Parameters[0].Value != "1" || len(inst.Tasks) != 1 || inst.Tasks[0].TaskID != "1" {
		t.Errorf("raw JSON parameters/graph: %+v", inst)
	}
}

func TestDecodeFlow(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	w.handle("flows/get", func(rw http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("flowId"); q != "3377" {
			t.Errorf("flowId query = %q", q)
		}
		jsonAnswer(`{"status":0,"data":{
 "flowId":3377,"flowName":"f","desc":"d","active":1,"type":1,"freq":"0 0 0 * * ? *","cycle":"D","startTime":"2019-07-01",
 "parameters":"[]","owner":";alice;bob;","visitor":"","doAs":"big","createTime":"2019-07-18 07:50:36.0","updateTime":null,
 "graph":"{\"tasks\":[{\"taskId\":\"11\",\"taskName\":\"load\",\"nodeId\":\"t_11\",\"x\":1.5,\"y\":2}],\"relations\":[]}",
 "locked":false,"isUserLocked":false,"hasEditPri":true,"hasReadPri":true}}`)(rw, r)
	})
	flow, err := w.client.GetFlow(context.Background(), 3377)
	if err != nil {
		t.Fatal(err)
	}
	if flow.FlowID != 3377 || !reflect.DeepEqual(flow.Owners, []string{"alice", "bob"}) || flow.Visitors != nil ||
		len(flow.Parameters) != 0 || !flow.UpdateTime.IsZero() || !flow.CreateTime.Equal(time.Date(2019, 7, 18, 7, 50, 36, 0, gmt8)) ||
		!reflect.DeepEqual(flow.Tasks, []FlowTask{{TaskID: "11", TaskName: "load", NodeID: "t_11"}}) || !flow.HasEditPri || flow.StartTime != "2019-07-01" {
		t.Errorf("flow = %+v", flow)
	}
}

func TestBadTimeIsAClearError(t *testing.T) {
	w := newWire(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	w.handle("flowInstances/get", jsonAnswer(`{"status":0,"data":{"instanceId":"1-1","flowId":1,"triggerTime":"yesterday"}}`))
	_, err := w.client.GetFlowInstance(context.Background(), "1-1")
	if want := `flowInstances/get: malformed response: instance 1-1: decoding triggerTime: "yesterday" is not a time like yyyy-MM-dd HH:mm:ss`; err == nil || err.Error() != want {
		t.Errorf("err = %v", err)
	}
}

func TestParseZone(t *testing.T) {
	tests := map[string]int{"GMT+8": 8 * 3600, "GMT-5": -5 * 3600, "UTC+0530": 5*3600 + 1800, "GMT+05:30": 5*3600 + 1800, "GMT": 0, "UTC": 0, "+8": 8 * 3600}
	for in, want := range tests {
		loc, err := parseZone(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone(); off != want {
			t.Errorf("%s: offset %d, want %d", in, off, want)
		}
	}
	for _, bad := range []string{"", "GMT+99", "Mars/Base", "local", "8"} {
		if _, err := parseZone(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGetTimeZone(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, nil)
	loc, err := c.GetTimeZone(context.Background())
	if err != nil || loc.String() != "GMT+8" {
		t.Fatalf("zone %v, err %v", loc, err)
	}
	calls := srv.requestsOf("time/getTimeZone")
	if len(calls) == 0 {
		t.Fatal("no time/getTimeZone call")
	}
	for _, call := range calls {
		if call.Query.Has("userId") || call.Query.Has("orgId") {
			t.Errorf("time call carries userId/orgId: %s", call.Query.Encode())
		}
	}
}

// A task's log, asked for up to maxLength characters, and a cancel of its
// run (flow 1004, whose first task lasts a minute).
func TestTaskInstanceLogAndCancel(t *testing.T) {
	clock := emulator.NewManualClock(time.Date(2024, 1, 1, 10, 0, 0, 0, gmt8))
	srv := newEmu(t, emulator.Options{Clock: clock})
	c, _ := srv.client(t, nil)
	ctx := context.Background()
	id, err := c.updateAndTrigger(ctx, TriggerRequest{FlowID: 1004, TriggerTime: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second) // past the ready phase: the first task runs
	inst, err := c.GetFlowInstance(ctx, id)
	if err != nil || len(inst.Tasks) == 0 {
		t.Fatalf("instance %+v, err %v", inst, err)
	}
	task := inst.Tasks[0]
	log, err := c.GetTaskInstanceLog(ctx, task.TaskInstID, 4096)
	if err != nil || !strings.Contains(log, "["+task.TaskInstID+"] task "+task.TaskName+" started") {
		t.Errorf("log %q, err %v", log, err)
	}
	if q := srv.requestsOf("taskInstances/getLog")[0].Query; q.Get("taskInstId") != task.TaskInstID || q.Get("maxLength") != "4096" {
		t.Errorf("getLog query %s", q.Encode())
	}
	if err := c.CancelFlowInstance(ctx, id); err != nil {
		t.Fatal(err)
	}
	if body := string(srv.requestsOf("flowInstances/cancel")[0].Body); body != `{"flowInstId":"`+id+`"}` {
		t.Errorf("cancel body %s", body)
	}
	if runs := srv.Instances(); Status(runs[0].Status) != StatusCancel {
		t.Errorf("run %+v, want it cancelled", runs[0])
	}
}

func TestStatus(t *testing.T) {
	if StatusCancel.Name() != "CANCEL" || Status(42).Name() != "UNKNOWN(42)" {
		t.Error("names")
	}
	for s := StatusFail; s <= StatusSkip; s++ {
		got, ok := ParseStatusName(s.Name())
		if !ok || got != s {
			t.Errorf("ParseStatusName(%s) = %v", s.Name(), got)
		}
	}
	terminal := map[Status]bool{StatusFail: true, StatusSuccess: true, StatusInternalError: true, StatusTimeout: true, StatusCancel: true, StatusSkip: true}
	for s := StatusFail; s <= StatusSkip+1; s++ {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
	if !StatusSuccess.Succeeded() || StatusCancel.Succeeded() {
		t.Error("Succeeded")
	}
}

// Text of the service shown in a terminal carries no control sequence: a
// task log keeps its tabs and newlines only (and loses the client's
// secrets, should a task print them), and the service's msg and submsg
// lose every control character.
func TestServiceTextWithoutControlCharacters(t *testing.T) {
	w := newWire(t, nil)
	w.handle("taskInstances/getLog", func(rw http.ResponseWriter, _ *http.Request) {
		w.ok(rw, map[string]string{"log": "step\t1\n\x1b[2K\x1b[1A\x1b[32mApply complete!\x1b[0m\r\n\a key " + emulator.DefaultSecretKey})
	})
	w.handle("flowInstances/cancel", jsonAnswer("{\"status\":62102,\"msg\":\"bad\\u001b[31m id\",\"submsg\":\"\\u0007try \\u009bagain\"}"))
	c := w.client
	log, err := c.GetTaskInstanceLog(context.Background(), "7-1", 0)
	if err != nil || log != "step\t1\n [2K [1A [32mApply complete! [0m \n  key (redacted)" {
		t.Errorf("log %q, err %v", log, err)
	}
	err = c.CancelFlowInstance(context.Background(), "1001-1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Message != "bad [31m id" || apiErr.SubMessage != "try  again" {
		t.Errorf("error %#v", err)
	}
}

// A status, code or flag beyond 32 bits is a decode error on every
// architecture, never a number wrapped into another (4294967297 read as 1,
// SUCCESS, on a 32-bit build); `GOARCH=386 go test` runs this too.
func TestIntegerFieldsOutOfRangeAreErrors(t *testing.T) {
	for _, body := range []string{
		`{"instanceId":"1001-1","flowId":1001,"status":4294967297}`,
		`{"instanceId":"1001-1","flowId":1001,"status":"-4294967295"}`,
		`{"instanceId":"1001-1","flowId":1001,"status":1,"alertMode":2147483648}`,
	} {
		var w wireInstance
		if err := json.Unmarshal([]byte(body), &w); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s: decoded as status %d (err %v)", body, w.Status, err)
		}
	}
	for _, body := range []string{`{"status":4294967296,"msg":"Success"}`, `{"code":4294967297}`} {
		if _, _, err := decodeEnvelope("flowInstances/get", 200, []byte(body)); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s: err %v, want out of range", body, err)
		}
	}
	var w wireInstance
	if err := json.Unmarshal([]byte(`{"instanceId":"1001-1","flowId":1001,"status":-2147483648}`), &w); err != nil || w.Status != math.MinInt32 {
		t.Errorf("the 32-bit minimum: %d, %v", w.Status, err)
	}
}

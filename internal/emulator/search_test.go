package emulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"
)

type searchResult struct {
	FlowInsts []wireInstance `json:"flowInsts"`
	Count     int            `json:"count"`
}

func ids(r searchResult) []string {
	var out []string
	for _, in := range r.FlowInsts {
		out = append(out, in.InstanceID)
	}
	return out
}

func TestInstanceSearch(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	now := env.clock.Now() // 10:20:30 GMT+8
	a := alice.mustTrigger(1001, now.Add(-3*time.Minute))
	env.clock.Advance(time.Second)
	b := alice.mustTrigger(1001, now.Add(-2*time.Minute))
	env.clock.Advance(time.Second)
	c := alice.mustTrigger(1002, now.Add(-1*time.Minute))
	env.clock.Advance(time.Second)
	bobs := env.as("u15426865866572").mustTrigger(1005, now)
	env.clock.Advance(time.Second)
	wantCode(t, alice.post("flowInstances", "cancel", fmt.Sprintf(`{"flowInstId":%q}`, b)), 0, "")

	search := func(c *caller, body string) searchResult {
		t.Helper()
		ans := c.post("flowInstances", "search", body)
		if ans.Code != 0 {
			t.Fatalf("search %s: %+v", body, ans)
		}
		var r searchResult
		decodeStrictly(t, ans.Data, &r)
		return r
	}
	from, to := now.Add(-2*time.Minute).UnixMilli(), now.Add(-1*time.Minute).UnixMilli()
	tests := []struct {
		name  string
		body  string
		want  []string
		total int // when not len(want)
	}{
		{"all related, newest first", `{}`, []string{bobs, c, b, a}, 0},
		{"expression on id", `{"expression":"1001-"}`, []string{b, a}, 0},
		{"expression on name, any case", `{"expression":"HOURLY"}`, []string{c}, 0},
		{"owner", `{"owner":"bob"}`, []string{bobs}, 0},
		{"inclusive window", fmt.Sprintf(`{"fromTriggerTime":%d,"toTriggerTime":%d}`, from, to), []string{c, b}, 0},
		{"status string", `{"status":"8, 1"}`, []string{b, a}, 0},
		{"status number", `{"status":8}`, []string{b}, 0},
		{"type", `{"type":1}`, nil, 0},
		{"sorter camelCase", `{"pagination":{"pageNo":0,"pageSize":10,"sorters":[{"field":"triggerTime","order":"ASC"}]}}`, []string{a, b, c, bobs}, 0},
		{"sorter snake_case", `{"pagination":{"pageNo":0,"pageSize":10,"sorters":[{"field":"create_time","order":"DESC"}]}}`, []string{bobs, c, b, a}, 0},
		{"page 1 of size 3", `{"pagination":{"pageNo":1,"pageSize":3,"sorters":[{"field":"trigger_time"}]}}`, []string{bobs}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := search(alice, tt.body)
			if !slices.Equal(ids(r), tt.want) || r.Count != max(tt.total, len(tt.want)) {
				t.Errorf("got %v (count %d), want %v", ids(r), r.Count, tt.want)
			}
		})
	}
	t.Run("count is the total", func(t *testing.T) {
		r := search(alice, `{"pagination":{"pageNo":0,"pageSize":1}}`)
		if len(r.FlowInsts) != 1 || r.Count != 4 {
			t.Errorf("page of 1: %d items, count %d", len(r.FlowInsts), r.Count)
		}
	})
	t.Run("v2.1 pages from 1", func(t *testing.T) {
		r := search(alice.v21(), `{"pagination":{"pageNo":1,"pageSize":3,"sorters":[{"field":"triggerTime"}]}}`)
		if !slices.Equal(ids(r), []string{a, b, c}) {
			t.Errorf("v2.1 page 1 = %v", ids(r))
		}
		wantCode(t, alice.v21().post("flowInstances", "search", `{"pagination":{"pageNo":0,"pageSize":3}}`), 62102, "")
	})
	t.Run("isCancelled exactly on cancelled items", func(t *testing.T) {
		for _, in := range search(alice, `{}`).FlowInsts {
			if in.IsCancelled == nil || *in.IsCancelled != (in.Status == 8) {
				t.Errorf("%s status %d isCancelled %v", in.InstanceID, in.Status, in.IsCancelled)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		wantCode(t, alice.post("flowInstances", "search", `{"pagination":{"pageNo":0,"pageSize":5,"sorters":[{"field":"name"}]}}`), 62102, "illegal sorted by field")
		wantCode(t, alice.post("flowInstances", "search", `{"status":"running"}`), 62102, "Invalid request body.")
		wantCode(t, alice.post("flowInstances", "search", `{"pagination":{"pageNo":0,"pageSize":0}}`), 62102, "")
	})
}

func TestFlowEndpoints(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	a := alice.get("flows", "get", url.Values{"flowId": {"1001"}})
	var f struct {
		FlowID     int64  `json:"flowId"`
		FlowName   string `json:"flowName"`
		Active     int    `json:"active"`
		Parameters string `json:"parameters"`
		Owner      string `json:"owner"`
		Visitor    string `json:"visitor"`
		Graph      string `json:"graph"`
		CreateTime string `json:"createTime"`
		StartTime  string `json:"startTime"`
		HasEditPri bool   `json:"hasEditPri"`
		Locked     bool   `json:"locked"`
	}
	decodeStrictly(t, a.Data, &f)
	if f.FlowID != 1001 || f.Parameters != `[{"key":"bizdate","value":""},{"key":"region","value":"cn"}]` ||
		f.Owner != ";alice;" || f.Visitor != ";bob;" || !f.HasEditPri || f.Active != 1 ||
		f.CreateTime != "2024-03-05 10:20:30.0" || f.StartTime != "2024-03-05" {
		t.Errorf("flow = %+v", f)
	}
	var g struct {
		Tasks []struct {
			TaskID string `json:"taskId"`
			NodeID string `json:"nodeId"`
		} `json:"tasks"`
		Relations []struct{ Source, Target string } `json:"relations"`
	}
	decodeStrictly(t, json.RawMessage(f.Graph), &g)
	if len(g.Tasks) != 2 || g.Tasks[1].TaskID != "100102" || g.Tasks[1].NodeID != "t_100102" ||
		len(g.Relations) != 1 || g.Relations[0].Target != "t_100102" {
		t.Errorf("graph = %+v", g)
	}
	wantCode(t, alice.get("flows", "get", url.Values{"flowId": {"42"}}), 62102, "Flow not found: 42")
	wantCode(t, alice.get("flows", "get", url.Values{"flowId": {"x"}}), 62102, "")

	var mine []struct {
		FlowID   string `json:"flowId"`
		FlowName string `json:"flowName"`
		Cycle    string `json:"cycle"`
		Editable bool   `json:"editable"`
	}
	decodeStrictly(t, env.as("u15426865866572").get("flows", "getMyFlow", nil).Data, &mine)
	if len(mine) != 2 || mine[0].FlowID != "1001" || mine[0].Editable || mine[1].FlowID != "1005" || !mine[1].Editable {
		t.Errorf("bob's flows = %+v", mine)
	}
	decodeStrictly(t, alice.get("flows", "getMyFlow", url.Values{"searchValue": {"REPORT"}}).Data, &mine)
	if len(mine) != 1 || mine[0].FlowID != "1005" {
		t.Errorf("alice's flows matching REPORT = %+v", mine)
	}

	var found []struct {
		FlowID   string `json:"flowId"`
		FlowName string `json:"flowName"`
	}
	decodeStrictly(t, alice.post("flows", "search", `{"expression":"100","pagination":{"pageNo":1,"pageSize":4}}`).Data, &found)
	if len(found) != 3 || found[0].FlowID != "1005" {
		t.Errorf("search page 1 = %+v", found)
	}
	wantCode(t, alice.post("flows", "search", `{"pagination":{"pageNo":0,"pageSize":4,"sorters":[{"field":"flowName"}]}}`), 62102, "illegal sorted by field")

	wantCode(t, alice.post("flows", "disable", `{"flowId":1001}`), 0, "")
	wantCode(t, alice.post("flows", "disable", `{"flowId":1001}`), 0, "")
	decodeStrictly(t, alice.get("flows", "get", url.Values{"flowId": {"1001"}}).Data, &f)
	if f.Active != 0 {
		t.Errorf("active = %d after disable", f.Active)
	}
	wantCode(t, alice.post("flows", "enable", `{"flowId":1005}`), 62103, "")
	wantCode(t, alice.post("flows", "enable", `{"flowId":1006}`), 62103, "Workflow is locked")
	wantCode(t, alice.post("flows", "enable", `{}`), 62102, "Invalid request body.")
	if err := env.srv.SetFlowLocked(1006, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, alice.post("flows", "enable", `{"flowId":1006}`), 0, "")
}

func TestOtherOrgIsolation(t *testing.T) {
	seed := DefaultSeed()
	seed.Orgs = append(seed.Orgs, Org{ID: "o2", Name: "Other"})
	seed.Users = append(seed.Users, User{ID: "u2", OrgID: "o2", Name: "alice"})
	env := startEnv(t, Options{Seed: seed})
	other := env.as("u2")
	other.orgID = "o2"
	wantCode(t, other.get("flows", "get", url.Values{"flowId": {"1001"}}), 62103, "User has no privilege.")
	wantCode(t, other.post("flows", "updateAndTrigger", `{"flowId":1001,"triggerTime":1,"parameters":[]}`), 62103, "")
	id := env.alice().mustTrigger(1001, env.clock.Now())
	wantCode(t, other.get("flowInstances", "get", url.Values{"flowInstId": {id}}), 62103, "")
}

func TestV21Extras(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice().v21()
	a := alice.post("flows", "triggerFromTask", fmt.Sprintf(`{"flowId":1001,"taskId":100102,"triggerTime":%d}`, env.clock.Now().UnixMilli()))
	wantCode(t, a, 0, "OK")
	id := "1001-20240305102000"
	env.clock.Advance(3 * time.Second)
	if in, _ := alice.instance(id); in.Status != 1 || !slices.Equal(alice.taskStatuses(id), []string{"NONE", "SUCCESS"}) {
		t.Errorf("triggerFromTask run: %d %v", in.Status, alice.taskStatuses(id))
	}
	wantCode(t, alice.post("flows", "triggerFromTask", `{"flowId":1001,"taskId":7,"triggerTime":1}`), 62102,
		"Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.")
	var task map[string]any
	decodeStrictly(t, alice.get("taskInstances", "get", url.Values{"taskInstId": {"100102-20240305102000"}}).Data, &task)
	if task["status"] != "SUCCESS" || task["flowInstId"] != id {
		t.Errorf("task instance = %v", task)
	}
}

func TestGetMyFlowFilterNamedExpressionOnV21(t *testing.T) {
	env := startEnv(t, Options{})
	var mine []struct {
		FlowID string `json:"flowId"`
	}
	decodeStrictly(t, env.alice().v21().get("flows", "getMyFlow", url.Values{"expression": {"REPORT"}}).Data, &mine)
	if len(mine) != 1 || mine[0].FlowID != "1005" {
		t.Errorf("v2.1 flows matching expression REPORT = %+v", mine)
	}
}

func TestFlowActiveSettersAndLockedUser(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	if err := env.srv.SetFlowActive(1001, false); err != nil {
		t.Fatal(err)
	}
	var f struct {
		Active int `json:"active"`
	}
	decodeStrictly(t, alice.get("flows", "get", url.Values{"flowId": {"1001"}}).Data, &f)
	if f.Active != 0 {
		t.Errorf("active = %d after SetFlowActive(false)", f.Active)
	}
	wantCode(t, alice.post("flows", "enable", `{"flowId":1001}`), 0, "")
	if active, err := env.srv.FlowActive(1001); err != nil || !active {
		t.Errorf("FlowActive after enable = %t, %v", active, err)
	}
	if err := env.srv.SetUserLocked(alice.userID, true); err != nil {
		t.Fatal(err)
	}
	wantCode(t, alice.post("flows", "disable", `{"flowId":1001}`), 62105, "Your account has been locked")
	if _, err := env.srv.FlowActive(42); err == nil {
		t.Error("FlowActive of an unknown flow: no error")
	}
}

package emulator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type triggerBody struct {
	FlowID      *int64          `json:"flowId"`
	TriggerTime *int64          `json:"triggerTime"`
	TaskID      *int64          `json:"taskId"`
	Parameters  json.RawMessage `json:"parameters"`
}

func (e *Emulator) updateAndTrigger(c *call) reply {
	var b triggerBody
	if !decodeBody(c.body, &b) || b.FlowID == nil || b.TriggerTime == nil || b.Parameters == nil {
		return invalidBody()
	}
	overrides, ok := parseOverrides(b.Parameters)
	if !ok {
		return invalidBody()
	}
	return e.startRun(c, *b.FlowID, *b.TriggerTime, overrides, nil)
}

func (e *Emulator) trigger(c *call) reply {
	var b triggerBody
	if !decodeBody(c.body, &b) || b.FlowID == nil || b.TriggerTime == nil {
		return invalidBody()
	}
	return e.startRun(c, *b.FlowID, *b.TriggerTime, nil, nil)
}

func (e *Emulator) triggerFromTask(c *call) reply {
	var b triggerBody
	if !decodeBody(c.body, &b) || b.FlowID == nil || b.TriggerTime == nil || b.TaskID == nil {
		return invalidBody()
	}
	return e.startRun(c, *b.FlowID, *b.TriggerTime, nil, b.TaskID)
}

// parseOverrides accepts the per-run parameters as an array of {key, value},
// a string holding that array, or a {key: value} object (SERVICE.md §3.1).
func parseOverrides(raw json.RawMessage) ([]Parameter, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
		if !strings.HasPrefix(strings.TrimSpace(s), "[") {
			return nil, false
		}
	}
	var list []struct {
		Key   *string `json:"key"`
		Value *string `json:"value"`
	}
	if json.Unmarshal(raw, &list) == nil && list != nil {
		ps := make([]Parameter, 0, len(list))
		for _, p := range list {
			if p.Key == nil || *p.Key == "" || p.Value == nil {
				return nil, false
			}
			ps = append(ps, Parameter{Key: *p.Key, Value: *p.Value})
		}
		return ps, true
	}
	var obj map[string]string
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, false
	}
	ps := make([]Parameter, 0, len(obj))
	for k, v := range obj {
		ps = append(ps, Parameter{Key: k, Value: v})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps, true
}

// trimmedValues is how a flow that rewrites values stores sent parameters:
// without leading and trailing blanks. (Invalid UTF-8 needs no rewrite
// here: decoding JSON turns it into U+FFFD, as any JSON service does.)
func trimmedValues(ps []Parameter) []Parameter {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Value = strings.TrimSpace(out[i].Value)
	}
	return out
}

// effectiveParams are the globals with overrides replacing equal keys and
// new keys appended.
func effectiveParams(globals, overrides []Parameter) []Parameter {
	out := slices.Clone(globals)
	for _, o := range overrides {
		if i := slices.IndexFunc(out, func(p Parameter) bool { return p.Key == o.Key }); i >= 0 {
			out[i].Value = o.Value
		} else {
			out = append(out, o)
		}
	}
	return out
}

// startRun creates a run after the checks of SERVICE.md §4.1 in their order:
// existence, rights and locks, the no-task rule, then duplicates.
func (e *Emulator) startRun(c *call, flowID, triggerMillis int64, overrides []Parameter, fromTask *int64) reply {
	f, ok := e.flows[flowID]
	if !ok {
		return fail(codeInvalid, msgFlowNotFound+strconv.FormatInt(flowID, 10))
	}
	startTask := 0
	if fromTask != nil {
		if startTask = slices.IndexFunc(f.spec.Tasks, func(t TaskSpec) bool { return t.ID == *fromTask }); startTask < 0 {
			return fail(codeInvalid, msgDuplicate)
		}
	}
	if r := canWrite(c.user, f, f.spec.Owners); r != nil {
		return *r
	}
	if len(f.spec.Tasks) == 0 {
		return fail(codeRule, msgNoTask)
	}
	trigger := time.UnixMilli(triggerMillis)
	if existing, exists := e.instances[e.instanceID(f, trigger)]; exists {
		if cmp.Or(f.spec.DuplicateTrigger, e.duplicateTrigger) == DuplicateAnswerExisting {
			return ok200(map[string]string{"flowInstanceId": existing.id})
		}
		return fail(codeInvalid, msgDuplicate)
	}
	if f.spec.RewriteValues || e.rewriteValues {
		overrides = trimmedValues(overrides)
	}
	in := e.createInstance(f, trigger, c.now, effectiveParams(f.spec.Parameters, overrides), startTask)
	return ok200(map[string]string{"flowInstanceId": in.id})
}

// StartRun starts a run of a flow directly, as one started in the console
// or by another client would be: tests use it for runs the provider did
// not start. It refuses an unknown flow, a flow without task and a taken
// slot, and returns the run's instance id.
func (e *Emulator) StartRun(flowID int64, triggerTime time.Time, params map[string]string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	e.advance(now)
	f, ok := e.flows[flowID]
	switch {
	case !ok:
		return "", fmt.Errorf("StartRun: no flow %d", flowID)
	case len(f.spec.Tasks) == 0:
		return "", fmt.Errorf("StartRun: flow %d has no task", flowID)
	}
	trigger := triggerTime.Truncate(time.Millisecond)
	if existing, taken := e.instances[e.instanceID(f, trigger)]; taken {
		return "", fmt.Errorf("StartRun: flow %d already has run %s in the slot of %s", flowID, existing.id, trigger.Format(time.RFC3339))
	}
	overrides := make([]Parameter, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		overrides = append(overrides, Parameter{Key: k, Value: params[k]})
	}
	return e.createInstance(f, trigger, now, effectiveParams(f.spec.Parameters, overrides), 0).id, nil
}

// flowFromQuery reads the flowId query parameter and finds the flow.
func (e *Emulator) flowFromQuery(c *call) (*flow, *reply) {
	id, err := strconv.ParseInt(c.query.Get("flowId"), 10, 64)
	if err != nil {
		r := fail(codeInvalid, "Invalid parameter: flowId")
		return nil, &r
	}
	return e.findFlow(id)
}

func (e *Emulator) findFlow(id int64) (*flow, *reply) {
	f, ok := e.flows[id]
	if !ok {
		r := fail(codeInvalid, msgFlowNotFound+strconv.FormatInt(id, 10))
		return nil, &r
	}
	return f, nil
}

type flowDTO struct {
	FlowID       int64  `json:"flowId"`
	FlowName     string `json:"flowName"`
	Desc         string `json:"desc"`
	Active       int    `json:"active"`
	Type         int    `json:"type"`
	Freq         string `json:"freq"`
	Cycle        string `json:"cycle"`
	StartTime    string `json:"startTime"`
	Parameters   string `json:"parameters"`
	Owner        string `json:"owner"`
	Visitor      string `json:"visitor"`
	DoAs         string `json:"doAs"`
	AlertMode    int    `json:"alertMode"`
	AlertTo      string `json:"alertTo"`
	AppID        string `json:"appId"`
	Entry        int    `json:"entry"`
	SyncType     int    `json:"syncType"`
	Creator      string `json:"creator"`
	UpdateUser   string `json:"updateUser"`
	CreateTime   string `json:"createTime"`
	UpdateTime   string `json:"updateTime"`
	Graph        string `json:"graph"`
	Virtual      bool   `json:"virtual"`
	Locked       bool   `json:"locked"`
	IsUserLocked bool   `json:"isUserLocked"`
	HasEditPri   bool   `json:"hasEditPri"`
	HasReadPri   bool   `json:"hasReadPri"`
}

type graphTask struct {
	TaskID     string `json:"taskId"`
	TaskName   string `json:"taskName"`
	NodeID     string `json:"nodeId"`
	X          int    `json:"x"`
	Y          int    `json:"y"`
	TaskInstID string `json:"taskInstId,omitempty"`
	Status     string `json:"status,omitempty"`
}

type graphRelation struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	CycleGap string `json:"cycleGap"`
	Rerun    bool   `json:"rerun"`
}

// graphTasks lays the tasks out left to right, chained in run order.
func graphTasks(tasks []TaskSpec) ([]graphTask, []graphRelation) {
	gt := make([]graphTask, 0, len(tasks))
	rel := []graphRelation{}
	for i, t := range tasks {
		node := "t_" + strconv.FormatInt(t.ID, 10)
		gt = append(gt, graphTask{TaskID: strconv.FormatInt(t.ID, 10), TaskName: t.Name, NodeID: node, X: 100 + 200*i, Y: 100})
		if i > 0 {
			rel = append(rel, graphRelation{Source: gt[i-1].NodeID, Target: node, CycleGap: "D0"})
		}
	}
	return gt, rel
}

func doAs(orgID string) string { return "data_" + orgID }

func (e *Emulator) flowJSON(f *flow, u *User) flowDTO {
	s := f.spec
	tasks, relations := graphTasks(s.Tasks)
	creator := s.Owners[0]
	graph := map[string]any{
		"name": s.Name, "desc": s.Description, "creator": creator, "type": s.Type, "freq": s.Cron,
		"cycle": s.Cycle, "startTime": e.fmtDate(f.created), "doAs": doAs(s.OrgID),
		"owners": userList(s.Owners), "visitors": userList(s.Visitors), "alertMode": 0, "alertTo": "",
		"appId": "", "syncType": 0, "queue": "default", "parameters": paramsJSON(s.Parameters),
		"tasks": tasks, "flows": []any{}, "relations": relations,
	}
	owner := slices.Contains(s.Owners, u.Name)
	return flowDTO{
		FlowID: s.ID, FlowName: s.Name, Desc: s.Description, Active: f.active, Type: s.Type, Freq: s.Cron,
		Cycle: s.Cycle, StartTime: e.fmtDate(f.created), Parameters: paramsJSON(s.Parameters),
		Owner: userList(s.Owners), Visitor: userList(s.Visitors), DoAs: doAs(s.OrgID), Entry: 1,
		Creator: creator, UpdateUser: creator, CreateTime: e.fmtStamp(f.created), UpdateTime: e.fmtStamp(f.updated),
		Graph: jsonString(graph), Locked: s.Locked, IsUserLocked: u.Locked,
		HasEditPri: owner, HasReadPri: owner || slices.Contains(s.Visitors, u.Name),
	}
}

func (e *Emulator) getFlow(c *call) reply {
	f, r := e.flowFromQuery(c)
	if r != nil {
		return *r
	}
	if r := canRead(c.user, f); r != nil {
		return *r
	}
	return ok200(e.flowJSON(f, c.user))
}

// sortedFlows returns the flows of an OU in ID order.
func (e *Emulator) sortedFlows(orgID string) []*flow {
	var out []*flow
	for _, f := range e.flows {
		if f.spec.OrgID == orgID {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *flow) int { return int(a.spec.ID - b.spec.ID) })
	return out
}

func (e *Emulator) getMyFlow(c *call) reply {
	type item struct {
		FlowID   string `json:"flowId"`
		FlowName string `json:"flowName"`
		Cycle    string `json:"cycle"`
		Editable bool   `json:"editable"`
	}
	items := []item{}
	search := c.query.Get("searchValue")
	if c.version == "v2.1" {
		search = c.query.Get("expression") // the filter's v2.1 name (SERVICE.md §3.4)
	}
	for _, f := range e.sortedFlows(c.user.OrgID) {
		owner := slices.Contains(f.spec.Owners, c.user.Name)
		if !owner && !slices.Contains(f.spec.Visitors, c.user.Name) || !containsFold(f.spec.Name, search) {
			continue
		}
		items = append(items, item{FlowID: strconv.FormatInt(f.spec.ID, 10), FlowName: f.spec.Name, Cycle: f.spec.Cycle, Editable: owner})
	}
	return ok200(items)
}

func (e *Emulator) searchFlows(c *call) reply {
	var b struct {
		Expression string      `json:"expression"`
		Pagination *pagination `json:"pagination"`
	}
	if !decodeBody(c.body, &b) {
		return invalidBody()
	}
	var found []*flow
	for _, f := range e.sortedFlows(c.user.OrgID) {
		if containsFold(f.spec.Name, b.Expression) || strings.Contains(strconv.FormatInt(f.spec.ID, 10), b.Expression) {
			found = append(found, f)
		}
	}
	keys := map[string]func(*flow) time.Time{
		"createTime": func(f *flow) time.Time { return f.created },
		"updateTime": func(f *flow) time.Time { return f.updated },
		"startTime":  func(f *flow) time.Time { return f.created },
	}
	page, r := paginate(c, b.Pagination, found, keys)
	if r != nil {
		return *r
	}
	type item struct {
		FlowID   string `json:"flowId"`
		FlowName string `json:"flowName"`
	}
	items := make([]item, 0, len(page))
	for _, f := range page {
		items = append(items, item{FlowID: strconv.FormatInt(f.spec.ID, 10), FlowName: f.spec.Name})
	}
	return ok200(items)
}

func (e *Emulator) enableFlow(c *call) reply { return e.setActive(c, 1) }

func (e *Emulator) disableFlow(c *call) reply { return e.setActive(c, 0) }

func (e *Emulator) setActive(c *call, active int) reply {
	var b struct {
		FlowID *int64 `json:"flowId"`
	}
	if !decodeBody(c.body, &b) || b.FlowID == nil {
		return invalidBody()
	}
	f, r := e.findFlow(*b.FlowID)
	if r != nil {
		return *r
	}
	if r := canWrite(c.user, f, f.spec.Owners); r != nil {
		return *r
	}
	f.active, f.updated = active, c.now
	return ok200("")
}

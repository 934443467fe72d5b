package emulator

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type instanceDTO struct {
	InstanceID  string  `json:"instanceId"`
	FlowID      int64   `json:"flowId"`
	FlowName    string  `json:"flowName"`
	Freq        string  `json:"freq"`
	Cycle       string  `json:"cycle"`
	DoAs        string  `json:"doAs"`
	Owner       string  `json:"owner"`
	AlertMode   int     `json:"alertMode"`
	Virtual     bool    `json:"virtual"`
	HasEditPri  bool    `json:"hasEditPri"`
	HasReadPri  bool    `json:"hasReadPri"`
	Parameters  string  `json:"parameters"`
	Status      int     `json:"status"`
	StatusDesc  string  `json:"statusDesc"`
	TriggerTime *string `json:"triggerTime"`
	StartTime   *string `json:"startTime"`
	EndTime     *string `json:"endTime"`
	Timestamp   string  `json:"timestamp"`
	CalDt       string  `json:"calDt"`
	Graph       string  `json:"graph"`
	IsCancelled *bool   `json:"isCancelled,omitempty"` // search items only
}

// instanceJSON renders a run for u; withCancelled adds isCancelled (search).
func (e *Emulator) instanceJSON(in *instance, v instanceView, u *User, withCancelled bool) instanceDTO {
	s := in.flow.spec
	tasks, relations := graphTasks(taskSpecs(in.tasks))
	for i := range tasks {
		tasks[i].TaskInstID, tasks[i].Status = in.tasks[i].instID, v.tasks[i].status
	}
	graph := map[string]any{
		"id": s.ID, "instId": in.id, "name": s.Name, "creator": s.Owners[0], "freq": s.Cron, "cycle": s.Cycle,
		"doAs": doAs(s.OrgID), "owners": userList(in.owners), "alertMode": 0, "alertTo": "", "appId": "",
		"parameters": paramsJSON(in.params), "relations": relations, "tasks": tasks, "flows": []any{},
	}
	owner := slices.Contains(in.owners, u.Name)
	dto := instanceDTO{
		InstanceID: in.id, FlowID: s.ID, FlowName: s.Name, Freq: s.Cron, Cycle: s.Cycle, DoAs: doAs(s.OrgID),
		Owner: userList(in.owners), HasEditPri: owner, HasReadPri: owner || slices.Contains(s.Visitors, u.Name),
		Parameters: paramsJSON(in.params), Status: v.status, StatusDesc: statusNames[v.status],
		TriggerTime: e.fmtTime(in.triggerTime), StartTime: e.fmtTime(v.start), EndTime: e.fmtTime(v.end),
		Timestamp: e.fmtStamp(in.created), CalDt: e.fmtDate(in.triggerTime.In(e.zone).AddDate(0, 0, -1)),
		Graph: jsonString(graph),
	}
	if withCancelled {
		cancelled := v.status == statusCancel
		dto.IsCancelled = &cancelled
	}
	return dto
}

func taskSpecs(runs []taskRun) []TaskSpec {
	specs := make([]TaskSpec, len(runs))
	for i, t := range runs {
		specs[i] = t.TaskSpec
	}
	return specs
}

// findInstance looks a run up for a caller of its OU.
func (e *Emulator) findInstance(c *call, id string) (*instance, *reply) {
	in, ok := e.instances[id]
	if !ok {
		r := fail(codeInvalid, msgNotFound)
		return nil, &r
	}
	if r := canRead(c.user, in.flow); r != nil {
		return nil, r
	}
	return in, nil
}

func (e *Emulator) getInstance(c *call) reply {
	in, r := e.findInstance(c, c.query.Get("flowInstId"))
	if r != nil {
		return *r
	}
	return ok200(e.instanceJSON(in, in.view(c.now), c.user, false))
}

type instanceSearchBody struct {
	Type            *int            `json:"type"`
	Expression      string          `json:"expression"`
	Owner           string          `json:"owner"`
	FromTriggerTime *int64          `json:"fromTriggerTime"`
	ToTriggerTime   *int64          `json:"toTriggerTime"`
	Status          json.RawMessage `json:"status"`
	Pagination      *pagination     `json:"pagination"`
}

// parseStatuses reads the status filter: "1,2,3", a number, or nothing.
func parseStatuses(raw json.RawMessage) (map[int]bool, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return map[int]bool{n: true}, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	if strings.TrimSpace(s) == "" {
		return nil, true
	}
	set := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, false
		}
		set[n] = true
	}
	return set, true
}

type instanceRow struct {
	in *instance
	v  instanceView
}

func (e *Emulator) searchInstances(c *call) reply {
	var b instanceSearchBody
	if !decodeBody(c.body, &b) {
		return invalidBody()
	}
	statuses, ok := parseStatuses(b.Status)
	if !ok {
		return invalidBody()
	}
	var rows []instanceRow
	// Newest first: the default order is timestamp DESC.
	for _, in := range slices.Backward(e.instanceOrder) {
		s := in.flow.spec
		related := slices.Contains(in.owners, c.user.Name) || slices.Contains(s.Owners, c.user.Name) ||
			slices.Contains(s.Visitors, c.user.Name)
		ms := in.triggerTime.UnixMilli()
		switch {
		case s.OrgID != c.user.OrgID || !related,
			b.Type != nil && *b.Type != s.Type,
			!containsFold(in.id, b.Expression) && !containsFold(s.Name, b.Expression),
			b.Owner != "" && !slices.Contains(in.owners, b.Owner),
			b.FromTriggerTime != nil && ms < *b.FromTriggerTime,
			b.ToTriggerTime != nil && ms > *b.ToTriggerTime:
			continue
		}
		v := in.view(c.now)
		if statuses != nil && !statuses[v.status] {
			continue
		}
		rows = append(rows, instanceRow{in, v})
	}
	keys := map[string]func(instanceRow) time.Time{
		"createTime":  func(r instanceRow) time.Time { return r.in.created },
		"updateTime":  func(r instanceRow) time.Time { return latest(r.in.created, r.v.start, r.v.end) },
		"startTime":   func(r instanceRow) time.Time { return r.v.start },
		"triggerTime": func(r instanceRow) time.Time { return r.in.triggerTime },
		"endTime":     func(r instanceRow) time.Time { return r.v.end },
	}
	total := len(rows)
	page, r := paginate(c, b.Pagination, rows, keys)
	if r != nil {
		return *r
	}
	items := make([]instanceDTO, 0, len(page))
	for _, row := range page {
		items = append(items, e.instanceJSON(row.in, row.v, c.user, true))
	}
	return ok200(map[string]any{"flowInsts": items, "count": total})
}

func (e *Emulator) cancelInstance(c *call) reply {
	var b struct {
		FlowInstID *string `json:"flowInstId"`
	}
	if !decodeBody(c.body, &b) || b.FlowInstID == nil {
		return invalidBody()
	}
	in, ok := e.instances[*b.FlowInstID]
	if !ok {
		return fail(codeInvalid, msgNotFound)
	}
	if r := canWrite(c.user, in.flow, in.owners); r != nil {
		return *r
	}
	e.cancel(in, c.now)
	return ok200("")
}

// defaultLogLength is getLog's maxLength default (2^20).
const defaultLogLength = 1 << 20

func (e *Emulator) getLog(c *call) reply {
	notFound, noLog := fail(codeInvalid, msgNotFound), fail(codeInternal, msgNoLog)
	if c.version == "v2.1" {
		notFound, noLog = fail(codeInvalid, msgNoLogV21), fail(codeInvalid, msgNoLogV21)
	}
	maxLength := defaultLogLength
	if s := c.query.Get("maxLength"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fail(codeInvalid, "Invalid parameter: maxLength")
		}
		maxLength = n
	}
	ref, ok := e.taskInstances[c.query.Get("taskInstId")]
	if !ok {
		return notFound
	}
	if r := canRead(c.user, ref.in.flow); r != nil {
		return *r
	}
	tv := ref.in.view(c.now).tasks[ref.index]
	if tv.start.IsZero() {
		return noLog
	}
	log := e.taskLog(ref.in.tasks[ref.index], tv, c.now, ref.in.params)
	return ok200(map[string]string{"log": truncateRunes(log, maxLength)})
}

// truncateRunes keeps the first n characters of s.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// getTaskInstance is the v2.1 taskInstances?action=get.
func (e *Emulator) getTaskInstance(c *call) reply {
	id := c.query.Get("taskInstId")
	ref, ok := e.taskInstances[id]
	if !ok {
		return fail(codeInvalid, msgNotFound)
	}
	if r := canRead(c.user, ref.in.flow); r != nil {
		return *r
	}
	t, tv := ref.in.tasks[ref.index], ref.in.view(c.now).tasks[ref.index]
	return ok200(map[string]any{
		"taskInstId": id, "taskId": t.ID, "taskName": t.Name, "flowInstId": ref.in.id,
		"flowId": ref.in.flow.spec.ID, "status": tv.status,
		"startTime": e.fmtTime(tv.start), "endTime": e.fmtTime(tv.end),
	})
}

package enos

import "time"

// TriggerRequest is one updateAndTrigger call. Parameters are sent as an
// array of {key, value} sorted by key; an empty map is sent as [].
type TriggerRequest struct {
	FlowID      int64
	TriggerTime time.Time // sent as epoch milliseconds
	Parameters  map[string]string
	// HeldIDs are instance ids held for other runs (e.g. in the caller's
	// state): StartRun never takes one of them for this request's run.
	HeldIDs []string
}

// Parameter is one {key, value} pair of a flow's or a run's parameters.
type Parameter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// FlowSummary is an item of getMyFlow.
type FlowSummary struct {
	FlowID   int64
	FlowName string
	Cycle    string
	Editable bool
}

// FlowRef is an item of flows search.
type FlowRef struct {
	FlowID   int64
	FlowName string
}

// Flow is a flow definition (flows?action=get), decoded: parameters and graph
// strings are parsed, times are in the server's zone (zero when unset).
type Flow struct {
	FlowID       int64
	FlowName     string
	Desc         string
	Active       int
	Type         int
	Freq         string // Quartz cron
	Cycle        string
	StartTime    string // yyyy-MM-dd, as sent
	Parameters   []Parameter
	Owners       []string // owner split on ';', empties dropped
	Visitors     []string
	DoAs         string
	AlertMode    int
	AlertTo      string
	AppID        string
	Entry        int
	SyncType     int
	Creator      string
	UpdateUser   string
	CreateTime   time.Time
	UpdateTime   time.Time
	Tasks        []FlowTask
	Virtual      bool
	Locked       bool
	IsUserLocked bool
	HasEditPri   bool
	HasReadPri   bool
}

// FlowGlobals is what a plan and a trigger need of a flow: its name, its
// cycle and its global parameters with their defaults.
type FlowGlobals struct {
	FlowID     int64
	FlowName   string
	Cycle      string // M, W, D, H or mi
	Parameters []Parameter
}

// FlowTask is a task node of a flow's graph.
type FlowTask struct {
	TaskID   string
	TaskName string
	NodeID   string
}

// FlowInstance is one run of a flow, decoded like Flow.
type FlowInstance struct {
	InstanceID  string
	FlowID      int64
	FlowName    string
	Freq        string
	Cycle       string
	DoAs        string
	Owner       string
	AlertMode   int
	Parameters  []Parameter
	Status      Status
	StatusDesc  string
	TriggerTime time.Time // zero when unset
	StartTime   time.Time
	EndTime     time.Time
	CreatedAt   time.Time // the "timestamp" field
	CalDt       string    // business date yyyy-MM-dd, as sent
	Tasks       []TaskInstance
	IsCancelled bool // only ever true on search results
}

// TaskInstance is a task node of an instance graph.
type TaskInstance struct {
	TaskID     string
	TaskName   string
	NodeID     string
	TaskInstID string
	Status     string // SUCCESS, FAIL, RUNNING, CANCEL, INIT, NONE, ...
}

// InstanceSearch is a flowInstances?action=search query. The client always
// sends status (all codes when Statuses is empty), owner and pagination,
// follows pages until a short page or MaxResults, and dedupes by instance id.
type InstanceSearch struct {
	// FlowID, when set, keeps only that flow's runs. The service has no
	// flow filter (SERVICE.md §3.8): the client sends expression "<flowId>-"
	// (unless Expression is set) and drops the other flows' runs it matches.
	FlowID          int64
	Expression      string
	Owner           string
	Statuses        []Status
	FromTriggerTime time.Time // zero: unbounded
	ToTriggerTime   time.Time // zero: unbounded
	SortField       string    // triggerTime (default), startTime, endTime, createTime, updateTime
	SortDescending  bool
	PageSize        int // default 100
	MaxResults      int // 0: all
}

// FlowSearch is a flows?action=search query.
type FlowSearch struct {
	Expression string
	PageSize   int
	MaxResults int
}

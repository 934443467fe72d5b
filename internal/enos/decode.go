package enos

import (
	"errors"
	"time"
)

// wireFlow is the data of flows?action=get (SERVICE.md §3.3).
type wireFlow struct {
	FlowID       flexInt64    `json:"flowId"`
	FlowName     string       `json:"flowName"`
	Desc         string       `json:"desc"`
	Active       flexInt      `json:"active"`
	Type         flexInt      `json:"type"`
	Freq         string       `json:"freq"`
	Cycle        string       `json:"cycle"`
	StartTime    string       `json:"startTime"`
	Parameters   embeddedJSON `json:"parameters"`
	Owner        string       `json:"owner"`
	Visitor      string       `json:"visitor"`
	DoAs         string       `json:"doAs"`
	AlertMode    flexInt      `json:"alertMode"`
	AlertTo      string       `json:"alertTo"`
	AppID        string       `json:"appId"`
	Entry        flexInt      `json:"entry"`
	SyncType     flexInt      `json:"syncType"`
	Creator      string       `json:"creator"`
	UpdateUser   string       `json:"updateUser"`
	CreateTime   wireTime     `json:"createTime"`
	UpdateTime   wireTime     `json:"updateTime"`
	Graph        embeddedJSON `json:"graph"`
	Virtual      bool         `json:"virtual"`
	Locked       bool         `json:"locked"`
	IsUserLocked bool         `json:"isUserLocked"`
	HasEditPri   bool         `json:"hasEditPri"`
	HasReadPri   bool         `json:"hasReadPri"`
}

type wireFlowGraph struct {
	Tasks []struct {
		TaskID   flexString `json:"taskId"`
		TaskName string     `json:"taskName"`
		NodeID   string     `json:"nodeId"`
	} `json:"tasks"`
}

func (w *wireFlow) decode(loc *time.Location) (*Flow, error) {
	params, errParams := w.Parameters.parameters()
	createTime, errCreate := w.CreateTime.parse("createTime", loc)
	updateTime, errUpdate := w.UpdateTime.parse("updateTime", loc)
	var graph wireFlowGraph
	errGraph := w.Graph.decode("graph", &graph)
	if err := errors.Join(errParams, errCreate, errUpdate, errGraph); err != nil {
		return nil, err
	}
	f := &Flow{
		FlowID: int64(w.FlowID), FlowName: w.FlowName, Desc: w.Desc, Active: int(w.Active), Type: int(w.Type),
		Freq: w.Freq, Cycle: w.Cycle, StartTime: w.StartTime, Parameters: params,
		Owners: splitUsers(w.Owner), Visitors: splitUsers(w.Visitor), DoAs: w.DoAs,
		AlertMode: int(w.AlertMode), AlertTo: w.AlertTo, AppID: w.AppID, Entry: int(w.Entry), SyncType: int(w.SyncType),
		Creator: w.Creator, UpdateUser: w.UpdateUser, CreateTime: createTime, UpdateTime: updateTime,
		Virtual: w.Virtual, Locked: w.Locked, IsUserLocked: w.IsUserLocked, HasEditPri: w.HasEditPri, HasReadPri: w.HasReadPri,
	}
	for _, t := range graph.Tasks {
		f.Tasks = append(f.Tasks, FlowTask{TaskID: string(t.TaskID), TaskName: t.TaskName, NodeID: t.NodeID})
	}
	return f, nil
}

// wireInstance is a FlowInstance of flowInstances get and search (SERVICE.md §3.7).
type wireInstance struct {
	InstanceID  string       `json:"instanceId"`
	FlowID      flexInt64    `json:"flowId"`
	FlowName    string       `json:"flowName"`
	Freq        string       `json:"freq"`
	Cycle       string       `json:"cycle"`
	DoAs        string       `json:"doAs"`
	Owner       string       `json:"owner"`
	AlertMode   flexInt      `json:"alertMode"`
	Parameters  embeddedJSON `json:"parameters"`
	Status      flexInt      `json:"status"`
	StatusDesc  string       `json:"statusDesc"`
	TriggerTime wireTime     `json:"triggerTime"`
	StartTime   wireTime     `json:"startTime"`
	EndTime     wireTime     `json:"endTime"`
	Timestamp   wireTime     `json:"timestamp"`
	CalDt       string       `json:"calDt"`
	Graph       embeddedJSON `json:"graph"`
	IsCancelled bool         `json:"isCancelled"`
}

type wireInstanceGraph struct {
	Tasks []struct {
		TaskID     flexString `json:"taskId"`
		TaskName   string     `json:"taskName"`
		NodeID     string     `json:"nodeId"`
		TaskInstID string     `json:"taskInstId"`
		Status     string     `json:"status"`
	} `json:"tasks"`
}

func (w *wireInstance) decode(loc *time.Location) (*FlowInstance, error) {
	params, errParams := w.Parameters.parameters()
	trigger, errTrigger := w.TriggerTime.parse("triggerTime", loc)
	start, errStart := w.StartTime.parse("startTime", loc)
	end, errEnd := w.EndTime.parse("endTime", loc)
	created, errCreated := w.Timestamp.parse("timestamp", loc)
	var graph wireInstanceGraph
	errGraph := w.Graph.decode("graph", &graph)
	if err := errors.Join(errParams, errTrigger, errStart, errEnd, errCreated, errGraph); err != nil {
		return nil, err
	}
	inst := &FlowInstance{
		InstanceID: w.InstanceID, FlowID: int64(w.FlowID), FlowName: w.FlowName, Freq: w.Freq, Cycle: w.Cycle,
		DoAs: w.DoAs, Owner: w.Owner, AlertMode: int(w.AlertMode), Parameters: params,
		Status: Status(w.Status), StatusDesc: w.StatusDesc, TriggerTime: trigger, StartTime: start, EndTime: end,
		CreatedAt: created, CalDt: w.CalDt, IsCancelled: w.IsCancelled,
	}
	for _, t := range graph.Tasks {
		inst.Tasks = append(inst.Tasks, TaskInstance{
			TaskID: string(t.TaskID), TaskName: t.TaskName, NodeID: t.NodeID, TaskInstID: t.TaskInstID, Status: t.Status,
		})
	}
	return inst, nil
}

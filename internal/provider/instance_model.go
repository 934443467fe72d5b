package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// taskModel is one task of a run, shared by the trigger resource and the
// instance data sources.
type taskModel struct {
	Name           types.String `tfsdk:"name"`
	TaskInstanceID types.String `tfsdk:"task_instance_id"`
	Status         types.String `tfsdk:"status"`
}

var taskAttrTypes = map[string]attr.Type{
	"name":             types.StringType,
	"task_instance_id": types.StringType,
	"status":           types.StringType,
}

var taskObjectType = types.ObjectType{AttrTypes: taskAttrTypes}

// taskDescriptions documents the nested task attributes once for every schema.
var taskDescriptions = map[string]string{
	"name":             "Task name.",
	"task_instance_id": "Task instance id, as used by the service's task log call.",
	"status":           "Task status name, e.g. `SUCCESS`, `FAIL`, `RUNNING`, `CANCEL`, `INIT` or `NONE` (not scheduled).",
}

// taskList converts a run's tasks, in graph order.
func taskList(ctx context.Context, tasks []enos.TaskInstance) (types.List, diag.Diagnostics) {
	models := make([]taskModel, len(tasks))
	for i, t := range tasks {
		models[i] = taskModel{
			Name:           types.StringValue(t.TaskName),
			TaskInstanceID: types.StringValue(t.TaskInstID),
			Status:         types.StringValue(t.Status),
		}
	}
	return types.ListValueFrom(ctx, taskObjectType, models)
}

// rfc3339 is the RFC 3339 value of a service time, null when the service has
// none (a run not started or not finished).
func rfc3339(t time.Time) timetypes.RFC3339 {
	if t.IsZero() {
		return timetypes.NewRFC3339Null()
	}
	return timetypes.NewRFC3339TimeValue(t)
}

// parameterMap turns the service's ordered parameter list into a map.
func parameterMap(ctx context.Context, params []enos.Parameter) (types.Map, diag.Diagnostics) {
	m := make(map[string]string, len(params))
	for _, p := range params {
		m[p.Key] = p.Value
	}
	return types.MapValueFrom(ctx, types.StringType, m)
}

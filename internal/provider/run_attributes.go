package provider

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// The one description of a run (a flow instance): its attributes, written
// once as a table and rendered into the schema of each kind (the resource
// schema package and the data source one have different attribute types),
// and the conversion from the client's FlowInstance.

// runAttributeType is the Terraform type of a run attribute.
type runAttributeType int

const (
	runString runAttributeType = iota
	runInt64
	runTime       // timetypes.RFC3339
	runParameters // map of strings, sensitive
	runKeys       // list of strings
	runTasks      // list of taskModel
)

// runAttribute is one computed attribute of a run.
type runAttribute struct {
	name        string
	typ         runAttributeType
	description string
	// resourceNote is added to the description in the resource, where the
	// attribute holds what the last read found.
	resourceNote string
}

// timeDescription ends the description of every time attribute.
const timeDescription = " RFC 3339, in the service's time zone; null when the service has none."

// runStatusAttributes are the attributes of runModel: what the resource
// records of its run and the data sources report.
var runStatusAttributes = []runAttribute{
	{name: "flow_name", typ: runString, description: "Name of the flow, as the run reports it.",
		resourceNote: " Null until the run is first read (after waiting, or on a later refresh)."},
	{name: "status", typ: runString, description: statusDescription(), resourceNote: " As of the last read; null while the outcome of the trigger is unknown (see the resource's \"Unknown outcomes\")."},
	{name: "status_code", typ: runInt64, description: "The service's numeric status code, e.g. `1` for `SUCCESS` and `-1` for `FAIL`.",
		resourceNote: " As of the last read."},
	{name: "started_at", typ: runTime, description: "Time the run started." + timeDescription},
	{name: "finished_at", typ: runTime, description: "Time the run finished." + timeDescription},
	{name: "tasks", typ: runTasks, description: "Tasks of the run, in the order of the flow's graph.", resourceNote: " As of the last read."},
}

// runDetailAttributes are the other attributes of a run that the data
// sources report (flowInstanceModel).
var runDetailAttributes = []runAttribute{
	{name: "flow_id", typ: runInt64, description: "Id of the flow this is a run of."},
	{name: "parameters", typ: runParameters, description: "The run's effective parameters: the flow's global parameters with this run's overrides. " +
		"Null unless `" + includeParameterValues + "` is true, as the service echoes the values sent through a trigger's write-only `parameters_wo`, " +
		"which would then be stored in state; sensitive when set. Use `nonsensitive()` for keys you know to be harmless."},
	{name: "parameter_keys", typ: runKeys, description: "The keys of the run's effective parameters, sorted; always set."},
	{name: "trigger_time", typ: runTime, description: "Time the run was triggered for." + timeDescription},
	{name: "business_date", typ: runString, description: "Business date of the run (the service's `calDt`), `YYYY-MM-DD`; for daily flows the day before the trigger date."},
	{name: "owner", typ: runString, description: "Username(s) owning the run, as the flow listed them when it was triggered, separated by `;`."},
	{name: "cycle", typ: runString, description: "Scheduling cycle of the flow: " + cycleValues},
	{name: "cron", typ: runString, description: "Schedule of the flow " + cronValues},
}

// includeParameterValues names the data sources' input that returns the
// values of the runs' parameters.
const includeParameterValues = "include_parameter_values"

// includeParameterValuesAttribute is that input, in each data source.
func includeParameterValuesAttribute() dschema.Attribute {
	return dschema.BoolAttribute{Optional: true, MarkdownDescription: "Return the values of the runs' parameters in `parameters` (default `false`). " +
		"They are stored in state, sensitive, and include the values a trigger sent through its write-only `parameters_wo`: " +
		"leave it unset unless the configuration needs a value; `parameter_keys` is always set."}
}

// Descriptions shared with dataflow_flow.
const (
	cycleValues = "`M`, `W`, `D`, `H` or `mi` (month, week, day, hour, minute)."
	cronValues  = "as a 7-field Quartz cron expression (the service's `freq`), e.g. `0 0 0 * * ? *`."
)

// taskAttributes are the attributes of each of a run's tasks (taskModel),
// all strings.
var taskAttributes = []runAttribute{
	{name: "name", typ: runString, description: "Task name."},
	{name: "task_instance_id", typ: runString, description: "Task instance id, as used by the service's task log call."},
	{name: "status", typ: runString, description: "Task status name, e.g. `SUCCESS`, `FAIL`, `RUNNING`, `CANCEL`, `INIT` or `NONE` (not scheduled)."},
}

// statusNames are the documented status names, in code order.
func statusNames() []string {
	statuses := enos.Statuses()
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = s.Name()
	}
	return names
}

// Descriptions of the run filters of dataflow_flow_instances and of the
// list resource dataflow_flow_trigger.
const (
	triggeredAfterDescription  = "Only runs triggered at or after this time, RFC 3339, e.g. `2024-05-01T00:00:00+08:00`."
	triggeredBeforeDescription = "Only runs triggered at or before this time, RFC 3339."
)

// statusesFilterDescription describes a filter of runs by status names.
func statusesFilterDescription() string {
	return "Only runs in one of these statuses, by name: `" + strings.Join(statusNames(), "`, `") + "`. Every status when unset."
}

// statusDescription lists the status names, unfinished ones first.
func statusDescription() string {
	var unfinished, finished []string
	for _, s := range enos.Statuses() {
		if s.Terminal() {
			finished = append(finished, s.Name())
		} else {
			unfinished = append(unfinished, s.Name())
		}
	}
	return "Status name of the run: `" + strings.Join(unfinished, "`, `") + "` while it is not finished; `" +
		strings.Join(finished, "`, `") + "` once it is. A code the service does not document shows as `UNKNOWN(<code>)`."
}

// dataSource renders the attribute into a data source schema.
func (a runAttribute) dataSource() dschema.Attribute {
	switch a.typ {
	case runInt64:
		return dschema.Int64Attribute{MarkdownDescription: a.description, Computed: true}
	case runTime:
		return dschema.StringAttribute{CustomType: timetypes.RFC3339Type{}, MarkdownDescription: a.description, Computed: true}
	case runParameters:
		return dschema.MapAttribute{ElementType: types.StringType, MarkdownDescription: a.description, Computed: true, Sensitive: true}
	case runKeys:
		return dschema.ListAttribute{ElementType: types.StringType, MarkdownDescription: a.description, Computed: true}
	case runTasks:
		nested := make(map[string]dschema.Attribute, len(taskAttributes))
		for _, t := range taskAttributes {
			nested[t.name] = dschema.StringAttribute{MarkdownDescription: t.description, Computed: true}
		}
		return dschema.ListNestedAttribute{MarkdownDescription: a.description, Computed: true, NestedObject: dschema.NestedAttributeObject{Attributes: nested}}
	}
	return dschema.StringAttribute{MarkdownDescription: a.description, Computed: true}
}

// resource renders the attribute into the resource schema. The run's
// attributes change only when the provider reads the run, so a plan keeps
// their state values.
func (a runAttribute) resource() rschema.Attribute {
	description := a.description + a.resourceNote
	switch a.typ {
	case runInt64:
		return rschema.Int64Attribute{MarkdownDescription: description, Computed: true,
			PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}}
	case runTime:
		return rschema.StringAttribute{CustomType: timetypes.RFC3339Type{}, MarkdownDescription: description, Computed: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	case runTasks:
		nested := make(map[string]rschema.Attribute, len(taskAttributes))
		for _, t := range taskAttributes {
			nested[t.name] = rschema.StringAttribute{MarkdownDescription: t.description, Computed: true}
		}
		return rschema.ListNestedAttribute{MarkdownDescription: description, Computed: true,
			NestedObject:  rschema.NestedAttributeObject{Attributes: nested},
			PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()}}
	}
	return rschema.StringAttribute{MarkdownDescription: description, Computed: true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
}

// unknown is the attribute's unknown value, planned where a read of the run
// is due (see planFollowUp).
func (a runAttribute) unknown() attr.Value {
	switch a.typ {
	case runInt64:
		return types.Int64Unknown()
	case runTime:
		return timetypes.NewRFC3339Unknown()
	case runParameters:
		return types.MapUnknown(types.StringType)
	case runKeys:
		return types.ListUnknown(types.StringType)
	case runTasks:
		return types.ListUnknown(taskObjectType)
	}
	return types.StringUnknown()
}

// runDataSourceAttributes is the data source schema of a run, without its
// id (an input of dataflow_flow_instance, an output of
// dataflow_flow_instances).
func runDataSourceAttributes() map[string]dschema.Attribute {
	attributes := map[string]dschema.Attribute{}
	for _, list := range [][]runAttribute{runStatusAttributes, runDetailAttributes} {
		for _, a := range list {
			attributes[a.name] = a.dataSource()
		}
	}
	return attributes
}

// runResourceAttributes adds the run's status attributes to a resource
// schema's attributes.
func runResourceAttributes(attributes map[string]rschema.Attribute) map[string]rschema.Attribute {
	for _, a := range runStatusAttributes {
		attributes[a.name] = a.resource()
	}
	return attributes
}

// dataSourceTimeAttribute is a computed time of a data source.
func dataSourceTimeAttribute(description string) dschema.Attribute {
	return runAttribute{typ: runTime, description: description + timeDescription}.dataSource()
}

// runModel holds runStatusAttributes; the resource's and the data sources'
// models embed it.
type runModel struct {
	FlowName   types.String      `tfsdk:"flow_name"`
	Status     types.String      `tfsdk:"status"`
	StatusCode types.Int64       `tfsdk:"status_code"`
	StartedAt  timetypes.RFC3339 `tfsdk:"started_at"`
	FinishedAt timetypes.RFC3339 `tfsdk:"finished_at"`
	Tasks      types.List        `tfsdk:"tasks"`
}

// newRunModel converts what the service reports about a run.
func newRunModel(ctx context.Context, inst *enos.FlowInstance) (runModel, diag.Diagnostics) {
	tasks, diags := taskList(ctx, inst.Tasks)
	return runModel{
		FlowName:   types.StringValue(inst.FlowName),
		Status:     types.StringValue(inst.Status.Name()),
		StatusCode: types.Int64Value(int64(inst.Status)),
		StartedAt:  rfc3339(inst.StartTime),
		FinishedAt: rfc3339(inst.EndTime),
		Tasks:      tasks,
	}, diags
}

// taskModel is one task of a run (taskAttributes).
type taskModel struct {
	Name           types.String `tfsdk:"name"`
	TaskInstanceID types.String `tfsdk:"task_instance_id"`
	Status         types.String `tfsdk:"status"`
}

var taskObjectType = func() types.ObjectType {
	attrTypes := make(map[string]attr.Type, len(taskAttributes))
	for _, t := range taskAttributes {
		attrTypes[t.name] = types.StringType // every task attribute is a string
	}
	return types.ObjectType{AttrTypes: attrTypes}
}()

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

// runParameterValues converts a run's parameters: the sorted keys, and
// the values by key when withValues (else a null map).
func runParameterValues(ctx context.Context, params []enos.Parameter, withValues bool) (types.List, types.Map, diag.Diagnostics) {
	var names []string
	for _, p := range params {
		names = append(names, p.Key)
	}
	slices.Sort(names)
	keys, diags := types.ListValueFrom(ctx, types.StringType, slices.Compact(names))
	if !withValues {
		return keys, types.MapNull(types.StringType), diags
	}
	values, d := parameterMap(ctx, params)
	diags.Append(d...)
	return keys, values, diags
}

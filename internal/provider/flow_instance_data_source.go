package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

var (
	_ datasource.DataSource              = (*flowInstanceDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*flowInstanceDataSource)(nil)
)

// NewFlowInstanceDataSource returns the dataflow_flow_instance data source.
func NewFlowInstanceDataSource() datasource.DataSource { return &flowInstanceDataSource{} }

type flowInstanceDataSource struct {
	data *providerData
}

// flowInstanceModel is one run of a flow: the whole dataflow_flow_instance
// data source, and each item of dataflow_flow_instances.
type flowInstanceModel struct {
	FlowInstanceID types.String      `tfsdk:"flow_instance_id"`
	FlowID         types.Int64       `tfsdk:"flow_id"`
	FlowName       types.String      `tfsdk:"flow_name"`
	Status         types.String      `tfsdk:"status"`
	StatusCode     types.Int64       `tfsdk:"status_code"`
	Parameters     types.Map         `tfsdk:"parameters"`
	TriggerTime    timetypes.RFC3339 `tfsdk:"trigger_time"`
	StartedAt      timetypes.RFC3339 `tfsdk:"started_at"`
	FinishedAt     timetypes.RFC3339 `tfsdk:"finished_at"`
	BusinessDate   types.String      `tfsdk:"business_date"`
	Owner          types.String      `tfsdk:"owner"`
	Cycle          types.String      `tfsdk:"cycle"`
	Cron           types.String      `tfsdk:"cron"`
	Tasks          types.List        `tfsdk:"tasks"`
}

// newFlowInstanceModel converts a run as the service reports it.
func newFlowInstanceModel(ctx context.Context, inst *enos.FlowInstance) (flowInstanceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	params, d := parameterMap(ctx, inst.Parameters)
	diags.Append(d...)
	tasks, d := taskList(ctx, inst.Tasks)
	diags.Append(d...)
	return flowInstanceModel{
		FlowInstanceID: types.StringValue(inst.InstanceID),
		FlowID:         types.Int64Value(inst.FlowID),
		FlowName:       types.StringValue(inst.FlowName),
		Status:         types.StringValue(inst.Status.Name()),
		StatusCode:     types.Int64Value(int64(inst.Status)),
		Parameters:     params,
		TriggerTime:    rfc3339(inst.TriggerTime),
		StartedAt:      rfc3339(inst.StartTime),
		FinishedAt:     rfc3339(inst.EndTime),
		BusinessDate:   nullableString(inst.CalDt),
		Owner:          nullableString(strings.Trim(inst.Owner, ";")),
		Cycle:          nullableString(inst.Cycle),
		Cron:           nullableString(inst.Freq),
		Tasks:          tasks,
	}, diags
}

// nullableString is null for the empty string the service sends for a
// field it has no value for.
func nullableString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// flowInstanceAttributes is the schema of a run, except its id, which is an
// input of dataflow_flow_instance and an output of dataflow_flow_instances.
func flowInstanceAttributes() map[string]schema.Attribute {
	timeAttribute := func(description string) schema.Attribute {
		return schema.StringAttribute{
			CustomType:          timetypes.RFC3339Type{},
			MarkdownDescription: description + " RFC 3339, in the service's time zone; null when the service has none.",
			Computed:            true,
		}
	}
	taskAttributes := make(map[string]schema.Attribute, len(taskDescriptions))
	for name, description := range taskDescriptions {
		taskAttributes[name] = schema.StringAttribute{MarkdownDescription: description, Computed: true}
	}
	return map[string]schema.Attribute{
		"flow_id": schema.Int64Attribute{
			MarkdownDescription: "Id of the flow this is a run of.",
			Computed:            true,
		},
		"flow_name": schema.StringAttribute{
			MarkdownDescription: "Name of the flow.",
			Computed:            true,
		},
		"status": schema.StringAttribute{
			MarkdownDescription: "Status name: `INIT`, `WAIT`, `READY`, `RUNNING`, `SUSPEND` and `RERUN` while the run is not finished; " +
				"`SUCCESS`, `FAIL`, `INTERNAL_ERROR`, `TIMEOUT`, `CANCEL` and `SKIP` once it is. A code the service does not document shows as `UNKNOWN(<code>)`.",
			Computed: true,
		},
		"status_code": schema.Int64Attribute{
			MarkdownDescription: "The service's numeric status code, e.g. `1` for `SUCCESS` and `-1` for `FAIL`.",
			Computed:            true,
		},
		"parameters": schema.MapAttribute{
			ElementType: types.StringType,
			MarkdownDescription: "The run's effective parameters: the flow's global parameters with this run's overrides. " +
				"Sensitive, because the service echoes values that were sent through a trigger's write-only `parameters_wo`; use `nonsensitive()` for keys you know to be harmless.",
			Computed:  true,
			Sensitive: true,
		},
		"trigger_time": timeAttribute("Time the run was triggered for."),
		"started_at":   timeAttribute("Time the run started."),
		"finished_at":  timeAttribute("Time the run finished."),
		"business_date": schema.StringAttribute{
			MarkdownDescription: "Business date of the run (the service's `calDt`), `YYYY-MM-DD`; for daily flows the day before the trigger date.",
			Computed:            true,
		},
		"owner": schema.StringAttribute{
			MarkdownDescription: "Username(s) owning the run, as the flow listed them when it was triggered, separated by `;`.",
			Computed:            true,
		},
		"cycle": schema.StringAttribute{
			MarkdownDescription: "Scheduling cycle of the flow: `M`, `W`, `D`, `H` or `mi` (month, week, day, hour, minute).",
			Computed:            true,
		},
		"cron": schema.StringAttribute{
			MarkdownDescription: "Schedule of the flow as a 7-field Quartz cron expression (the service's `freq`), e.g. `0 0 0 * * ? *`.",
			Computed:            true,
		},
		"tasks": schema.ListNestedAttribute{
			MarkdownDescription: "Tasks of the run, in the order of the flow's graph.",
			Computed:            true,
			NestedObject:        schema.NestedAttributeObject{Attributes: taskAttributes},
		},
	}
}

func (d *flowInstanceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow_instance"
}

func (d *flowInstanceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attributes := flowInstanceAttributes()
	attributes["flow_instance_id"] = schema.StringAttribute{
		MarkdownDescription: "Id of the run, e.g. `2430-20190718075000`, as returned by `dataflow_flow_trigger` or `dataflow_flow_instances`.",
		Required:            true,
		Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one run (flow instance) of a Dataflow flow: its status, times, parameters and tasks. " +
			"Use it to act on the outcome of a run triggered elsewhere.",
		Attributes: attributes,
	}
}

func (d *flowInstanceDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *flowInstanceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config flowInstanceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client := configuredClient(d.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	id := config.FlowInstanceID.ValueString()

	inst, err := client.GetFlowInstance(ctx, id)
	if enos.IsNotFound(err) {
		resp.Diagnostics.AddAttributeError(path.Root("flow_instance_id"), "Flow instance not found",
			fmt.Sprintf("The Dataflow service has no flow instance %q in this organization: check the id and the provider's endpoint and org_id. (%v)", id, err))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Reading flow instance failed", fmt.Sprintf("Reading flow instance %q: %v", id, err))
		return
	}

	state, diags := newFlowInstanceModel(ctx, inst)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

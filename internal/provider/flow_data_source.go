package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

var (
	_ datasource.DataSource              = (*flowDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*flowDataSource)(nil)
)

// NewFlowDataSource returns the dataflow_flow data source.
func NewFlowDataSource() datasource.DataSource { return &flowDataSource{} }

type flowDataSource struct {
	data *providerData
}

type flowModel struct {
	FlowID      types.Int64       `tfsdk:"flow_id"`
	Name        types.String      `tfsdk:"name"`
	Description types.String      `tfsdk:"description"`
	Active      types.Bool        `tfsdk:"active"`
	Type        types.Int64       `tfsdk:"type"`
	Cycle       types.String      `tfsdk:"cycle"`
	Cron        types.String      `tfsdk:"cron"`
	Owners      types.List        `tfsdk:"owners"`
	Visitors    types.List        `tfsdk:"visitors"`
	Parameters  types.Map         `tfsdk:"parameters"`
	Tasks       types.List        `tfsdk:"tasks"`
	Locked      types.Bool        `tfsdk:"locked"`
	CreatedAt   timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt   timetypes.RFC3339 `tfsdk:"updated_at"`
}

// flowTaskModel is a task of a flow definition.
type flowTaskModel struct {
	Name   types.String `tfsdk:"name"`
	TaskID types.String `tfsdk:"task_id"`
}

var flowTaskObjectType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name":    types.StringType,
	"task_id": types.StringType,
}}

// newFlowModel converts a flow definition.
func newFlowModel(ctx context.Context, flow *enos.Flow) (flowModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	tasks := make([]flowTaskModel, len(flow.Tasks))
	for i, t := range flow.Tasks {
		tasks[i] = flowTaskModel{Name: types.StringValue(t.TaskName), TaskID: types.StringValue(t.TaskID)}
	}
	taskList, d := types.ListValueFrom(ctx, flowTaskObjectType, tasks)
	diags.Append(d...)
	owners, d := types.ListValueFrom(ctx, types.StringType, nonNil(flow.Owners))
	diags.Append(d...)
	visitors, d := types.ListValueFrom(ctx, types.StringType, nonNil(flow.Visitors))
	diags.Append(d...)
	params, d := parameterMap(ctx, flow.Parameters)
	diags.Append(d...)
	return flowModel{
		FlowID:      types.Int64Value(flow.FlowID),
		Name:        types.StringValue(flow.FlowName),
		Description: types.StringValue(flow.Desc),
		Active:      types.BoolValue(flow.Active == 1),
		Type:        types.Int64Value(int64(flow.Type)),
		Cycle:       nullableString(flow.Cycle),
		Cron:        nullableString(flow.Freq),
		Owners:      owners,
		Visitors:    visitors,
		Parameters:  params,
		Tasks:       taskList,
		Locked:      types.BoolValue(flow.Locked),
		CreatedAt:   rfc3339(flow.CreateTime),
		UpdatedAt:   rfc3339(flow.UpdateTime),
	}, diags
}

// nonNil makes an absent list an empty one rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (d *flowDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow"
}

func (d *flowDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the definition of a Dataflow flow: its schedule, owners, global parameters and tasks. " +
			"Use it to check a flow before triggering it, e.g. which `parameters` a `dataflow_flow_trigger` can override.",
		Attributes: map[string]schema.Attribute{
			"flow_id": schema.Int64Attribute{
				MarkdownDescription: "Id of the flow, as shown in the EnOS console.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the flow.",
				Computed:            true,
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Description of the flow; empty when it has none.",
				Computed:            true,
			},
			"active": schema.BoolAttribute{
				MarkdownDescription: "Whether the flow's schedule is started (`true`) or paused (`false`).",
				Computed:            true,
			},
			"type": schema.Int64Attribute{
				MarkdownDescription: "Scheduling type: `0` manual, `1` periodic, `2` temporary.",
				Computed:            true,
			},
			"cycle": schema.StringAttribute{
				MarkdownDescription: "Scheduling cycle: " + cycleValues,
				Computed:            true,
			},
			"cron": schema.StringAttribute{
				MarkdownDescription: "Schedule " + cronValues,
				Computed:            true,
			},
			"owners": schema.ListAttribute{
				ElementType:         types.StringType,
				MarkdownDescription: "Usernames that own the flow. Only owners can trigger it.",
				Computed:            true,
			},
			"visitors": schema.ListAttribute{
				ElementType:         types.StringType,
				MarkdownDescription: "Usernames that can view the flow.",
				Computed:            true,
			},
			"parameters": schema.MapAttribute{
				ElementType:         types.StringType,
				MarkdownDescription: "The flow's global parameters and their default values. A run's `parameters` override these.",
				Computed:            true,
			},
			"tasks": schema.ListNestedAttribute{
				MarkdownDescription: "Tasks of the flow, in the order of its graph.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{
						MarkdownDescription: "Task name.",
						Computed:            true,
					},
					"task_id": schema.StringAttribute{
						MarkdownDescription: "Task id.",
						Computed:            true,
					},
				}},
			},
			"locked": schema.BoolAttribute{
				MarkdownDescription: "Whether the flow is locked. A locked flow cannot be triggered.",
				Computed:            true,
			},
			"created_at": dataSourceTimeAttribute("Time the flow was created."),
			"updated_at": dataSourceTimeAttribute("Time the flow was last changed."),
		},
	}
}

func (d *flowDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *flowDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config flowModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client := configuredClient(d.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	id := config.FlowID.ValueInt64()

	flow, err := client.GetFlow(ctx, id)
	if err != nil {
		addCallError(&resp.Diagnostics, path.Root("flow_id"), fmt.Sprintf("Reading flow %d", id), callSubject{flowID: id}, err)
		return
	}

	state, diags := newFlowModel(ctx, flow)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

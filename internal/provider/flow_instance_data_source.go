package provider

import (
	"context"
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
	FlowInstanceID types.String `tfsdk:"flow_instance_id"`
	FlowID         types.Int64  `tfsdk:"flow_id"`
	runModel
	Parameters    types.Map         `tfsdk:"parameters"`
	ParameterKeys types.List        `tfsdk:"parameter_keys"`
	TriggerTime   timetypes.RFC3339 `tfsdk:"trigger_time"`
	BusinessDate  types.String      `tfsdk:"business_date"`
	Owner         types.String      `tfsdk:"owner"`
	Cycle         types.String      `tfsdk:"cycle"`
	Cron          types.String      `tfsdk:"cron"`
}

// flowInstanceDataSourceModel is the dataflow_flow_instance data source.
type flowInstanceDataSourceModel struct {
	flowInstanceModel
	IncludeParameterValues types.Bool `tfsdk:"include_parameter_values"`
}

// newFlowInstanceModel converts a run as the service reports it, with its
// parameters' values when withValues.
func newFlowInstanceModel(ctx context.Context, inst *enos.FlowInstance, withValues bool) (flowInstanceModel, diag.Diagnostics) {
	run, diags := newRunModel(ctx, inst)
	keys, params, d := runParameterValues(ctx, inst.Parameters, withValues)
	diags.Append(d...)
	return flowInstanceModel{
		FlowInstanceID: types.StringValue(inst.InstanceID),
		FlowID:         types.Int64Value(inst.FlowID),
		runModel:       run,
		Parameters:     params,
		ParameterKeys:  keys,
		TriggerTime:    rfc3339(inst.TriggerTime),
		BusinessDate:   nullableString(inst.CalDt),
		Owner:          nullableString(strings.Trim(inst.Owner, ";")),
		Cycle:          nullableString(inst.Cycle),
		Cron:           nullableString(inst.Freq),
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

func (d *flowInstanceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow_instance"
}

func (d *flowInstanceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attributes := runDataSourceAttributes()
	attributes["flow_instance_id"] = schema.StringAttribute{
		MarkdownDescription: "Id of the run, e.g. `2430-20190718075000`, as returned by `dataflow_flow_trigger` or `dataflow_flow_instances`.",
		Required:            true,
		Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
	}
	attributes[includeParameterValues] = includeParameterValuesAttribute()
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
	var config flowInstanceDataSourceModel
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
	if err != nil {
		addCallError(&resp.Diagnostics, path.Root("flow_instance_id"), "Reading run "+id, callSubject{runID: id}, err)
		return
	}

	run, diags := newFlowInstanceModel(ctx, inst, config.IncludeParameterValues.ValueBool())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	config.flowInstanceModel = run
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}

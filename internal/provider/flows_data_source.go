package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// Scopes of dataflow_flows.
const (
	flowsScopeMine         = "mine"
	flowsScopeOrganization = "organization"
)

var (
	_ datasource.DataSource              = (*flowsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*flowsDataSource)(nil)
)

// NewFlowsDataSource returns the dataflow_flows data source.
func NewFlowsDataSource() datasource.DataSource { return &flowsDataSource{} }

type flowsDataSource struct {
	data *providerData
}

type flowsModel struct {
	Scope  types.String `tfsdk:"scope"`
	Search types.String `tfsdk:"search"`
	Flows  types.List   `tfsdk:"flows"`
}

// flowsItemModel is one flow of the list.
type flowsItemModel struct {
	FlowID   types.Int64  `tfsdk:"flow_id"`
	Name     types.String `tfsdk:"name"`
	Cycle    types.String `tfsdk:"cycle"`
	Editable types.Bool   `tfsdk:"editable"`
}

var flowsItemObjectType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"flow_id":  types.Int64Type,
	"name":     types.StringType,
	"cycle":    types.StringType,
	"editable": types.BoolType,
}}

func (d *flowsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flows"
}

func (d *flowsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists flows: the provider's user's own flows, or every flow of the organization. " +
			"Use it to `for_each` over flows, e.g. to manage the schedule of each with `dataflow_flow_schedule`. " +
			"No match is an empty list.",
		Attributes: map[string]schema.Attribute{
			"scope": schema.StringAttribute{
				MarkdownDescription: "Which flows: `mine` (default) the flows the provider's user owns or may view (the service's `getMyFlow`), " +
					"with `cycle` and `editable`; `organization` every flow of the organization (the service's flow search, all pages), " +
					"with `cycle` and `editable` null, as the search does not report them.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.OneOf(flowsScopeMine, flowsScopeOrganization)},
			},
			"search": schema.StringAttribute{
				MarkdownDescription: "Keep only flows that match this text: for `mine`, a case-insensitive part of the name; " +
					"for `organization`, the service's search expression (a part of the name or of the id). All flows when unset.",
				Optional: true,
			},
			"flows": schema.ListNestedAttribute{
				MarkdownDescription: "The flows, in the service's order.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"flow_id": schema.Int64Attribute{
						MarkdownDescription: "Id of the flow.",
						Computed:            true,
					},
					"name": schema.StringAttribute{
						MarkdownDescription: "Name of the flow.",
						Computed:            true,
					},
					"cycle": schema.StringAttribute{
						MarkdownDescription: "Scheduling cycle: `M`, `W`, `D`, `H` or `mi`; null for `organization` or when the service sends none.",
						Computed:            true,
					},
					"editable": schema.BoolAttribute{
						MarkdownDescription: "Whether the provider's user may change the flow (trigger it, start or pause its schedule); null for `organization`.",
						Computed:            true,
					},
				}},
			},
		},
	}
}

func (d *flowsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *flowsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config flowsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	client := configuredClient(d.data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if config.Scope.IsNull() {
		config.Scope = types.StringValue(flowsScopeMine)
	}
	search := config.Search.ValueString()

	items := []flowsItemModel{}
	if config.Scope.ValueString() == flowsScopeOrganization {
		found, err := client.SearchFlows(ctx, enos.FlowSearch{Expression: search})
		if err != nil {
			resp.Diagnostics.AddError(describeServiceError("Searching the organization's flows", 0, err))
			return
		}
		for _, f := range found {
			items = append(items, flowsItemModel{FlowID: types.Int64Value(f.FlowID), Name: types.StringValue(f.FlowName),
				Cycle: types.StringNull(), Editable: types.BoolNull()})
		}
	} else {
		mine, err := client.GetMyFlows(ctx, search)
		if err != nil {
			resp.Diagnostics.AddError(describeServiceError("Listing the user's flows", 0, err))
			return
		}
		for _, f := range mine {
			items = append(items, flowsItemModel{FlowID: types.Int64Value(f.FlowID), Name: types.StringValue(f.FlowName),
				Cycle: nullableString(f.Cycle), Editable: types.BoolValue(f.Editable)})
		}
	}
	list, diags := types.ListValueFrom(ctx, flowsItemObjectType, items)
	resp.Diagnostics.Append(diags...)
	config.Flows = list
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}

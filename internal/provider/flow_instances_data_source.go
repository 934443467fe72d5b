package provider

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

var (
	_ datasource.DataSource                   = (*flowInstancesDataSource)(nil)
	_ datasource.DataSourceWithConfigure      = (*flowInstancesDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*flowInstancesDataSource)(nil)
)

const (
	defaultInstanceMaxResults = 100
	maxInstanceMaxResults     = 10000
)

// instanceSortFields maps the sort keys users write to the service's sorter
// fields.
var instanceSortFields = map[string]string{
	"trigger_time": "triggerTime",
	"start_time":   "startTime",
	"end_time":     "endTime",
}

// NewFlowInstancesDataSource returns the dataflow_flow_instances data source.
func NewFlowInstancesDataSource() datasource.DataSource { return &flowInstancesDataSource{} }

type flowInstancesDataSource struct {
	data *providerData
}

type flowInstancesModel struct {
	FlowID          types.Int64         `tfsdk:"flow_id"`
	Expression      types.String        `tfsdk:"expression"`
	Statuses        types.Set           `tfsdk:"statuses"`
	TriggeredAfter  timetypes.RFC3339   `tfsdk:"triggered_after"`
	TriggeredBefore timetypes.RFC3339   `tfsdk:"triggered_before"`
	Owner           types.String        `tfsdk:"owner"`
	MaxResults      types.Int64         `tfsdk:"max_results"`
	Sort            *instanceSortModel  `tfsdk:"sort"`
	IncludeValues   types.Bool          `tfsdk:"include_parameter_values"`
	Instances       []flowInstanceModel `tfsdk:"instances"`
}

type instanceSortModel struct {
	By    types.String `tfsdk:"by"`
	Order types.String `tfsdk:"order"`
}

func (d *flowInstancesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow_instances"
}

func (d *flowInstancesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	item := runDataSourceAttributes()
	item["flow_instance_id"] = schema.StringAttribute{
		MarkdownDescription: "Id of the run, e.g. `2430-20190718075000`.",
		Computed:            true,
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Searches the runs (flow instances) of Dataflow flows, following the service's pages, " +
			"e.g. to find the latest successful run of a flow. No match is an empty `instances` list, not an error.",
		Attributes: map[string]schema.Attribute{
			"flow_id": schema.Int64Attribute{
				MarkdownDescription: "Only runs of this flow. The service cannot filter by flow id, so the provider searches for the id " +
					"(or for `expression`, when set) and keeps the exact matches.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"expression": schema.StringAttribute{
				MarkdownDescription: "The service's fuzzy match on instance id and flow name.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"statuses": schema.SetAttribute{
				ElementType:         types.StringType,
				MarkdownDescription: statusesFilterDescription(),
				Optional:            true,
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(statusNameValidator()),
				},
			},
			"triggered_after": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: triggeredAfterDescription,
				Optional:            true,
			},
			"triggered_before": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: triggeredBeforeDescription,
				Optional:            true,
			},
			"owner": schema.StringAttribute{
				MarkdownDescription: "Only runs owned by this username.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"max_results": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Most runs to return, from 1 to %d; default %d. The first ones in `sort` order are kept.", maxInstanceMaxResults, defaultInstanceMaxResults),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, maxInstanceMaxResults)},
			},
			"sort": schema.SingleNestedAttribute{
				MarkdownDescription: "Order of `instances`; newest trigger time first when unset. Runs with equal times are ordered by instance id, and runs without the time come last.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"by": schema.StringAttribute{
						MarkdownDescription: "`trigger_time` (default), `start_time` or `end_time`.",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.OneOf("trigger_time", "start_time", "end_time")},
					},
					"order": schema.StringAttribute{
						MarkdownDescription: "`desc` (default, newest first) or `asc`.",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.OneOf("asc", "desc")},
					},
				},
			},
			includeParameterValues: includeParameterValuesAttribute(),
			"instances": schema.ListNestedAttribute{
				MarkdownDescription: "The matching runs, in `sort` order.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: item},
			},
		},
	}
}

func (d *flowInstancesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *flowInstancesDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateTriggerWindow(ctx, req.Config)...)
}

// validateTriggerWindow rejects a triggered_before earlier than
// triggered_after: run searches that take both.
func validateTriggerWindow(ctx context.Context, config tfsdk.Config) diag.Diagnostics {
	var after, before timetypes.RFC3339
	diags := config.GetAttribute(ctx, path.Root("triggered_after"), &after)
	diags.Append(config.GetAttribute(ctx, path.Root("triggered_before"), &before)...)
	if diags.HasError() || after.IsNull() || after.IsUnknown() || before.IsNull() || before.IsUnknown() {
		return diags
	}
	from, d := after.ValueRFC3339Time()
	diags.Append(d...)
	to, d := before.ValueRFC3339Time()
	diags.Append(d...)
	if !diags.HasError() && from.After(to) {
		diags.AddAttributeError(path.Root("triggered_before"), "Empty trigger-time window",
			fmt.Sprintf("triggered_before (%s) is earlier than triggered_after (%s).", before.ValueString(), after.ValueString()))
	}
	return diags
}

// statusNameValidator accepts the status names of the service's table.
func statusNameValidator() validator.String { return stringvalidator.OneOf(statusNames()...) }

func (d *flowInstancesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config flowInstancesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client := configuredClient(d.data, &resp.Diagnostics)
	if client == nil {
		return
	}

	query, diags := config.search(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	maxResults := defaultInstanceMaxResults
	if !config.MaxResults.IsNull() {
		maxResults = int(config.MaxResults.ValueInt64())
	}
	query.MaxResults = maxResults
	found, err := client.SearchFlowInstances(ctx, query)
	if err != nil {
		resp.Diagnostics.AddError(describeServiceError("Searching flow instances", config.FlowID.ValueInt64(), err))
		return
	}
	sortInstances(found, query.SortField, query.SortDescending)

	config.Instances = make([]flowInstanceModel, 0, len(found))
	for i := range found {
		item, diags := newFlowInstanceModel(ctx, &found[i], config.IncludeValues.ValueBool())
		resp.Diagnostics.Append(diags...)
		config.Instances = append(config.Instances, item)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}

// search is the service query of the configuration, without its limit.
func (m flowInstancesModel) search(ctx context.Context) (enos.InstanceSearch, diag.Diagnostics) {
	q, diags := runSearch(ctx, m.FlowID, m.Statuses, m.TriggeredAfter, m.TriggeredBefore)
	q.Expression = m.Expression.ValueString()
	q.Owner = m.Owner.ValueString()
	q.SortField = instanceSortFields["trigger_time"]
	q.SortDescending = true
	if m.Sort != nil {
		if by := m.Sort.By.ValueString(); by != "" {
			q.SortField = instanceSortFields[by]
		}
		q.SortDescending = m.Sort.Order.ValueString() != "asc"
	}
	return q, diags
}

// runSearch is the service query of the filters that run searches share:
// a flow, status names (a set or a list) and a trigger-time window.
func runSearch(ctx context.Context, flowID types.Int64, statuses interface {
	ElementsAs(context.Context, any, bool) diag.Diagnostics
}, triggeredAfter, triggeredBefore timetypes.RFC3339,
) (enos.InstanceSearch, diag.Diagnostics) {
	var diags diag.Diagnostics
	var q enos.InstanceSearch
	if !flowID.IsNull() {
		q.FlowID = flowID.ValueInt64()
	}

	var names []string
	diags.Append(statuses.ElementsAs(ctx, &names, false)...)
	for _, name := range names {
		status, ok := enos.ParseStatusName(name)
		if !ok {
			diags.AddAttributeError(path.Root("statuses"), "Unknown status", fmt.Sprintf("%q is not a documented status name.", name))
			continue
		}
		q.Statuses = append(q.Statuses, status)
	}
	slices.Sort(q.Statuses)
	q.Statuses = slices.Compact(q.Statuses)

	if !triggeredAfter.IsNull() {
		t, d := triggeredAfter.ValueRFC3339Time()
		diags.Append(d...)
		q.FromTriggerTime = t
	}
	if !triggeredBefore.IsNull() {
		t, d := triggeredBefore.ValueRFC3339Time()
		diags.Append(d...)
		q.ToTriggerTime = t
	}
	return q, diags
}

// sortInstances puts instances in a stable order whatever the order of the
// service's pages: by the sort field, then by instance id, both in the
// requested direction; instances without the time come last.
func sortInstances(instances []enos.FlowInstance, field string, descending bool) {
	timeOf := func(inst *enos.FlowInstance) time.Time {
		switch field {
		case instanceSortFields["start_time"]:
			return inst.StartTime
		case instanceSortFields["end_time"]:
			return inst.EndTime
		}
		return inst.TriggerTime
	}
	slices.SortFunc(instances, func(a, b enos.FlowInstance) int {
		ta, tb := timeOf(&a), timeOf(&b)
		if ta.IsZero() != tb.IsZero() {
			if ta.IsZero() {
				return 1
			}
			return -1
		}
		c := cmp.Or(ta.Compare(tb), cmp.Compare(a.InstanceID, b.InstanceID))
		if descending {
			return -c
		}
		return c
	})
}

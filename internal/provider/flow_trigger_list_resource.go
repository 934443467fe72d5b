package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

var (
	_ list.ListResourceWithConfigure      = (*flowTriggerListResource)(nil)
	_ list.ListResourceWithValidateConfig = (*flowTriggerListResource)(nil)
)

// NewFlowTriggerListResource returns the dataflow_flow_trigger list
// resource, for `terraform query` (Terraform 1.14 and later).
func NewFlowTriggerListResource() list.ListResource { return &flowTriggerListResource{} }

type flowTriggerListResource struct {
	data *providerData
}

type flowTriggerListModel struct {
	FlowID          types.Int64       `tfsdk:"flow_id"`
	Statuses        types.List        `tfsdk:"statuses"`
	TriggeredAfter  timetypes.RFC3339 `tfsdk:"triggered_after"`
	TriggeredBefore timetypes.RFC3339 `tfsdk:"triggered_before"`
}

func (r *flowTriggerListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow_trigger"
}

func (r *flowTriggerListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the runs (flow instances) of Dataflow flows as `dataflow_flow_trigger` resources, newest trigger time first, " +
			"for `terraform query` (Terraform 1.14 and later). Each result is identified by `flow_instance_id`; " +
			"`terraform query -generate-config-out=FILE` writes an `import` block and a configuration for each, which adopt the run as it is. " +
			"The provider follows the service's pages only as far as the query's `limit` needs, and lists at most 10,000 runs per query, " +
			"with a warning when a larger `limit` stops there.",
		Attributes: map[string]schema.Attribute{
			"flow_id": schema.Int64Attribute{
				MarkdownDescription: "Only runs of this flow. The service cannot filter by flow id, so the provider searches for the id and keeps the exact matches.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"statuses": schema.ListAttribute{
				ElementType:         types.StringType,
				MarkdownDescription: statusesFilterDescription(),
				Optional:            true,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(statusNameValidator()),
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
		},
	}
}

func (r *flowTriggerListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *flowTriggerListResource) ValidateListResourceConfig(ctx context.Context, req list.ValidateConfigRequest, resp *list.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateTriggerWindow(ctx, req.Config)...)
}

// List streams the matching runs: the client fetches a page of the search
// only when a result past the previous page is pulled, and stops at the
// query's limit.
func (r *flowTriggerListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var config flowTriggerListModel
	diags := req.Config.Get(ctx, &config)
	var s list.ListResourceSchemaResponse
	r.ListResourceConfigSchema(ctx, list.ListResourceSchemaRequest{}, &s)
	diags.Append(validateKnownValues(ctx, req.Config, s.Schema.Attributes)...)
	diags.Append(validateTriggerWindow(ctx, req.Config)...)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	query, searchDiags := runSearch(ctx, config.FlowID, config.Statuses, config.TriggeredAfter, config.TriggeredBefore)
	diags.Append(searchDiags...)
	client := configuredClient(r.data, &diags)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	query.SortField = instanceSortFields["trigger_time"]
	query.SortDescending = true
	if req.Limit > 0 {
		query.MaxResults = int(min(req.Limit, maxInstanceMaxResults))
		// A small limit needs no full default page.
		query.PageSize = min(query.MaxResults, defaultInstanceMaxResults)
	}

	stream.Results = func(push func(list.ListResult) bool) {
		listed := 0
		for inst, err := range client.FlowInstances(ctx, query) {
			if err != nil {
				var failed diag.Diagnostics
				failed.AddError(describeServiceError("Searching flow runs", query.FlowID, err))
				push(list.ListResult{Diagnostics: failed})
				return
			}
			if !push(flowTriggerListResult(ctx, req, &inst)) {
				return
			}
			listed++
		}
		if req.Limit > maxInstanceMaxResults && listed == maxInstanceMaxResults {
			var capped diag.Diagnostics
			capped.AddWarning(fmt.Sprintf("Listed only the first %d runs", maxInstanceMaxResults), fmt.Sprintf(
				"The query's limit is %d, but one search lists at most %d runs, as the data source dataflow_flow_instances does, and this one "+
					"found that many: more runs may match. Narrow the query (flow_id, statuses, triggered_after and triggered_before) and run it "+
					"once per trigger-time window.", req.Limit, maxInstanceMaxResults))
			push(list.ListResult{Diagnostics: capped})
		}
	}
}

// flowTriggerListResult is one run as a result: its identity, a display
// name, and, when Terraform asks for it, the resource as import gives it.
func flowTriggerListResult(ctx context.Context, req list.ListRequest, inst *enos.FlowInstance) list.ListResult {
	result := req.NewListResult(ctx)
	name := inst.FlowName
	if name == "" {
		name = fmt.Sprintf("flow %d", inst.FlowID)
	}
	result.DisplayName = fmt.Sprintf("%s: %s (%s)", name, inst.InstanceID, inst.Status.Name())
	result.Diagnostics.Append(setFlowTriggerIdentity(ctx, result.Identity, inst.InstanceID)...)
	if req.IncludeResource {
		model, diags := importedFlowTriggerModel(ctx, inst)
		result.Diagnostics.Append(diags...)
		result.Diagnostics.Append(result.Resource.Set(ctx, &model)...)
	}
	return result
}

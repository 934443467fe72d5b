package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// on_destroy values of dataflow_flow_schedule.
const (
	onDestroyRestore = "restore"
	onDestroyKeep    = "keep"
)

var (
	_ resource.Resource                = (*flowScheduleResource)(nil)
	_ resource.ResourceWithConfigure   = (*flowScheduleResource)(nil)
	_ resource.ResourceWithImportState = (*flowScheduleResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*flowScheduleResource)(nil)
)

// NewFlowScheduleResource is the factory of dataflow_flow_schedule.
func NewFlowScheduleResource() resource.Resource { return &flowScheduleResource{} }

// flowScheduleResource keeps a flow's schedule started or paused. data is
// nil until the provider is configured.
type flowScheduleResource struct {
	data *providerData
}

type flowScheduleModel struct {
	FlowID        types.Int64  `tfsdk:"flow_id"`
	Active        types.Bool   `tfsdk:"active"`
	OnDestroy     types.String `tfsdk:"on_destroy"`
	InitialActive types.Bool   `tfsdk:"initial_active"`
	FlowName      types.String `tfsdk:"flow_name"`
	Cycle         types.String `tfsdk:"cycle"`
	Cron          types.String `tfsdk:"cron"`
	Type          types.Int64  `tfsdk:"type"`
}

// setSchedule copies what the service reports about the schedule, other
// than active, into the model.
func (m *flowScheduleModel) setSchedule(s *enos.FlowSchedule) {
	m.FlowName = types.StringValue(s.FlowName)
	m.Cycle = nullableString(s.Cycle)
	m.Cron = nullableString(s.Freq)
	m.Type = types.Int64Value(int64(s.Type))
}

func (r *flowScheduleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow_schedule"
}

func (r *flowScheduleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keepString := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Starts or pauses the schedule of a Dataflow flow (the service's `enable` and `disable` calls), " +
			"like the switch in the EnOS console: for example, the nightly flow scheduled in production and paused in staging. " +
			"The flow itself is not changed and no run is triggered. The provider calls `enable` or `disable` only when the " +
			"service's state differs from `active`, and a refresh shows a schedule toggled in the console as drift.\n\n" +
			"Manage each flow's schedule with one resource: the plan refuses two resources for one flow where it can see them. " +
			"Only an owner of the flow may change its schedule, and neither the user nor the flow may be locked.",
		Attributes: map[string]schema.Attribute{
			"flow_id": schema.Int64Attribute{
				MarkdownDescription: "Id of the flow whose schedule this manages. Changing it replaces the resource: the old flow's " +
					"schedule is handled per `on_destroy`, then the new one's is set.",
				Required:      true,
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"active": schema.BoolAttribute{
				MarkdownDescription: "`true` to keep the schedule started (the service's `active = 1`), `false` to keep it paused (`active = 0`).",
				Required:            true,
			},
			"on_destroy": schema.StringAttribute{
				MarkdownDescription: "What destroying the resource does to the schedule: `restore` (default) puts it back to " +
					"`initial_active`, the state the resource found it in; `keep` leaves it as it is.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(onDestroyRestore),
				Validators: []validator.String{stringvalidator.OneOf(onDestroyRestore, onDestroyKeep)},
			},
			"initial_active": schema.BoolAttribute{
				MarkdownDescription: "Whether the schedule was started when the resource began to manage it: at create, or, for an " +
					"imported resource, at import (import adopts the schedule as it is, so that is the state to go back to). " +
					"`on_destroy = \"restore\"` puts this back.",
				Computed:      true,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"flow_name": schema.StringAttribute{
				MarkdownDescription: "Name of the flow.",
				Computed:            true,
				PlanModifiers:       keepString,
			},
			"cycle": schema.StringAttribute{
				MarkdownDescription: "Scheduling cycle: `M`, `W`, `D`, `H` or `mi` (month, week, day, hour, minute); null when the service sends none.",
				Computed:            true,
				PlanModifiers:       keepString,
			},
			"cron": schema.StringAttribute{
				MarkdownDescription: "When the schedule runs the flow, as a 7-field Quartz cron expression (the service's `freq`), e.g. `0 0 2 * * ? *`; null when the service sends none.",
				Computed:            true,
				PlanModifiers:       keepString,
			},
			"type": schema.Int64Attribute{
				MarkdownDescription: "Scheduling type, the number the service sends (as in the `dataflow_flow` data source): " +
					"`0` manual, `1` periodic, `2` temporary.",
				Computed:      true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *flowScheduleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan refuses a second resource for a flow's schedule and, for a new
// resource, checks that the flow exists (unless skip_flow_validation).
func (r *flowScheduleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var flowID types.Int64
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("flow_id"), &flowID)...)
	if resp.Diagnostics.HasError() || flowID.IsNull() || flowID.IsUnknown() {
		return
	}
	id := flowID.ValueInt64()
	creating := req.State.Raw.IsNull()
	if !creating {
		var prior types.Int64
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("flow_id"), &prior)...)
		if !prior.Equal(flowID) {
			// A replacement: Terraform plans the new object again, as a
			// create, and that plan claims the new flow.
			return
		}
	}
	switch r.data.schedules.claim(id, creating) {
	case claimDuplicate:
		resp.Diagnostics.AddAttributeError(path.Root("flow_id"), "Flow schedule managed twice",
			fmt.Sprintf("Another dataflow_flow_schedule of this provider configuration also manages the schedule of flow %d. "+
				"Two resources for one schedule would undo each other's changes, and each would restore its own on destroy. "+
				"Keep one resource per flow: with for_each, key the resources by flow id.", id))
		return
	case claimMaybeDuplicate:
		resp.Diagnostics.AddAttributeWarning(path.Root("flow_id"), "Flow schedule possibly managed twice",
			fmt.Sprintf("Another dataflow_flow_schedule of this provider configuration already manages the schedule of flow %d, "+
				"and this plan creates one for it. That is expected when the resource is being replaced (terraform apply -replace, "+
				"or a tainted resource). Otherwise keep one resource per flow: two would undo each other's changes.", id))
	}
	if !creating || r.data.skipFlowValidation {
		return
	}
	if _, err := r.data.client.GetFlowSchedule(ctx, id); err != nil {
		summary, detail := describeServiceError(fmt.Sprintf("Reading flow %d", id), id, err)
		if enos.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("flow_id"), summary,
				detail+"\n\nFind the flow's id with the dataflow_flows data source.")
			return
		}
		resp.Diagnostics.AddAttributeWarning(path.Root("flow_id"), "Could not check the flow", summary+": "+detail)
	}
}

func (r *flowScheduleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan flowScheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client := configuredClient(r.data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	found, ok := r.reconcile(ctx, client, plan.FlowID.ValueInt64(), plan.Active.ValueBool(), &resp.Diagnostics)
	if found == nil {
		return
	}
	// The schedule found is recorded even when the change failed: its
	// answer may be lost after the service acted, and destroy must restore
	// what Terraform found, not what a later read sees. The failed create
	// is tainted, so the next apply restores it, reads it again and
	// converges.
	plan.InitialActive = types.BoolValue(found.Active)
	if !ok {
		plan.Active = types.BoolValue(found.Active)
	}
	plan.setSchedule(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *flowScheduleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state flowScheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client := configuredClient(r.data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.FlowID.ValueInt64()
	found, err := client.GetFlowSchedule(ctx, id)
	if enos.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Flow no longer exists",
			fmt.Sprintf("The service no longer knows flow %d, so its schedule was removed from state; the next plan creates it again, "+
				"which fails unless the flow exists. Remove the resource from the configuration if the flow was deleted on purpose.\n\n%s", id, err))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		summary, detail := describeServiceError(fmt.Sprintf("Reading the schedule of flow %d", id), id, err)
		resp.Diagnostics.AddError(summary, detail)
		return
	}
	state.Active = types.BoolValue(found.Active)
	if state.InitialActive.IsNull() {
		// Only right after import: restore then means the state import found.
		state.InitialActive = types.BoolValue(found.Active)
	}
	state.setSchedule(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update changes active (or only on_destroy, which needs no call). The
// computed values stay as planned: a refresh brings any change of them.
func (r *flowScheduleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan flowScheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client := configuredClient(r.data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if _, ok := r.reconcile(ctx, client, plan.FlowID.ValueInt64(), plan.Active.ValueBool(), &resp.Diagnostics); !ok {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *flowScheduleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state flowScheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.FlowID.ValueInt64()
	if state.OnDestroy.ValueString() == onDestroyKeep || state.InitialActive.IsNull() {
		tflog.Info(ctx, "Leaving the flow's schedule as it is", map[string]any{"flow_id": id})
		return
	}
	client := configuredClient(r.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	_, err := r.setActive(ctx, client, id, state.InitialActive.ValueBool())
	if enos.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Flow no longer exists",
			fmt.Sprintf("The service no longer knows flow %d, so there was no schedule to restore.\n\n%s", id, err))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(describeServiceError(fmt.Sprintf("Restoring the schedule of flow %d", id), id, err))
	}
}

// reconcile reads the schedule and starts or pauses it when it differs
// from active. It returns the schedule as read, before any change (nil
// when the read failed), and whether the change succeeded.
func (r *flowScheduleResource) reconcile(ctx context.Context, client *enos.Client, flowID int64, active bool, diags *diag.Diagnostics) (*enos.FlowSchedule, bool) {
	found, err := r.setActive(ctx, client, flowID, active)
	if err != nil {
		verb := "Pausing"
		if active {
			verb = "Starting"
		}
		summary, detail := describeServiceError(fmt.Sprintf("%s the schedule of flow %d", verb, flowID), flowID, err)
		if found != nil {
			detail = fmt.Sprintf("The schedule as found (active = %t) is recorded, so that destroy restores it; the next apply reads the schedule again.\n\n%s", found.Active, detail)
		}
		diags.AddError(summary, detail)
		return found, false
	}
	return found, true
}

// setActive reads the schedule and calls enable or disable only when its
// active differs from the wanted one. It returns the schedule as read.
func (r *flowScheduleResource) setActive(ctx context.Context, client *enos.Client, flowID int64, active bool) (*enos.FlowSchedule, error) {
	found, err := client.GetFlowSchedule(ctx, flowID)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{"flow_id": flowID, "active": active}
	if found.Active == active {
		tflog.Debug(ctx, "The flow's schedule is already as wanted", fields)
		return found, nil
	}
	tflog.Info(ctx, "Changing the flow's schedule", fields)
	if active {
		err = client.EnableFlow(ctx, flowID)
	} else {
		err = client.DisableFlow(ctx, flowID)
	}
	return found, err
}

// ImportState adopts a flow's schedule by flow id. The following read
// fills in the rest, initial_active included.
func (r *flowScheduleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, err := strconv.ParseInt(strings.TrimSpace(req.ID), 10, 64)
	if err != nil || id < 1 {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("Import takes the id of a flow, a positive integer such as 1001; got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("flow_id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("on_destroy"), onDestroyRestore)...)
}

// Outcomes of scheduleClaims.claim.
const (
	claimFirst          = iota // the only resource planned for the flow so far
	claimDuplicate             // another resource of the same kind (new or existing) has the flow
	claimMaybeDuplicate        // a new and an existing resource have the flow, or one resource being replaced
)

// scheduleClaims records which flows' schedules the dataflow_flow_schedule
// resources plan, per provider configuration: Terraform configures the
// provider once per walk (plan, apply), and plans each resource instance
// once per walk, except that a replaced one is planned once more as a
// create. So two creates, or two existing resources, for one flow are two
// resources; one of each may be one resource being replaced (-replace or
// tainted), which the request does not tell apart, so that is a warning.
type scheduleClaims struct {
	mu     sync.Mutex
	byFlow map[int64]*[2]int // counts of [existing, creating] plans
}

func (c *scheduleClaims) claim(flowID int64, creating bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byFlow == nil {
		c.byFlow = map[int64]*[2]int{}
	}
	counts := c.byFlow[flowID]
	if counts == nil {
		counts = &[2]int{}
		c.byFlow[flowID] = counts
	}
	mine, other := 0, 1
	if creating {
		mine, other = 1, 0
	}
	counts[mine]++
	switch {
	case counts[mine] > 1:
		return claimDuplicate
	case counts[other] > 0:
		return claimMaybeDuplicate
	}
	return claimFirst
}

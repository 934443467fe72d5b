package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
	"github.com/enos-community/terraform-provider-dataflow/internal/runwait"
)

// Behaviour settings of dataflow_flow_trigger: none of them shapes the run.
const (
	defaultPollInterval  = 10 * time.Second
	minPollInterval      = time.Second
	maxPollInterval      = time.Hour
	defaultCreateTimeout = 60 * time.Minute
	defaultDeleteTimeout = 10 * time.Minute
	onDestroyDetach      = "detach"
	onDestroyCancel      = "cancel"
)

var (
	_ resource.Resource                   = (*flowTriggerResource)(nil)
	_ resource.ResourceWithConfigure      = (*flowTriggerResource)(nil)
	_ resource.ResourceWithImportState    = (*flowTriggerResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*flowTriggerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*flowTriggerResource)(nil)
)

// NewFlowTriggerResource is the factory of dataflow_flow_trigger.
func NewFlowTriggerResource() resource.Resource { return &flowTriggerResource{} }

// flowTriggerResource starts one run of a flow per resource instance and
// tracks it. data is nil until the provider is configured.
type flowTriggerResource struct {
	data *providerData
}

// flowTriggerModel is the resource's state. ParametersWO is only ever read
// from the configuration and always null in state.
type flowTriggerModel struct {
	ID                  types.String         `tfsdk:"id"`
	FlowID              types.Int64          `tfsdk:"flow_id"`
	Parameters          types.Map            `tfsdk:"parameters"`
	ParametersWO        types.Map            `tfsdk:"parameters_wo"`
	ParametersWOVersion types.Int64          `tfsdk:"parameters_wo_version"`
	TriggerTime         timetypes.RFC3339    `tfsdk:"trigger_time"`
	SentTriggerTime     timetypes.RFC3339    `tfsdk:"sent_trigger_time"`
	Triggers            types.Map            `tfsdk:"triggers"`
	WaitForCompletion   types.Bool           `tfsdk:"wait_for_completion"`
	PollInterval        timetypes.GoDuration `tfsdk:"poll_interval"`
	OnDestroy           types.String         `tfsdk:"on_destroy"`
	Timeouts            timeouts.Value       `tfsdk:"timeouts"`
	FlowInstanceID      types.String         `tfsdk:"flow_instance_id"`
	runModel
}

func (r *flowTriggerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flow_trigger"
}

func (r *flowTriggerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// pollInterval is the configured interval; the validator guarantees it parses.
func (m *flowTriggerModel) pollInterval() time.Duration {
	d, diags := m.PollInterval.ValueGoDuration()
	if diags.HasError() {
		return defaultPollInterval
	}
	return d
}

// runRef names the run in state for the client's batched status checks.
func (m *flowTriggerModel) runRef() enos.RunRef {
	ref := enos.RunRef{InstanceID: m.ID.ValueString(), FlowID: m.FlowID.ValueInt64()}
	sent := m.SentTriggerTime
	if sent.IsNull() || sent.IsUnknown() { // a state written before the attribute existed
		sent = m.TriggerTime
	}
	if t, diags := sent.ValueRFC3339Time(); !diags.HasError() {
		ref.TriggerTime = t
	}
	return ref
}

// terminal reports whether the state already holds the run's final status,
// so that nothing about it can change any more.
func (m *flowTriggerModel) terminal() bool { return terminalStatus(m.StatusCode) }

// terminalStatus reports whether a status_code is a final status.
func terminalStatus(code types.Int64) bool {
	return !code.IsNull() && !code.IsUnknown() && enos.Status(code.ValueInt64()).Terminal()
}

// setInstance copies what the service reports about the run into the model.
func (m *flowTriggerModel) setInstance(ctx context.Context, inst *enos.FlowInstance) diag.Diagnostics {
	run, diags := newRunModel(ctx, inst)
	m.runModel = run
	return diags
}

func (r *flowTriggerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan flowTriggerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var writeOnly types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("parameters_wo"), &writeOnly)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if configuredClient(r.data, &resp.Diagnostics) == nil {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	request, timeDefaulted, diags := triggerRequest(ctx, plan.FlowID, plan.Parameters, writeOnly, plan.TriggerTime)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	run, diags := startRun(ctx, r.data.client, request, timeDefaulted)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	// Record the run before waiting: a failed or timed-out wait then leaves
	// the resource in state (tainted) instead of forgetting a started run.
	resp.Diagnostics.Append(setFlowTriggerIdentity(ctx, resp.Identity, run.InstanceID)...)
	plan.ID = types.StringValue(run.InstanceID)
	plan.FlowInstanceID = plan.ID
	plan.ParametersWO = types.MapNull(types.StringType)
	if timeDefaulted {
		plan.TriggerTime = timetypes.NewRFC3339TimeValue(run.TriggerTime.UTC())
	}
	plan.SentTriggerTime = timetypes.NewRFC3339TimeValue(run.TriggerTime.UTC())
	plan.Status = types.StringValue(enos.StatusInit.Name())
	plan.StatusCode = types.Int64Value(int64(enos.StatusInit))
	plan.FlowName = types.StringNull()
	plan.StartedAt = timetypes.NewRFC3339Null()
	plan.FinishedAt = timetypes.NewRFC3339Null()
	plan.Tasks = types.ListNull(taskObjectType)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.WaitForCompletion.ValueBool() {
		return
	}

	// The run has just started: the first check can wait a full interval.
	res := waitForRun(ctx, r.data.client, plan.runRef(), runPolicy(plan.pollInterval(), plan.pollInterval()), nil)
	resp.Diagnostics.Append(r.endWait(ctx, &plan, res, stageCreate, &resp.State, resp.Private)...)
}

// triggerRequest builds the updateAndTrigger request of a resource's plan
// or an action's configuration from its parameters and write-only
// parameters (validateParameterKeys keeps their keys apart).
// timeDefaulted is true when the user set no trigger_time: the client then
// picks a free minute from now.
func triggerRequest(ctx context.Context, flowID types.Int64, parameters, writeOnly types.Map, triggerTime timetypes.RFC3339) (enos.TriggerRequest, bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	req := enos.TriggerRequest{FlowID: flowID.ValueInt64(), Parameters: map[string]string{}}
	for _, m := range []types.Map{parameters, writeOnly} {
		values := map[string]string{}
		diags.Append(m.ElementsAs(ctx, &values, false)...)
		for k, v := range values {
			req.Parameters[k] = v
		}
	}
	if triggerTime.IsNull() || triggerTime.IsUnknown() {
		return req, true, diags
	}
	t, d := triggerTime.ValueRFC3339Time()
	diags.Append(d...)
	req.TriggerTime = t
	return req, false, diags
}

// startRun starts one run through the client's reconciliation (never two
// runs for one call, a lost answer adopted), logs it, and warns when the
// run was adopted or moved to another minute. The resource's create and
// the action share it.
func startRun(ctx context.Context, client *enos.Client, request enos.TriggerRequest, timeDefaulted bool) (enos.RunStart, diag.Diagnostics) {
	var diags diag.Diagnostics
	run, err := client.StartRun(ctx, request, timeDefaulted)
	if err != nil {
		summary, detail := describeTriggerError(request.FlowID, err)
		diags.AddError(summary, detail)
		return run, diags
	}
	tflog.Info(ctx, "flow run started", map[string]any{
		"flow_id": request.FlowID, "flow_instance_id": run.InstanceID,
		"trigger_time": run.TriggerTime.UTC().Format(time.RFC3339), "adopted": run.Adopted,
	})
	if run.Adopted {
		diags.AddWarning("Adopted a run whose trigger had an unknown outcome",
			fmt.Sprintf("The trigger of flow %d got no definite answer, so the provider looked for the run before trying again and found %s. It tracks that run instead of starting another.", request.FlowID, run.InstanceID))
	}
	if mv := run.Moved; mv != nil {
		diags.AddWarning("Trigger time moved within its period", triggerMoveDetail(request.FlowID, mv))
	}
	for _, w := range run.Warnings {
		diags.AddWarning("Flow run not fully verified", w)
	}
	return run, diags
}

func (r *flowTriggerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	resp.Diagnostics.Append(fillFlowTriggerIdentity(ctx, req.State, resp.Identity)...)
	// A finished run never changes again: no call needed. Checking its
	// status alone spares decoding the whole state (about 25 times the
	// work) on every refresh of every finished run.
	var statusCode types.Int64
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("status_code"), &statusCode)...)
	if resp.Diagnostics.HasError() || terminalStatus(statusCode) || r.data == nil {
		return
	}
	var state flowTriggerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	inst, err := r.data.client.RunStatus(ctx, state.runRef(), time.Time{})
	if enos.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Flow run no longer known to the service", fmt.Sprintf(
			"The service does not know run %s of flow %d any more (%s). It was started, so it stays in state with its last known status %s and is not triggered again. "+
				"To start a new run, use `terraform apply -replace` on this resource or change its triggers.",
			state.ID.ValueString(), state.FlowID.ValueInt64(), err, state.Status.ValueString()))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(describeRunError(fmt.Sprintf("Reading flow run %s of flow %d", state.ID.ValueString(), state.FlowID.ValueInt64()), state.FlowID.ValueInt64(), state.ID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(state.setInstance(ctx, inst)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	if inst.Status.Terminal() {
		resp.Diagnostics.Append(r.settleWait(ctx, &state, req.Private, resp.Private, inst)...)
	}
}

// settleWait resolves the mark of a wait that did not see its run end, now
// that a refresh has: a success needs nothing more, a failure leads to a
// replacement at the next apply.
func (r *flowTriggerResource) settleWait(ctx context.Context, state *flowTriggerModel, prior privateGetter, private privateSetter, inst *enos.FlowInstance) diag.Diagnostics {
	mark, diags := getWaitMark(ctx, prior)
	if mark != waitPending {
		return diags
	}
	if inst.Status.Succeeded() {
		return append(diags, setWaitMark(ctx, private, waitOver)...)
	}
	diags.AddWarning(fmt.Sprintf("Flow run ended with status %s", inst.Status.Name()), fmt.Sprintf(
		"Run %s of flow %d, whose wait was interrupted, ended with status %s. The next apply replaces the resource: it starts a new run.",
		state.ID.ValueString(), state.FlowID.ValueInt64(), inst.Status.Name()))
	return append(diags, setWaitMark(ctx, private, waitFailed)...)
}

// Update stores the behaviour settings (every other change replaces) and
// calls nothing, unless an earlier wait did not see the run end: then,
// with wait_for_completion, it follows the same run to its end (see
// planFollowUp), bounded by timeouts.update.
func (r *flowTriggerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state flowTriggerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.WaitForCompletion = plan.WaitForCompletion
	state.PollInterval = plan.PollInterval
	state.OnDestroy = plan.OnDestroy
	state.Timeouts = plan.Timeouts
	// A trigger_time written differently for the same instant (see
	// triggerTimeReplace) is taken as written.
	state.TriggerTime = plan.TriggerTime
	// After import, the configuration's parameters (equal in effect to the
	// run's, see parametersReplace), triggers and parameters_wo_version are
	// taken as written; from then on the resource is like one it created.
	state.Parameters = plan.Parameters
	state.Triggers = plan.Triggers
	state.ParametersWOVersion = plan.ParametersWOVersion
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImportedRun, nil)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(fillFlowTriggerIdentity(ctx, req.State, resp.Identity)...)
	mark, diags := getWaitMark(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || mark != waitPending || !state.WaitForCompletion.ValueBool() {
		return
	}
	if configuredClient(r.data, &resp.Diagnostics) == nil {
		return
	}
	timeout, diags := state.Timeouts.Update(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tflog.Info(ctx, "following a run whose wait was interrupted", map[string]any{"flow_instance_id": state.ID.ValueString()})
	// The run has been going on since the earlier apply: check at once.
	res := waitForRun(ctx, r.data.client, state.runRef(), runPolicy(0, state.pollInterval()), nil)
	resp.Diagnostics.Append(r.endWait(ctx, &state, res, stageUpdate, &resp.State, resp.Private)...)
}

func (r *flowTriggerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state flowTriggerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	// detach, or a run already known to be finished: forgetting it is all.
	if resp.Diagnostics.HasError() || state.OnDestroy.ValueString() != onDestroyCancel || state.terminal() {
		return
	}
	if configuredClient(r.data, &resp.Diagnostics) == nil {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.ID.ValueString()
	inst, err := r.data.client.GetFlowInstance(ctx, id)
	if enos.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Flow run no longer known to the service",
			fmt.Sprintf("Run %s was not cancelled because the service does not know it any more (%s).", id, err))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(describeRunError(fmt.Sprintf("Reading run %s before cancelling it", id), state.FlowID.ValueInt64(), id, err))
		return
	}
	if inst.Status.Terminal() {
		return
	}
	if err := r.data.client.CancelFlowInstance(ctx, id); err != nil {
		summary, detail := describeRunError(fmt.Sprintf("Cancelling run %s of flow %d", id, inst.FlowID), inst.FlowID, id, err)
		resp.Diagnostics.AddError(summary, detail)
		return
	}
	tflog.Info(ctx, "flow run cancel requested", map[string]any{"flow_instance_id": id})
	// Read the run back at once: a cancel usually takes effect immediately.
	res := waitForRun(ctx, r.data.client, state.runRef(), runPolicy(0, state.pollInterval()), nil)
	switch res.Outcome {
	case runwait.Succeeded, runwait.Failed:
		tflog.Info(ctx, "flow run ended after cancel", map[string]any{"flow_instance_id": id, "status": res.Status.Status.Name()})
	case runwait.NotFound:
		resp.Diagnostics.AddWarning("Flow run no longer known to the service", fmt.Sprintf(
			"Run %s was cancelled, then %d consecutive reads did not find it (%s), so whether it stopped is unknown. It is forgotten.", id, notFoundReads, res.Err))
	default:
		reason := fmt.Sprintf("reading its status: %s", res.Err)
		switch res.Outcome {
		case runwait.TimedOut:
			reason = fmt.Sprintf("it was still %s when timeouts.delete expired", lastStatusName(res))
		case runwait.Interrupted:
			reason = fmt.Sprintf("waiting was interrupted while it was %s", lastStatusName(res))
		}
		resp.Diagnostics.AddError("Cancelled flow run did not stop", fmt.Sprintf(
			"Run %s was cancelled but is not seen finished: %s. It stays in state, and the next destroy cancels it again. "+
				"Raise timeouts.delete, or destroy with on_destroy = \"detach\".", id, reason))
	}
}

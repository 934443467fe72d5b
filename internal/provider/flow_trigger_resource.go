package provider

import (
	"context"
	"errors"
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
	// A trigger with an unknown outcome is recorded under the id its run
	// has in the documented form; the refresh that finds the run may learn
	// that the service named it in another form (see settleUnknownOutcome).
	resp.ResourceBehavior.MutableIdentity = true
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

	request, diags := triggerRequest(ctx, plan.FlowID, plan.Parameters, writeOnly, plan.TriggerTime)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeDefaulted := request.TriggerTime.IsZero()
	run, diags, err := startRun(ctx, r.data.client, request)
	resp.Diagnostics.Append(diags...)
	var unknown *enos.TriggerOutcomeUnknownError
	if errors.As(err, &unknown) && unknown.RequestSent && unknown.ExpectedInstanceID != "" {
		r.recordUnknownOutcome(ctx, &plan, timeDefaulted, unknown, resp)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(describeTriggerError(request.FlowID, err, byResource))
		return
	}

	// Record the run before waiting: a failed or timed-out wait then leaves
	// the resource in state (tainted) instead of forgetting a started run.
	resp.Diagnostics.Append(setFlowTriggerIdentity(ctx, resp.Identity, run.InstanceID)...)
	plan.setStarted(run.InstanceID, run.TriggerTime, timeDefaulted)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.WaitForCompletion.ValueBool() {
		return
	}

	// The run has just started: the first check can wait a full interval.
	res := waitForRun(ctx, r.data.client, plan.runRef(), runPolicy(plan.pollInterval(), plan.pollInterval()), nil)
	resp.Diagnostics.Append(r.endWait(ctx, &plan, res, watchCreate, &resp.State, resp.Private)...)
}

// setStarted records in the model the run started (or, with an unknown
// outcome, the run the trigger would have started) for the trigger time
// sent, as a run that has just begun.
func (m *flowTriggerModel) setStarted(id string, sent time.Time, timeDefaulted bool) {
	m.ID = types.StringValue(id)
	m.FlowInstanceID = m.ID
	m.ParametersWO = types.MapNull(types.StringType)
	if timeDefaulted {
		m.TriggerTime = timetypes.NewRFC3339TimeValue(sent.UTC())
	}
	m.SentTriggerTime = timetypes.NewRFC3339TimeValue(sent.UTC())
	m.Status = types.StringValue(enos.StatusInit.Name())
	m.StatusCode = types.Int64Value(int64(enos.StatusInit))
	m.FlowName = types.StringNull()
	m.StartedAt = timetypes.NewRFC3339Null()
	m.FinishedAt = timetypes.NewRFC3339Null()
	m.Tasks = types.ListNull(taskObjectType)
}

// recordUnknownOutcome saves the resource after a trigger whose outcome
// stayed unknown, with the run's expected id and the unknownOutcome mark,
// and warns: an error would taint the resource, and replacing it would
// start a second run if the first one started. The next refresh settles
// the mark (settleUnknownOutcome).
func (r *flowTriggerResource) recordUnknownOutcome(ctx context.Context, plan *flowTriggerModel, timeDefaulted bool, unknown *enos.TriggerOutcomeUnknownError, resp *resource.CreateResponse) {
	tflog.Warn(ctx, "trigger outcome unknown; recording the expected run", map[string]any{
		"flow_id": unknown.FlowID, "flow_instance_id": unknown.ExpectedInstanceID, "request_sent": unknown.RequestSent, "looked_up": unknown.LookedUp,
	})
	resp.Diagnostics.Append(setFlowTriggerIdentity(ctx, resp.Identity, unknown.ExpectedInstanceID)...)
	plan.setStarted(unknown.ExpectedInstanceID, unknown.TriggerTime, timeDefaulted)
	// Whether the run exists is what the record leaves open.
	plan.Status, plan.StatusCode = types.StringNull(), types.Int64Null()
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	resp.Diagnostics.Append(setUnknownOutcome(ctx, resp.Private, newUnknownOutcome(unknown))...)
	if plan.WaitForCompletion.ValueBool() {
		// The run, if found, is followed at the next apply.
		resp.Diagnostics.Append(setWaitMark(ctx, resp.Private, waitPending)...)
	}
	resp.Diagnostics.AddWarning(describeRecordedOutcome(unknown))
}

// triggerRequest builds the updateAndTrigger request of a resource's plan
// or an action's configuration from its parameters and write-only
// parameters (validateParameterKeys keeps their keys apart). Without a
// trigger_time the request's is zero: the client then picks a free minute
// from now.
func triggerRequest(ctx context.Context, flowID types.Int64, parameters, writeOnly types.Map, triggerTime timetypes.RFC3339) (enos.TriggerRequest, diag.Diagnostics) {
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
		return req, diags
	}
	t, d := triggerTime.ValueRFC3339Time()
	diags.Append(d...)
	if why := checkTriggerTime(t); why != "" && !d.HasError() {
		// Known only now (it came from another resource): the plan-time check.
		diags.AddAttributeError(path.Root("trigger_time"), "Invalid trigger_time", why)
	}
	req.TriggerTime = t
	return req, diags
}

// startRun starts one run through the client's reconciliation (never two
// runs for one call, a lost answer adopted), logs it, and warns when the
// run was adopted or moved to another minute. The resource's create and
// the action share it; a failure is returned for the caller to describe
// (describeTriggerError), since what holds the run differs.
func startRun(ctx context.Context, client *enos.Client, request enos.TriggerRequest) (enos.RunStart, diag.Diagnostics, error) {
	var diags diag.Diagnostics
	run, err := client.StartRun(ctx, request)
	if err != nil {
		return run, diags, err
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
	return run, diags, nil
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
	outcome, diags := getUnknownOutcome(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if outcome != nil {
		r.settleUnknownOutcome(ctx, &state, outcome, req, resp)
		return
	}
	inst, err := r.data.client.RunStatus(ctx, state.runRef(), time.Time{})
	if enos.IsNotFound(err) {
		resp.Diagnostics.Append(vanishedRun(watchRefresh, state.runRef(), 1, err, state.Status.ValueString()))
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

// settleUnknownOutcome looks for the run of a trigger whose outcome was
// unknown when Create recorded it: found, it is the resource's run from
// now on; shown not started, the resource leaves state so that this plan
// creates it again; undecided, the record stays for the next refresh.
func (r *flowTriggerResource) settleUnknownOutcome(ctx context.Context, state *flowTriggerModel, outcome *unknownOutcome, req resource.ReadRequest, resp *resource.ReadResponse) {
	ref := state.runRef()
	recorded := ref.InstanceID
	inst, err := r.data.client.FindTriggeredRun(ctx, outcome.trigger(ref))
	at := ref.TriggerTime.UTC().Format(time.RFC3339)
	switch {
	case errors.Is(err, enos.ErrNoRunStarted):
		tflog.Info(ctx, "trigger with an unknown outcome started no run", map[string]any{"flow_id": ref.FlowID, "flow_instance_id": recorded})
		resp.Diagnostics.AddWarning("Trigger with an unknown outcome started no run", fmt.Sprintf(
			"The trigger of flow %d for %s, whose outcome was unknown when it was applied, started no run: neither a search of the flow's runs of that time nor a read of %s found one. "+
				"The resource is removed from state, so this plan triggers it again.", ref.FlowID, at, recorded))
		resp.State.RemoveResource(ctx)
		return
	case err != nil:
		resp.Diagnostics.AddWarning("Outcome of the trigger still unknown", fmt.Sprintf(
			"Looking for the run of the trigger of flow %d for %s, recorded as %s when its outcome was unknown, failed: %s\n\n"+
				"The resource stays in state as it is, and is not triggered again; the next refresh looks again.", ref.FlowID, at, recorded, err))
		return
	}
	tflog.Info(ctx, "trigger with an unknown outcome started its run", map[string]any{"flow_id": ref.FlowID, "flow_instance_id": inst.InstanceID})
	if outcome.Since == "" {
		resp.Diagnostics.AddWarning("Run adopted without proof that this trigger started it", fmt.Sprintf(
			"The trigger of flow %d for %s, whose outcome was unknown when it was applied, is taken to have started run %s, the run of that time. "+
				"The server's time could not be read around the trigger, so it cannot be shown that the run is not an older one of the same time; "+
				"read it with the dataflow_flow_instance data source, and taint the resource if it is not the run you meant.", ref.FlowID, at, inst.InstanceID))
	}
	state.ID = types.StringValue(inst.InstanceID)
	state.FlowInstanceID = state.ID
	resp.Diagnostics.Append(setFlowTriggerIdentity(ctx, resp.Identity, inst.InstanceID)...)
	resp.Diagnostics.Append(state.setInstance(ctx, inst)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	resp.Diagnostics.Append(setUnknownOutcome(ctx, resp.Private, nil)...)
	if inst.Status.Terminal() {
		resp.Diagnostics.Append(r.settleWait(ctx, state, req.Private, resp.Private, inst)...)
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
	diags.AddWarning(runEndedSummary(inst.Status.Name()), fmt.Sprintf(
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
	resp.Diagnostics.Append(setImportedRun(ctx, resp.Private, nil)...)
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
	resp.Diagnostics.Append(r.endWait(ctx, &state, res, watchResumed, &resp.State, resp.Private)...)
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

	ref := state.runRef()
	outcome, diags := getUnknownOutcome(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if outcome != nil {
		// The id in state is only the one the trigger's run would have
		// (a destroy without refresh never settled it), and may name an
		// older run of the slot: find the trigger's run first.
		found, err := r.data.client.FindTriggeredRun(ctx, outcome.trigger(ref))
		switch {
		case errors.Is(err, enos.ErrNoRunStarted):
			return // nothing to cancel
		case err != nil:
			resp.Diagnostics.AddWarning("Run not cancelled: the trigger's outcome is still unknown", fmt.Sprintf(
				"Looking for the run of the trigger of flow %d, recorded as %s when its outcome was unknown, failed: %s\n\n"+
					"Nothing was cancelled, since that id may name another run. If the trigger started a run, cancel it in the Dataflow console.", ref.FlowID, ref.InstanceID, err))
			return
		}
		ref.InstanceID = found.InstanceID
	}
	id := ref.InstanceID
	inst, err := r.data.client.GetFlowInstance(ctx, id)
	if enos.IsNotFound(err) {
		resp.Diagnostics.Append(vanishedRun(watchDestroy, ref, 1, err, state.Status.ValueString()))
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
	res := waitForRun(ctx, r.data.client, ref, runPolicy(0, state.pollInterval()), nil)
	if res.Outcome == runwait.Succeeded || res.Outcome == runwait.Failed {
		tflog.Info(ctx, "flow run ended after cancel", map[string]any{"flow_instance_id": id, "status": res.Status.Status.Name()})
	}
	resp.Diagnostics.Append(describeWaitEnd(ctx, r.data.client, runWatch{by: watchCancel, run: ref}, res)...)
}

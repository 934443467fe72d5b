package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
	"github.com/enos-community/terraform-provider-dataflow/internal/runwait"
)

// Bounds of the action's timeout: it covers the trigger and the wait, like
// the resource's timeouts.create, whose default it shares.
const (
	minActionTimeout = time.Second
	maxActionTimeout = 7 * 24 * time.Hour
)

var (
	_ action.Action              = (*triggerFlowAction)(nil)
	_ action.ActionWithConfigure = (*triggerFlowAction)(nil)
)

// NewTriggerFlowAction is the factory of the dataflow_trigger_flow action.
func NewTriggerFlowAction() action.Action { return &triggerFlowAction{} }

// triggerFlowAction starts one run of a flow per invocation and, by
// default, waits for it. It records nothing in state. data is nil until
// the provider is configured.
type triggerFlowAction struct {
	data *providerData
}

// triggerFlowActionModel is the action's configuration. Null booleans and
// durations take the defaults the schema documents (actions have no
// schema defaults).
type triggerFlowActionModel struct {
	FlowID            types.Int64          `tfsdk:"flow_id"`
	Parameters        types.Map            `tfsdk:"parameters"`
	TriggerTime       timetypes.RFC3339    `tfsdk:"trigger_time"`
	WaitForCompletion types.Bool           `tfsdk:"wait_for_completion"`
	PollInterval      timetypes.GoDuration `tfsdk:"poll_interval"`
	Timeout           timetypes.GoDuration `tfsdk:"timeout"`
	IgnoreRunResult   types.Bool           `tfsdk:"ignore_run_result"`
}

func (a *triggerFlowAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_trigger_flow"
}

func (a *triggerFlowAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (a *triggerFlowAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Starts one run of a Dataflow flow each time it is invoked, with per-run parameter overrides, and by default waits for it " +
			"to end, reporting the run's instance id, each status change and the end as progress messages. " +
			"Invoke it with `terraform apply -invoke=action.dataflow_trigger_flow.NAME`, or from an `action_trigger` in a resource's `lifecycle` " +
			"(`after_create`, `after_update`). Needs Terraform 1.14 or later.\n\n" +
			"A run that ends in anything but `SUCCESS` fails the invocation with its status, its failed tasks and the end of their logs " +
			"(a warning instead with `ignore_run_result`). A trigger whose answer is lost is reconciled as the `dataflow_flow_trigger` " +
			"resource does: the provider looks for the run before sending again, so one invocation never starts two runs.\n\n" +
			"The action records nothing in state: each invocation starts a new run, there is no drift detection, and nothing prevents a run " +
			"in every apply. Use it for runs on every apply and for ad-hoc runs; use the `dataflow_flow_trigger` resource for a run that must " +
			"happen once and be remembered.",
		Attributes: map[string]schema.Attribute{
			"flow_id": schema.Int64Attribute{
				MarkdownDescription: "Id of the flow to run (a positive number). The provider's user must own the flow.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"parameters": schema.MapAttribute{
				MarkdownDescription: "Overrides of the flow's global parameters for this run, e.g. `{ bizdate = \"20240101\" }`. " +
					"The action has no write-only `parameters_wo`: terraform-plugin-framework v1.19 rejects every write-only value in an action's " +
					"configuration, so secret parameters go through the resource `dataflow_flow_trigger`'s `parameters_wo`. " +
					"At most 1000 entries with non-empty keys; values up to 64 KiB, without control characters other than tab and line breaks.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.Map{parameterMapValidator{}},
			},
			"trigger_time": schema.StringAttribute{
				CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "Trigger time of the run as an RFC 3339 timestamp, e.g. `2024-01-01T00:00:00Z`, from `1970-01-02T00:00:00Z` to `9999-12-30T23:59:59Z`. A past time runs at once and " +
					"feeds the flow's time parameters (such as the business date); a future time schedules the run. When unset, the provider " +
					"picks the current minute (or the next one free for the flow). When the minute of `trigger_time` already has a run of the flow, " +
					"the run is triggered in a free minute of the same period of the flow's cycle, and a warning says so.",
				Optional:   true,
				Validators: []validator.String{triggerTimeValidator{}},
			},
			"wait_for_completion": schema.BoolAttribute{
				MarkdownDescription: "Wait until the run ends (default `true`). When `false`, the invocation ends as soon as the run is started.",
				Optional:            true,
			},
			"poll_interval": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: fmt.Sprintf("Time between status checks while waiting, as a Go duration from %s to %s (default `%s`). "+
					"The interval grows by half after each check, up to the larger of this value and one minute.",
					minPollInterval, maxPollInterval, defaultPollInterval),
				Optional:   true,
				Validators: []validator.String{durationBetween(minPollInterval, maxPollInterval)},
			},
			"timeout": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: fmt.Sprintf("How long the invocation may take, trigger and wait included, as a Go duration from %s to %s (default `%s`). "+
					"A run still unfinished then fails the invocation; the run goes on in the service.", minActionTimeout, maxActionTimeout, defaultCreateTimeout),
				Optional:   true,
				Validators: []validator.String{durationBetween(minActionTimeout, maxActionTimeout)},
			},
			"ignore_run_result": schema.BoolAttribute{
				MarkdownDescription: "Report a run that ends in anything but `SUCCESS` as a warning instead of an error (default `false`), " +
					"for runs whose failure must not fail the apply. A timeout or a lost run is still an error.",
				Optional: true,
			},
		},
	}
}

func (a *triggerFlowAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var config triggerFlowActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	var s action.SchemaResponse
	a.Schema(ctx, action.SchemaRequest{}, &s)
	resp.Diagnostics.Append(validateKnownValues(ctx, req.Config, s.Schema.Attributes)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client := configuredClient(a.data, &resp.Diagnostics)
	if client == nil {
		return
	}
	timeout := durationOr(config.Timeout, defaultCreateTimeout, &resp.Diagnostics)
	pollInterval := durationOr(config.PollInterval, defaultPollInterval, &resp.Diagnostics)
	request, diags := triggerRequest(ctx, config.FlowID, config.Parameters, types.MapNull(types.StringType), config.TriggerTime)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	progress := func(format string, args ...any) {
		resp.SendProgress(action.InvokeProgressEvent{Message: fmt.Sprintf(format, args...)})
	}

	run, diags, err := startRun(ctx, client, request)
	resp.Diagnostics.Append(diags...)
	if err != nil {
		resp.Diagnostics.AddError(describeTriggerError(request.FlowID, err, byAction))
		return
	}
	progress("%s", startedMessage(request.FlowID, run))
	if !config.WaitForCompletion.IsNull() && !config.WaitForCompletion.ValueBool() {
		progress("Not waiting for run %s (wait_for_completion = false).", run.InstanceID)
		return
	}

	ref := enos.RunRef{InstanceID: run.InstanceID, FlowID: request.FlowID, TriggerTime: run.TriggerTime}
	// The run has just started: the first check can wait a full interval.
	res := waitForRun(ctx, client, ref, runPolicy(pollInterval, pollInterval), func(inst *enos.FlowInstance) {
		progress("%s", statusMessage(inst))
	})
	if res.Outcome == runwait.Succeeded || res.Outcome == runwait.Failed {
		progress("Run %s of flow %d ended with status %s.", run.InstanceID, request.FlowID, res.Status.Status.Name())
	}
	// The parameters sent are those the configuration shows: the action
	// has no write-only ones.
	watch := runWatch{by: watchAction, run: ref, actionTimeout: timeout, shown: request.Parameters, ignoreRunResult: config.IgnoreRunResult.ValueBool()}
	resp.Diagnostics.Append(describeWaitEnd(ctx, client, watch, res)...)
}

// startedMessage is the progress message of a started run: its instance
// id, and whether it was adopted or moved to another minute.
func startedMessage(flowID int64, run enos.RunStart) string {
	msg := fmt.Sprintf("Started run %s of flow %d (trigger time %s).", run.InstanceID, flowID, run.TriggerTime.UTC().Format(time.RFC3339))
	if run.Adopted {
		msg = fmt.Sprintf("Adopted run %s of flow %d (trigger time %s): the trigger's answer was lost, and the run was found instead of being started again.",
			run.InstanceID, flowID, run.TriggerTime.UTC().Format(time.RFC3339))
	}
	if mv := run.Moved; mv != nil {
		msg += fmt.Sprintf(" The trigger time was moved from %s, whose %s already had a run of the flow.", mv.From.UTC().Format(time.RFC3339), mv.SlotName())
	}
	return msg
}

// statusMessage is the progress message of a status change.
func statusMessage(inst *enos.FlowInstance) string {
	if len(inst.Tasks) == 0 {
		return fmt.Sprintf("Run %s: %s.", inst.InstanceID, inst.Status.Name())
	}
	return fmt.Sprintf("Run %s: %s (tasks: %s).", inst.InstanceID, inst.Status.Name(), taskSummary(inst.Tasks))
}

// durationOr is a configured duration, or def when it is not set; the
// schema's validators have checked that it parses.
func durationOr(d timetypes.GoDuration, def time.Duration, diags *diag.Diagnostics) time.Duration {
	if d.IsNull() || d.IsUnknown() {
		return def
	}
	v, ds := d.ValueGoDuration()
	diags.Append(ds...)
	return v
}

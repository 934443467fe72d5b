package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

const flowTriggerDescription = "Triggers one run of a Dataflow flow (the service's `updateAndTrigger` call) with per-run parameter " +
	"overrides, and tracks that run. The flow's stored definition is not changed.\n\n" +
	"A run is started when the resource is created, and again only when it is replaced: when `flow_id`, `parameters`, " +
	"`parameters_wo_version`, `trigger_time` or `triggers` change, on `terraform apply -replace`, or through " +
	"`lifecycle { replace_triggered_by = [...] }`. Nothing is triggered during plan or refresh. The run's id is stored as soon " +
	"as the service returns it; a run that fails, or outlasts `timeouts.create`, leaves the resource tainted so that the next " +
	"apply starts a new run. An interrupted wait (Ctrl-C, a cancelled CI job) leaves it untainted, and the next apply follows the same run to its end. Refresh reads the run only while it is unfinished; a run the service no longer knows stays in state " +
	"with a warning and is never re-triggered behind your back.\n\n" +
	"The service names runs after the flow and the trigger minute (the hour, for some flows), so one flow can have one run per minute. " +
	"With `trigger_time` unset, runs of one flow started in the same apply (for example with `for_each`) get distinct minutes (or hours). " +
	"With `trigger_time` set and its minute taken (a failed day re-run, a change of `triggers`), the run is triggered in a free minute of the same " +
	"period of the flow's cycle (the same day for a daily flow), so its time parameters are unchanged; `sent_trigger_time` holds the time sent " +
	"and the apply output says so. Only when no minute of the period can be used is it an error that names the existing run.\n\n" +
	"The provider never takes an existing run for the one it started, whether the service refuses a second trigger in the minute or answers " +
	"it with the existing run's id. When a trigger's answer is lost and the run cannot be found, the error names the instance id the run has " +
	"if it started, and the `terraform import` command that tracks it."

func (r *flowTriggerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: flowTriggerDescription,
		Attributes: runResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The flow instance id of the run, e.g. `1001-20240101080000` (same as `flow_instance_id`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"flow_id": schema.Int64Attribute{
				MarkdownDescription: "Id of the flow to run (a positive number). The provider's user must own the flow. Changing it starts a new run.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"parameters": schema.MapAttribute{
				MarkdownDescription: "Overrides of the flow's global parameters for this run, e.g. `{ bizdate = \"20240101\" }`. " +
					"Keys that are not global parameters of the flow get a warning at plan time (a likely typo). Changing them starts a new run. " +
					"Import stores none of the run's parameter values (any of them may have been write-only): this stays null until the first apply after import, " +
					"which takes it from the configuration in place, calling nothing, when the configuration's `parameters` and `parameters_wo` give the run's effective parameters, or set none (as the configuration `terraform query` generates). " +
					"At most 1000 entries with non-empty keys; values up to 64 KiB, without control characters other than tab and line breaks.",
				ElementType:   types.StringType,
				Optional:      true,
				Validators:    []validator.Map{parameterMapValidator{}},
				PlanModifiers: []planmodifier.Map{parametersReplace()},
			},
			"parameters_wo": schema.MapAttribute{
				MarkdownDescription: "Parameter overrides that must not be stored (passwords, tokens): write-only, sent with the trigger and kept " +
					"neither in plan nor in state. They are merged with `parameters`; a key may appear in only one of the two. " +
					"Change `parameters_wo_version` to start a new run with new values. Needs Terraform 1.11 or later. Same limits as `parameters`.",
				ElementType: types.StringType,
				Optional:    true,
				Sensitive:   true,
				WriteOnly:   true,
				Validators:  []validator.Map{parameterMapValidator{}},
			},
			"parameters_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Any number; change it to start a new run, for example after changing `parameters_wo` (whose values Terraform cannot compare).",
				Optional:            true,
				PlanModifiers:       []planmodifier.Int64{parametersWOVersionReplace()},
			},
			"trigger_time": schema.StringAttribute{
				CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "Trigger time of the run as an RFC 3339 timestamp, e.g. `2024-01-01T00:00:00Z`, from `1970-01-02T00:00:00Z` to `9999-12-30T23:59:59Z` " +
					"(the service names runs after it with a four-digit year in its own zone); sent in epoch milliseconds. " +
					"A past time runs at once and feeds the flow's time parameters (such as the business date); a future time schedules the run. " +
					"When unset, the time of apply is used and kept in state (in UTC), and removing it later changes nothing. Changing it starts a new run; " +
					"the same instant written with another offset is an in-place update that calls nothing. Import stores it in UTC.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					triggerTimeReplace(),
				},
				Validators: []validator.String{triggerTimeValidator{}},
			},
			"sent_trigger_time": schema.StringAttribute{
				CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "The trigger time actually sent for the run, in UTC. It equals `trigger_time` unless that time's minute " +
					"(or hour, for flows whose instance ids name the hour) already had a run of the flow, as when a failed day is re-run: " +
					"the provider then triggers in a free minute of the same period of the flow's cycle (the same day for a daily flow), " +
					"whose time parameters are the same, and says so in the apply output. Import sets it from the run.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values whose change starts a new run, as with `terraform_data`'s `triggers_replace`, " +
					"e.g. `{ table_version = aws_glue_catalog_table.x.version }`. They are not sent to the service.",
				ElementType:   types.StringType,
				Optional:      true,
				PlanModifiers: []planmodifier.Map{triggersReplace()},
			},
			"wait_for_completion": schema.BoolAttribute{
				MarkdownDescription: "Wait until the run finishes (default `true`). A run that ends in anything but `SUCCESS` then fails the apply with its status, " +
					"its failed tasks and the end of their logs. When `false`, the apply returns as soon as the run is started, with status `INIT`; " +
					"later refreshes update the status. Changing it calls nothing.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"poll_interval": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: fmt.Sprintf("Time between status checks while waiting, as a Go duration from %s to %s (default `%s`). "+
					"The interval grows by half after each check, up to the larger of this value and one minute. Changing it calls nothing.",
					minPollInterval, maxPollInterval, defaultPollInterval),
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(defaultPollInterval.String()),
				Validators: []validator.String{durationBetween(minPollInterval, maxPollInterval)},
			},
			"on_destroy": schema.StringAttribute{
				MarkdownDescription: "What destroying the resource does to the run: `detach` (default) only forgets it; " +
					"`cancel` cancels it when it is still unfinished and waits until it stops (see `timeouts.delete`). Changing it calls nothing.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(onDestroyDetach),
				Validators: []validator.String{stringvalidator.OneOf(onDestroyDetach, onDestroyCancel)},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
				Create: true,
				Update: true,
				Delete: true,
				CreateDescription: fmt.Sprintf("How long create may take, trigger and wait included, as a duration such as `30m` (default `%s`). "+
					"A run still unfinished then fails the apply and leaves the resource tainted.", defaultCreateTimeout),
				UpdateDescription: fmt.Sprintf("How long an update may follow a run whose wait an earlier apply did not finish (interrupted), as a duration (default `%s`). "+
					"A run still unfinished then fails the apply; it stays in state, untainted, and the next apply follows it again.", defaultCreateTimeout),
				DeleteDescription: fmt.Sprintf("How long destroy with `on_destroy = \"cancel\"` waits for the run to stop (default `%s`).", defaultDeleteTimeout),
			}),
			"flow_instance_id": schema.StringAttribute{
				MarkdownDescription: "The flow instance id of the run, as used by the service and the `dataflow_flow_instance` data source.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		}),
	}
}

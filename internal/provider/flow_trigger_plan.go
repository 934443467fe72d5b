package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// privateFlowDefaults is the private-state key under which import keeps the
// flow's global parameters (JSON object), see parametersReplace.
const privateFlowDefaults = "flow_defaults"

// ValidateConfig rejects a parameter set both normally and write-only: one
// value per key keeps it obvious what the run receives.
func (r *flowTriggerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var parameters, writeOnly types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("parameters"), &parameters)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("parameters_wo"), &writeOnly)...)
	if resp.Diagnostics.HasError() || parameters.IsUnknown() || writeOnly.IsUnknown() {
		return
	}
	for _, key := range slices.Sorted(maps.Keys(writeOnly.Elements())) {
		if _, ok := parameters.Elements()[key]; ok {
			resp.Diagnostics.AddAttributeError(path.Root("parameters_wo").AtMapKey(key), "Parameter set twice",
				fmt.Sprintf("The parameter %q is in both parameters and parameters_wo. Set each parameter in one of them: parameters_wo for secret values, parameters for the rest.", key))
		}
	}
}

// ModifyPlan plans what an earlier wait left to do (see planFollowUp) and
// checks, before a run is planned, that the flow exists and that each
// parameter key is one of its global parameters. It only reads the flow;
// nothing is ever triggered during plan. skip_flow_validation turns the
// read off for plans that must cost no API request.
func (r *flowTriggerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if !req.State.Raw.IsNull() {
		planFollowUp(ctx, req, resp)
		return
	}
	if r.data == nil || r.data.skipFlowValidation {
		return
	}
	var flowID types.Int64
	var parameters, writeOnly types.Map
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("flow_id"), &flowID)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("parameters"), &parameters)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("parameters_wo"), &writeOnly)...)
	if resp.Diagnostics.HasError() || flowID.IsNull() || flowID.IsUnknown() {
		return
	}
	flow, err := r.data.client.FlowGlobals(ctx, flowID.ValueInt64())
	if enos.IsNotFound(err) {
		addCallError(&resp.Diagnostics, path.Root("flow_id"), fmt.Sprintf("Reading flow %d", flowID.ValueInt64()), callSubject{flowID: flowID.ValueInt64()}, err)
		return
	}
	if err != nil {
		resp.Diagnostics.AddAttributeWarning(path.Root("flow_id"), "Could not check the flow's parameters",
			fmt.Sprintf("Reading flow %d to check the parameter names failed: %s", flowID.ValueInt64(), err))
		return
	}
	globals := map[string]bool{}
	for _, p := range flow.Parameters {
		globals[p.Key] = true
	}
	known := strings.Join(slices.Sorted(maps.Keys(globals)), ", ")
	if known == "" {
		known = "(none)"
	}
	overrides := []struct {
		attribute string
		values    types.Map
	}{{"parameters", parameters}, {"parameters_wo", writeOnly}}
	for _, o := range overrides {
		if o.values.IsUnknown() {
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(o.values.Elements())) {
			if !globals[key] {
				resp.Diagnostics.AddAttributeWarning(path.Root(o.attribute).AtMapKey(key), "Unknown flow parameter",
					fmt.Sprintf("Flow %d (%s) has no global parameter %q, so the run probably ignores it; is it a typo? The flow's parameters: %s.",
						flow.FlowID, flow.FlowName, key, known))
			}
		}
	}
}

// planFollowUp plans what a wait that did not see its run end left to do
// (see waitMark). A pending wait, with wait_for_completion, becomes an
// in-place update whose status attributes are unknown: Update follows the
// same run. A run seen failing is replaced, as a failed create is.
// Resources without a mark (imported, or whose wait saw the end) plan
// nothing here.
func planFollowUp(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	mark, diags := getWaitMark(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	var wait types.Bool
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("wait_for_completion"), &wait)...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case mark == waitFailed:
		// Terraform honours RequiresReplace only on a path whose planned
		// value differs from the prior state: the new run's status is
		// unknown.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
	case mark == waitPending && wait.ValueBool():
		for _, a := range runStatusAttributes {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(a.name), a.unknown())...)
		}
	}
}

// triggerTimeReplace replaces the resource when trigger_time names another
// instant; the same instant written with another offset (as after import,
// which stores UTC) is an in-place update.
func triggerTimeReplace() planmodifier.String {
	return stringplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
			planned, err1 := time.Parse(time.RFC3339, req.PlanValue.ValueString())
			prior, err2 := time.Parse(time.RFC3339, req.StateValue.ValueString())
			resp.RequiresReplace = req.PlanValue.IsUnknown() || err1 != nil || err2 != nil || !planned.Equal(prior)
		},
		"Replaces the resource (a new run) when the trigger time names another instant.",
		"Replaces the resource (a new run) when the trigger time names another instant.",
	)
}

// parametersReplace replaces the resource when the parameters change. For an
// imported run, whose parameters are only known merged with the flow's
// global defaults, parameters that give the run the same effective values
// (such as a default written out) are an in-place update instead.
func parametersReplace() planmodifier.Map {
	return mapplanmodifier.RequiresReplaceIf(
		func(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = true
			raw, diags := req.Private.GetKey(ctx, privateFlowDefaults)
			resp.Diagnostics.Append(diags...)
			var defaults map[string]string
			if raw == nil || json.Unmarshal(raw, &defaults) != nil || req.PlanValue.IsUnknown() {
				return
			}
			planned, prior := map[string]string{}, map[string]string{}
			resp.Diagnostics.Append(req.PlanValue.ElementsAs(ctx, &planned, false)...)
			resp.Diagnostics.Append(req.StateValue.ElementsAs(ctx, &prior, false)...)
			resp.RequiresReplace = !maps.Equal(effectiveParameters(defaults, planned), effectiveParameters(defaults, prior))
		},
		"Replaces the resource (a new run) when the parameters change.",
		"Replaces the resource (a new run) when the parameters change.",
	)
}

// effectiveParameters is what the service runs with: the flow's defaults
// with the overrides applied (spec §3.1).
func effectiveParameters(defaults, overrides map[string]string) map[string]string {
	merged := maps.Clone(defaults)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, overrides)
	return merged
}

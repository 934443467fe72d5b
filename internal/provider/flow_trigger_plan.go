package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// ValidateConfig rejects a parameter set both normally and write-only (see
// validateParameterKeys).
func (r *flowTriggerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	resp.Diagnostics.Append(validateParameterKeys(ctx, req.Config)...)
}

// validateParameterKeys rejects a key in both `parameters` and
// `parameters_wo` of the resource's configuration: one value per
// key keeps it obvious what the run receives.
func validateParameterKeys(ctx context.Context, config tfsdk.Config) diag.Diagnostics {
	var diags diag.Diagnostics
	var parameters, writeOnly types.Map
	diags.Append(config.GetAttribute(ctx, path.Root("parameters"), &parameters)...)
	diags.Append(config.GetAttribute(ctx, path.Root("parameters_wo"), &writeOnly)...)
	if diags.HasError() || parameters.IsUnknown() || writeOnly.IsUnknown() {
		return diags
	}
	for _, key := range slices.Sorted(maps.Keys(writeOnly.Elements())) {
		if _, ok := parameters.Elements()[key]; ok {
			diags.AddAttributeError(path.Root("parameters_wo").AtMapKey(key), "Parameter set twice",
				fmt.Sprintf("The parameter %q is in both parameters and parameters_wo. Set each parameter in one of them: parameters_wo for secret values, parameters for the rest.", key))
		}
	}
	return diags
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
		imported, diags := loadImportedRun(ctx, req.Private)
		resp.Diagnostics.Append(diags...)
		if imported != nil {
			r.planAfterImport(ctx, req, resp)
		}
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

// parametersReplace replaces the resource (a new run) when the parameters
// change. After import, whose state holds no parameter values (see
// ImportState), the resource's ModifyPlan decides instead (planAfterImport).
func parametersReplace() planmodifier.Map { return parametersReplaceModifier{} }

type parametersReplaceModifier struct{}

func (parametersReplaceModifier) Description(context.Context) string {
	return "Replaces the resource (a new run) when the parameters change; after import, when the configuration's effective parameters differ from the run's."
}

func (m parametersReplaceModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (parametersReplaceModifier) PlanModifyMap(ctx context.Context, req planmodifier.MapRequest, resp *planmodifier.MapResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return // create or destroy
	}
	imported, diags := loadImportedRun(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if imported == nil {
		resp.RequiresReplace = !req.PlanValue.Equal(req.StateValue)
	}
}

// planAfterImport compares, on every plan until the first apply after
// import, the effective parameters the configuration gives (the flow's
// defaults, parameters and parameters_wo: write-only values are in the
// configuration during plan only) with those of the run, read from the
// service now (nothing of them is stored): a configuration that describes
// the run, such as the one that started it or one that writes a default
// out, is an in-place update; any other is a new run. A configuration that
// sets neither parameters nor parameters_wo says nothing about them and
// adopts the run as it is: that is the configuration `terraform query
// -generate-config-out` writes, which can hold no value. When the run
// cannot be read (skip_flow_validation, an error), the plan keeps the run
// and says why: starting a second run is the outcome that cannot be undone.
func (r *flowTriggerResource) planAfterImport(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var id types.String
	var flowID types.Int64
	var parameters, writeOnly types.Map
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("flow_id"), &flowID)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("parameters"), &parameters)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("parameters_wo"), &writeOnly)...)
	if resp.Diagnostics.HasError() || (parameters.IsNull() && writeOnly.IsNull()) {
		return
	}
	overrides, known := knownStrings(parameters, writeOnly)
	if !known {
		// Unknown values cannot be shown to be the run's.
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("parameters"))
		return
	}
	notCompared := func(why string) {
		resp.Diagnostics.AddAttributeWarning(path.Root("parameters"), "Imported run kept without comparing its parameters",
			fmt.Sprintf("The configuration's parameters could not be compared with those of the imported run %s: %s. The plan keeps the run (an in-place update) rather than start another one; "+
				"to start a new run instead, apply with -replace on this resource.", id.ValueString(), why))
	}
	if r.data == nil || r.data.skipFlowValidation {
		notCompared("the provider's skip_flow_validation = true makes a plan send no request")
		return
	}
	inst, err := r.data.client.GetFlowInstance(ctx, id.ValueString())
	if err != nil {
		notCompared("reading the run failed: " + err.Error())
		return
	}
	defaults := map[string]string{}
	if flow, err := r.data.client.FlowGlobals(ctx, flowID.ValueInt64()); err == nil {
		for _, p := range flow.Parameters {
			defaults[p.Key] = p.Value
		}
	} else {
		resp.Diagnostics.AddAttributeWarning(path.Root("parameters"), "Could not read the flow's defaults",
			fmt.Sprintf("Reading flow %d to tell the run's overrides from the flow's defaults failed, so only a configuration that sets every parameter of the run (in parameters or parameters_wo) matches it: %s", flowID.ValueInt64(), err))
	}
	run := map[string]string{}
	for _, p := range inst.Parameters {
		run[p.Key] = p.Value
	}
	if keys := differingKeys(effectiveParameters(defaults, run), effectiveParameters(defaults, overrides)); len(keys) > 0 {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("parameters"))
		// Names only: a value may be write-only.
		resp.Diagnostics.AddAttributeWarning(path.Root("parameters"), "Configuration differs from the imported run",
			fmt.Sprintf("The parameters this configuration gives (the flow's defaults, parameters and parameters_wo) differ from those of the imported run for %s, so the plan starts a new run. "+
				"To keep the imported run, set these parameters as the run had them.", strings.Join(keys, ", ")))
	}
}

// differingKeys lists, sorted, the keys whose values differ between a and
// b, or that only one of them has.
func differingKeys(a, b map[string]string) []string {
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// knownStrings merges string maps (null ones count as empty); known is
// false when a map or one of its values is unknown.
func knownStrings(values ...types.Map) (merged map[string]string, known bool) {
	merged = map[string]string{}
	for _, m := range values {
		if m.IsUnknown() {
			return nil, false
		}
		for k, v := range m.Elements() {
			s, ok := v.(types.String)
			if !ok || s.IsUnknown() {
				return nil, false
			}
			merged[k] = s.ValueString()
		}
	}
	return merged, true
}

// adoptedAfterImport is the replace condition of parameters_wo_version and
// triggers: any change is a new run, except setting a value that import
// left null (the service does not know it), which the first apply after
// import takes in place.
func adoptedAfterImport(ctx context.Context, private privateGetter, priorNull bool) (bool, diag.Diagnostics) {
	if !priorNull {
		return false, nil
	}
	imported, diags := loadImportedRun(ctx, private)
	return imported != nil, diags
}

// parametersWOVersionReplace replaces the resource when
// parameters_wo_version changes, see adoptedAfterImport.
func parametersWOVersionReplace() planmodifier.Int64 {
	return int64planmodifier.RequiresReplaceIf(
		func(ctx context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
			adopted, diags := adoptedAfterImport(ctx, req.Private, req.StateValue.IsNull())
			resp.Diagnostics.Append(diags...)
			resp.RequiresReplace = !adopted
		},
		"Replaces the resource (a new run) when the version changes; after import, setting it is an in-place update.",
		"Replaces the resource (a new run) when the version changes; after import, setting it is an in-place update.",
	)
}

// triggersReplace replaces the resource when triggers change, see
// adoptedAfterImport.
func triggersReplace() planmodifier.Map {
	return mapplanmodifier.RequiresReplaceIf(
		func(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
			adopted, diags := adoptedAfterImport(ctx, req.Private, req.StateValue.IsNull())
			resp.Diagnostics.Append(diags...)
			resp.RequiresReplace = !adopted
		},
		"Replaces the resource (a new run) when a value changes; after import, setting them is an in-place update.",
		"Replaces the resource (a new run) when a value changes; after import, setting them is an in-place update.",
	)
}

// effectiveParameters is what the service runs with: the flow's defaults
// with the overrides applied (SERVICE.md §3.1).
func effectiveParameters(defaults, overrides map[string]string) map[string]string {
	merged := maps.Clone(defaults)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, overrides)
	return merged
}

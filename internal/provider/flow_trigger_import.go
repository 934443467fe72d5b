package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// ImportState adopts an existing run by its flow instance id (the import id
// or the identity's flow_instance_id). The service
// reports only the run's effective parameters (the flow's globals merged
// with the overrides), so `parameters` gets the keys whose values differ
// from the flow's current defaults: a configuration that set exactly those
// overrides plans no change. The defaults are kept in private state so that
// a configuration writing a default out is an in-place update, not a new
// run. Behaviour settings get their defaults; trigger_time is stored in UTC.
func (r *flowTriggerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !resolveImportedInstance(ctx, &req, resp) || configuredClient(r.data, &resp.Diagnostics) == nil {
		return
	}
	inst, err := r.data.client.GetFlowInstance(ctx, req.ID)
	if err != nil {
		detail := fmt.Sprintf("Reading flow run %q: %s", req.ID, err)
		if enos.IsNotFound(err) {
			detail = fmt.Sprintf("The service knows no flow run %q. Import takes a flow instance id such as 1001-20240101080000.\n\n%s", req.ID, err)
		}
		resp.Diagnostics.AddError("Cannot import flow run", detail)
		return
	}

	defaults := map[string]string{}
	flow, flowErr := r.data.client.FlowGlobals(ctx, inst.FlowID)
	if flowErr != nil {
		resp.Diagnostics.AddWarning("Imported all of the run's parameters",
			fmt.Sprintf("Reading flow %d to tell the run's overrides from the flow's defaults failed, so parameters holds every parameter of the run: %s", inst.FlowID, flowErr))
	} else {
		for _, p := range flow.Parameters {
			defaults[p.Key] = p.Value
		}
	}
	overrides := map[string]string{}
	for _, p := range inst.Parameters {
		if value, isGlobal := defaults[p.Key]; !isGlobal || value != p.Value {
			overrides[p.Key] = p.Value
		}
	}

	model := flowTriggerModel{
		ID:                  types.StringValue(inst.InstanceID),
		FlowInstanceID:      types.StringValue(inst.InstanceID),
		FlowID:              types.Int64Value(inst.FlowID),
		Parameters:          types.MapNull(types.StringType),
		ParametersWO:        types.MapNull(types.StringType),
		ParametersWOVersion: types.Int64Null(),
		TriggerTime:         rfc3339(inst.TriggerTime.UTC()),
		Triggers:            types.MapNull(types.StringType),
		WaitForCompletion:   types.BoolValue(true),
		PollInterval:        types.StringValue(defaultPollInterval.String()),
		OnDestroy:           types.StringValue(onDestroyDetach),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "delete": types.StringType,
		})},
	}
	if len(overrides) > 0 {
		params, diags := types.MapValueFrom(ctx, types.StringType, overrides)
		resp.Diagnostics.Append(diags...)
		model.Parameters = params
	}
	resp.Diagnostics.Append(model.setInstance(ctx, inst)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
	if flowErr != nil {
		return
	}
	raw, err := json.Marshal(defaults)
	if err != nil {
		resp.Diagnostics.AddError("Encoding the flow's defaults failed", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateFlowDefaults, raw)...)
}

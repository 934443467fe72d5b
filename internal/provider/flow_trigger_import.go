package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// importedRun marks a resource imported and not applied since: its state
// holds no parameter value (import cannot tell which of the run's were
// write-only), so the plans until the first apply compare the
// configuration with the run itself, read from the service (planAfterImport).
// It holds nothing derived from a value: a reader of the state cannot test
// guesses of a write-only value against it. The salted digests that earlier
// versions kept here decode into it and are dropped at the next apply.
type importedRun struct{}

// ImportState adopts an existing run by its flow instance id (the import id
// or the identity's flow_instance_id). It stores none of the run's
// parameter values, since any of them may have been write-only: `parameters`
// stays null and private state marks the import (importedRun), so that the
// first plan after import compares the configuration with the run.
// Behaviour settings get their defaults; trigger_time is stored in UTC.
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

	model, diags := importedFlowTriggerModel(ctx, inst)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
	resp.Diagnostics.Append(setImportedRun(ctx, resp.Private, &importedRun{})...)
}

// importedFlowTriggerModel is the state of an existing run as import and
// the list resource (terraform query) give it: no parameter values (see
// ImportState), behaviour settings at their defaults, trigger_time in UTC.
// The configuration terraform query generates from it therefore sets no
// parameters, which parametersReplace takes as adopting the run.
func importedFlowTriggerModel(ctx context.Context, inst *enos.FlowInstance) (flowTriggerModel, diag.Diagnostics) {
	model := flowTriggerModel{
		ID:                  types.StringValue(inst.InstanceID),
		FlowInstanceID:      types.StringValue(inst.InstanceID),
		FlowID:              types.Int64Value(inst.FlowID),
		Parameters:          types.MapNull(types.StringType),
		ParametersWO:        types.MapNull(types.StringType),
		ParametersWOVersion: types.Int64Null(),
		TriggerTime:         rfc3339(inst.TriggerTime.UTC()),
		SentTriggerTime:     rfc3339(inst.TriggerTime.UTC()),
		Triggers:            types.MapNull(types.StringType),
		WaitForCompletion:   types.BoolValue(true),
		PollInterval:        timetypes.NewGoDurationValue(defaultPollInterval),
		OnDestroy:           types.StringValue(onDestroyDetach),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "update": types.StringType, "delete": types.StringType,
		})},
	}
	diags := model.setInstance(ctx, inst)
	return model, diags
}

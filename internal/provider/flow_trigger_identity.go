package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithIdentity = (*flowTriggerResource)(nil)

// flowTriggerIdentity is the identity of dataflow_flow_trigger (Terraform
// 1.12 and later): the run's flow instance id, which is also its id.
type flowTriggerIdentity struct {
	FlowInstanceID types.String `tfsdk:"flow_instance_id"`
}

func (r *flowTriggerResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"flow_instance_id": identityschema.StringAttribute{
				Description:       "Id of the flow run, such as `1001-20240101080000`: the resource's `id` and `flow_instance_id`.",
				RequiredForImport: true,
			},
		},
	}
}

// setFlowTriggerIdentity records the run id as the resource's identity.
// identity is nil only for a resource without identity support. It sets
// the one attribute rather than the struct: the framework's struct
// conversion compiles a regular expression per field, which made this a
// third of a Create's own CPU.
func setFlowTriggerIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, instanceID string) diag.Diagnostics {
	if identity == nil {
		return nil
	}
	return identity.SetAttribute(ctx, path.Root("flow_instance_id"), instanceID)
}

// fillFlowTriggerIdentity sets the identity from the id in state when it is
// missing: states written before identity existed, and every Terraform
// older than 1.12, which does not keep it. It reads the id alone, so that
// Read stays cheap for finished runs.
func fillFlowTriggerIdentity(ctx context.Context, state tfsdk.State, identity *tfsdk.ResourceIdentity) diag.Diagnostics {
	if identity == nil || !identity.Raw.IsFullyNull() {
		return nil
	}
	var id types.String
	diags := state.GetAttribute(ctx, path.Root("id"), &id)
	if diags.HasError() || id.IsNull() || id.IsUnknown() {
		return diags
	}
	return append(diags, setFlowTriggerIdentity(ctx, identity, id.ValueString())...)
}

// resolveImportedInstance makes req.ID the flow instance id to import,
// taken from an import block's identity when no import id was given, and
// records the identity. It reports false, with an error, when there is none.
func resolveImportedInstance(ctx context.Context, req *resource.ImportStateRequest, resp *resource.ImportStateResponse) bool {
	if req.ID == "" && req.Identity != nil {
		var identity flowTriggerIdentity
		resp.Diagnostics.Append(req.Identity.Get(ctx, &identity)...)
		if resp.Diagnostics.HasError() {
			return false
		}
		req.ID = identity.FlowInstanceID.ValueString()
	}
	if req.ID == "" {
		resp.Diagnostics.AddError("Cannot import flow run",
			"No flow instance id given. Import takes the id of a run, such as 1001-20240101080000: `terraform import ADDRESS ID`, or an import block with `id = ...` or `identity = { flow_instance_id = ... }`.")
		return false
	}
	resp.Diagnostics.Append(setFlowTriggerIdentity(ctx, resp.Identity, req.ID)...)
	return !resp.Diagnostics.HasError()
}

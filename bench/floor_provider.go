//go:build benchfloor

// This file is not part of the harness: the harness compiles it into the
// provider's own main package (go build -overlay, see buildOverlay), so the
// floor is this provider, served by its own main.go, with only the CRUD of
// its resources replaced.

package main

import (
	"context"

	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// benchFloor wraps the real provider: the same schemas, attribute plan
// modifiers, validators and Configure, but resources that call nothing.
func benchFloor(p fwprovider.Provider) fwprovider.Provider { return floorProvider{p} }

type floorProvider struct{ fwprovider.Provider }

func (p floorProvider) Resources(ctx context.Context) []func() resource.Resource {
	real := p.Provider.Resources(ctx)
	floors := make([]func() resource.Resource, len(real))
	for i, newResource := range real {
		floors[i] = func() resource.Resource { return floorResource{newResource()} }
	}
	return floors
}

// floorResource keeps only the real resource's Metadata and Schema (the
// embedded interface hides its ModifyPlan, ValidateConfig and the rest,
// which are the provider's own code) and stores the plan as state.
type floorResource struct{ resource.Resource }

func (floorResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var err error
	if resp.State.Raw, err = planAsState(req.Plan.Raw); err != nil {
		resp.Diagnostics.AddError("Storing the plan", err.Error())
	}
}

// Read keeps the state as it is: the framework has copied it already.
func (floorResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (floorResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var err error
	if resp.State.Raw, err = planAsState(req.Plan.Raw); err != nil {
		resp.Diagnostics.AddError("Storing the plan", err.Error())
	}
}

func (floorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// planAsState is the plan with what it leaves unknown (the computed
// attributes) set to null, since state cannot hold unknown values.
func planAsState(plan tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(plan, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
}

//go:build benchfloor

// This file is not part of the harness: the harness compiles it into the
// provider's own main package (go build -overlay, see buildOverlay), so the
// floor is this provider, served by its own main.go, with only the CRUD of
// its resources replaced.

package main

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// benchFloor wraps the real provider: the same schemas, attribute plan
// modifiers, validators and Configure, but resources that call nothing.
func benchFloor(p fwprovider.Provider) fwprovider.Provider { return floorProvider{p} }

type floorProvider struct{ fwprovider.Provider }

func (p floorProvider) Resources(ctx context.Context) []func() resource.Resource {
	resources := p.Provider.Resources(ctx)
	floors := make([]func() resource.Resource, len(resources))
	for i, newResource := range resources {
		floors[i] = func() resource.Resource {
			r := newResource()
			if withIdentity, ok := r.(resource.ResourceWithIdentity); ok {
				return floorIdentityResource{floorResource{r}, withIdentity}
			}
			return floorResource{r}
		}
	}
	return floors
}

// floorResource keeps only the real resource's Metadata and Schema (the
// embedded interface hides its ModifyPlan, ValidateConfig and the rest,
// which are the provider's own code). It stores the plan as state with
// every computed attribute filled as the provider fills it once its run
// has finished, so that Terraform and the framework carry values of the
// provider's size.
type floorResource struct{ resource.Resource }

// floorIdentityResource is floorResource for a resource with identity: the
// same identity schema, set from the state as the provider sets it.
type floorIdentityResource struct {
	floorResource
	withIdentity resource.ResourceWithIdentity
}

func (r floorIdentityResource) IdentitySchema(ctx context.Context, req resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	r.withIdentity.IdentitySchema(ctx, req, resp)
}

func (floorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	storeFilledPlan(ctx, req.Plan.Raw, &resp.State, resp.Identity, &resp.Diagnostics)
}

// Read keeps the state as it is (the framework has copied it already) and
// fills a missing identity from it, as the provider does for a Terraform
// that does not keep identities.
func (floorResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if resp.Identity != nil && resp.Identity.Raw.IsNull() {
		if err := setIdentityFrom(ctx, req.State.Raw, resp.Identity); err != nil {
			resp.Diagnostics.AddError("Setting the identity", err.Error())
		}
	}
}

func (floorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	storeFilledPlan(ctx, req.Plan.Raw, &resp.State, resp.Identity, &resp.Diagnostics)
}

func (floorResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// storeFilledPlan sets state (and identity, when the resource has one) to
// the plan with its unknown values filled.
func storeFilledPlan(ctx context.Context, plan tftypes.Value, state *tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	var err error
	if state.Raw, err = fillUnknowns(plan, time.Now()); err == nil && identity != nil {
		err = setIdentityFrom(ctx, state.Raw, identity)
	}
	if err != nil {
		diags.AddError("Storing the plan", err.Error())
	}
}

// floorTaskNames are the tasks of a finished run in the floor's state, as
// the harness's flows have them (taskNames in service.go; this file is
// compiled apart, so each names them).
var floorTaskNames = []string{"extract", "transform", "load"}

// serviceZone is the emulator's time zone (GMT+8), in which the service
// reports a run's start and end.
var serviceZone = time.FixedZone("GMT+8", 8*3600)

// fillUnknowns is the plan with what it leaves unknown (the computed
// attributes) set to the values of a run that started and finished
// successfully at now. An unknown value the floor has no typical value for
// is an error, so that the floor's state never holds fewer values than the
// provider's.
func fillUnknowns(plan tftypes.Value, now time.Time) (tftypes.Value, error) {
	var flowID int64
	var attrs map[string]tftypes.Value
	if plan.As(&attrs) == nil && attrs["flow_id"].IsKnown() && !attrs["flow_id"].IsNull() {
		var f big.Float
		if attrs["flow_id"].As(&f) == nil {
			flowID, _ = f.Int64()
		}
	}
	stamp := now.In(serviceZone).Format("20060102150405")
	instanceID := fmt.Sprintf("%d-%s", flowID, stamp)
	// Names and ids of the shape the harness's emulator gives (service.go:
	// flow i is bench_flow_i, with id 100000 + i).
	run := map[string]tftypes.Value{
		"id":                tftypes.NewValue(tftypes.String, instanceID),
		"flow_instance_id":  tftypes.NewValue(tftypes.String, instanceID),
		"trigger_time":      tftypes.NewValue(tftypes.String, now.UTC().Format(time.RFC3339)),
		"sent_trigger_time": tftypes.NewValue(tftypes.String, now.UTC().Format(time.RFC3339)),
		"flow_name":         tftypes.NewValue(tftypes.String, "bench_flow_"+strconv.FormatInt(flowID%100000, 10)),
		"status":            tftypes.NewValue(tftypes.String, "SUCCESS"),
		"status_code":       tftypes.NewValue(tftypes.Number, 1),
		"started_at":        tftypes.NewValue(tftypes.String, now.In(serviceZone).Format(time.RFC3339)),
		"finished_at":       tftypes.NewValue(tftypes.String, now.Add(time.Second).In(serviceZone).Format(time.RFC3339)),
	}
	return tftypes.Transform(plan, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		name := lastAttributeName(p)
		if name == "tasks" {
			return floorTasks(v.Type(), flowID, stamp)
		}
		if filled, ok := run[name]; ok && filled.Type().Equal(v.Type()) {
			return filled, nil
		}
		return v, fmt.Errorf("the floor has no value of type %s for the computed attribute %s: add one to fillUnknowns", v.Type(), p)
	})
}

// floorTasks is a list of type typ (the tasks' list) holding
// floorTaskNames, each finished with its task instance id.
func floorTasks(typ tftypes.Type, flowID int64, stamp string) (tftypes.Value, error) {
	list, ok := typ.(tftypes.List)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("tasks: expected a list, got %s", typ)
	}
	task, ok := list.ElementType.(tftypes.Object)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("tasks: expected a list of objects, got %s", typ)
	}
	tasks := make([]tftypes.Value, len(floorTaskNames))
	for i, name := range floorTaskNames {
		values := map[string]tftypes.Value{
			"name":             tftypes.NewValue(tftypes.String, name),
			"task_instance_id": tftypes.NewValue(tftypes.String, fmt.Sprintf("%d%02d-%s", flowID, i, stamp)),
			"status":           tftypes.NewValue(tftypes.String, "SUCCESS"),
		}
		for attr := range task.AttributeTypes {
			if _, ok := values[attr]; !ok {
				return tftypes.Value{}, fmt.Errorf("the floor has no value for the task attribute %s: add one to floorTasks", attr)
			}
		}
		tasks[i] = tftypes.NewValue(task, values)
	}
	return tftypes.NewValue(list, tasks), nil
}

// lastAttributeName is the name of the attribute at p ("" when p ends in
// an element of a collection).
func lastAttributeName(p *tftypes.AttributePath) string {
	steps := p.Steps()
	if len(steps) == 0 {
		return ""
	}
	name, _ := steps[len(steps)-1].(tftypes.AttributeName)
	return string(name)
}

// setIdentityFrom sets each attribute of identity to the state's attribute
// of the same name (the provider's identity is the run's flow_instance_id).
func setIdentityFrom(ctx context.Context, state tftypes.Value, identity *tfsdk.ResourceIdentity) error {
	typ, ok := identity.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		return fmt.Errorf("identity: expected an object type, got %s", identity.Schema.Type().TerraformType(ctx))
	}
	var attrs map[string]tftypes.Value
	if err := state.As(&attrs); err != nil {
		return err
	}
	values := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name := range typ.AttributeTypes {
		v, ok := attrs[name]
		if !ok {
			return fmt.Errorf("identity: the state has no attribute %s", name)
		}
		values[name] = v
	}
	identity.Raw = tftypes.NewValue(typ, values)
	return nil
}

package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Warnings do not reach terraform-plugin-testing, so these tests call the
// resource's methods directly, against an emulator.

func testFlowTrigger(t *testing.T) (*flowTriggerResource, schema.Schema, *emulator.Server) {
	t.Helper()
	srv := acctest.StartEmulator(t, emulator.Options{})
	r := &flowTriggerResource{data: &providerData{client: testClient(t, srv)}}
	var resp resource.SchemaResponse
	r.Schema(t.Context(), resource.SchemaRequest{}, &resp)
	return r, resp.Schema, srv
}

// testFlowTriggerModel is a model with every attribute null but flow_id.
func testFlowTriggerModel(flowID int64) flowTriggerModel {
	nullMap := types.MapNull(types.StringType)
	return flowTriggerModel{
		ID: types.StringNull(), FlowID: types.Int64Value(flowID),
		Parameters: nullMap, ParametersWO: nullMap, ParametersWOVersion: types.Int64Null(),
		TriggerTime: timetypes.NewRFC3339Null(), Triggers: nullMap,
		WaitForCompletion: types.BoolValue(true), PollInterval: timetypes.NewGoDurationValue(10 * time.Second), OnDestroy: types.StringValue("detach"),
		Timeouts:       timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType})},
		FlowInstanceID: types.StringNull(),
		runModel: runModel{FlowName: types.StringNull(), Status: types.StringNull(), StatusCode: types.Int64Null(),
			StartedAt: timetypes.NewRFC3339Null(), FinishedAt: timetypes.NewRFC3339Null(), Tasks: types.ListNull(taskObjectType)},
	}
}

func nullRaw(ctx context.Context, s schema.Schema) tftypes.Value {
	return tftypes.NewValue(s.Type().TerraformType(ctx), nil)
}

func warningsOnly(t *testing.T, diags diag.Diagnostics) diag.Diagnostics {
	t.Helper()
	if diags.HasError() {
		t.Fatalf("unexpected errors: %v", diags.Errors())
	}
	return diags.Warnings()
}

func TestFlowTriggerRead_vanishedRunWarnsAndStaysInState(t *testing.T) {
	ctx := t.Context()
	r, s, srv := testFlowTrigger(t)
	model := testFlowTriggerModel(1004)
	model.ID = types.StringValue("1004-20240101080000") // a run the service does not know (any more)
	model.FlowInstanceID = model.ID
	model.Status = types.StringValue("RUNNING")
	model.StatusCode = types.Int64Value(2)
	state := tfsdk.State{Schema: s, Raw: nullRaw(ctx, s)}
	if diags := state.Set(ctx, &model); diags.HasError() {
		t.Fatal(diags)
	}

	resp := resource.ReadResponse{State: state}
	r.Read(ctx, resource.ReadRequest{State: state}, &resp)

	warnings := warningsOnly(t, resp.Diagnostics)
	if len(warnings) != 1 || warnings[0].Summary() != "Flow run no longer known to the service" ||
		!strings.Contains(warnings[0].Detail(), "is not triggered again") {
		t.Fatalf("want one warning about the vanished run, got %v", warnings)
	}
	if !resp.State.Raw.Equal(state.Raw) {
		t.Fatalf("the run must stay in state unchanged, got %v", resp.State.Raw)
	}
	if n := srv.Count(triggerOperation); n != 0 {
		t.Fatalf("read sent %d triggers", n)
	}
}

func TestFlowTriggerModifyPlan_warnsOnParameterNotOfTheFlow(t *testing.T) {
	ctx := t.Context()
	r, s, srv := testFlowTrigger(t)
	model := testFlowTriggerModel(1001)
	model.Parameters = types.MapValueMust(types.StringType, map[string]attr.Value{
		"bizdate": types.StringValue("20240101"),
		"regoin":  types.StringValue("eu"),
	})
	plan := tfsdk.Plan{Schema: s, Raw: nullRaw(ctx, s)}
	if diags := plan.Set(ctx, &model); diags.HasError() {
		t.Fatal(diags)
	}
	req := resource.ModifyPlanRequest{
		Config: tfsdk.Config{Schema: s, Raw: plan.Raw},
		Plan:   plan,
		State:  tfsdk.State{Schema: s, Raw: nullRaw(ctx, s)},
	}
	resp := resource.ModifyPlanResponse{Plan: plan}
	r.ModifyPlan(ctx, req, &resp)

	warnings := warningsOnly(t, resp.Diagnostics)
	if len(warnings) != 1 {
		t.Fatalf("want one warning, for regoin, got %v", warnings)
	}
	w, ok := warnings[0].(diag.DiagnosticWithPath)
	if !ok || !w.Path().Equal(path.Root("parameters").AtMapKey("regoin")) ||
		!strings.Contains(w.Detail(), `has no global parameter "regoin"`) || !strings.Contains(w.Detail(), "bizdate, region") {
		t.Fatalf("want a typo warning on parameters[\"regoin\"] listing the flow's parameters, got %v", warnings[0])
	}
	if n := srv.Count(triggerOperation); n != 0 {
		t.Fatalf("plan sent %d triggers", n)
	}
}

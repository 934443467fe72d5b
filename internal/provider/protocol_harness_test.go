package provider

import (
	"context"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// protocolHarness is the provider served in process through the same
// protocol-6 server as the binary (NewProtocol6Server), configured against
// an emulator, for tests that call it with tfprotov6 requests as Terraform
// would. They need no terraform CLI, so they cover features that the CLI in
// CI (1.11) cannot drive: identity, actions, list resources.
type protocolHarness struct {
	t          *testing.T
	server     tfprotov6.ProviderServer
	schemas    *tfprotov6.GetProviderSchemaResponse
	identities *tfprotov6.GetResourceIdentitySchemasResponse
}

// newProtocolHarness starts the provider, reads its schemas and configures
// it with the emulator's default credentials.
func newProtocolHarness(t *testing.T, srv *emulator.Server) *protocolHarness {
	t.Helper()
	h := startProtocolHarness(t, New("test")())
	h.configure(srv)
	return h
}

// startProtocolHarness serves p and reads its schemas, leaving it
// unconfigured (configure does that).
func startProtocolHarness(t *testing.T, p provider.Provider) *protocolHarness {
	t.Helper()
	h := &protocolHarness{t: t, server: NewProtocol6Server(p)()}
	var err error
	h.schemas, err = h.server.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	requireNoErrors(t, "GetProviderSchema", h.schemas.Diagnostics, err)
	h.identities, err = h.server.GetResourceIdentitySchemas(t.Context(), &tfprotov6.GetResourceIdentitySchemasRequest{})
	requireNoErrors(t, "GetResourceIdentitySchemas", h.identities.Diagnostics, err)
	return h
}

// configure configures the provider with the emulator's default
// credentials.
func (h *protocolHarness) configure(srv *emulator.Server) {
	t := h.t
	t.Helper()
	config := h.value(h.schemas.Provider.ValueType(), map[string]tftypes.Value{
		"endpoint":    tftypes.NewValue(tftypes.String, srv.URL),
		"access_key":  tftypes.NewValue(tftypes.String, emulator.DefaultAccessKey),
		"secret_key":  tftypes.NewValue(tftypes.String, emulator.DefaultSecretKey),
		"org_id":      tftypes.NewValue(tftypes.String, emulator.DefaultOrgID),
		"user_id":     tftypes.NewValue(tftypes.String, emulator.DefaultUserID),
		"max_retries": tftypes.NewValue(tftypes.Number, 2),
	})
	resp, err := h.server.ConfigureProvider(t.Context(), &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.15.0",
		Config:           h.dynamicValue(h.schemas.Provider.ValueType(), config),
	})
	requireNoErrors(t, "ConfigureProvider", resp.Diagnostics, err)
}

// create plans and applies a new resource of typeName from the given
// configuration attributes, as `terraform apply` does, and returns the
// apply's response (errors included, for the test to judge).
func (h *protocolHarness) create(typeName string, configAttrs map[string]tftypes.Value) *tfprotov6.ApplyResourceChangeResponse {
	h.t.Helper()
	typ := h.resourceType(typeName)
	config := h.dynamicValue(typ, h.value(typ, configAttrs))
	prior := h.dynamicValue(typ, tftypes.NewValue(typ, nil))
	plan, err := h.server.PlanResourceChange(h.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: typeName, PriorState: prior, ProposedNewState: config, Config: config,
	})
	requireNoErrors(h.t, "PlanResourceChange", plan.Diagnostics, err)
	apply, err := h.server.ApplyResourceChange(h.t.Context(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName: typeName, PriorState: prior, PlannedState: plan.PlannedState, Config: config,
		PlannedPrivate: plan.PlannedPrivate, PlannedIdentity: plan.PlannedIdentity,
	})
	if err != nil {
		h.t.Fatalf("ApplyResourceChange: %v", err)
	}
	return apply
}

// read refreshes a resource as `terraform plan` does; identity is nil for a
// state written without one.
func (h *protocolHarness) read(typeName string, state *tfprotov6.DynamicValue, identity *tfprotov6.ResourceIdentityData) *tfprotov6.ReadResourceResponse {
	h.t.Helper()
	resp, err := h.server.ReadResource(h.t.Context(), &tfprotov6.ReadResourceRequest{
		TypeName: typeName, CurrentState: state, CurrentIdentity: identity,
	})
	if err != nil {
		h.t.Fatalf("ReadResource: %v", err)
	}
	return resp
}

// importResource imports by id (`terraform import`, `import { id = ... }`)
// or, with id empty, by identity (`import { identity = {...} }`).
//
//nolint:unparam // a harness helper for any resource
func (h *protocolHarness) importResource(typeName, id string, identity *tfprotov6.ResourceIdentityData) *tfprotov6.ImportResourceStateResponse {
	h.t.Helper()
	resp, err := h.server.ImportResourceState(h.t.Context(), &tfprotov6.ImportResourceStateRequest{
		TypeName: typeName, ID: id, Identity: identity,
	})
	if err != nil {
		h.t.Fatalf("ImportResourceState: %v", err)
	}
	return resp
}

// listResource runs a list resource as `terraform query` does and returns
// its result stream, for the test to pull as far as it wants.
func (h *protocolHarness) listResource(typeName string, configAttrs map[string]tftypes.Value, limit int64, includeResource bool) iter.Seq[tfprotov6.ListResourceResult] {
	h.t.Helper()
	server, ok := h.server.(tfprotov6.ProviderServerWithListResource) //nolint:staticcheck // how terraform-plugin-go v0.31 finds list resources
	if !ok {
		h.t.Fatal("the provider server serves no list resources")
	}
	typ := h.listResourceType(typeName)
	config := h.dynamicValue(typ, h.value(typ, configAttrs))
	requireNoErrors(h.t, "ValidateListResourceConfig", h.validateListResource(typeName, configAttrs), nil)
	stream, err := server.ListResource(h.t.Context(), &tfprotov6.ListResourceRequest{
		TypeName: typeName, Config: config, Limit: limit, IncludeResource: includeResource,
	})
	if err != nil {
		h.t.Fatalf("ListResource: %v", err)
	}
	return stream.Results
}

// validateListResource validates a list resource's configuration, as
// `terraform query` does first, and returns the diagnostics.
func (h *protocolHarness) validateListResource(typeName string, configAttrs map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	h.t.Helper()
	server, ok := h.server.(tfprotov6.ProviderServerWithListResource) //nolint:staticcheck // how terraform-plugin-go v0.31 finds list resources
	if !ok {
		h.t.Fatal("the provider server serves no list resources")
	}
	typ := h.listResourceType(typeName)
	resp, err := server.ValidateListResourceConfig(h.t.Context(), &tfprotov6.ValidateListResourceConfigRequest{
		TypeName: typeName, Config: h.dynamicValue(typ, h.value(typ, configAttrs)),
	})
	if err != nil {
		h.t.Fatalf("ValidateListResourceConfig: %v", err)
	}
	return resp.Diagnostics
}

// listAll collects every result of a list resource's stream.
//
//nolint:unparam // a harness helper for any list resource
func (h *protocolHarness) listAll(typeName string, configAttrs map[string]tftypes.Value, limit int64, includeResource bool) []tfprotov6.ListResourceResult {
	h.t.Helper()
	return slices.Collect(h.listResource(typeName, configAttrs, limit, includeResource))
}

// actionEvents is what an InvokeAction stream sent: its progress messages
// in order, and the diagnostics of its completed event.
type actionEvents struct {
	progress    []string
	diagnostics []*tfprotov6.Diagnostic
	completed   bool
}

// invokeAction invokes an action as `terraform apply -invoke` or an
// action_trigger does, with the given configuration attributes, and
// collects its event stream. onProgress, when not nil, is called with each
// progress message as it arrives, while the action waits for the stream
// to go on (tests advance the emulator's clock there).
//
//nolint:unparam // a harness helper for any action
func (h *protocolHarness) invokeAction(ctx context.Context, typeName string, configAttrs map[string]tftypes.Value, onProgress func(string)) actionEvents {
	h.t.Helper()
	server, ok := h.server.(tfprotov6.ProviderServerWithActions) //nolint:staticcheck // how terraform-plugin-go v0.31 finds actions
	if !ok {
		h.t.Fatal("the provider server serves no actions")
	}
	typ := h.actionType(typeName)
	config := h.dynamicValue(typ, h.value(typ, configAttrs))
	validated, err := server.ValidateActionConfig(ctx, &tfprotov6.ValidateActionConfigRequest{ActionType: typeName, Config: config})
	if err != nil {
		h.t.Fatalf("ValidateActionConfig: %v", err)
	}
	if hasErrorDiagnostic(validated.Diagnostics) {
		// Terraform stops here; the test judges the diagnostics.
		return actionEvents{diagnostics: validated.Diagnostics, completed: true}
	}
	stream, err := server.InvokeAction(ctx, &tfprotov6.InvokeActionRequest{ActionType: typeName, Config: config})
	if err != nil {
		h.t.Fatalf("InvokeAction: %v", err)
	}
	var events actionEvents
	for event := range stream.Events {
		if events.completed {
			h.t.Fatalf("InvokeAction sent %T after its completed event", event.Type)
		}
		switch e := event.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			events.progress = append(events.progress, e.Message)
			if onProgress != nil {
				onProgress(e.Message)
			}
		case tfprotov6.CompletedInvokeActionEventType:
			events.diagnostics, events.completed = e.Diagnostics, true
		default:
			h.t.Fatalf("InvokeAction sent an unknown event %T", event.Type)
		}
	}
	if !events.completed {
		h.t.Fatal("InvokeAction's stream ended without a completed event")
	}
	return events
}

// resourceType is the object type of a managed resource's state and config.
func (h *protocolHarness) resourceType(typeName string) tftypes.Object {
	return h.schemaType("resource", h.schemas.ResourceSchemas[typeName], typeName)
}

// listResourceType is the object type of a list resource's config.
func (h *protocolHarness) listResourceType(typeName string) tftypes.Object {
	return h.schemaType("list resource", h.schemas.ListResourceSchemas[typeName], typeName)
}

// actionType is the object type of an action's config.
func (h *protocolHarness) actionType(typeName string) tftypes.Object {
	s, ok := h.schemas.ActionSchemas[typeName]
	if !ok {
		h.t.Fatalf("the provider has no action %s", typeName)
	}
	return h.schemaType("action", s.Schema, typeName)
}

func (h *protocolHarness) schemaType(kind string, s *tfprotov6.Schema, typeName string) tftypes.Object {
	if s == nil {
		h.t.Fatalf("the provider has no %s %s", kind, typeName)
	}
	return objectType(h.t, s.ValueType())
}

// triggerIdentityType is the object type of dataflow_flow_trigger's
// identity, the provider's only resource with one.
func (h *protocolHarness) triggerIdentityType() tftypes.Object {
	s, ok := h.identities.IdentitySchemas[flowTriggerType]
	if !ok {
		h.t.Fatalf("resource %s has no identity schema", flowTriggerType)
	}
	return objectType(h.t, s.ValueType())
}

func objectType(t *testing.T, typ tftypes.Type) tftypes.Object {
	t.Helper()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		t.Fatalf("schema type %s is not an object", typ)
	}
	return obj
}

// value is an object of typ with the given attributes and every other
// attribute null, as in a configuration that leaves them out.
func (h *protocolHarness) value(typ tftypes.Type, attrs map[string]tftypes.Value) tftypes.Value {
	h.t.Helper()
	obj := objectType(h.t, typ)
	values := make(map[string]tftypes.Value, len(obj.AttributeTypes))
	for name, attrType := range obj.AttributeTypes {
		values[name] = tftypes.NewValue(attrType, nil)
	}
	for name, v := range attrs {
		if _, ok := obj.AttributeTypes[name]; !ok {
			h.t.Fatalf("the schema has no attribute %q", name)
		}
		values[name] = v
	}
	return tftypes.NewValue(obj, values)
}

// dynamicValue encodes v of type typ as Terraform sends values.
func (h *protocolHarness) dynamicValue(typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	h.t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		h.t.Fatalf("encoding %s: %v", v, err)
	}
	return &dv
}

// attributes decodes an object value of typ into its attributes.
func (h *protocolHarness) attributes(typ tftypes.Type, dv *tfprotov6.DynamicValue) map[string]tftypes.Value {
	h.t.Helper()
	if dv == nil {
		h.t.Fatal("no value returned")
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		h.t.Fatalf("decoding value: %v", err)
	}
	attrs := map[string]tftypes.Value{}
	if err := v.As(&attrs); err != nil {
		h.t.Fatalf("value %s is not an object: %v", v, err)
	}
	return attrs
}

// identityValue is the value of a returned identity, nil when there is
// none (attributes then fails the test).
func identityValue(identity *tfprotov6.ResourceIdentityData) *tfprotov6.DynamicValue {
	if identity == nil {
		return nil
	}
	return identity.IdentityData
}

// stringAttribute is the string value of attrs[name], failing the test when
// it is missing, null or not a string.
func stringAttribute(t *testing.T, attrs map[string]tftypes.Value, name string) string {
	t.Helper()
	var s string
	v, ok := attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() {
		t.Fatalf("attribute %s is missing, null or unknown: %v", name, v)
	}
	if err := v.As(&s); err != nil {
		t.Fatalf("attribute %s: %v", name, err)
	}
	return s
}

// requireNoErrors fails the test on a transport error or an error
// diagnostic of rpc.
func requireNoErrors(t *testing.T, rpc string, diags []*tfprotov6.Diagnostic, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", rpc, err)
	}
	if hasErrorDiagnostic(diags) {
		t.Fatalf("%s returned errors:\n%s", rpc, diagnosticsText(diags))
	}
}

func hasErrorDiagnostic(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// diagnosticsText renders diagnostics one a line, for messages and for
// matching with acctest.ErrorText.
func diagnosticsText(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Severity.String() + ": " + d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

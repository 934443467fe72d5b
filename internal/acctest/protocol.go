package acctest

import (
	"context"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// ProtocolHarness serves a provider in process, configured against an
// emulator, for tests that call it with tfprotov6 requests as Terraform
// would. They need no CLI, so they cover features that the oldest CLI
// tested (1.11) cannot drive: identity, actions, list resources.
type ProtocolHarness struct {
	t          *testing.T
	server     tfprotov6.ProviderServer
	schemas    *tfprotov6.GetProviderSchemaResponse
	identities *tfprotov6.GetResourceIdentitySchemasResponse
}

// StartProtocolHarness serves server (the provider through the same
// protocol-6 server as the binary) and reads its schemas, leaving it
// unconfigured (Configure does that).
func StartProtocolHarness(t *testing.T, server tfprotov6.ProviderServer) *ProtocolHarness {
	t.Helper()
	h := &ProtocolHarness{t: t, server: server}
	var err error
	h.schemas, err = h.server.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	RequireNoErrors(t, "GetProviderSchema", h.schemas.Diagnostics, err)
	h.identities, err = h.server.GetResourceIdentitySchemas(t.Context(), &tfprotov6.GetResourceIdentitySchemasRequest{})
	RequireNoErrors(t, "GetResourceIdentitySchemas", h.identities.Diagnostics, err)
	return h
}

// Configure configures the provider with the emulator's default
// credentials.
func (h *ProtocolHarness) Configure(srv *emulator.Server) {
	t := h.t
	t.Helper()
	config := h.Value(h.schemas.Provider.ValueType(), map[string]tftypes.Value{
		"endpoint":    tftypes.NewValue(tftypes.String, srv.URL),
		"access_key":  tftypes.NewValue(tftypes.String, emulator.DefaultAccessKey),
		"secret_key":  tftypes.NewValue(tftypes.String, emulator.DefaultSecretKey),
		"org_id":      tftypes.NewValue(tftypes.String, emulator.DefaultOrgID),
		"user_id":     tftypes.NewValue(tftypes.String, emulator.DefaultUserID),
		"max_retries": tftypes.NewValue(tftypes.Number, 2),
	})
	resp, err := h.server.ConfigureProvider(t.Context(), &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.15.0",
		Config:           h.DynamicValue(h.schemas.Provider.ValueType(), config),
	})
	RequireNoErrors(t, "ConfigureProvider", resp.Diagnostics, err)
}

// Create plans and applies a new resource of typeName from the given
// configuration attributes, as `terraform apply` does, and returns the
// apply's response (errors included, for the test to judge).
func (h *ProtocolHarness) Create(typeName string, configAttrs map[string]tftypes.Value) *tfprotov6.ApplyResourceChangeResponse {
	h.t.Helper()
	typ := h.ResourceType(typeName)
	config := h.DynamicValue(typ, h.Value(typ, configAttrs))
	prior := h.DynamicValue(typ, tftypes.NewValue(typ, nil))
	plan, err := h.server.PlanResourceChange(h.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: typeName, PriorState: prior, ProposedNewState: config, Config: config,
	})
	RequireNoErrors(h.t, "PlanResourceChange", plan.Diagnostics, err)
	apply, err := h.server.ApplyResourceChange(h.t.Context(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName: typeName, PriorState: prior, PlannedState: plan.PlannedState, Config: config,
		PlannedPrivate: plan.PlannedPrivate, PlannedIdentity: plan.PlannedIdentity,
	})
	if err != nil {
		h.t.Fatalf("ApplyResourceChange: %v", err)
	}
	return apply
}

// Read refreshes a resource as `terraform plan` does; identity is nil for a
// state written without one.
func (h *ProtocolHarness) Read(typeName string, state *tfprotov6.DynamicValue, identity *tfprotov6.ResourceIdentityData) *tfprotov6.ReadResourceResponse {
	h.t.Helper()
	resp, err := h.server.ReadResource(h.t.Context(), &tfprotov6.ReadResourceRequest{
		TypeName: typeName, CurrentState: state, CurrentIdentity: identity,
	})
	if err != nil {
		h.t.Fatalf("ReadResource: %v", err)
	}
	return resp
}

// ImportResource imports by id (`terraform import`, `import { id = ... }`)
// or, with id empty, by identity (`import { identity = {...} }`).
func (h *ProtocolHarness) ImportResource(typeName, id string, identity *tfprotov6.ResourceIdentityData) *tfprotov6.ImportResourceStateResponse {
	h.t.Helper()
	resp, err := h.server.ImportResourceState(h.t.Context(), &tfprotov6.ImportResourceStateRequest{
		TypeName: typeName, ID: id, Identity: identity,
	})
	if err != nil {
		h.t.Fatalf("ImportResourceState: %v", err)
	}
	return resp
}

// ListResource runs a list resource as `terraform query` does and returns
// its result stream, for the test to pull as far as it wants.
func (h *ProtocolHarness) ListResource(typeName string, configAttrs map[string]tftypes.Value, limit int64, includeResource bool) iter.Seq[tfprotov6.ListResourceResult] {
	h.t.Helper()
	server, ok := h.server.(tfprotov6.ProviderServerWithListResource) //nolint:staticcheck // how terraform-plugin-go v0.31 finds list resources
	if !ok {
		h.t.Fatal("the provider server serves no list resources")
	}
	typ := h.ListResourceType(typeName)
	config := h.DynamicValue(typ, h.Value(typ, configAttrs))
	RequireNoErrors(h.t, "ValidateListResourceConfig", h.ValidateListResource(typeName, configAttrs), nil)
	stream, err := server.ListResource(h.t.Context(), &tfprotov6.ListResourceRequest{
		TypeName: typeName, Config: config, Limit: limit, IncludeResource: includeResource,
	})
	if err != nil {
		h.t.Fatalf("ListResource: %v", err)
	}
	return stream.Results
}

// ValidateListResource validates a list resource's configuration, as
// `terraform query` does first, and returns the diagnostics.
func (h *ProtocolHarness) ValidateListResource(typeName string, configAttrs map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	h.t.Helper()
	server, ok := h.server.(tfprotov6.ProviderServerWithListResource) //nolint:staticcheck // how terraform-plugin-go v0.31 finds list resources
	if !ok {
		h.t.Fatal("the provider server serves no list resources")
	}
	typ := h.ListResourceType(typeName)
	resp, err := server.ValidateListResourceConfig(h.t.Context(), &tfprotov6.ValidateListResourceConfigRequest{
		TypeName: typeName, Config: h.DynamicValue(typ, h.Value(typ, configAttrs)),
	})
	if err != nil {
		h.t.Fatalf("ValidateListResourceConfig: %v", err)
	}
	return resp.Diagnostics
}

// ListAll collects every result of a list resource's stream.
func (h *ProtocolHarness) ListAll(typeName string, configAttrs map[string]tftypes.Value, limit int64, includeResource bool) []tfprotov6.ListResourceResult {
	h.t.Helper()
	return slices.Collect(h.ListResource(typeName, configAttrs, limit, includeResource))
}

// ActionEvents is what an InvokeAction stream sent: its progress messages
// in order, and the diagnostics of its completed event.
type ActionEvents struct {
	Progress    []string
	Diagnostics []*tfprotov6.Diagnostic
	Completed   bool
}

// InvokeAction invokes an action as `terraform apply -invoke` or an
// action_trigger does, with the given configuration attributes, and
// collects its event stream. onProgress, when not nil, is called with each
// progress message as it arrives, while the action waits for the stream
// to go on (tests advance the emulator's clock there).
func (h *ProtocolHarness) InvokeAction(ctx context.Context, typeName string, configAttrs map[string]tftypes.Value, onProgress func(string)) ActionEvents {
	h.t.Helper()
	server, ok := h.server.(tfprotov6.ProviderServerWithActions) //nolint:staticcheck // how terraform-plugin-go v0.31 finds actions
	if !ok {
		h.t.Fatal("the provider server serves no actions")
	}
	typ := h.ActionType(typeName)
	config := h.DynamicValue(typ, h.Value(typ, configAttrs))
	validated, err := server.ValidateActionConfig(ctx, &tfprotov6.ValidateActionConfigRequest{ActionType: typeName, Config: config})
	if err != nil {
		h.t.Fatalf("ValidateActionConfig: %v", err)
	}
	if HasErrorDiagnostic(validated.Diagnostics) {
		// Terraform stops here; the test judges the diagnostics.
		return ActionEvents{Diagnostics: validated.Diagnostics, Completed: true}
	}
	stream, err := server.InvokeAction(ctx, &tfprotov6.InvokeActionRequest{ActionType: typeName, Config: config})
	if err != nil {
		h.t.Fatalf("InvokeAction: %v", err)
	}
	var events ActionEvents
	for event := range stream.Events {
		if events.Completed {
			h.t.Fatalf("InvokeAction sent %T after its completed event", event.Type)
		}
		switch e := event.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			events.Progress = append(events.Progress, e.Message)
			if onProgress != nil {
				onProgress(e.Message)
			}
		case tfprotov6.CompletedInvokeActionEventType:
			events.Diagnostics, events.Completed = e.Diagnostics, true
		default:
			h.t.Fatalf("InvokeAction sent an unknown event %T", event.Type)
		}
	}
	if !events.Completed {
		h.t.Fatal("InvokeAction's stream ended without a completed event")
	}
	return events
}

// ResourceType is the object type of a managed resource's state and config.
func (h *ProtocolHarness) ResourceType(typeName string) tftypes.Object {
	return h.schemaType("resource", h.schemas.ResourceSchemas[typeName], typeName)
}

// ListResourceType is the object type of a list resource's config.
func (h *ProtocolHarness) ListResourceType(typeName string) tftypes.Object {
	return h.schemaType("list resource", h.schemas.ListResourceSchemas[typeName], typeName)
}

// ActionType is the object type of an action's config.
func (h *ProtocolHarness) ActionType(typeName string) tftypes.Object {
	s, ok := h.schemas.ActionSchemas[typeName]
	if !ok {
		h.t.Fatalf("the provider has no action %s", typeName)
	}
	return h.schemaType("action", s.Schema, typeName)
}

func (h *ProtocolHarness) schemaType(kind string, s *tfprotov6.Schema, typeName string) tftypes.Object {
	if s == nil {
		h.t.Fatalf("the provider has no %s %s", kind, typeName)
	}
	return objectType(h.t, s.ValueType())
}

// IdentityType is the object type of the identity of the resource
// typeName.
func (h *ProtocolHarness) IdentityType(typeName string) tftypes.Object {
	s, ok := h.identities.IdentitySchemas[typeName]
	if !ok {
		h.t.Fatalf("resource %s has no identity schema", typeName)
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

// Value is an object of typ with the given attributes and every other
// attribute null, as in a configuration that leaves them out.
func (h *ProtocolHarness) Value(typ tftypes.Type, attrs map[string]tftypes.Value) tftypes.Value {
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

// DynamicValue encodes v of type typ as Terraform sends values.
func (h *ProtocolHarness) DynamicValue(typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	h.t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		h.t.Fatalf("encoding %s: %v", v, err)
	}
	return &dv
}

// Attributes decodes an object value of typ into its attributes.
func (h *ProtocolHarness) Attributes(typ tftypes.Type, dv *tfprotov6.DynamicValue) map[string]tftypes.Value {
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

// IdentityValue is the value of a returned identity, nil when there is
// none (Attributes then fails the test).
func IdentityValue(identity *tfprotov6.ResourceIdentityData) *tfprotov6.DynamicValue {
	if identity == nil {
		return nil
	}
	return identity.IdentityData
}

// StringAttribute is the string value of attrs[name], failing the test when
// it is missing, null or not a string.
func StringAttribute(t *testing.T, attrs map[string]tftypes.Value, name string) string {
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

// RequireNoErrors fails the test on a transport error or an error
// diagnostic of rpc.
func RequireNoErrors(t *testing.T, rpc string, diags []*tfprotov6.Diagnostic, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", rpc, err)
	}
	if HasErrorDiagnostic(diags) {
		t.Fatalf("%s returned errors:\n%s", rpc, DiagnosticsText(diags))
	}
}

// HasErrorDiagnostic reports whether diags hold an error.
func HasErrorDiagnostic(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// DiagnosticsText renders diagnostics one a line, for messages and for
// matching with ErrorText.
func DiagnosticsText(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Severity.String() + ": " + d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

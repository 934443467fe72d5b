package provider

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// endpointValidator applies the client's endpoint rule at plan time.
type endpointValidator struct{}

func (endpointValidator) Description(context.Context) string {
	return "an https URL of the gateway host, or http to a loopback host"
}

func (v endpointValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (endpointValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := enos.ValidateEndpoint(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid endpoint", err.Error())
	}
}

// durationBetweenValidator checks a Go duration, the string of a
// timetypes.GoDuration, against bounds. Its message names the bounds, also
// for a string that is no duration at all.
type durationBetweenValidator struct {
	min, max time.Duration
}

// durationBetween accepts a Go duration within [minimum, maximum].
//
//nolint:unparam // each duration attribute states both of its bounds
func durationBetween(minimum, maximum time.Duration) durationBetweenValidator {
	return durationBetweenValidator{min: minimum, max: maximum}
}

func (v durationBetweenValidator) Description(context.Context) string {
	return fmt.Sprintf("a Go duration from %s to %s, such as 10s", v.min, v.max)
}

func (v durationBetweenValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v durationBetweenValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.min || d > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not %s.", req.ConfigValue.ValueString(), v.Description(context.Background())))
	}
}

// The trigger times the service can name a run after: run ids carry the
// trigger time in the server's zone with a four-digit year (SERVICE.md
// §4.5), and it is sent in epoch milliseconds, so a day inside both ends
// keeps every zone's year in range.
var (
	earliestTriggerTime = time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)
	latestTriggerTime   = time.Date(9999, 12, 30, 23, 59, 59, 0, time.UTC)
)

// checkTriggerTime says why t cannot be a run's trigger time, or "". The
// plan-time validator and the trigger itself (for a time unknown at plan)
// share it.
func checkTriggerTime(t time.Time) string {
	if t.Before(earliestTriggerTime) || t.After(latestTriggerTime) {
		return fmt.Sprintf("%s is outside the trigger times the service can name a run after: use a time from %s to %s "+
			"(run ids carry the trigger time with a four-digit year in the service's zone, and it is sent in epoch milliseconds).",
			t.Format(time.RFC3339), earliestTriggerTime.Format(time.RFC3339), latestTriggerTime.Format(time.RFC3339))
	}
	return ""
}

// triggerTimeValidator applies checkTriggerTime at plan time.
type triggerTimeValidator struct{}

func (triggerTimeValidator) Description(context.Context) string {
	return fmt.Sprintf("an RFC 3339 time from %s to %s", earliestTriggerTime.Format(time.RFC3339), latestTriggerTime.Format(time.RFC3339))
}

func (v triggerTimeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (triggerTimeValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	// A string that is no RFC 3339 time is the custom type's error.
	if t, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err == nil {
		if why := checkTriggerTime(t); why != "" {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid trigger_time", why)
		}
	}
}

// Limits on trigger parameters. The service documents none; these keep one
// configuration from sending megabytes per run, and keep invisible control
// characters out of the console and the logs.
const (
	maxParameters          = 1000
	maxParameterValueBytes = 64 << 10
)

// parameterMapValidator checks a parameter map's size, keys and values.
type parameterMapValidator struct{}

func (parameterMapValidator) Description(context.Context) string {
	return fmt.Sprintf("at most %d parameters with non-empty keys, values of at most 64 KiB, valid UTF-8, and no control characters but tab, newline and carriage return", maxParameters)
}

func (v parameterMapValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (parameterMapValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elements := req.ConfigValue.Elements()
	if len(elements) > maxParameters {
		resp.Diagnostics.AddAttributeError(req.Path, "Too many parameters",
			fmt.Sprintf("%s has %d entries; a run takes at most %d parameters.", req.Path, len(elements), maxParameters))
		return
	}
	for key, element := range elements {
		at := req.Path.AtMapKey(key)
		if key == "" {
			resp.Diagnostics.AddAttributeError(at, "Empty parameter name", fmt.Sprintf("%s has an entry with an empty key; every parameter needs a name.", req.Path))
		}
		if !utf8.ValidString(key) {
			resp.Diagnostics.AddAttributeError(at, "Invalid parameter name",
				fmt.Sprintf("The key %q in %s is not valid UTF-8 (a byte of another encoding, such as Latin-1). The service would store it as U+FFFD; write it in UTF-8.", key, req.Path))
		}
		if r, bad := controlCharacter(key, ""); bad {
			resp.Diagnostics.AddAttributeError(at, "Invalid parameter name", fmt.Sprintf("The key %q in %s contains the control character %U.", key, req.Path, r))
		}
		value, ok := element.(types.String)
		if ok && value.IsNull() {
			resp.Diagnostics.AddAttributeError(at, "Null parameter value",
				fmt.Sprintf("The value of %q in %s is null; the service takes text values only. Give it a value (\"\" sends an empty one), or leave the key out.", key, req.Path))
		}
		if !ok || value.IsNull() || value.IsUnknown() {
			continue
		}
		s := value.ValueString()
		if !utf8.ValidString(s) {
			// The value is not shown: it may be write-only.
			resp.Diagnostics.AddAttributeError(at, "Invalid parameter value",
				fmt.Sprintf("The value of %q in %s is not valid UTF-8 (a byte of another encoding, such as Latin-1 from a shell or file). The service would store each such byte as U+FFFD, not as given; pass the value in UTF-8.", key, req.Path))
		}
		if len(s) > maxParameterValueBytes {
			resp.Diagnostics.AddAttributeError(at, "Parameter value too long",
				fmt.Sprintf("The value of %q in %s is %d bytes; the limit is 64 KiB (%d bytes).", key, req.Path, len(s), maxParameterValueBytes))
		}
		if r, bad := controlCharacter(s, "\t\n\r"); bad {
			resp.Diagnostics.AddAttributeError(at, "Invalid parameter value",
				fmt.Sprintf("The value of %q in %s contains the control character %U; only tab, newline and carriage return are allowed.", key, req.Path, r))
		}
	}
}

// controlCharacter returns the first control character of s that is not
// in allowed.
func controlCharacter(s, allowed string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) && !strings.ContainsRune(allowed, r) {
			return r, true
		}
	}
	return 0, false
}

// validateKnownValues runs the validators of attrs on the values of config.
// Terraform validates an action's and a list resource's configuration
// while values from variables may still be unknown, and not again once
// they are known; Invoke and List call this first, so that every check the
// schema states holds, with the same messages, where the value is used.
func validateKnownValues[A interface{ GetType() attr.Type }](ctx context.Context, config tfsdk.Config, attrs map[string]A) diag.Diagnostics {
	var diags diag.Diagnostics
	var raw map[string]tftypes.Value
	if err := config.Raw.As(&raw); err != nil {
		return diags
	}
	for name, a := range attrs {
		rawValue, ok := raw[name]
		if !ok || !rawValue.IsKnown() || rawValue.IsNull() {
			continue
		}
		value, err := a.GetType().ValueFromTerraform(ctx, rawValue)
		if err != nil {
			continue // the decoding of the configuration reports it
		}
		p := path.Root(name)
		switch v := value.(type) {
		case basetypes.StringValuable:
			if validated, ok := any(a).(interface{ StringValidators() []validator.String }); ok {
				s, d := v.ToStringValue(ctx)
				diags.Append(d...)
				for _, check := range validated.StringValidators() {
					resp := &validator.StringResponse{}
					check.ValidateString(ctx, validator.StringRequest{Path: p, PathExpression: p.Expression(), ConfigValue: s, Config: config}, resp)
					diags.Append(resp.Diagnostics...)
				}
			}
		case basetypes.MapValuable:
			if validated, ok := any(a).(interface{ MapValidators() []validator.Map }); ok {
				m, d := v.ToMapValue(ctx)
				diags.Append(d...)
				for _, check := range validated.MapValidators() {
					resp := &validator.MapResponse{}
					check.ValidateMap(ctx, validator.MapRequest{Path: p, PathExpression: p.Expression(), ConfigValue: m, Config: config}, resp)
					diags.Append(resp.Diagnostics...)
				}
			}
		case basetypes.ListValuable:
			if validated, ok := any(a).(interface{ ListValidators() []validator.List }); ok {
				l, d := v.ToListValue(ctx)
				diags.Append(d...)
				for _, check := range validated.ListValidators() {
					resp := &validator.ListResponse{}
					check.ValidateList(ctx, validator.ListRequest{Path: p, PathExpression: p.Expression(), ConfigValue: l, Config: config}, resp)
					diags.Append(resp.Diagnostics...)
				}
			}
		case basetypes.Int64Valuable:
			if validated, ok := any(a).(interface{ Int64Validators() []validator.Int64 }); ok {
				n, d := v.ToInt64Value(ctx)
				diags.Append(d...)
				for _, check := range validated.Int64Validators() {
					resp := &validator.Int64Response{}
					check.ValidateInt64(ctx, validator.Int64Request{Path: p, PathExpression: p.Expression(), ConfigValue: n, Config: config}, resp)
					diags.Append(resp.Diagnostics...)
				}
			}
		}
	}
	return diags
}

package provider

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

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

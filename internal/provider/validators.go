package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

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

// durationValidator checks a Go duration string against bounds.
type durationValidator struct {
	min, max time.Duration
}

// positiveDuration accepts any Go duration above zero.
func positiveDuration() durationValidator { return durationValidator{min: time.Nanosecond} }

// durationBetween accepts a Go duration within [min, max].
func durationBetween(minimum, maximum time.Duration) durationValidator {
	return durationValidator{min: minimum, max: maximum}
}

func (v durationValidator) Description(context.Context) string {
	if v.max == 0 {
		return "a Go duration greater than zero, such as 30s or 5m"
	}
	return fmt.Sprintf("a Go duration from %s to %s, such as 10s", v.min, v.max)
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.min || (v.max != 0 && d > v.max) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not %s.", req.ConfigValue.ValueString(), v.Description(context.Background())))
	}
}

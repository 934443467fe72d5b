package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// configuredData extracts the provider's data in a resource's or data
// source's Configure. It is nil while the provider configuration is still
// unknown (during plan); callers then skip API calls.
func configuredData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	data, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. Please report this issue to the provider developers.", raw))
		return nil
	}
	return data
}

// configuredClient returns the client, or nil with an error when the
// provider has no configuration yet (it depends on values known only after
// apply).
func configuredClient(data *providerData, diags *diag.Diagnostics) *enos.Client {
	if data == nil {
		diags.AddError("Provider not configured",
			"The dataflow provider's configuration depends on values that are known only after apply, so it cannot call the service yet. "+
				"Configure the provider with values known at plan time.")
		return nil
	}
	return data.client
}

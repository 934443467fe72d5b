package acctest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// StartEmulator starts an emulator on a random loopback port for one test.
func StartEmulator(t *testing.T, opts emulator.Options) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(opts)
	if err != nil {
		t.Fatalf("starting emulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// ProviderBlock points the provider at srv with the default seed's
// credentials and max_retries = 2, plus settings (lines such as
// `request_timeout = "3s"`, or another max_retries). Tests set it explicitly
// rather than through ENOS_* variables so that they can run in parallel.
func ProviderBlock(srv *emulator.Server, settings ...string) string {
	if !slices.ContainsFunc(settings, func(s string) bool { return strings.HasPrefix(s, "max_retries") }) {
		settings = append(settings, "max_retries = 2")
	}
	return fmt.Sprintf(`
provider "dataflow" {
  endpoint   = %q
  access_key = %q
  secret_key = %q
  org_id     = %q
  user_id    = %q
  %s
}
`, srv.URL, emulator.DefaultAccessKey, emulator.DefaultSecretKey, emulator.DefaultOrgID, emulator.DefaultUserID, strings.Join(settings, "\n  "))
}

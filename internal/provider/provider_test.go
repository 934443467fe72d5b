package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// testAccProtoV6ProviderFactories runs the provider in-process for the real
// terraform CLI driven by terraform-plugin-testing.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"dataflow": protocol6Factory(New("test")()),
}

// protocol6Factory serves p as the provider binary does.
func protocol6Factory(p provider.Provider) func() (tfprotov6.ProviderServer, error) {
	server := NewProtocol6Server(p)
	return func() (tfprotov6.ProviderServer, error) { return server(), nil }
}

// newProtocolHarness serves the provider in process, configured against
// srv.
func newProtocolHarness(t *testing.T, srv *emulator.Server) *acctest.ProtocolHarness {
	t.Helper()
	h := startProtocolHarness(t, New("test")())
	h.Configure(srv)
	return h
}

// startProtocolHarness serves p through the same protocol-6 server as the
// binary, unconfigured.
func startProtocolHarness(t *testing.T, p provider.Provider) *acctest.ProtocolHarness {
	t.Helper()
	return acctest.StartProtocolHarness(t, NewProtocol6Server(p)())
}

func TestMain(m *testing.M) {
	// The CLIs the tests run skip HashiCorp's version check: it needs a
	// network.
	_ = os.Setenv("CHECKPOINT_DISABLE", "1")
	code := m.Run()
	acctest.RemoveProviderBuild()
	os.Exit(code)
}

// flowReadConfig reads flow 1001 with the given provider block, so
// that terraform configures the provider.
func flowReadConfig(providerBlock string) string {
	return providerBlock + `
data "dataflow_flow" "test" {
  flow_id = 1001
}
`
}

func TestProvider_missingSecretKeyNamesAttributeAndVariable(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	t.Setenv("ENOS_SECRET_KEY", "")
	acctest.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: flowReadConfig(fmt.Sprintf(`
provider "dataflow" {
  endpoint   = %q
  access_key = %q
  org_id     = %q
  user_id    = %q
}
`, srv.URL, emulator.DefaultAccessKey, emulator.DefaultOrgID, emulator.DefaultUserID)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile("(?s)Missing secret_key.*`secret_key`.*ENOS_SECRET_KEY"),
		}},
	})
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the emulator received %d requests from a provider with no secret key, want 0", n)
	}
}

func TestProvider_environmentVariables(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	t.Setenv("ENOS_ENDPOINT", srv.URL)
	t.Setenv("ENOS_ACCESS_KEY", emulator.DefaultAccessKey)
	t.Setenv("ENOS_SECRET_KEY", emulator.DefaultSecretKey)
	t.Setenv("ENOS_ORG_ID", emulator.DefaultOrgID)
	t.Setenv("ENOS_USER_ID", emulator.DefaultUserID)
	t.Setenv("ENOS_API_VERSION", "v2.1")
	acctest.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: flowReadConfig(`provider "dataflow" {}`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.dataflow_flow.test", tfjsonpath.New("flow_id"), knownvalue.Int64Exact(1001)),
			},
		}},
	})
	var v21 int
	for _, r := range srv.Requests() {
		if r.Operation == "flows/get" && r.APIVersion == "v2.1" {
			v21++
		}
	}
	if v21 == 0 {
		t.Errorf("no flows/get request reached the v2.1 API; requests: %+v", srv.Requests())
	}
}

func TestProvider_invalidSettingsFailAtPlan(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	credentials := fmt.Sprintf(`
  access_key = %q
  secret_key = %q
  org_id     = %q
  user_id    = %q
`, emulator.DefaultAccessKey, emulator.DefaultSecretKey, emulator.DefaultOrgID, emulator.DefaultUserID)
	cases := []struct {
		name     string
		settings string
		want     string
	}{
		{"http to a remote host", `endpoint = "http://apim.example.com"`, `(?s)Invalid endpoint.*plain http to a non-loopback host`},
		{"endpoint with a path", `endpoint = "https://apim.example.com/dataflow"`, `(?s)Invalid endpoint.*without path`},
		{"unknown api version", fmt.Sprintf("endpoint = %q\napi_version = \"v3\"", srv.URL), `(?s)api_version.*v2\.0.*v2\.1`},
		{"request timeout not a duration", fmt.Sprintf("endpoint = %q\nrequest_timeout = \"30\"", srv.URL), `(?s)Invalid duration.*request_timeout|(?s)request_timeout.*duration`},
		{"request timeout too short", fmt.Sprintf("endpoint = %q\nrequest_timeout = \"1ns\"", srv.URL), `(?s)Invalid duration.*request_timeout.*"1ns" is not a Go duration from 1s to 10m0s`},
		{"too many retries", fmt.Sprintf("endpoint = %q\nmax_retries = 11", srv.URL), `(?s)max_retries.*between 0 and 10`},
		{"zero rate limit", fmt.Sprintf("endpoint = %q\nmax_requests_per_second = 0", srv.URL), `(?s)max_requests_per_second.*at least 0\.1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acctest.ParallelUnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      flowReadConfig("provider \"dataflow\" {\n" + credentials + tc.settings + "\n}\n"),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

package main

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// triggerScript is what a user without the provider runs per trigger.
//
//go:embed trigger.sh
var triggerScript string

// plainConfig is N terraform_data resources: terraform's own cost.
func plainConfig(n int) string {
	return fmt.Sprintf(`resource "terraform_data" "run" {
  count = %d
  input = count.index
}
`, n)
}

// providerSettings shape the provider block.
type providerSettings struct {
	endpoint             string
	maxRequestsPerSecond float64 // 0: unset
	skipFlowValidation   bool
}

func providerBlock(s providerSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, `terraform {
  required_providers {
    dataflow = { source = "enos-community/dataflow" }
  }
}

provider "dataflow" {
  endpoint   = %q
  access_key = %q
  secret_key = %q
  org_id     = %q
  user_id    = %q
`, s.endpoint, emulator.DefaultAccessKey, emulator.DefaultSecretKey, emulator.DefaultOrgID, emulator.DefaultUserID)
	if s.maxRequestsPerSecond > 0 {
		fmt.Fprintf(&b, "  max_requests_per_second = %g\n", s.maxRequestsPerSecond)
	}
	if s.skipFlowValidation {
		b.WriteString("  skip_flow_validation = true\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// triggerSettings shape the N dataflow_flow_trigger resources, one per flow.
type triggerSettings struct {
	n            int
	wait         bool
	pollInterval string        // "" leaves the default
	flows        int           // 0: one flow per trigger; else trigger i runs flow i mod flows
	spread       time.Duration // with flows: trigger times from spreadStart, evenly over this span per flow
}

// spreadStart is the first trigger time of a spread configuration.
const spreadStart = "2024-01-01T00:00:00Z"

func triggerConfig(p providerSettings, t triggerSettings) string {
	var b strings.Builder
	b.WriteString(providerBlock(p))
	flow := "count.index"
	if t.flows > 0 {
		flow = fmt.Sprintf("count.index %% %d", t.flows)
	}
	fmt.Fprintf(&b, `
resource "dataflow_flow_trigger" "run" {
  count               = %d
  flow_id             = %d + %s
  parameters          = { bizdate = %q }
  wait_for_completion = %t
`, t.n, firstBenchFlowID, flow, bizdate, t.wait)
	if t.flows > 0 {
		perFlow := (t.n + t.flows - 1) / t.flows
		fmt.Fprintf(&b, "  trigger_time        = timeadd(%q, \"${floor(count.index / %d) * %d}s\")\n",
			spreadStart, t.flows, int(t.spread.Seconds())/perFlow)
	}
	if t.pollInterval != "" {
		fmt.Fprintf(&b, "  poll_interval       = %q\n", t.pollInterval)
	}
	b.WriteString("}\n")
	return b.String()
}

// scriptConfig is N terraform_data resources whose local-exec runs
// trigger.sh (written next to the configuration), one flow each.
func scriptConfig(endpoint string, n int) string {
	return fmt.Sprintf(`resource "terraform_data" "run" {
  count = %d

  provisioner "local-exec" {
    command = "bash ${path.module}/trigger.sh"
    environment = {
      ENDPOINT   = %q
      ACCESS_KEY = %q
      SECRET_KEY = %q
      ORG_ID     = %q
      USER_ID    = %q
      FLOW_ID    = %d + count.index
      BIZDATE    = %q
    }
  }
}
`, n, endpoint, emulator.DefaultAccessKey, emulator.DefaultSecretKey, emulator.DefaultOrgID, emulator.DefaultUserID,
		firstBenchFlowID, bizdate)
}

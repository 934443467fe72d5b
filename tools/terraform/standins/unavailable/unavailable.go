// Package unavailable is the one backend behind every stand-in of this test
// CLI: its path lies inside Terraform's module so that it may use Terraform's
// internal packages, and every call fails with the same clear error.
package unavailable

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/configs/configschema"
	"github.com/hashicorp/terraform/internal/states/statemgr"
	"github.com/hashicorp/terraform/internal/tfdiags"
)

// New returns the backend that stands in for the named one.
func New(name string) backend.Backend { return unavailable(name) }

type unavailable string

func (b unavailable) diags() tfdiags.Diagnostics {
	return tfdiags.Diagnostics{}.Append(tfdiags.Sourceless(tfdiags.Error,
		fmt.Sprintf("The %q backend is not built into this test CLI", string(b)),
		"This Terraform is built by terraform-provider-dataflow for its own tests (tools/terraform) and has the local backend only. Use a released Terraform for other backends."))
}

func (b unavailable) ConfigSchema() *configschema.Block { return &configschema.Block{} }

func (b unavailable) PrepareConfig(v cty.Value) (cty.Value, tfdiags.Diagnostics) { return v, b.diags() }

func (b unavailable) Configure(cty.Value) tfdiags.Diagnostics { return b.diags() }

func (b unavailable) StateMgr(string) (statemgr.Full, tfdiags.Diagnostics) { return nil, b.diags() }

func (b unavailable) DeleteWorkspace(string, bool) tfdiags.Diagnostics { return b.diags() }

func (b unavailable) Workspaces() ([]string, tfdiags.Diagnostics) { return nil, b.diags() }

// Package azure stands in for Terraform's azurerm backend (see tools/terraform/README.md).
package azure

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves azurerm out.
func New() backend.Backend { return unavailable.New("azurerm") }

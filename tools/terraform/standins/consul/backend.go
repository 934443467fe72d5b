// Package consul stands in for Terraform's consul backend (see tools/terraform/README.md).
package consul

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves consul out.
func New() backend.Backend { return unavailable.New("consul") }

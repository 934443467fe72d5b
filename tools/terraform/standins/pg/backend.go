// Package pg stands in for Terraform's pg backend (see tools/terraform/README.md).
package pg

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves pg out.
func New() backend.Backend { return unavailable.New("pg") }

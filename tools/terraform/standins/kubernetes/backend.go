// Package kubernetes stands in for Terraform's kubernetes backend (see tools/terraform/README.md).
package kubernetes

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves kubernetes out.
func New() backend.Backend { return unavailable.New("kubernetes") }

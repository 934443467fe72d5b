// Package cos stands in for Terraform's cos backend (see tools/terraform/README.md).
package cos

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves cos out.
func New() backend.Backend { return unavailable.New("cos") }

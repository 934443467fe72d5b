// Package oci stands in for Terraform's oci backend (see tools/terraform/README.md).
package oci

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves oci out.
func New() backend.Backend { return unavailable.New("oci") }

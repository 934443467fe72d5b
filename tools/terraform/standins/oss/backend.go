// Package oss stands in for Terraform's oss backend (see tools/terraform/README.md).
package oss

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves oss out.
func New() backend.Backend { return unavailable.New("oss") }

// Package gcs stands in for Terraform's gcs backend (see tools/terraform/README.md).
package gcs

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves gcs out.
func New() backend.Backend { return unavailable.New("gcs") }

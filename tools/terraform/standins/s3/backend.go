// Package s3 stands in for Terraform's s3 backend (see tools/terraform/README.md).
package s3

import (
	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/unavailable"
)

// New returns a backend whose every call fails: this test CLI leaves s3 out.
func New() backend.Backend { return unavailable.New("s3") }

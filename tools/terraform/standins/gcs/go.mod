module github.com/hashicorp/terraform/internal/backend/remote-state/gcs

go 1.26.4

require (
	github.com/hashicorp/terraform v1.16.2
	github.com/hashicorp/terraform/internal/backend/remote-state/unavailable v0.0.0
)

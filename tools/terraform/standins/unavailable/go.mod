module github.com/hashicorp/terraform/internal/backend/remote-state/unavailable

go 1.26.4

require github.com/hashicorp/terraform v1.16.2

terraform {
  required_providers {
    dataflow = {
      source = "enos-community/dataflow"
    }
  }
}

# ephemeral keeps the secret out of saved plan files as well as state
# (Terraform 1.10 and OpenTofu 1.11 and later; the provider needs 1.11).
variable "enos_secret_key" {
  description = "Secret key of the EnOS application (or leave unset and export ENOS_SECRET_KEY)."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

provider "dataflow" {
  endpoint   = "https://apim-ppe1.envisioniot.com" # your environment's API gateway
  access_key = "a1b2c3d4-0000-0000-0000-000000000000"
  secret_key = var.enos_secret_key
  org_id     = "o15000000000001"
  user_id    = "u15426865866571"

  # Optional: the v2.1 "Batch Processing Service" path of EnOS 2.1.2 and later.
  api_version = "v2.0"

  # Optional: stay under the gateway's rate limits when many pipelines share one OU.
  max_requests_per_second = 5
}

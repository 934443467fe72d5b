// Package enos is a plain Go client of the EnOS API gateway and its
// Dataflow Batch Service (API v2.0, and the v2.1 "Batch Processing
// Service" variant), as described in SERVICE.md, the project's reference
// of the service.
//
// It gets and caches access tokens, signs every call (package apim),
// decodes the service's envelopes and quirky encodings, retries what is
// safe to repeat, and starts runs so that one request never starts two
// (Client.StartRun). It has no Terraform dependencies.
package enos

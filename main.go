// Command terraform-provider-dataflow is the Terraform provider for the
// Dataflow Batch Service of Envision's EnOS platform.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/enos-community/terraform-provider-dataflow/internal/provider"
)

// version is set by goreleaser through -ldflags "-X main.version=...".
var version = "dev"

//go:generate terraform fmt -recursive ./examples/
//go:generate go tool -modfile=tools/go.mod tfplugindocs generate -provider-name dataflow

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/enos-community/dataflow",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}

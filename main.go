// Command terraform-provider-dataflow is the Terraform provider for the
// Dataflow Batch Service of Envision's EnOS platform.
package main

import (
	"flag"
	"log"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/enos-community/terraform-provider-dataflow/internal/provider"
)

// version is set by goreleaser through -ldflags "-X main.version=...".
var version = "dev"

// The docs need a terraform on PATH that knows actions and list resources
// (1.14 or later): `make generate` puts the pinned one there.
//
//go:generate terraform fmt -recursive ./examples/
//go:generate go tool -modfile=tools/go.mod tfplugindocs generate -provider-name dataflow

func main() {
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	} else {
		silenceDiscardedLogs()
	}
	err := tf6server.Serve("registry.terraform.io/enos-community/dataflow", provider.NewProtocol6Server(provider.New(version)()), opts...)
	if err != nil {
		log.Fatal(err.Error())
	}
}

// gcPercent lets the heap grow to three times the live data between
// collections instead of twice. Nearly everything the framework allocates per
// request is garbage as soon as the request ends, and the live heap stays at a
// few MiB, so this cut the provider's CPU time in a plan of 1000 triggers by
// a fifth for about 7 MiB more peak memory. GOGC, when set, still decides.
const gcPercent = 200

// providerLogLevelVars set the levels of the SDK's loggers and of this
// provider's logger (and its subsystems).
var providerLogLevelVars = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_DATAFLOW"}

// silenceDiscardedLogs turns this process's loggers off when the Terraform
// that launched it discards provider logs: it shows them only when TF_LOG or
// TF_LOG_PROVIDER is set, and passes its environment on. Otherwise the SDK
// logs at TRACE, about 170 KiB of JSON per resource in a plan, which both
// processes encode and decode for nothing: over half of a plan's time.
func silenceDiscardedLogs() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, name := range providerLogLevelVars {
		if err := os.Setenv(name, "OFF"); err != nil {
			log.Fatal(err.Error())
		}
	}
}

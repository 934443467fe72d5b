// Command dataflow-doctor checks, with read-only calls, that the settings
// the provider would use (the ENOS_* environment variables) reach a working
// EnOS tenant: credentials, clock, zone, API versions, the user's flows
// and, with --flow, one flow and its runs. It prints no secret.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

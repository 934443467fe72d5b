package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// shutdownGrace is how long requests in flight may finish after a signal.
const shutdownGrace = 5 * time.Second

// errUsage marks a command line the flag set rejected and already reported.
var errUsage = errors.New("bad usage")

// config is the parsed command line.
type config struct {
	listen   string
	seedPath string
	latency  time.Duration
	faults   []emulator.Fault
	// duplicates answers triggers in a taken slot of flows whose seed sets
	// no duplicateTrigger.
	duplicates emulator.DuplicateTrigger
	// rewriteValues stores sent parameter values trimmed of blanks.
	rewriteValues bool
	requestLog    int      // entries the request log keeps
	apiVersions   []string // versions served; empty: both
	version       bool
}

func parseFlags(args []string, output io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("dataflow-emulator", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8090", "address to serve on")
	fs.StringVar(&cfg.seedPath, "seed", "", "JSON seed file (orgs, users, apps, flows); default: the built-in demo seed")
	fs.DurationVar(&cfg.latency, "latency", 0, "delay added before every answer, e.g. 200ms")
	fs.Func("duplicate-trigger", `how a trigger of a flow in a taken minute (or hour) is answered: "reject" (62102, the default) or "existing" (the existing instance's id, status 0, no new run)`, func(s string) error {
		switch d := emulator.DuplicateTrigger(s); d {
		case emulator.DuplicateReject, emulator.DuplicateAnswerExisting:
			cfg.duplicates = d
			return nil
		}
		return fmt.Errorf("expected %q or %q, got %q", emulator.DuplicateReject, emulator.DuplicateAnswerExisting, s)
	})
	fs.BoolVar(&cfg.rewriteValues, "rewrite-values", false, "store the parameter values of triggers trimmed of leading and trailing blanks, as a service may store a value otherwise than it was sent")
	fs.IntVar(&cfg.requestLog, "request-log", 10000, "how many of the newest requests GET /_emulator/requests keeps")
	fs.Func("api-versions", `the service versions served, comma-separated, as a tenant offers them: "v2.0,v2.1" (the default), "v2.0" or "v2.1"`, func(s string) error {
		cfg.apiVersions = strings.Split(s, ",")
		return nil
	})
	fs.BoolVar(&cfg.version, "version", false, "print the emulator's version and exit")
	fs.Func("fault", "inject a fault, e.g. op=flows/updateAndTrigger,kind=drop-after,count=1 (repeatable)", func(s string) error {
		f, err := emulator.ParseFault(s)
		if err == nil {
			cfg.faults = append(cfg.faults, f)
		}
		return err
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, fmt.Errorf("%w: %v", errUsage, err) // the flag set has printed it with the usage
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.latency < 0 {
		return config{}, fmt.Errorf("--latency must not be negative, got %s", cfg.latency)
	}
	return cfg, nil
}

// run serves until ctx ends, printing the environment for the provider and
// then one line per request to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.version {
		fmt.Fprintln(stdout, "dataflow-emulator", version)
		return nil
	}
	seed := emulator.DefaultSeed()
	if cfg.seedPath != "" {
		if seed, err = emulator.LoadSeed(cfg.seedPath); err != nil {
			return err
		}
	}
	logger := log.New(stdout, "", log.Ltime) // safe for concurrent requests
	srv, err := emulator.Listen(cfg.listen, emulator.Options{Seed: seed, Latency: cfg.latency, Logf: logger.Printf, DuplicateTrigger: cfg.duplicates, RewriteValues: cfg.rewriteValues, RequestLogSize: cfg.requestLog, APIVersions: cfg.apiVersions})
	if err != nil {
		return err
	}
	for _, f := range cfg.faults {
		srv.InjectFault(f)
	}
	if !emulator.LoopbackHost(cfg.listen) {
		fmt.Fprintf(stdout, "# warning: serving on %s, beyond this machine's loopback: whoever reaches it can read the request log "+
			"(parameter values, write-only ones included) and inject faults, and the provider only talks plain http to a loopback host\n", cfg.listen)
	}
	printEnvironment(stdout, srv.URL, seed)
	<-ctx.Done()
	fmt.Fprintln(stdout, "# shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// printEnvironment prints the shell lines that point the provider at the
// emulator, using the seed's first app and a user of its OU.
func printEnvironment(w io.Writer, url string, seed *emulator.Seed) {
	fmt.Fprintf(w, "# EnOS Dataflow emulator on %s (v2.0 and v2.1); Ctrl-C stops it\n", url)
	fmt.Fprintf(w, "export ENOS_ENDPOINT=%s\n", url)
	if len(seed.Apps) == 0 {
		fmt.Fprintln(w, "# the seed has no app, so there are no credentials to print")
		return
	}
	app := seed.Apps[0]
	fmt.Fprintf(w, "export ENOS_ACCESS_KEY=%s ENOS_SECRET_KEY=%s ENOS_ORG_ID=%s\n", app.AccessKey, app.SecretKey, app.OrgID)
	for _, u := range seed.Users {
		if u.OrgID == app.OrgID {
			fmt.Fprintf(w, "export ENOS_USER_ID=%s # %s\n", u.ID, u.Name)
			return
		}
	}
	fmt.Fprintf(w, "# the seed has no user in OU %s\n", app.OrgID)
}

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--listen", "127.0.0.1:9999", "--seed", "s.json", "--latency", "250ms",
		"--fault", "op=flows/updateAndTrigger,kind=drop-after,count=1", "--fault", "kind=throttle,rate=0.1", "--duplicate-trigger", "existing", "--rewrite-values"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.listen != "127.0.0.1:9999" || cfg.seedPath != "s.json" || cfg.latency != 250*time.Millisecond || len(cfg.faults) != 2 ||
		cfg.duplicates != emulator.DuplicateAnswerExisting || !cfg.rewriteValues ||
		cfg.faults[0] != (emulator.Fault{Operation: "flows/updateAndTrigger", Kind: emulator.FaultDropAfterAct, Count: 1}) {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg, err := parseFlags(nil, io.Discard); err != nil || cfg.listen != "127.0.0.1:8090" || cfg.seedPath != "" {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{{"--fault", "kind=boom"}, {"--latency", "-1s"}, {"--latency", "x"}, {"extra"}, {"--nope"}, {"--duplicate-trigger", "overwrite"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestRunPrintsVersion(t *testing.T) {
	released := version
	t.Cleanup(func() { version = released })
	for _, v := range []string{"dev", "0.1.0"} { // the default, and what goreleaser's ldflags set
		version = v
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // were it to serve, it would print the environment and stop at once
		var out strings.Builder
		if err := run(ctx, []string{"--version"}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if want := "dataflow-emulator " + v + "\n"; out.String() != want {
			t.Errorf("--version printed %q, want %q", out.String(), want)
		}
	}
}

// startRun runs the program until the returned cancel is called; its
// output arrives line by line on the channel, closed when run returns.
func startRun(t *testing.T, args ...string) (<-chan string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, w, io.Discard)
		w.Close()
	}()
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	stop := func() error {
		cancel()
		for range lines { // drain until run returns and closes the pipe
		}
		return <-done
	}
	return lines, stop
}

func TestRunPrintsEnvironmentAndRequests(t *testing.T) {
	lines, stop := startRun(t, "--listen", "127.0.0.1:0", "--fault", "op=time/getTimeZone,kind=http-503")
	next := func() string {
		line, ok := <-lines
		if !ok {
			t.Fatal("output ended")
		}
		return line
	}
	var endpoint string
	var exports []string
	for len(exports) < 3 {
		line := next()
		if strings.HasPrefix(line, "export ") {
			exports = append(exports, line)
		}
		if v, ok := strings.CutPrefix(line, "export ENOS_ENDPOINT="); ok {
			endpoint = v
		}
	}
	all := strings.Join(exports, "\n")
	for _, want := range []string{"ENOS_ACCESS_KEY=" + emulator.DefaultAccessKey, "ENOS_SECRET_KEY=" + emulator.DefaultSecretKey,
		"ENOS_ORG_ID=" + emulator.DefaultOrgID, "ENOS_USER_ID=" + emulator.DefaultUserID} {
		if !strings.Contains(all, want) {
			t.Errorf("exports lack %s:\n%s", want, all)
		}
	}
	resp, err := http.Get(endpoint + "/dataflow-batch-service/v2.0/time?action=getTimeZone")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("the --fault was not applied: HTTP %d", resp.StatusCode)
	}
	if line := next(); !strings.Contains(line, "GET v2.0 time/getTimeZone -> HTTP 503") || !strings.Contains(line, "fault http-503") {
		t.Errorf("request line = %q", line)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunRejectsBadSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad-seed.json")
	if err := os.WriteFile(path, []byte(`{"flows":[{"id":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--seed", path}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "flows.id") {
		t.Errorf("error = %v, want it to name the file and the field", err)
	}
}

func TestRunWithExampleSeed(t *testing.T) {
	lines, stop := startRun(t, "--listen", "127.0.0.1:0", "--seed", "../../internal/emulator/testdata/seed.example.json")
	found := false
	for line := range lines {
		if found = strings.Contains(line, "ENOS_ACCESS_KEY=my-access-key"); found || strings.Contains(line, "ENOS_USER_ID") {
			break
		}
	}
	if !found {
		t.Error("the seed's app was not printed")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

package provider

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// TestInterruptedApplyKeepsTheRunInState sends SIGINT to terraform while it
// waits for a long run, and checks that the state records the run: the next
// apply must not start another one behind the user's back.
func TestInterruptedApplyKeepsTheRunInState(t *testing.T) {
	skipWithoutCLI(t)
	t.Parallel()
	srv := startTestEmulator(t, emulator.Options{})
	dir := t.TempDir()
	config := requiredProvidersBlock + testProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id       = 1004
  poll_interval = "1s"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := terraformCLI(t, builtProviderCLIConfig(t), dir, nil, "apply", "-auto-approve", "-no-color")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Interrupt once the provider is waiting: the run exists and its status
	// has been read.
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for !statusRead(srv) {
		select {
		case err := <-exited:
			t.Fatalf("terraform ended before it waited for the run: %v\n%s", err, output.Bytes())
		case <-ticker.C:
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Fatalf("an interrupted apply exited 0:\n%s", output.Bytes())
	}

	id, err := onlyInstanceID(srv)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("no state after the interrupted apply: %v\n%s", err, output.Bytes())
	}
	if ids := stateFileTriggerIDs(t, raw); !slices.Equal(ids, []string{id}) {
		t.Fatalf("state holds runs %v, the service started %s\n%s", ids, id, output.Bytes())
	}
}

// statusRead reports whether the provider has read a run's status.
func statusRead(srv *emulator.Server) bool {
	return len(srv.Instances()) > 0 && (srv.Count("flowInstances/get") > 0 || srv.Count("flowInstances/search") > 0)
}

// stateFileTriggerIDs lists the ids of the trigger resources in a state file.
func stateFileTriggerIDs(t *testing.T, raw []byte) []string {
	t.Helper()
	var state struct {
		Resources []struct {
			Type      string
			Instances []struct {
				Attributes struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatalf("state file: %v", err)
	}
	var ids []string
	for _, r := range state.Resources {
		if r.Type != "dataflow_flow_trigger" {
			continue
		}
		for _, in := range r.Instances {
			ids = append(ids, in.Attributes.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

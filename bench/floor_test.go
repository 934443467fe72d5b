package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// floorTestTask is how long the test's runs take: they must finish before
// the provider's state is compared, as in the floor rows.
const floorTestTask = 300 * time.Millisecond

// The floor is like-for-like only if its state is as large as the
// provider's: the same attributes set, and about as many bytes of values,
// for the same configuration once the provider's run has finished and a
// refresh-only apply has recorded it (the state the floor rows plan).
func TestFloorStateIsAsLargeAsTheProviders(t *testing.T) {
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("needs terraform on PATH")
	}
	ws, err := newWorkspace("..")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })

	srv, err := startService(0, 1, floorTestTask)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir, err := ws.newDir(rowName{"provider", 1}, providerFiles(1, true)(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.apply(dir, parallelism); err != nil {
		t.Fatal(err)
	}
	if err := (&bench{ws: ws}).finishAndRecord(&triggerRun{dir: dir, srv: srv}, 1, finishLimit); err != nil {
		t.Fatal(err)
	}
	provider := stateValues(t, ws, dir)

	floorDir, err := ws.newFloorDir(rowName{"floor", 1}, providerFiles(1, true)("http://127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.apply(floorDir, parallelism); err != nil {
		t.Fatal(err)
	}
	floor := stateValues(t, ws, floorDir)

	for name, value := range provider {
		if string(value) != "null" && string(floor[name]) == "null" {
			t.Errorf("%s: the provider's state holds %s, the floor's null", name, value)
		}
	}
	// Terraform 1.12 and later keep the identity in state; older ones keep none.
	if providerIdentity, floorIdentity := stateIdentity(t, dir), stateIdentity(t, floorDir); len(floorIdentity) != len(providerIdentity) {
		t.Errorf("identity: the floor's %v, the provider's %v", floorIdentity, providerIdentity)
	}
	providerSize, floorSize := jsonSize(t, provider), jsonSize(t, floor)
	if ratio := float64(floorSize) / float64(providerSize); ratio < 0.9 || ratio > 1.1 {
		t.Errorf("state values of one resource: floor %d bytes, provider %d (ratio %.2f, want within 10%%)\nfloor:    %s\nprovider: %s",
			floorSize, providerSize, ratio, mustJSON(t, floor), mustJSON(t, provider))
	}
}

// stateValues are the attribute values of the one dataflow_flow_trigger in
// the state of dir, as `terraform show -json` gives them.
func stateValues(t *testing.T, ws *workspace, dir string) map[string]json.RawMessage {
	t.Helper()
	_, out, err := ws.terraform(dir, "show", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Type   string
					Values map[string]json.RawMessage
				}
			} `json:"root_module"`
		}
	}
	if err := json.Unmarshal([]byte(out), &state); err != nil {
		t.Fatalf("terraform show -json in %s: %v\n%s", dir, err, out)
	}
	for _, r := range state.Values.RootModule.Resources {
		if r.Type == "dataflow_flow_trigger" {
			return r.Values
		}
	}
	t.Fatalf("no dataflow_flow_trigger in the state of %s:\n%s", dir, out)
	return nil
}

// stateIdentity is the identity of the one resource instance in the state
// file of dir (nil when the CLI keeps none).
func stateIdentity(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Instances []struct {
				Identity map[string]any `json:"identity"`
			}
		}
	}
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	if len(state.Resources) != 1 || len(state.Resources[0].Instances) != 1 {
		t.Fatalf("%s: expected one resource instance:\n%s", dir, data)
	}
	return state.Resources[0].Instances[0].Identity
}

func jsonSize(t *testing.T, values map[string]json.RawMessage) int { return len(mustJSON(t, values)) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

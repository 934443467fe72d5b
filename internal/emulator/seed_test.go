package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleSeedLoads(t *testing.T) {
	s, err := LoadSeed("testdata/seed.example.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Seed: s})
	if err != nil {
		t.Fatal(err)
	}
	f := e.flows[2001]
	if f == nil || time.Duration(f.spec.Tasks[1].Duration) != 90*time.Second || f.spec.Tasks[1].ID == 0 ||
		f.spec.Tasks[1].Outcome != OutcomeFail || !e.users["u15426865866572"].Locked {
		t.Errorf("loaded flow 2001 = %+v", f)
	}
}

func TestDefaultSeedIsValid(t *testing.T) {
	if err := DefaultSeed().validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSeedErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"syntax", "{\n  \"orgs\": [,]\n}", []string{"line 2", "expected valid JSON"}},
		{"empty", "", []string{"expected a JSON object"}},
		{"unknown field", `{"orgs":[],"colour":"red"}`, []string{`unknown field "colour"`}},
		{"wrong type", `{"flows":[{"id":"one"}]}`, []string{"flows.id", "expected an integer", "string"}},
		{"bad duration", `{"orgs":[{"id":"o"}],"flows":[{"id":1,"name":"f","orgId":"o","owners":["a"],"tasks":[{"name":"t","duration":"soon"}]}]}`,
			[]string{"flows.tasks.duration", `expected a duration string such as "3s"`, `"soon"`}},
		{"bad outcome", `{"orgs":[{"id":"o"}],"flows":[{"id":1,"name":"f","orgId":"o","owners":["a"],"tasks":[{"name":"t","duration":"1s","outcome":"boom"}]}]}`,
			[]string{"flows[0].tasks[0].outcome", `one of "success"`, `"boom"`}},
		{"unknown org", `{"users":[{"id":"u","orgId":"nope","name":"x"}]}`, []string{"users[0].orgId", "the id of an org"}},
		{"missing app secret", `{"orgs":[{"id":"o"}],"apps":[{"accessKey":"k","orgId":"o"}]}`, []string{"apps[0].secretKey", "non-empty"}},
		{"duplicate flow", `{"orgs":[{"id":"o"}],"flows":[{"id":1,"name":"f","orgId":"o","owners":["a"]},{"id":1,"name":"g","orgId":"o","owners":["a"]}]}`,
			[]string{"flows[1].id", "not used by another flow"}},
		{"no owner", `{"orgs":[{"id":"o"}],"flows":[{"id":1,"name":"f","orgId":"o"}]}`, []string{"flows[0].owners", "at least one"}},
		{"bad zone", `{"timeZone":"CET"}`, []string{"timeZone", "GMT+8"}},
		{"bad duplicate behaviour", `{"orgs":[{"id":"o"}],"flows":[{"id":1,"name":"f","orgId":"o","owners":["a"],"duplicateTrigger":"overwrite"}]}`,
			[]string{"flows[0].duplicateTrigger", `"reject" or "existing"`, `"overwrite"`}},
		{"bad id format", `{"orgs":[{"id":"o"}],"flows":[{"id":1,"name":"f","orgId":"o","owners":["a"],"instanceIdFormat":"second"}]}`,
			[]string{"flows[0].instanceIdFormat", `"minute" or "hour"`, `"second"`}},
		{"trailing data", `{} {}`, []string{"single JSON object"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSeed(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := LoadSeed(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestAdminRoutes(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	adminDo := func(method, path, body string) int {
		req, err := http.NewRequest(method, env.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, _, err := rawDo(env.http, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := adminDo(http.MethodPost, "/_emulator/flows",
		`{"id":3001,"name":"added","orgId":"o15000000000001","owners":["alice"],"tasks":[{"name":"t","duration":"1s"}]}`); code != 201 {
		t.Fatalf("add flow: HTTP %d", code)
	}
	if code := adminDo(http.MethodPost, "/_emulator/flows", `{"id":3001,"name":"again","orgId":"o15000000000001","owners":["alice"]}`); code != 400 {
		t.Errorf("duplicate flow: HTTP %d", code)
	}
	if code := adminDo(http.MethodPost, "/_emulator/faults", `{"operation":"flows/updateAndTrigger","kind":"internal","count":1}`); code != 201 {
		t.Fatalf("inject: HTTP %d", code)
	}
	if code := adminDo(http.MethodPost, "/_emulator/faults", `{"kind":"nope"}`); code != 400 {
		t.Errorf("bad kind: HTTP %d", code)
	}
	wantCode(t, alice.trigger(3001, env.clock.Now(), "[]"), 62109, "Server internal exception")
	wantCode(t, alice.trigger(3001, env.clock.Now(), "[]"), 0, "")
	if code := adminDo(http.MethodPost, "/_emulator/faults", `{"kind":"http-502"}`); code != 201 {
		t.Fatal(code)
	}
	if code := adminDo(http.MethodDelete, "/_emulator/faults", ""); code != 204 {
		t.Fatal(code)
	}
	wantCode(t, alice.get("flows", "getMyFlow", nil), 0, "")

	var body []byte
	for _, path := range []string{"/_emulator/instances", "/_emulator/requests"} {
		req, _ := http.NewRequest(http.MethodGet, env.srv.URL+path, nil)
		_, b, err := rawDo(env.http, req)
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, b...)
	}
	for _, want := range []string{`"id":"3001-20240305102000"`, `"operation":"flows/updateAndTrigger"`, `"body":"{\"flowId\":3001`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("admin output lacks %s", want)
		}
	}
	if code := adminDo(http.MethodPost, "/_emulator/reset-requests", ""); code != 204 || len(env.srv.Requests()) != 0 {
		t.Errorf("reset: HTTP %d, %d left", code, len(env.srv.Requests()))
	}
	if code := adminDo(http.MethodGet, "/_emulator/nothing", ""); code != 404 {
		t.Errorf("unknown route: HTTP %d", code)
	}
}

// The admin routes refuse what a web page could send (a form post, a
// request to a rebound DNS name) and show no parameter value or token
// encryption.
func TestAdminRoutesAreLocalAndRedacted(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	wantCode(t, alice.trigger(1001, env.clock.Now(), `[{"key":"password","value":"s3cret-wo"}]`), 0, "")
	send := func(method, path, contentType, host, body string) (int, string) {
		req, _ := http.NewRequest(method, env.srv.URL+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if host != "" {
			req.Host = host
		}
		resp, b, err := rawDo(env.http, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if code, _ := send(http.MethodPost, "/_emulator/faults", "text/plain", "", `{"kind":"http-502"}`); code != http.StatusUnsupportedMediaType {
		t.Errorf("a text/plain post: HTTP %d, want 415", code)
	}
	for _, host := range []string{"attacker.example:8090", "10.0.0.5"} {
		if code, _ := send(http.MethodGet, "/_emulator/requests", "", host, ""); code != http.StatusForbidden {
			t.Errorf("Host %s: HTTP %d, want 403", host, code)
		}
	}
	if code, _ := send(http.MethodGet, "/_emulator/instances", "", "localhost:1", ""); code != http.StatusOK {
		t.Errorf("Host localhost: HTTP %d, want 200", code)
	}
	for _, path := range []string{"/_emulator/requests", "/_emulator/instances"} {
		code, body := send(http.MethodGet, path, "", "", "")
		if code != http.StatusOK || strings.Contains(body, "s3cret-wo") || !strings.Contains(body, "password") || !strings.Contains(body, "(redacted)") {
			t.Errorf("%s: HTTP %d, the value shown or the key missing:\n%s", path, code, body)
		}
	}
	_, body := send(http.MethodGet, "/_emulator/requests", "", "", "")
	encryptions := 0
	for _, r := range env.srv.Requests() {
		var token struct{ Encryption string }
		if r.Operation == "token/get" && json.Unmarshal(r.Body, &token) == nil && token.Encryption != "" {
			encryptions++
			if strings.Contains(body, token.Encryption) {
				t.Error("the request log shows a token encryption")
			}
		}
	}
	if encryptions == 0 {
		t.Fatal("no token request with an encryption was logged")
	}
}

// Tasks without an id get the first free ids from the flow's id times 100
// on, skipping those other flows hold; a flow of 30,000 tasks is added as
// one pass over them.
func TestAddFlowAssignsFreeTaskIDs(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tasks := make([]TaskSpec, 30000)
	for i := range tasks {
		tasks[i] = TaskSpec{Name: fmt.Sprintf("t%d", i), Duration: Duration(time.Second)}
	}
	tasks[1].ID = 400002 // taken by the flow itself: skipped by the others
	if err := e.AddFlow(FlowSpec{ID: 4000, Name: "wide", OrgID: DefaultOrgID, Owners: []string{"alice"}, Tasks: tasks}); err != nil {
		t.Fatal(err)
	}
	got := e.flows[4000].spec.Tasks
	if got[0].ID != 400000 || got[1].ID != 400002 || got[2].ID != 400001 || got[3].ID != 400003 || got[29999].ID != 429999 {
		t.Errorf("ids %d %d %d %d … %d", got[0].ID, got[1].ID, got[2].ID, got[3].ID, got[29999].ID)
	}
	seen := map[int64]bool{}
	for _, task := range got {
		if seen[task.ID] {
			t.Fatalf("task id %d given twice", task.ID)
		}
		seen[task.ID] = true
	}
}

// Loopback hosts, with or without a port, and the addresses that are not
// (every interface, another host): the admin routes' Host check and the
// program's warning for a --listen beyond loopback.
func TestLoopbackHost(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8090": true, "[::1]:8090": true, "localhost:8090": true, "127.5.6.7:1": true, "LOCALHOST.": true, "127.0.0.1": true,
		"0.0.0.0:8090": false, ":8090": false, "10.0.0.5:8090": false, "[::]:8090": false, "example.com:80": false,
	} {
		if got := LoopbackHost(addr); got != want {
			t.Errorf("LoopbackHost(%q) = %v, want %v", addr, got, want)
		}
	}
}

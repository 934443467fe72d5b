package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/apim"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// secretRecorder is a pass-through proxy in front of the emulator that
// remembers every credential crossing it: the access tokens issued, the
// signatures and token encryptions received. (The emulator's request log
// keeps no headers and no responses.)
type secretRecorder struct {
	target string
	mu     sync.Mutex
	seen   map[string]string // secret value -> what it is
}

func (p *secretRecorder) remember(value, kind string) {
	if value == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[value] = kind
}

func (p *secretRecorder) secrets() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.seen))
	for k, v := range p.seen {
		out[k] = v
	}
	return out
}

// proxy returns the emulator proxy that records what crosses it.
func (p *secretRecorder) proxy() *acctest.EmulatorProxy {
	return &acctest.EmulatorProxy{
		Target: p.target,
		OnRequest: func(r *http.Request, body []byte) {
			p.remember(r.Header.Get(apim.HeaderAccessToken), "access token")
			p.remember(r.Header.Get(apim.HeaderSignature), "signature")
			var tokenRequest struct{ Encryption string }
			if r.URL.Path == apim.TokenPath && json.Unmarshal(body, &tokenRequest) == nil {
				p.remember(tokenRequest.Encryption, "token encryption")
			}
		},
		OnAnswer: func(r *http.Request, answer []byte) []byte {
			var tokenAnswer struct {
				Data struct{ AccessToken string } `json:"data"`
			}
			if r.URL.Path == apim.TokenPath && json.Unmarshal(answer, &tokenAnswer) == nil {
				p.remember(tokenAnswer.Data.AccessToken, "access token")
			}
			return answer
		},
	}
}

// TestSecretsStayOutOfLogsStateAndPlan runs the real terraform CLI with
// TF_LOG=trace through plan -out, show -json, apply and destroy, and looks
// for every credential and the write-only value everywhere Terraform writes.
func TestSecretsStayOutOfLogsStateAndPlan(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	recorder := &secretRecorder{target: srv.URL, seen: map[string]string{}}
	proxy := httptest.NewServer(recorder.proxy())
	t.Cleanup(proxy.Close)

	const writeOnlyValue = "wo-value-7f3a9c"
	config := acctest.RequiredProvidersBlock + `
provider "dataflow" {
  endpoint   = "` + proxy.URL + `"
  access_key = "` + emulator.DefaultAccessKey + `"
  org_id     = "` + emulator.DefaultOrgID + `"
  user_id    = "` + emulator.DefaultUserID + `"
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "dataflow_flow_trigger" "test" {
  flow_id               = 1001
  parameters            = { bizdate = "20240101" }
  parameters_wo         = { db_password = var.db_password }
  parameters_wo_version = 1
  poll_interval         = "1s"
  on_destroy            = "cancel"
}
`
	dir := acctest.ConfigDir(t, config)
	logPath := filepath.Join(dir, "terraform.log")
	env := []string{
		"TF_LOG=trace", "TF_LOG_PATH=" + logPath,
		"ENOS_SECRET_KEY=" + emulator.DefaultSecretKey, "TF_VAR_db_password=" + writeOnlyValue,
	}
	cliConfig := acctest.CLIConfig(t)
	var output bytes.Buffer
	run := func(args ...string) []byte {
		t.Helper()
		cmd := acctest.Command(t, cliConfig, dir, env, append(args, "-no-color")...)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		cmd.Stderr = &output
		if err := cmd.Run(); err != nil {
			t.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), output.Bytes())
		}
		output.Write(stdout.Bytes())
		return stdout.Bytes()
	}
	run("plan", "-out=tfplan")
	planJSON := run("show", "-json", "tfplan")
	run("apply", "tfplan")
	state, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	run("destroy", "-auto-approve")
	logText, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}

	// The checks below must not pass vacuously.
	secrets := recorder.secrets()
	kinds := map[string]bool{}
	for _, kind := range secrets {
		kinds[kind] = true
	}
	for _, kind := range []string{"access token", "signature", "token encryption"} {
		if !kinds[kind] {
			t.Fatalf("the proxy saw no %s; seen: %v", kind, kinds)
		}
	}
	if !bytes.Contains(logText, []byte("EnOS call succeeded")) {
		t.Fatal("the trace log holds none of the provider's EnOS call logs")
	}
	if bodies := triggerBodies(t, srv); len(bodies) != 1 || !slices.Contains(bodies[0].Parameters, enos.Parameter{Key: "db_password", Value: writeOnlyValue}) {
		t.Fatalf("the trigger did not carry the write-only value: %+v", bodies)
	}

	secrets[emulator.DefaultSecretKey] = "secret key"
	places := map[string][]byte{
		"the trace log":          logText,
		"the state":              state,
		"terraform show -json":   planJSON,
		"terraform's output":     output.Bytes(),
		"the plan file contents": acctest.PlanFileContents(t, filepath.Join(dir, "tfplan")),
	}
	for place, text := range places {
		for secret, kind := range secrets {
			if bytes.Contains(text, []byte(secret)) {
				t.Errorf("%s contains a %s", place, kind)
			}
		}
	}
	for _, place := range []string{"the state", "terraform show -json", "the plan file contents"} {
		if bytes.Contains(places[place], []byte(writeOnlyValue)) {
			t.Errorf("%s contains the write-only parameter value", place)
		}
	}
}

// A token reply the provider cannot read (here its msg is a number, as a
// broken gateway might send) fails the plan without quoting the reply:
// the token it carries is in neither the output nor the trace log.
func TestSecretsStayOutOfAFailingTokenExchange(t *testing.T) {
	t.Parallel()
	srv := acctest.StartEmulator(t, emulator.Options{})
	recorder := &secretRecorder{target: srv.URL, seen: map[string]string{}}
	proxy := recorder.proxy()
	record := proxy.OnAnswer
	proxy.OnAnswer = func(r *http.Request, answer []byte) []byte {
		answer = record(r, answer)
		if r.URL.Path == apim.TokenPath {
			return regexp.MustCompile(`"msg":"[^"]*"`).ReplaceAll(answer, []byte(`"msg":1`))
		}
		return answer
	}
	server := httptest.NewServer(proxy)
	t.Cleanup(server.Close)

	config := acctest.RequiredProvidersBlock + strings.Replace(acctest.ProviderBlock(srv, "max_retries = 0"), srv.URL, server.URL, 1) + `
data "dataflow_flow" "daily" {
  flow_id = 1001
}
`
	dir := acctest.ConfigDir(t, config)
	logPath := filepath.Join(dir, "terraform.log")
	out, err := acctest.Command(t, acctest.CLIConfig(t), dir, []string{"TF_LOG=trace", "TF_LOG_PATH=" + logPath}, "plan", "-no-color").CombinedOutput()
	if err == nil || !acctest.ErrorText("token/get", "malformed response").Match(out) {
		t.Fatalf("want the plan to fail on the token reply (err %v):\n%s", err, out)
	}
	logText, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for secret, kind := range recorder.secrets() {
		if kind != "access token" {
			continue
		}
		tokens++
		if bytes.Contains(out, []byte(secret)) || bytes.Contains(logText, []byte(secret)) {
			t.Errorf("the output or the trace log holds the access token of the unreadable reply")
		}
	}
	if tokens == 0 {
		t.Fatal("the proxy saw no token reply")
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// doctor runs the check against srv with the default seed's settings,
// changed by overrides, and returns its exit code and report.
func doctor(t *testing.T, srv *emulator.Server, overrides map[string]string, args ...string) (int, []result, string) {
	t.Helper()
	env := map[string]string{
		"ENOS_ENDPOINT": srv.URL, "ENOS_ACCESS_KEY": emulator.DefaultAccessKey, "ENOS_SECRET_KEY": emulator.DefaultSecretKey,
		"ENOS_ORG_ID": emulator.DefaultOrgID, "ENOS_USER_ID": emulator.DefaultUserID,
	}
	for k, v := range overrides {
		env[k] = v
	}
	var jsonOut, table, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"--json"}, args...), func(k string) string { return env[k] }, &jsonOut, &stderr)
	var report []result
	if err := json.Unmarshal(jsonOut.Bytes(), &report); err != nil {
		t.Fatalf("--json output: %v\n%s%s", err, jsonOut.Bytes(), stderr.Bytes())
	}
	if again := run(t.Context(), args, func(k string) string { return env[k] }, &table, &stderr); again != code {
		t.Fatalf("exit code %d with --json, %d without", code, again)
	}
	text := jsonOut.String() + table.String() + stderr.String()
	if strings.Contains(text, emulator.DefaultSecretKey) {
		t.Fatalf("the report shows the secret key:\n%s", text)
	}
	return code, report, text
}

func statusOf(report []result, check string) (string, string) {
	for _, r := range report {
		if r.Check == check {
			return r.Status, r.Detail
		}
	}
	return "", ""
}

// A healthy emulator: every check passes, and a flow with hour ids shows so
// in its runs.
func TestDoctorHealthy(t *testing.T) {
	srv, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	for h := range 3 {
		if _, err := srv.StartRun(1007, time.Now().Add(-time.Duration(h+1)*time.Hour), nil); err != nil {
			t.Fatal(err)
		}
	}
	code, report, text := doctor(t, srv, nil, "--flow", "1007")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	for _, check := range []string{"settings", "token and signature", "clock", "time zone", "api_version v2.0", "api_version v2.1", "the user's flows", "flow 1007", "flow 1007 runs", "run search"} {
		if status, _ := statusOf(report, check); status != "ok" {
			t.Errorf("%s: %q, want ok\n%s", check, status, text)
		}
	}
	if _, detail := statusOf(report, "flow 1007 runs"); !strings.Contains(detail, "name the trigger hour") {
		t.Errorf("the runs of an hour-id flow: %q", detail)
	}
	// The emulator pages v2.0 from 0 and v2.1 from 1 (SERVICE.md §3.8).
	if _, detail := statusOf(report, "run search"); !strings.Contains(detail, "camelCase") || !strings.Contains(detail, "pageNo counts from 0") {
		t.Errorf("run search under v2.0: %q", detail)
	}
	_, report21, _ := doctor(t, srv, map[string]string{"ENOS_API_VERSION": "v2.1"}, "--flow", "1007")
	if _, detail := statusOf(report21, "run search"); !strings.Contains(detail, "pageNo counts from 1") {
		t.Errorf("run search under v2.1: %q", detail)
	}
	if _, detail := statusOf(report, "time zone"); !strings.Contains(detail, "GMT+8") {
		t.Errorf("time zone: %q", detail)
	}
}

// Each broken setting or account is a failed line with the provider's own
// explanation, and a failing exit code.
func TestDoctorFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(*emulator.Server)
		overrides map[string]string
		args      []string
		check     string
		want      string
	}{
		{name: "bad secret key", overrides: map[string]string{"ENOS_SECRET_KEY": "wrong"}, check: "token and signature", want: "secret"},
		{name: "skewed clock", setup: func(s *emulator.Server) {
			s.InjectFault(emulator.Fault{Kind: emulator.FaultClockSkew, Skew: 20 * time.Minute})
		}, check: "token and signature", want: "clock"},
		// A locked user may still read: the flow's check says so.
		{name: "locked user", setup: func(s *emulator.Server) { _ = s.SetUserLocked(emulator.DefaultUserID, true) }, args: []string{"--flow", "1001"}, check: "flow 1001", want: "user is locked"},
		{name: "locked flow", args: []string{"--flow", "1006"}, check: "flow 1006", want: "locked"},
		{name: "unknown flow", args: []string{"--flow", "9999"}, check: "flow 9999", want: "no flow 9999"},
		{name: "missing settings", overrides: map[string]string{"ENOS_ENDPOINT": ""}, check: "settings", want: "ENOS_ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := emulator.Start(emulator.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			if tc.setup != nil {
				tc.setup(srv)
			}
			code, report, text := doctor(t, srv, tc.overrides, tc.args...)
			status, detail := statusOf(report, tc.check)
			if code != 1 || status != "failed" || !strings.Contains(strings.ToLower(detail), strings.ToLower(tc.want)) {
				t.Errorf("exit %d, %s %q: %q; want failed, saying %q\n%s", code, tc.check, status, detail, tc.want, text)
			}
		})
	}
}

// A tenant that offers only v2.1: with ENOS_API_VERSION=v2.1 the check
// passes and says that v2.0 does not answer.
func TestDoctorOnlyV21(t *testing.T) {
	srv, err := emulator.Start(emulator.Options{APIVersions: []string{"v2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	code, report, text := doctor(t, srv, map[string]string{"ENOS_API_VERSION": "v2.1"})
	v20, _ := statusOf(report, "api_version v2.0")
	v21, _ := statusOf(report, "api_version v2.1")
	if code != 0 || v20 != "warning" || v21 != "ok" {
		t.Errorf("exit %d, v2.0 %q, v2.1 %q; want 0, warning, ok\n%s", code, v20, v21, text)
	}
	code, report, text = doctor(t, srv, nil) // the default, v2.0
	if status, _ := statusOf(report, "token and signature"); code != 1 || status != "failed" {
		t.Errorf("v2.0 against a v2.1-only tenant: exit %d, %q\n%s", code, status, text)
	}
}

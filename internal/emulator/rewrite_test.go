package emulator

import (
	"testing"
	"time"
)

// A flow that rewrites values stores the sent ones trimmed of blanks, per
// flow (Go setter, admin route) or for every flow (Options); the instance
// read and the snapshot both show the stored value. Other flows store
// values as sent.
func TestRewriteValuesStoresTrimmedValues(t *testing.T) {
	trigger := func(t *testing.T, env *testEnv, flowID int64, at time.Time) map[string]string {
		t.Helper()
		a := env.alice().trigger(flowID, at, `[{"key":"bizdate","value":"  20240101 "}]`)
		if a.Code != 0 {
			t.Fatalf("trigger: %+v", a)
		}
		for _, in := range env.srv.Instances() {
			if in.FlowID == flowID && in.TriggerTime.Equal(at) {
				return in.Parameters
			}
		}
		t.Fatalf("no run of flow %d at %s", flowID, at)
		return nil
	}
	t.Run("per flow", func(t *testing.T) {
		env := startEnv(t, Options{})
		if err := env.srv.SetRewriteValues(1001, true); err != nil {
			t.Fatal(err)
		}
		now := env.clock.Now()
		if got := trigger(t, env, 1001, now)["bizdate"]; got != "20240101" {
			t.Errorf("rewriting flow stored %q, want the trimmed value", got)
		}
		if got := trigger(t, env, 1004, now)["bizdate"]; got != "  20240101 " {
			t.Errorf("other flow stored %q, want the value as sent", got)
		}
		if a := env.post("/_emulator/rewrite-values", `{"flowId":1001,"on":false}`); a.HTTP != 200 {
			t.Fatalf("admin route: %+v", a)
		}
		if got := trigger(t, env, 1001, now.Add(time.Minute))["bizdate"]; got != "  20240101 " {
			t.Errorf("after the admin route turned it off, stored %q", got)
		}
		if a := env.post("/_emulator/rewrite-values", `{"flowId":999,"on":true}`); a.HTTP != 404 {
			t.Errorf("admin route for an unknown flow: %+v", a)
		}
		if err := env.srv.SetRewriteValues(999, true); err == nil {
			t.Error("SetRewriteValues accepted an unknown flow")
		}
	})
	t.Run("every flow", func(t *testing.T) {
		env := startEnv(t, Options{RewriteValues: true})
		if got := trigger(t, env, 1004, env.clock.Now())["bizdate"]; got != "20240101" {
			t.Errorf("stored %q, want the trimmed value", got)
		}
	})
}

// Invalid UTF-8 in a sent value arrives as U+FFFD, as with any service that
// decodes JSON: the stored value is not the bytes sent.
func TestInvalidUTF8ValueIsStoredAsReplacementCharacter(t *testing.T) {
	env := startEnv(t, Options{})
	now := env.clock.Now()
	if a := env.alice().trigger(1001, now, "[{\"key\":\"city\",\"value\":\"M\xfcnchen\"}]"); a.Code != 0 {
		t.Fatalf("trigger: %+v", a)
	}
	if got := env.srv.Instances()[0].Parameters["city"]; got != "M\uFFFDnchen" {
		t.Errorf("stored %q, want M\\uFFFDnchen", got)
	}
}

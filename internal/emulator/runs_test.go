package emulator

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestErrorCodesAndCheckOrder(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	bob := env.as("u15426865866572")
	now := env.clock.Now()
	tests := []struct {
		name string
		c    *caller
		body string
		code int
		msg  string
	}{
		{"user in another org", func() *caller { c := env.alice(); c.orgID = "o-other"; return c }(),
			`{"flowId":1001,"triggerTime":1,"parameters":[]}`, 62101, "userId does not exist, or it does not match to orgId."},
		{"unknown user", env.as("u-nobody"), `garbage`, 62101, ""},
		{"malformed body", alice, `{"flowId":"x"}`, 62102, "Invalid request body."},
		{"parameters missing", alice, fmt.Sprintf(`{"flowId":1001,"triggerTime":%d}`, now.UnixMilli()), 62102, "Invalid request body."},
		{"parameters a number", alice, fmt.Sprintf(`{"flowId":1001,"triggerTime":%d,"parameters":7}`, now.UnixMilli()), 62102, "Invalid request body."},
		{"unknown flow", alice, `{"flowId":999,"triggerTime":1,"parameters":[]}`, 62102, "Flow not found: 999"},
		{"not the owner", alice, `{"flowId":1005,"triggerTime":1,"parameters":[]}`, 62103, "User has no privilege."},
		{"locked flow", alice, `{"flowId":1006,"triggerTime":1,"parameters":[]}`, 62103, "Workflow is locked"},
		{"no task", alice, `{"flowId":1003,"triggerTime":1,"parameters":[]}`, 62104, "This workflow has no task. You cannot trigger it."},
		{"bob may trigger his flow", bob, fmt.Sprintf(`{"flowId":1005,"triggerTime":%d,"parameters":[]}`, now.UnixMilli()), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.c.post("flows", "updateAndTrigger", tt.body), tt.code, tt.msg)
		})
	}
	if err := env.srv.SetUserLocked(DefaultUserID, true); err != nil {
		t.Fatal(err)
	}
	// Existence is checked before the lock, and the lock before the no-task rule.
	wantCode(t, alice.post("flows", "updateAndTrigger", `{"flowId":999,"triggerTime":1,"parameters":[]}`), 62102, "")
	wantCode(t, alice.post("flows", "updateAndTrigger", `{"flowId":1003,"triggerTime":1,"parameters":[]}`), 62105, "Your account has been locked")
	wantCode(t, alice.post("flows", "enable", `{"flowId":1001}`), 62105, "")
	wantCode(t, alice.get("flows", "get", url.Values{"flowId": {"1001"}}), 0, "") // reads stay allowed
	if got := len(env.srv.Instances()); got != 1 {
		t.Errorf("%d instances started, want only bob's", got)
	}
}

func TestRunLifecycleAndParameters(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	at := env.clock.Now().Add(-30 * time.Second) // 10:20:00 in GMT+8
	a := alice.trigger(1001, at, `[{"key":"region","value":"eu"},{"key":"extra","value":"1"}]`)
	wantCode(t, a, 0, "")
	id := "1001-20240305102000"
	if !strings.Contains(string(a.Data), id) {
		t.Fatalf("data = %s, want instance %s", a.Data, id)
	}
	in, g := alice.instance(id)
	if in.Status != 6 || in.StatusDesc != "READY" || in.StartTime != nil || in.EndTime != nil {
		t.Errorf("just triggered: %+v", in)
	}
	if in.Parameters != `[{"key":"bizdate","value":""},{"key":"region","value":"eu"},{"key":"extra","value":"1"}]` {
		t.Errorf("parameters = %s", in.Parameters)
	}
	if *in.TriggerTime != "2024-03-05 10:20:00" || in.CalDt != "2024-03-04" || in.Timestamp != "2024-03-05 10:20:30.0" {
		t.Errorf("times: trigger %s calDt %s timestamp %s", *in.TriggerTime, in.CalDt, in.Timestamp)
	}
	if in.IsCancelled != nil || in.Owner != ";alice;" || !in.HasEditPri {
		t.Errorf("get item: %+v", in)
	}
	if g.InstID != id || len(g.Tasks) != 2 || g.Tasks[0].TaskInstID != "100101-20240305102000" {
		t.Errorf("graph = %+v", g)
	}

	steps := []struct {
		advance time.Duration
		status  int
		tasks   []string
	}{
		{time.Second, 2, []string{"RUNNING", "INIT"}},
		{time.Second, 2, []string{"SUCCESS", "RUNNING"}},
		{time.Second, 1, []string{"SUCCESS", "SUCCESS"}},
	}
	for _, s := range steps {
		env.clock.Advance(s.advance)
		in, _ := alice.instance(id)
		if in.Status != s.status || !slices.Equal(alice.taskStatuses(id), s.tasks) {
			t.Fatalf("at %s: status %d tasks %v, want %d %v", env.clock.Now(), in.Status, alice.taskStatuses(id), s.status, s.tasks)
		}
	}
	in, _ = alice.instance(id)
	if *in.StartTime != "2024-03-05 10:20:31" || *in.EndTime != "2024-03-05 10:20:33" {
		t.Errorf("start %v end %v", *in.StartTime, *in.EndTime)
	}
	got := env.srv.Instances()
	if len(got) != 1 || got[0].Status != 1 || got[0].Parameters["region"] != "eu" || !got[0].TriggerTime.Equal(at) {
		t.Errorf("Instances() = %+v", got)
	}
}

func TestParameterForms(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	forms := []string{
		`[{"key":"region","value":"us"}]`,
		`"[{\"key\":\"region\",\"value\":\"us\"}]"`,
		`{"region":"us"}`,
	}
	for i, form := range forms {
		wantCode(t, alice.trigger(1001, env.clock.Now().Add(time.Duration(i)*time.Minute), form), 0, "")
	}
	got := env.srv.Instances()
	if len(got) != len(forms) {
		t.Fatalf("%d instances, want %d", len(got), len(forms))
	}
	for _, in := range got {
		if in.Parameters["region"] != "us" || in.Parameters["bizdate"] != "" || len(in.Parameters) != 2 {
			t.Errorf("%s: parameters %v", in.ID, in.Parameters)
		}
	}
	for _, bad := range []string{`"not json"`, `[{"key":"a","value":1}]`, `[{"value":"x"}]`, `true`, `null`} {
		wantCode(t, alice.trigger(1001, env.clock.Now().Add(time.Hour), bad), 62102, "Invalid request body.")
	}
}

func TestFailAndTimeoutOutcomes(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	failed := alice.mustTrigger(1002, env.clock.Now())
	if err := env.srv.SetTask(1001, "extract", 5*time.Second, OutcomeTimeout); err != nil {
		t.Fatal(err)
	}
	timedOut := alice.mustTrigger(1001, env.clock.Now())
	env.clock.Advance(10 * time.Second)
	if in, _ := alice.instance(failed); in.Status != -1 || in.StatusDesc != "FAIL" ||
		!slices.Equal(alice.taskStatuses(failed), []string{"SUCCESS", "FAIL"}) {
		t.Errorf("1002: %d %v", in.Status, alice.taskStatuses(failed))
	}
	if in, _ := alice.instance(timedOut); in.Status != 7 || !slices.Equal(alice.taskStatuses(timedOut), []string{"TIMEOUT", "NONE"}) {
		t.Errorf("timeout: %d %v", in.Status, alice.taskStatuses(timedOut))
	}
	if err := env.srv.SetTask(1001, "nope", time.Second, OutcomeFail); err == nil {
		t.Error("SetTask of an unknown task succeeded")
	}
}

func TestFutureTriggerWaitsInInit(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	id := alice.mustTrigger(1001, env.clock.Now().Add(10*time.Minute))
	if in, _ := alice.instance(id); in.Status != 0 || in.StartTime != nil {
		t.Fatalf("future run: %+v", in)
	}
	env.clock.Advance(10*time.Minute + time.Second)
	if in, _ := alice.instance(id); in.Status != 2 {
		t.Fatalf("after its trigger time: status %d, want RUNNING", in.Status)
	}
}

func TestQueueingOneRunPerFlow(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	now := env.clock.Now()
	first := alice.mustTrigger(1004, now)                    // runs 5 minutes
	late := alice.mustTrigger(1004, now.Add(-1*time.Minute)) // queued
	early := alice.mustTrigger(1004, now.Add(-2*time.Minute))
	other := alice.mustTrigger(1001, now) // another flow is not blocked
	status := func(id string) int { in, _ := alice.instance(id); return in.Status }
	if status(first) != 6 || status(late) != 5 || status(early) != 5 || status(other) != 6 {
		t.Fatalf("statuses %d %d %d %d, want READY WAIT WAIT READY", status(first), status(late), status(early), status(other))
	}
	env.clock.Advance(5*time.Minute + time.Second) // first ends
	if status(first) != 1 || status(early) != 6 || status(late) != 5 {
		t.Fatalf("after the first: %d %d %d; the earlier trigger time must go first", status(first), status(early), status(late))
	}
	env.clock.Advance(5*time.Minute + time.Second)
	if status(early) != 1 || status(late) != 6 {
		t.Fatalf("after the second: %d %d", status(early), status(late))
	}
	firstIn, _ := alice.instance(first)
	earlyIn, _ := alice.instance(early)
	if *firstIn.EndTime != "2024-03-05 10:25:31" || *earlyIn.StartTime != "2024-03-05 10:25:32" {
		t.Errorf("first ended %s, next started %s", *firstIn.EndTime, *earlyIn.StartTime)
	}
}

func TestCancel(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	now := env.clock.Now()
	running := alice.mustTrigger(1004, now)
	queued := alice.mustTrigger(1004, now.Add(-time.Minute))
	env.clock.Advance(90 * time.Second) // inside the second task
	cancel := func(c *caller, id string) answer {
		return c.post("flowInstances", "cancel", fmt.Sprintf(`{"flowInstId":%q}`, id))
	}
	wantCode(t, cancel(env.as("u15426865866572"), running), 62103, "User has no privilege.")
	wantCode(t, cancel(alice, running), 0, "")
	in, _ := alice.instance(running)
	if in.Status != 8 || in.EndTime == nil || *in.EndTime != "2024-03-05 10:22:00" ||
		!slices.Equal(alice.taskStatuses(running), []string{"SUCCESS", "CANCEL"}) {
		t.Fatalf("cancelled: %+v %v", in, alice.taskStatuses(running))
	}
	if in, _ := alice.instance(queued); in.Status != 6 {
		t.Fatalf("the queued run did not take the slot: %d", in.Status)
	}
	wantCode(t, cancel(alice, running), 0, "") // terminal: a no-op
	if in, _ := alice.instance(running); *in.EndTime != "2024-03-05 10:22:00" {
		t.Errorf("a second cancel changed endTime to %s", *in.EndTime)
	}
	wantCode(t, cancel(alice, "1004-19990101000000"), 62102, "Instance not found")
	wantCode(t, alice.post("flowInstances", "cancel", `{}`), 62102, "Invalid request body.")

	// A pending run is cancelled with all its tasks.
	future := alice.mustTrigger(1001, env.clock.Now().Add(time.Hour))
	wantCode(t, cancel(alice, future), 0, "")
	if in, _ := alice.instance(future); in.Status != 8 || in.StartTime != nil ||
		!slices.Equal(alice.taskStatuses(future), []string{"CANCEL", "CANCEL"}) {
		t.Errorf("cancelled future run: %+v", in)
	}
	// A hanging run ends only by cancel.
	if err := env.srv.SetTask(1001, "load", 0, OutcomeHang); err != nil {
		t.Fatal(err)
	}
	hung := alice.mustTrigger(1001, env.clock.Now())
	env.clock.Advance(48 * time.Hour)
	alice.token = env.token()
	if in, _ := alice.instance(hung); in.Status != 2 {
		t.Fatalf("hang: status %d", in.Status)
	}
	wantCode(t, cancel(alice, hung), 0, "")
	if in, _ := alice.instance(hung); in.Status != 8 {
		t.Errorf("cancelled hang: status %d", in.Status)
	}
}

func TestDuplicateTriggerRefused(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	now := env.clock.Now()
	id := alice.mustTrigger(1001, now)
	dup := alice.trigger(1001, now.Truncate(time.Minute).Add(59*time.Second), "[]")
	wantCode(t, dup, 62102, "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.")
	if next := alice.mustTrigger(1001, now.Add(time.Minute)); next == id {
		t.Error("the next minute got the same id")
	}
	if !env.srv.ForgetInstance(id) || env.srv.ForgetInstance(id) {
		t.Fatal("ForgetInstance")
	}
	wantCode(t, alice.get("flowInstances", "get", url.Values{"flowInstId": {id}}), 62102, "Instance not found")
	if again := alice.mustTrigger(1001, now); again != id {
		t.Errorf("after forgetting, got %s", again)
	}
}

func TestGetLog(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	id := alice.mustTrigger(1004, env.clock.Now())
	_, g := alice.instance(id)
	first, second := g.Tasks[0].TaskInstID, g.Tasks[1].TaskInstID
	getLog := func(c *caller, task string, maxLength string) answer {
		q := url.Values{"taskInstId": {task}}
		if maxLength != "" {
			q.Set("maxLength", maxLength)
		}
		return c.get("taskInstances", "getLog", q)
	}
	wantCode(t, getLog(alice, first, ""), 62109, "No log found")
	wantCode(t, getLog(alice.v21(), first, ""), 62102, "Invalid taskInstId or it has no log")
	wantCode(t, getLog(alice, "1-19990101000000", ""), 62102, "Instance not found")
	env.clock.Advance(4 * time.Second) // 3s into the first task
	var d struct {
		Log string `json:"log"`
	}
	decodeStrictly(t, getLog(alice, first, "").Data, &d)
	lines := strings.Split(strings.TrimSpace(d.Log), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "2024-03-05 10:20:31 INFO") || !strings.Contains(lines[3], "3s elapsed") {
		t.Errorf("log = %q", d.Log)
	}
	decodeStrictly(t, getLog(alice, first, "10").Data, &d)
	if d.Log != "2024-03-05" {
		t.Errorf("maxLength 10: %q", d.Log)
	}
	wantCode(t, getLog(alice, first, "x"), 62102, "")
	env.clock.Advance(time.Hour)
	decodeStrictly(t, getLog(alice, second, "").Data, &d)
	if !strings.HasSuffix(d.Log, "finished: SUCCESS\n") {
		t.Errorf("finished log ends %q", d.Log[max(0, len(d.Log)-60):])
	}
}

// The second documented duplicate behaviour: the trigger is answered with
// the existing instance's id, status 0, and nothing new starts; per flow
// (seed field, Go setter) or for every flow (Options).
func TestDuplicateTriggerAnsweredWithTheExistingInstance(t *testing.T) {
	t.Run("per flow", func(t *testing.T) {
		env := startEnv(t, Options{})
		if err := env.srv.SetDuplicateTrigger(1001, DuplicateAnswerExisting); err != nil {
			t.Fatal(err)
		}
		alice := env.alice()
		now := env.clock.Now()
		id := alice.mustTrigger(1001, now)
		if again := alice.mustTrigger(1001, now.Truncate(time.Minute).Add(59*time.Second)); again != id {
			t.Errorf("duplicate answered with %s, want the existing %s", again, id)
		}
		if n := len(env.srv.Instances()); n != 1 {
			t.Errorf("%d instances, want 1: a duplicate starts nothing", n)
		}
		// Other flows still refuse.
		alice.mustTrigger(1004, now)
		wantCode(t, alice.trigger(1004, now, "[]"), 62102, msgDuplicate)
		if err := env.srv.SetDuplicateTrigger(1001, "overwrite"); err == nil {
			t.Error("SetDuplicateTrigger accepted an unknown behaviour")
		}
	})
	t.Run("every flow", func(t *testing.T) {
		env := startEnv(t, Options{DuplicateTrigger: DuplicateAnswerExisting})
		alice := env.alice()
		now := env.clock.Now()
		id := alice.mustTrigger(1004, now)
		if again := alice.mustTrigger(1004, now); again != id || len(env.srv.Instances()) != 1 {
			t.Errorf("duplicate answered with %s, want the existing %s", again, id)
		}
		// A flow of its own says reject.
		if err := env.srv.SetDuplicateTrigger(1001, DuplicateReject); err != nil {
			t.Fatal(err)
		}
		alice.mustTrigger(1001, now)
		wantCode(t, alice.trigger(1001, now, "[]"), 62102, msgDuplicate)
	})
	if _, err := New(Options{DuplicateTrigger: "overwrite"}); err == nil {
		t.Error("New accepted an unknown duplicate behaviour")
	}
}

// Flow 1007 names its runs after the trigger hour (SERVICE.md §4.5): a second
// trigger in the hour is a duplicate, one in the next hour is not.
func TestHourGranularInstanceIDs(t *testing.T) {
	env := startEnv(t, Options{})
	alice := env.alice()
	hour := time.Date(2024, 3, 5, 10, 0, 0, 0, time.FixedZone("GMT+8", 8*3600))
	id := alice.mustTrigger(1007, hour.Add(20*time.Minute))
	if id != "1007-2024030510" {
		t.Errorf("id = %s, want 1007-2024030510", id)
	}
	wantCode(t, alice.trigger(1007, hour.Add(59*time.Minute), "[]"), 62102, msgDuplicate)
	if next := alice.mustTrigger(1007, hour.Add(time.Hour)); next != "1007-2024030511" {
		t.Errorf("next hour's id = %s", next)
	}
	_, g := alice.instance(id)
	if g.Tasks[0].TaskInstID != "100701-2024030510" {
		t.Errorf("task instance id = %s, want the same hour suffix", g.Tasks[0].TaskInstID)
	}
	// The id form is a seed field; an added flow may use it too.
	spec := FlowSpec{ID: 3001, Name: "hourly", OrgID: DefaultOrgID, Owners: []string{"alice"}, InstanceIDFormat: IDHour,
		Tasks: []TaskSpec{{Name: "t", Duration: Duration(time.Second)}}}
	if err := env.srv.AddFlow(spec); err != nil {
		t.Fatal(err)
	}
	if got := alice.mustTrigger(3001, hour); got != "3001-2024030510" {
		t.Errorf("added flow's id = %s", got)
	}
}

package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Seed is the emulator's initial state. Its JSON form (camelCase keys) is
// what --seed reads; see testdata/seed.example.json.
type Seed struct {
	TimeZone string     `json:"timeZone,omitempty"` // "GMT+8" (default), "GMT-5", "GMT+5:30"
	Orgs     []Org      `json:"orgs"`
	Users    []User     `json:"users"`
	Apps     []App      `json:"apps"`
	Flows    []FlowSpec `json:"flows"`
}

// Org is an organisational unit (OU).
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// User is an EnOS user; Name is the username that flow owner lists hold.
type User struct {
	ID     string `json:"id"`
	OrgID  string `json:"orgId"`
	Name   string `json:"name"`
	Locked bool   `json:"locked,omitempty"`
}

// App is an application registration: the gateway credentials.
type App struct {
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
	OrgID     string `json:"orgId"`
}

// FlowSpec defines a flow and how its runs behave.
type FlowSpec struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	OrgID       string      `json:"orgId"`
	Owners      []string    `json:"owners"`
	Visitors    []string    `json:"visitors,omitempty"`
	Locked      bool        `json:"locked,omitempty"`
	Type        int         `json:"type,omitempty"`  // 0 manual, 1 periodic, 2 temporary
	Cycle       string      `json:"cycle,omitempty"` // M, W, D, H or mi; default D
	Cron        string      `json:"cron,omitempty"`  // 7-field Quartz cron; default "0 0 0 * * ? *"
	Parameters  []Parameter `json:"parameters,omitempty"`
	Tasks       []TaskSpec  `json:"tasks,omitempty"`
	// DuplicateTrigger is how a second trigger in a taken slot is answered;
	// empty: Options.DuplicateTrigger.
	DuplicateTrigger DuplicateTrigger `json:"duplicateTrigger,omitempty"`
	// RewriteValues stores the run parameter values a trigger sends without
	// their leading and trailing blanks, as a service may store a value
	// otherwise than it was sent; false: Options.RewriteValues.
	RewriteValues bool `json:"rewriteValues,omitempty"`
	// InstanceIDFormat is how run ids name the trigger time; empty: minute.
	InstanceIDFormat InstanceIDFormat `json:"instanceIdFormat,omitempty"`
}

// DuplicateTrigger is one of the two documented answers to a trigger whose
// instance id exists already (SERVICE.md §4.6).
type DuplicateTrigger string

// Duplicate trigger behaviours.
const (
	// DuplicateReject refuses the trigger with 62102 (the default).
	DuplicateReject DuplicateTrigger = "reject"
	// DuplicateAnswerExisting answers with the existing instance's id,
	// status 0, and starts nothing.
	DuplicateAnswerExisting DuplicateTrigger = "existing"
)

func (d DuplicateTrigger) valid() bool { return d == DuplicateReject || d == DuplicateAnswerExisting }

// InstanceIDFormat is how an instance id names its trigger time (SERVICE.md §4.5).
type InstanceIDFormat string

// Instance id formats.
const (
	// IDMinute is <flowId>-yyyyMMddHHmm00 (the default): one run per flow and minute.
	IDMinute InstanceIDFormat = "minute"
	// IDHour is <flowId>-yyyyMMddHH, as the documented hourly flow's
	// 8435-2021020211: one run per flow and hour.
	IDHour InstanceIDFormat = "hour"
)

// Parameter is one global or per-run parameter.
type Parameter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TaskSpec is one task of a flow, run in list order. An ID of 0 is assigned
// automatically; task IDs are unique across all flows.
type TaskSpec struct {
	ID       int64    `json:"id,omitempty"`
	Name     string   `json:"name"`
	Duration Duration `json:"duration"`
	Outcome  Outcome  `json:"outcome,omitempty"` // default success
}

// Outcome is how a task ends once its duration has passed.
type Outcome string

// Task outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFail    Outcome = "fail"
	OutcomeTimeout Outcome = "timeout"
	OutcomeHang    Outcome = "hang" // never finishes; only cancel ends the run
)

func (o Outcome) valid() bool {
	switch o {
	case OutcomeSuccess, OutcomeFail, OutcomeTimeout, OutcomeHang:
		return true
	}
	return false
}

// Duration is a time.Duration written in JSON as a Go duration string ("3s").
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "3s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: describeJSON(b), Type: reflect.TypeFor[Duration]()}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: strconv.Quote(s), Type: reflect.TypeFor[Duration]()}
	}
	*d = Duration(v)
	return nil
}

// Credentials and IDs of DefaultSeed.
const (
	DefaultAccessKey = "emulator-access-key"
	DefaultSecretKey = "emulator-secret-key"
	DefaultOrgID     = "o15000000000001"
	DefaultUserID    = "u15426865866571" // username "alice"
)

// DefaultSeed is the built-in demo state: users alice (the default
// credentials' user) and bob in one OU, and flows
// 1001 quick success (two tasks of 1s), 1002 second task fails, 1003 no tasks,
// 1004 runs for minutes, 1005 owned by bob, 1006 locked, 1007 hourly
// instance ids.
func DefaultSeed() *Seed {
	sec := func(n int) Duration { return Duration(time.Duration(n) * time.Second) }
	params := func(kv ...string) []Parameter {
		var ps []Parameter
		for i := 0; i+1 < len(kv); i += 2 {
			ps = append(ps, Parameter{Key: kv[i], Value: kv[i+1]})
		}
		return ps
	}
	return &Seed{
		TimeZone: "GMT+8",
		Orgs:     []Org{{ID: DefaultOrgID, Name: "Demo OU"}},
		Users: []User{
			{ID: DefaultUserID, OrgID: DefaultOrgID, Name: "alice"},
			{ID: "u15426865866572", OrgID: DefaultOrgID, Name: "bob"},
		},
		Apps: []App{{AccessKey: DefaultAccessKey, SecretKey: DefaultSecretKey, OrgID: DefaultOrgID}},
		Flows: []FlowSpec{
			{ID: 1001, Name: "daily_sales_load", Description: "Succeeds within a few seconds", OrgID: DefaultOrgID,
				Owners: []string{"alice"}, Visitors: []string{"bob"}, Cycle: "D",
				Parameters: params("bizdate", "", "region", "cn"),
				Tasks: []TaskSpec{
					{ID: 100101, Name: "extract", Duration: sec(1), Outcome: OutcomeSuccess},
					{ID: 100102, Name: "load", Duration: sec(1), Outcome: OutcomeSuccess},
				}},
			{ID: 1002, Name: "hourly_metrics", Description: "The second task fails", OrgID: DefaultOrgID,
				Owners: []string{"alice"}, Cycle: "H", Cron: "0 0 * * * ? *",
				Parameters: params("bizhour", ""),
				Tasks: []TaskSpec{
					{ID: 100201, Name: "collect", Duration: sec(1), Outcome: OutcomeSuccess},
					{ID: 100202, Name: "aggregate", Duration: sec(1), Outcome: OutcomeFail},
				}},
			{ID: 1003, Name: "empty_flow", Description: "Has no task, so it cannot be triggered", OrgID: DefaultOrgID,
				Owners: []string{"alice"}, Cycle: "D", Parameters: params("bizdate", "")},
			{ID: 1004, Name: "monthly_backfill", Description: "Runs for five minutes", OrgID: DefaultOrgID,
				Owners: []string{"alice"}, Cycle: "M", Cron: "0 0 0 1 * ? *",
				Parameters: params("bizdate", "", "months", "3"),
				Tasks: []TaskSpec{
					{ID: 100401, Name: "prepare", Duration: sec(60), Outcome: OutcomeSuccess},
					{ID: 100402, Name: "backfill", Duration: sec(240), Outcome: OutcomeSuccess},
				}},
			{ID: 1005, Name: "bob_report", Description: "Owned by bob; alice may only read it", OrgID: DefaultOrgID,
				Owners: []string{"bob"}, Visitors: []string{"alice"}, Cycle: "W", Cron: "0 0 0 ? * MON *",
				Parameters: params("bizdate", ""),
				Tasks:      []TaskSpec{{ID: 100501, Name: "report", Duration: sec(2), Outcome: OutcomeSuccess}}},
			{ID: 1006, Name: "locked_flow", Description: "Locked: no writes allowed", OrgID: DefaultOrgID,
				Owners: []string{"alice"}, Locked: true, Cycle: "D",
				Parameters: params("bizdate", ""),
				Tasks:      []TaskSpec{{ID: 100601, Name: "noop", Duration: sec(1), Outcome: OutcomeSuccess}}},
			{ID: 1007, Name: "hourly_rollup", Description: "Instance ids name the trigger hour: one run per hour", OrgID: DefaultOrgID,
				Owners: []string{"alice"}, Cycle: "H", Cron: "0 0 * * * ? *", InstanceIDFormat: IDHour,
				Parameters: params("bizhour", ""),
				Tasks: []TaskSpec{
					{ID: 100701, Name: "rollup", Duration: sec(1), Outcome: OutcomeSuccess},
					{ID: 100702, Name: "publish", Duration: sec(1), Outcome: OutcomeSuccess},
				}},
		},
	}
}

// LoadSeed reads and validates a seed file. Errors name the file, the field
// and what was expected.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("seed file %s: %s", path, describeDecodeError(data, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("seed file %s: expected a single JSON object, found more data after it", path)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	return &s, nil
}

func describeDecodeError(data []byte, err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		return fmt.Sprintf("line %d, column %d: expected valid JSON: %v", line, col, syntax)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s: expected %s, got %s", typ.Field, expectedKind(typ.Type), typ.Value)
	case errors.Is(err, io.EOF):
		return "expected a JSON object, the file is empty"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("%s: expected only the documented fields", strings.TrimPrefix(err.Error(), "json: "))
	}
	return err.Error()
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:min(int(offset), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func expectedKind(t reflect.Type) string {
	if t == reflect.TypeFor[Duration]() {
		return `a duration string such as "3s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "an array"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

func describeJSON(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == '"':
		return "string"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	}
	return "number " + string(b)
}

// seedError is a validation failure of one field.
type seedError struct{ field, expected, got string }

func (e *seedError) Error() string {
	return fmt.Sprintf("field %s: expected %s, got %s", e.field, e.expected, e.got)
}

func (s *Seed) validate() error {
	if _, err := parseZone(s.zoneName()); err != nil {
		return &seedError{"timeZone", `a zone such as "GMT+8", "GMT-5" or "GMT+5:30"`, strconv.Quote(s.TimeZone)}
	}
	orgs := map[string]bool{}
	for i, o := range s.Orgs {
		f := fmt.Sprintf("orgs[%d]", i)
		if o.ID == "" {
			return &seedError{f + ".id", "a non-empty string", `""`}
		}
		if orgs[o.ID] {
			return &seedError{f + ".id", "an id not used by another org", strconv.Quote(o.ID)}
		}
		orgs[o.ID] = true
	}
	users := map[string]bool{}
	for i, u := range s.Users {
		f := fmt.Sprintf("users[%d]", i)
		switch {
		case u.ID == "":
			return &seedError{f + ".id", "a non-empty string", `""`}
		case users[u.ID]:
			return &seedError{f + ".id", "an id not used by another user", strconv.Quote(u.ID)}
		case !orgs[u.OrgID]:
			return &seedError{f + ".orgId", "the id of an org in orgs", strconv.Quote(u.OrgID)}
		case u.Name == "":
			return &seedError{f + ".name", "a non-empty username", `""`}
		}
		users[u.ID] = true
	}
	apps := map[string]bool{}
	for i, a := range s.Apps {
		f := fmt.Sprintf("apps[%d]", i)
		switch {
		case a.AccessKey == "":
			return &seedError{f + ".accessKey", "a non-empty string", `""`}
		case apps[a.AccessKey]:
			return &seedError{f + ".accessKey", "a key not used by another app", strconv.Quote(a.AccessKey)}
		case a.SecretKey == "":
			return &seedError{f + ".secretKey", "a non-empty string", `""`}
		case !orgs[a.OrgID]:
			return &seedError{f + ".orgId", "the id of an org in orgs", strconv.Quote(a.OrgID)}
		}
		apps[a.AccessKey] = true
	}
	flows := map[int64]bool{}
	tasks := map[int64]bool{}
	for i := range s.Flows {
		f := fmt.Sprintf("flows[%d]", i)
		if err := validateFlow(f, &s.Flows[i], orgs, flows, tasks); err != nil {
			return err
		}
	}
	return nil
}

// validateFlow checks one flow against the OUs and the flow and task IDs
// already taken, and records its own IDs.
func validateFlow(f string, fl *FlowSpec, orgs map[string]bool, flows, tasks map[int64]bool) error {
	switch {
	case fl.ID <= 0:
		return &seedError{f + ".id", "a positive integer", strconv.FormatInt(fl.ID, 10)}
	case flows[fl.ID]:
		return &seedError{f + ".id", "an id not used by another flow", strconv.FormatInt(fl.ID, 10)}
	case fl.Name == "":
		return &seedError{f + ".name", "a non-empty string", `""`}
	case !orgs[fl.OrgID]:
		return &seedError{f + ".orgId", "the id of an org in orgs", strconv.Quote(fl.OrgID)}
	case len(fl.Owners) == 0:
		return &seedError{f + ".owners", "at least one username", "[]"}
	case fl.Type < 0 || fl.Type > 2:
		return &seedError{f + ".type", "0 (manual), 1 (periodic) or 2 (temporary)", strconv.Itoa(fl.Type)}
	}
	switch fl.Cycle {
	case "", "M", "W", "D", "H", "mi":
	default:
		return &seedError{f + ".cycle", `one of "M", "W", "D", "H", "mi"`, strconv.Quote(fl.Cycle)}
	}
	if fl.DuplicateTrigger != "" && !fl.DuplicateTrigger.valid() {
		return &seedError{f + ".duplicateTrigger", `"reject" or "existing"`, strconv.Quote(string(fl.DuplicateTrigger))}
	}
	switch fl.InstanceIDFormat {
	case "", IDMinute, IDHour:
	default:
		return &seedError{f + ".instanceIdFormat", `"minute" or "hour"`, strconv.Quote(string(fl.InstanceIDFormat))}
	}
	for j, p := range fl.Parameters {
		if p.Key == "" {
			return &seedError{fmt.Sprintf("%s.parameters[%d].key", f, j), "a non-empty string", `""`}
		}
	}
	flows[fl.ID] = true
	for j, t := range fl.Tasks {
		tf := fmt.Sprintf("%s.tasks[%d]", f, j)
		switch {
		case t.ID < 0 || tasks[t.ID]:
			return &seedError{tf + ".id", "a positive integer not used by another task (or 0 to assign one)", strconv.FormatInt(t.ID, 10)}
		case t.Name == "":
			return &seedError{tf + ".name", "a non-empty string", `""`}
		case t.Duration < 0:
			return &seedError{tf + ".duration", "a non-negative duration", time.Duration(t.Duration).String()}
		case t.Outcome != "" && !t.Outcome.valid():
			return &seedError{tf + ".outcome", `one of "success", "fail", "timeout", "hang"`, strconv.Quote(string(t.Outcome))}
		}
		if t.ID > 0 {
			tasks[t.ID] = true
		}
	}
	return nil
}

func (s *Seed) zoneName() string {
	if s.TimeZone == "" {
		return "GMT+8"
	}
	return s.TimeZone
}

// parseZone reads "GMT", "GMT+8", "GMT-5" or "GMT+5:30" as a fixed zone.
func parseZone(name string) (*time.Location, error) {
	rest, ok := strings.CutPrefix(name, "GMT")
	if !ok {
		return nil, fmt.Errorf("zone %q does not start with GMT", name)
	}
	if rest == "" {
		return time.FixedZone(name, 0), nil
	}
	sign := 1
	switch rest[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return nil, fmt.Errorf("zone %q: expected + or - after GMT", name)
	}
	hh, mm, hasMinutes := strings.Cut(rest[1:], ":")
	h, err := strconv.Atoi(hh)
	if err != nil || h > 14 {
		return nil, fmt.Errorf("zone %q: bad hours", name)
	}
	m := 0
	if hasMinutes {
		if m, err = strconv.Atoi(mm); err != nil || m > 59 || len(mm) != 2 {
			return nil, fmt.Errorf("zone %q: bad minutes", name)
		}
	}
	return time.FixedZone(name, sign*(h*3600+m*60)), nil
}

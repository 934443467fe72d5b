// Package emulator is an in-memory emulator of the EnOS API gateway and the
// Dataflow Batch Service (v2.0 and the v2.1 "Batch Processing Service"), as
// specified in the project's API specification. It serves the provider's
// tests, the demo, and users who want to point Terraform at a local service.
package emulator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Emulator.
type Options struct {
	Seed     *Seed                            // nil: DefaultSeed()
	Clock    Clock                            // nil: real time
	TokenTTL time.Duration                    // 0: 7200s
	Latency  time.Duration                    // added before every answer
	Logf     func(format string, args ...any) // one line per request served; nil: silent
	// DuplicateTrigger answers triggers in a taken slot of flows that set
	// no behaviour of their own; empty: DuplicateReject.
	DuplicateTrigger DuplicateTrigger
	// RewriteValues stores every flow's sent parameter values trimmed of
	// blanks (see FlowSpec.RewriteValues).
	RewriteValues bool
	// RequestLogSize is how many of the newest requests Requests keeps;
	// 0: 10000.
	RequestLogSize int
	// APIVersions are the service versions served ("v2.0", "v2.1"), as a
	// tenant of one EnOS release offers; empty: both. The other's paths
	// are unknown (HTTP 404).
	APIVersions []string
}

// Emulator is the emulated service; it is an http.Handler. Safe for
// concurrent use.
type Emulator struct {
	clock    Clock
	tokenTTL time.Duration
	latency  time.Duration
	logf     func(format string, args ...any)
	bootID   string

	duplicateTrigger DuplicateTrigger // for flows without their own
	rewriteValues    bool             // for every flow
	apiVersions      []string         // the versions served; empty: both

	mu            sync.Mutex
	zone          *time.Location
	orgs          map[string]bool
	users         map[string]*User
	apps          map[string]*App
	tokens        map[string]*token    // every token issued, by value
	appTokens     map[string]*token    // the token get currently hands out, by access key
	usedEncrypt   map[string]time.Time // encryption -> its timestamp, for replay refusal
	flows         map[int64]*flow
	taskIDs       map[int64]bool
	instances     map[string]*instance
	instanceOrder []*instance
	taskInstances map[string]taskRef
	seq           int64
	requests      requestLog
	faults        []*activeFault
	requestSeq    atomic.Int64
}

// flow is a flow's definition and its run queue.
type flow struct {
	spec    FlowSpec
	active  int
	created time.Time
	updated time.Time
	current *instance   // holds the flow's single run slot
	pending []*instance // not yet started, not cancelled
	freeAt  time.Time   // when the last run released the slot
}

// New builds an emulator from opts.
func New(opts Options) (*Emulator, error) {
	seed := opts.Seed
	if seed == nil {
		seed = DefaultSeed()
	}
	if err := seed.validate(); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	zone, err := parseZone(seed.zoneName())
	if err != nil {
		return nil, err
	}
	duplicates := opts.DuplicateTrigger
	if duplicates == "" {
		duplicates = DuplicateReject
	}
	for _, v := range opts.APIVersions {
		if v != "v2.0" && v != "v2.1" {
			return nil, fmt.Errorf("API version %q: expected v2.0 or v2.1", v)
		}
	}
	if opts.RequestLogSize < 0 {
		return nil, fmt.Errorf("request log size %d: expected 0 (the default) or more", opts.RequestLogSize)
	}
	if !duplicates.valid() {
		return nil, fmt.Errorf("duplicate trigger behaviour %q: expected %q or %q", duplicates, DuplicateReject, DuplicateAnswerExisting)
	}
	e := &Emulator{
		clock:    opts.Clock,
		tokenTTL: opts.TokenTTL,
		latency:  opts.Latency,
		logf:     opts.Logf,
		bootID:   randomHex(4),

		duplicateTrigger: duplicates,
		rewriteValues:    opts.RewriteValues,
		requests:         requestLog{size: cmp.Or(opts.RequestLogSize, defaultRequestLogSize)},
		apiVersions:      slices.Clone(opts.APIVersions),
		zone:             zone,
		orgs:             map[string]bool{},
		users:            map[string]*User{},
		apps:             map[string]*App{},
		tokens:           map[string]*token{},
		appTokens:        map[string]*token{},
		usedEncrypt:      map[string]time.Time{},
		flows:            map[int64]*flow{},
		taskIDs:          map[int64]bool{},
		instances:        map[string]*instance{},
		taskInstances:    map[string]taskRef{},
	}
	if e.clock == nil {
		e.clock = realClock{}
	}
	if e.tokenTTL <= 0 {
		e.tokenTTL = 7200 * time.Second
	}
	for _, o := range seed.Orgs {
		e.orgs[o.ID] = true
	}
	for _, u := range seed.Users {
		e.users[u.ID] = &u
	}
	for _, a := range seed.Apps {
		e.apps[a.AccessKey] = &a
	}
	for _, f := range seed.Flows {
		e.addFlowLocked(f)
	}
	return e, nil
}

// AddFlow adds a flow; its OU must exist and its ID and task IDs be unused.
func (e *Emulator) AddFlow(spec FlowSpec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	flows := map[int64]bool{}
	for id := range e.flows {
		flows[id] = true
	}
	if err := validateFlow("flow", &spec, e.orgs, flows, maps.Clone(e.taskIDs)); err != nil {
		return err
	}
	e.addFlowLocked(spec)
	return nil
}

// addFlowLocked stores a validated flow, assigning IDs to tasks without one.
func (e *Emulator) addFlowLocked(spec FlowSpec) {
	spec.Owners = slices.Clone(spec.Owners)
	spec.Visitors = slices.Clone(spec.Visitors)
	spec.Parameters = slices.Clone(spec.Parameters)
	spec.Tasks = slices.Clone(spec.Tasks)
	if spec.Cycle == "" {
		spec.Cycle = "D"
	}
	if spec.Cron == "" {
		spec.Cron = "0 0 0 * * ? *"
	}
	// Task ids derive from the flow id; the search goes on from the last one
	// given, so a flow of n tasks costs O(n), not O(n²).
	next := spec.ID * 100
	for i := range spec.Tasks {
		t := &spec.Tasks[i]
		if t.Outcome == "" {
			t.Outcome = OutcomeSuccess
		}
		if t.ID == 0 {
			t.ID = e.unusedTaskID(next)
			next = t.ID + 1
		}
		e.taskIDs[t.ID] = true
	}
	now := e.clock.Now()
	e.flows[spec.ID] = &flow{spec: spec, active: 1, created: now, updated: now}
}

// unusedTaskID is the first task id from from on that no task has (and
// not 0).
func (e *Emulator) unusedTaskID(from int64) int64 {
	id := from
	for e.taskIDs[id] || id == 0 {
		id++
	}
	return id
}

// SetTask changes how a task of a flow behaves in runs triggered afterwards:
// it lasts d and then ends with outcome o.
func (e *Emulator) SetTask(flowID int64, taskName string, d time.Duration, o Outcome) error {
	if !o.valid() || d < 0 {
		return fmt.Errorf("SetTask: outcome %q or duration %s not valid", o, d)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.flows[flowID]
	if !ok {
		return fmt.Errorf("SetTask: flow %d not found", flowID)
	}
	for i := range f.spec.Tasks {
		if t := &f.spec.Tasks[i]; t.Name == taskName {
			t.Duration, t.Outcome = Duration(d), o
			return nil
		}
	}
	return fmt.Errorf("SetTask: flow %d has no task %q", flowID, taskName)
}

// SetUserLocked locks or unlocks a user account.
func (e *Emulator) SetUserLocked(userID string, locked bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[userID]
	if !ok {
		return fmt.Errorf("SetUserLocked: user %q not found", userID)
	}
	u.Locked = locked
	return nil
}

// updateFlow applies change to a flow under the lock; op names the setter
// in the error for an unknown flow.
func (e *Emulator) updateFlow(op string, flowID int64, change func(*flow)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.flows[flowID]
	if !ok {
		return fmt.Errorf("%s: flow %d not found", op, flowID)
	}
	change(f)
	return nil
}

// SetFlowLocked locks or unlocks a flow.
func (e *Emulator) SetFlowLocked(flowID int64, locked bool) error {
	return e.updateFlow("SetFlowLocked", flowID, func(f *flow) { f.spec.Locked = locked })
}

// FlowActive reports whether a flow's schedule is started (active = 1).
func (e *Emulator) FlowActive(flowID int64) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.flows[flowID]
	if !ok {
		return false, fmt.Errorf("FlowActive: flow %d not found", flowID)
	}
	return f.active == 1, nil
}

// SetFlowActive starts or pauses a flow's schedule, as a user of the
// console would.
func (e *Emulator) SetFlowActive(flowID int64, active bool) error {
	return e.updateFlow("SetFlowActive", flowID, func(f *flow) {
		f.active, f.updated = 0, e.clock.Now()
		if active {
			f.active = 1
		}
	})
}

// SetDuplicateTrigger sets how triggers of a flow in a taken slot are
// answered; empty: as Options.DuplicateTrigger says.
func (e *Emulator) SetDuplicateTrigger(flowID int64, d DuplicateTrigger) error {
	if d != "" && !d.valid() {
		return fmt.Errorf("SetDuplicateTrigger: %q is not %q or %q", d, DuplicateReject, DuplicateAnswerExisting)
	}
	return e.updateFlow("SetDuplicateTrigger", flowID, func(f *flow) { f.spec.DuplicateTrigger = d })
}

// SetRewriteValues sets whether the flow stores the parameter values of its
// triggers trimmed of leading and trailing blanks (Options.RewriteValues
// does so for every flow).
func (e *Emulator) SetRewriteValues(flowID int64, on bool) error {
	return e.updateFlow("SetRewriteValues", flowID, func(f *flow) { f.spec.RewriteValues = on })
}

// Instance is a snapshot of one flow instance for test assertions.
type Instance struct {
	ID          string            `json:"id"`
	FlowID      int64             `json:"flowId"`
	TriggerTime time.Time         `json:"triggerTime"`
	Parameters  map[string]string `json:"parameters"`
	Status      int               `json:"status"`
}

// Instances returns every instance ever started (and not forgotten), oldest first.
func (e *Emulator) Instances() []Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	e.advance(now)
	out := make([]Instance, 0, len(e.instanceOrder))
	for _, in := range e.instanceOrder {
		params := make(map[string]string, len(in.params))
		for _, p := range in.params {
			params[p.Key] = p.Value
		}
		out = append(out, Instance{ID: in.id, FlowID: in.flow.spec.ID, TriggerTime: in.triggerTime,
			Parameters: params, Status: in.view(now).status})
	}
	return out
}

// ForgetInstance removes an instance as if its run history had been purged.
// A forgotten run no longer holds its flow's run slot.
func (e *Emulator) ForgetInstance(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.instances[id]
	if !ok {
		return false
	}
	now := e.clock.Now()
	e.advance(now)
	delete(e.instances, id)
	e.instanceOrder = slices.DeleteFunc(e.instanceOrder, func(x *instance) bool { return x == in })
	for _, t := range in.tasks {
		delete(e.taskInstances, t.instID)
	}
	f := in.flow
	f.pending = slices.DeleteFunc(f.pending, func(x *instance) bool { return x == in })
	if f.current == in {
		f.current, f.freeAt = nil, now
		e.advanceFlow(f, now)
	}
	return true
}

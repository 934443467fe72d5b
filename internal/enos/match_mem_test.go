package enos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// memService is the service in memory, as run matching sees it
// (runService): runs named after their flow and trigger slot, either
// duplicate behaviour, values stored otherwise, hourly ids, a clock that
// moves on with each call, and faults injected per call. Its errors are the
// ones the Client returns for the same events on the wire (tested there).
type memService struct {
	mu  sync.Mutex
	now time.Time // the service's clock: getCurrentTime and new runs' creation time
	// tick moves the clock on after each call, so that runs created by
	// later calls are later.
	tick time.Duration
	loc  *time.Location

	// answerExisting answers a trigger of a taken slot with the slot's run
	// (status 0) instead of refusing it (62102): the two behaviours
	// API-INFERENCES.md names.
	answerExisting bool
	hourIDs        map[int64]bool   // flows whose ids name the trigger hour
	cycles         map[int64]string // flows' cycles; "D" when unset
	// rewrite is how the service stores a sent parameter value.
	rewrite func(string) string
	// newStatus is the status of the runs triggers start.
	newStatus Status
	// reuseID, when set, is the answer to every trigger, which starts
	// nothing (a service that hands out an id twice); refusal, when set, is
	// the error every trigger meets.
	reuseID string
	refusal error
	// localLag is how far this machine's clock (newMemMatcher) is behind
	// the service's.
	localLag time.Duration
	// localTick moves this machine's clock on after each call, beyond the
	// service's: a service clock that lags this machine's, or stands
	// still (tick 0), as the emulator's manual clock does.
	localTick, localAhead time.Duration
	slept                 int // backoff sleeps of the matchers over ms

	runs []FlowInstance
	// startedBy records which caller (withCaller) started each run,
	// timeReadsBy how many server times each caller read.
	startedBy   map[string]string
	timeReadsBy map[string]int

	// fault, when set, decides the n-th call (1-based, per operation) of
	// op; before, when set, sees each call first (and may hold it).
	fault  func(op string, n int) memFault
	before func(memCall)
	// acted, when set, sees each trigger after the service acted on it,
	// before its answer leaves (and may hold it).
	acted func(memCall)
	// cancels are what a faultCancel cancels, by caller.
	cancels  map[string]context.CancelFunc
	calls    map[string]int
	searches []InstanceSearch
}

// memCall is one call of runService as the hooks see it.
type memCall struct {
	caller string // withCaller's label of the call's context
	op     string
	n      int    // 1-based, per operation, in the order calls arrive
	detail string // what the call asks for, so that calls of one caller and op differ
}

func (c memCall) String() string { return c.caller + " " + c.op + " " + c.detail }

type callerKey struct{}

// withCaller labels the calls made with ctx (and contexts made from it,
// such as a detached flight's) as caller's.
func withCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

func callerOf(ctx context.Context) string {
	caller, _ := ctx.Value(callerKey{}).(string)
	return caller
}

// The operations of runService, as memService counts them.
const (
	opTrigger     = "trigger"
	opSearch      = "search"
	opGet         = "get"
	opFlowGlobals = "flowGlobals"
	opServerTime  = "serverTime"
	opServerZone  = "serverZone"
)

// memFault is what befalls one call.
type memFault int

const (
	faultNone memFault = iota
	// faultLostBefore: the connection drops before the service acts.
	faultLostBefore
	// faultLostAfter: the service acts, then the answer is lost.
	faultLostAfter
	// fault5xx: a 502 page; the service does not act.
	fault5xx
	// faultCutBody: the service acts, the answer is cut off mid-body.
	faultCutBody
	// faultCancel: the service acts while the caller's context is
	// cancelled (an interrupt, a timeout), so no answer is read.
	faultCancel
	// faultEmptyAnswer: a read answered with success and no data.
	faultEmptyAnswer
	// faultNotFound: a get answered "not found" (a run not yet recorded).
	faultNotFound
)

var memFaultNames = [...]string{"ok", "lost-before", "lost-after", "5xx", "cut-body", "cancel", "empty", "not-found"}

func (f memFault) String() string { return memFaultNames[f] }

func newMemService() *memService {
	return &memService{
		now:         runNow,
		loc:         gmt8,
		hourIDs:     map[int64]bool{},
		cycles:      map[int64]string{},
		startedBy:   map[string]string{},
		timeReadsBy: map[string]int{},
		cancels:     map[string]context.CancelFunc{},
		calls:       map[string]int{},
	}
}

// newMemMatcher is run matching over ms, with backoff sleeps that return
// at once (counted in ms.slept) and this machine's clock moving with the
// service's, ms.localLag behind it (durations agree, instants need not),
// and ms.localTick further ahead with each call.
func newMemMatcher(ms *memService) *runMatcher {
	local := func() time.Time {
		ms.mu.Lock()
		defer ms.mu.Unlock()
		return ms.now.Add(ms.localAhead - ms.localLag)
	}
	sleep := func(ctx context.Context, _ time.Duration) error {
		ms.mu.Lock()
		ms.slept++
		ms.mu.Unlock()
		return ctx.Err()
	}
	return &runMatcher{svc: ms, now: local, timeout: 500 * time.Millisecond,
		backoff: &backoff{base: time.Millisecond, max: time.Millisecond, sleep: sleep}, fetchBound: time.Second}
}

func (ms *memService) count(op string) int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.calls[op]
}

func (ms *memService) addRun(inst FlowInstance) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if inst.CreatedAt.IsZero() {
		inst.CreatedAt = inst.TriggerTime
	}
	ms.runs = append(ms.runs, inst)
}

func (ms *memService) runsOf(flowID int64) []FlowInstance {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var runs []FlowInstance
	for _, r := range ms.runs {
		if r.FlowID == flowID {
			runs = append(runs, r)
		}
	}
	return runs
}

// begin counts a call of op and returns its fault; a context that ended
// fails the call as the transport would. The clock moves on once the
// before hook lets the call through, so that calls it holds take their
// times in the order it releases them.
func (ms *memService) begin(ctx context.Context, op, detail string) (memCall, memFault, error) {
	ms.mu.Lock()
	ms.calls[op]++
	call := memCall{caller: callerOf(ctx), op: op, n: ms.calls[op], detail: detail}
	before := ms.before
	ms.mu.Unlock()
	if before != nil {
		before(call)
	}
	ms.mu.Lock()
	ms.now = ms.now.Add(ms.tick)
	ms.localAhead += ms.localTick
	ms.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return call, faultNone, &transportError{op: op, err: err}
	}
	// Under the lock: calls of detached searches run concurrently, and the
	// fault functions keep counts.
	ms.mu.Lock()
	f := faultNone
	if ms.fault != nil {
		f = ms.fault(op, call.n)
	}
	cancel := ms.cancels[call.caller]
	ms.mu.Unlock()
	if f == faultCancel && cancel != nil {
		cancel()
	}
	return call, f, nil
}

// readFailure is how a read that meets f fails, or nil when it does not.
func readFailure(op string, f memFault) error {
	switch f {
	case faultLostBefore, faultLostAfter:
		return &transportError{op: op, err: errors.New("connection reset"), written: f == faultLostAfter}
	case fault5xx:
		return &APIError{Operation: op, HTTPStatus: http.StatusBadGateway, Message: "bad gateway"}
	case faultCutBody:
		return &APIError{Operation: op, HTTPStatus: http.StatusOK, Message: "malformed response: unexpected EOF"}
	case faultCancel:
		return &transportError{op: op, err: context.Canceled, written: true}
	}
	return nil
}

func (ms *memService) trigger(ctx context.Context, req TriggerRequest) (string, error) {
	call, f, err := ms.begin(ctx, opTrigger, fmt.Sprintf("%d %s", req.FlowID, req.TriggerTime.Format(time.RFC3339)))
	if err != nil {
		return "", &outcomeUnknownError{err: err}
	}
	switch f {
	case faultLostBefore, fault5xx:
		return "", &outcomeUnknownError{err: readFailure(opTrigger, f)}
	}
	ms.mu.Lock()
	reuseID, refusal := ms.reuseID, ms.refusal
	ms.mu.Unlock()
	switch {
	case refusal != nil:
		return "", refusal
	case reuseID != "":
		return reuseID, nil
	}
	id, started := ms.act(req, call.caller)
	ms.mu.Lock()
	acted := ms.acted
	ms.mu.Unlock()
	if acted != nil {
		acted(call)
	}
	switch f {
	case faultLostAfter, faultCutBody, faultCancel:
		return "", &outcomeUnknownError{err: readFailure(opTrigger, f)}
	}
	if !started && !ms.answerExisting {
		return "", &APIError{Operation: "flows/updateAndTrigger", HTTPStatus: http.StatusOK, Code: codeInvalidParameter,
			Message: "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute."}
	}
	return id, nil
}

// act starts the run req asks for, unless its slot's run exists.
func (ms *memService) act(req TriggerRequest, caller string) (string, bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	at := req.TriggerTime.In(ms.loc)
	id := fmt.Sprintf("%d-%s00", req.FlowID, at.Format("200601021504"))
	if ms.hourIDs[req.FlowID] {
		id = fmt.Sprintf("%d-%s", req.FlowID, at.Format("2006010215"))
	}
	for _, r := range ms.runs {
		if r.InstanceID == id {
			return id, false
		}
	}
	var params []Parameter
	for k, v := range req.Parameters {
		if ms.rewrite != nil {
			v = ms.rewrite(v)
		}
		params = append(params, Parameter{Key: k, Value: v})
	}
	ms.runs = append(ms.runs, FlowInstance{InstanceID: id, FlowID: req.FlowID, TriggerTime: at.Truncate(time.Second),
		CreatedAt: ms.now.Truncate(100 * time.Millisecond), Parameters: params, Status: ms.newStatus})
	ms.startedBy[id] = caller
	return id, true
}

func (ms *memService) search(ctx context.Context, q InstanceSearch) ([]FlowInstance, error) {
	_, f, err := ms.begin(ctx, opSearch, fmt.Sprintf("%+v", q))
	if err != nil {
		return nil, err
	}
	if err := readFailure(opSearch, f); err != nil || f == faultEmptyAnswer {
		return nil, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.searches = append(ms.searches, q)
	var found []FlowInstance
	for _, r := range ms.runs {
		if (q.FlowID == 0 || r.FlowID == q.FlowID) &&
			(q.FromTriggerTime.IsZero() || !r.TriggerTime.Before(q.FromTriggerTime)) &&
			(q.ToTriggerTime.IsZero() || !r.TriggerTime.After(q.ToTriggerTime)) {
			found = append(found, r)
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		return found[i].TriggerTime.Before(found[j].TriggerTime) != q.SortDescending
	})
	if q.MaxResults > 0 && len(found) > q.MaxResults {
		found = found[:q.MaxResults]
	}
	return found, nil
}

func (ms *memService) get(ctx context.Context, id string) (*FlowInstance, error) {
	_, f, err := ms.begin(ctx, opGet, id)
	if err != nil {
		return nil, err
	}
	if err := readFailure(opGet, f); err != nil {
		return nil, err
	}
	if f == faultEmptyAnswer {
		return &FlowInstance{}, nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, r := range ms.runs {
		if r.InstanceID == id && f != faultNotFound {
			return &r, nil
		}
	}
	return nil, &APIError{Operation: "flowInstances/get", HTTPStatus: http.StatusOK, Code: codeInvalidParameter, Message: "Instance not found"}
}

func (ms *memService) flowGlobals(ctx context.Context, flowID int64) (*FlowGlobals, error) {
	_, f, err := ms.begin(ctx, opFlowGlobals, strconv.FormatInt(flowID, 10))
	if err != nil {
		return nil, err
	}
	if err := readFailure(opFlowGlobals, f); err != nil {
		return nil, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	cycle := ms.cycles[flowID]
	if cycle == "" {
		cycle = "D"
	}
	return &FlowGlobals{FlowID: flowID, FlowName: fmt.Sprintf("flow %d", flowID), Cycle: cycle}, nil
}

func (ms *memService) serverTime(ctx context.Context) (time.Time, error) {
	call, f, err := ms.begin(ctx, opServerTime, "")
	if err != nil {
		return time.Time{}, err
	}
	if err := readFailure(opServerTime, f); err != nil {
		return time.Time{}, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.timeReadsBy[call.caller]++
	return ms.now.Truncate(time.Millisecond), nil
}

func (ms *memService) serverZone(ctx context.Context) (*time.Location, error) {
	_, f, err := ms.begin(ctx, opServerZone, "")
	if err != nil {
		return nil, err
	}
	if err := readFailure(opServerZone, f); err != nil {
		return nil, err
	}
	return ms.loc, nil
}

// failFirst makes the first n calls of op meet fault, besides the faults
// set before.
func (ms *memService) failFirst(op string, n int, fault memFault) {
	earlier := ms.fault
	ms.fault = func(o string, i int) memFault {
		if o == op && i <= n {
			return fault
		}
		if earlier != nil {
			return earlier(o, i)
		}
		return faultNone
	}
}

// failCall makes the n-th call of op meet fault, besides the faults set
// before.
func (ms *memService) failCall(op string, n int, fault memFault) {
	earlier := ms.fault
	ms.fault = func(o string, i int) memFault {
		if o == op && i == n {
			return fault
		}
		if earlier != nil {
			return earlier(o, i)
		}
		return faultNone
	}
}

// failAlways makes every call of op meet fault.
func (ms *memService) failAlways(op string, fault memFault) {
	ms.failFirst(op, int(^uint(0)>>1), fault)
}

// sentCount is how many triggers reached the service.
func (ms *memService) sentCount() int { return ms.count(opTrigger) }

// idsStartedBy lists the runs the calls of caller started.
func (ms *memService) idsStartedBy(caller string) []string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var ids []string
	for id, l := range ms.startedBy {
		if l == caller {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestMemServiceErrorsAreClassifiedAsTheClientsAre(t *testing.T) {
	for f, want := range map[memFault]func(error) bool{
		faultLostBefore: IsTransient, faultLostAfter: IsTransient, fault5xx: IsTransient, faultCancel: IsTransient,
		faultCutBody: func(err error) bool { return KindOf(err) == KindMalformed },
	} {
		if err := readFailure("flowInstances/search", f); !want(err) {
			t.Errorf("%s: %v is not classified as the client's", f, err)
		}
	}
	ms := newMemService()
	for _, f := range []memFault{faultLostBefore, faultLostAfter, fault5xx, faultCutBody, faultCancel} {
		ms.failFirst(opTrigger, 1, f)
		ms.calls[opTrigger] = 0
		if _, err := ms.trigger(context.Background(), TriggerRequest{FlowID: 1, TriggerTime: runNow}); !errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("trigger meeting %s: %v, want an unknown outcome", f, err)
		}
	}
	ms.fault = nil
	if _, err := ms.trigger(context.Background(), TriggerRequest{FlowID: 1, TriggerTime: runNow}); !IsDuplicateTrigger(err) {
		t.Errorf("trigger of a taken slot: %v, want a duplicate refusal", err)
	}
	if _, err := ms.get(context.Background(), "1-nothing"); !IsNotFound(err) {
		t.Errorf("get of an unknown run: %v, want not found", err)
	}
	if !strings.HasPrefix(ms.idsStartedBy("")[0], "1-20240101") {
		t.Errorf("runs started: %v", ms.idsStartedBy(""))
	}
}

package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/enos-community/terraform-provider-dataflow/internal/acctest"
	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// The fault matrix: every fault the emulator can inject, during each phase of
// a dataflow_flow_trigger's life. Every case asserts, from the emulator's own
// records, that the runs started are exactly the runs in state.

// faultPhase is the part of a trigger's life a fault hits.
type faultPhase string

const (
	phaseCreate  faultPhase = "create"  // the trigger call
	phaseWaiting faultPhase = "waiting" // the status polls of create
	phaseRefresh faultPhase = "refresh" // reading a run that is not finished
	phaseDestroy faultPhase = "destroy" // the cancel call of on_destroy = "cancel"
)

// operations are the service calls the phase's fault targets. A status
// read is a batched search that falls back to reading the run alone, so
// both are hit.
func (p faultPhase) operations() []string {
	switch p {
	case phaseCreate:
		return []string{triggerOperation}
	case phaseDestroy:
		return []string{"flowInstances/cancel"}
	}
	return []string{"flowInstances/search", "flowInstances/get"}
}

// inject adds the case's fault to each of the phase's operations.
func (tc faultCase) inject(srv *emulator.Server) {
	for _, op := range tc.phase.operations() {
		f := tc.fault
		f.Operation = op
		srv.InjectFault(f)
	}
}

// fastFlowID is a flow whose single task takes half a second, so that the
// first status poll (after poll_interval = 1s) finds it finished.
const fastFlowID = 2001

const (
	// faultRequestTimeout is the provider's per-attempt limit in the matrix;
	// faultLongDelay exceeds it, so slow bodies time out.
	faultRequestTimeout = 3 * time.Second
	faultLongDelay      = 4 * time.Second
)

// faultCase is one row of the matrix.
type faultCase struct {
	name    string
	phase   faultPhase
	fault   emulator.Fault // injected into each of the phase's operations
	wantErr string         // regexp of the error; "" when the apply, refresh or destroy succeeds
	runs    int            // runs the service must have started
}

// faultKindRows lists, per fault kind, the fault injected in every phase and
// the error it must cause (none when the failure is transient).
var faultKindRows = []struct {
	fault emulator.Fault
	// countAtCreate is how many trigger calls fail: trigger calls are never
	// retried blindly, and one unanswered trigger is resent once after the
	// run was looked for, so one failure is what the provider can survive.
	countAtCreate int
	// countWhileWaiting, when set, is how many status reads fail while
	// waiting: the trigger's answer is read back once before the first
	// poll, and a definite error there leaves the run started, so a fault
	// meant for the polls must outlast that read.
	countWhileWaiting int
	// errByPhase is the expected error per phase; missing phases succeed.
	errByPhase map[faultPhase]string
}{
	// Latency within the request timeout: an attempt cut off by the
	// timeout is not in the emulator's records, so the timeout path is
	// covered by slow-body (the service acted) and drop-before (it did not).
	{fault: emulator.Fault{Kind: emulator.FaultLatency, Delay: time.Second, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultHTTP502, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultHTTP503, RetryAfter: time.Second, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: time.Second, Count: 2}, countAtCreate: 2},
	{fault: emulator.Fault{Kind: emulator.FaultInternal, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultDropBeforeAct, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultDropAfterAct, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultExpireToken, Count: 1}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultSlowBody, Delay: faultLongDelay, Count: 2}, countAtCreate: 1},
	{fault: emulator.Fault{Kind: emulator.FaultTruncatedBody, Count: 2}, countAtCreate: 1},
	{
		// A clock 20 minutes off fails the gateway's 15-minute freshness
		// check (1004): not transient, so an error in every phase.
		fault: emulator.Fault{Kind: emulator.FaultClockSkew, Skew: 20 * time.Minute, Count: 1}, countAtCreate: 1, countWhileWaiting: 3,
		errByPhase: map[faultPhase]string{
			phaseCreate:  `(?s)Triggering flow 2001 failed.*code 1004.*clock is\s+synchronized`,
			phaseWaiting: `(?s)Flow run did not finish.*code 1004.*clock is\s+synchronized.*tainted`,
			phaseRefresh: `(?s)Reading flow run 1004-\S+ of flow 1004 failed.*code 1004.*clock is\s+synchronized`,
			phaseDestroy: `(?s)Cancelling run 1004-\S+ of flow 1004 failed.*code 1004.*clock is\s+synchronized`,
		},
	},
}

// faultMatrix builds the rows: each kind in each phase, plus the trigger
// failures the provider must not paper over.
func faultMatrix() []faultCase {
	var cases []faultCase
	for _, row := range faultKindRows {
		for _, phase := range []faultPhase{phaseCreate, phaseWaiting, phaseRefresh, phaseDestroy} {
			f := row.fault
			if phase == phaseCreate {
				f.Count = row.countAtCreate
			}
			if phase == phaseWaiting && row.countWhileWaiting > 0 {
				f.Count = row.countWhileWaiting
			}
			runs := 1
			if phase == phaseCreate && row.errByPhase[phase] != "" {
				runs = 0
			}
			cases = append(cases, faultCase{
				name: fmt.Sprintf("%s/%s", f.Kind, phase), phase: phase, fault: f, wantErr: row.errByPhase[phase], runs: runs,
			})
		}
	}
	return append(cases,
		// A resent trigger that fails as well is an unknown outcome, recorded:
		// see TestAccFlowTriggerUnknownOutcome_notStartedIsTriggeredAgain.
		// Throttling beyond max_retries (2): the service never acted.
		faultCase{name: "throttle beyond retries/create", phase: phaseCreate,
			fault:   emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: time.Second, Count: 3},
			wantErr: `(?s)Triggering flow 2001 failed.*HTTP 429`, runs: 0},
	)
}

func TestAccFlowTriggerFaults(t *testing.T) {
	for _, tc := range faultMatrix() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.phase == phaseRefresh {
				testFaultDuringRefresh(t, tc)
				return
			}
			srv := acctest.StartEmulator(t, emulator.Options{})
			addFastFlow(t, srv)
			switch tc.phase {
			case phaseCreate, phaseWaiting:
				testFaultDuringCreate(t, srv, tc)
			case phaseDestroy:
				testFaultDuringDestroy(t, srv, tc)
			}
		})
	}
}

// addFastFlow adds fastFlowID to the emulator.
func addFastFlow(t *testing.T, srv *emulator.Server) {
	t.Helper()
	err := srv.AddFlow(emulator.FlowSpec{
		ID: fastFlowID, Name: "fast_flow", OrgID: emulator.DefaultOrgID, Owners: []string{"alice"},
		Parameters: []emulator.Parameter{{Key: "bizdate", Value: ""}},
		Tasks:      []emulator.TaskSpec{{Name: "only", Duration: emulator.Duration(500 * time.Millisecond)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// faultProviderBlock is acctest.ProviderBlock with a short per-attempt timeout,
// so that latency and slow bodies beyond it are timeouts.
func faultProviderBlock(srv *emulator.Server) string {
	return acctest.ProviderBlock(srv, fmt.Sprintf("request_timeout = %q", faultRequestTimeout))
}

// testFaultDuringCreate injects the fault before the apply that creates
// (and waits for) a run of the fast flow.
func testFaultDuringCreate(t *testing.T, srv *emulator.Server, tc faultCase) {
	config := faultProviderBlock(srv) + fmt.Sprintf(`
resource "dataflow_flow_trigger" "test" {
  flow_id       = %d
  poll_interval = "1s"
}
`, fastFlowID)
	check := resource.ComposeTestCheckFunc(
		checkRunsMatchState(srv, tc.runs),
		checkFaultFired(srv, tc),
		checkTainted(tc.runs > 0, tc.wantErr != ""),
	)
	steps := []resource.TestStep{{PreConfig: func() { tc.inject(srv) }, Config: config, Check: check}}
	if tc.wantErr != "" {
		// A failed apply runs no checks: read the state it left. A failed
		// wait leaves the resource tainted, so the plan replaces it.
		steps[0].Check, steps[0].ExpectError = nil, wrappedRegexp(tc.wantErr)
		steps = append(steps, resource.TestStep{RefreshState: true, ExpectNonEmptyPlan: true, Check: check})
	}
	acctest.ParallelUnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// longRunConfig is an unfinished run of the long flow 1004, cancelled on destroy.
func longRunConfig(srv *emulator.Server) string {
	return faultProviderBlock(srv) + `
resource "dataflow_flow_trigger" "test" {
  flow_id             = 1004
  wait_for_completion = false
  on_destroy          = "cancel"
  poll_interval       = "1s"
}
`
}

// testFaultDuringRefresh starts a long run, then refreshes it under the
// fault. The emulator and the provider share a manual clock, and the test
// moves it past the run's READY phase before the refresh, so that the run
// is RUNNING however fast terraform is.
func testFaultDuringRefresh(t *testing.T, tc faultCase) {
	clock := emulator.NewManualClock(time.Now())
	srv := acctest.StartEmulator(t, emulator.Options{Clock: clock})
	check := resource.ComposeTestCheckFunc(
		checkRunsMatchState(srv, tc.runs),
		checkFaultFired(srv, tc),
		resource.TestCheckResourceAttr(testTrigger, "status", "RUNNING"),
	)
	steps := []resource.TestStep{
		{Config: longRunConfig(srv)},
		{PreConfig: func() { clock.Advance(5 * time.Second); tc.inject(srv) }, RefreshState: true, Check: check},
	}
	if tc.wantErr != "" {
		steps[1].Check, steps[1].ExpectError = nil, wrappedRegexp(tc.wantErr)
		steps = append(steps, resource.TestStep{RefreshState: true, Check: check})
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		// The provider's clock ticks on each reading, as a real one would:
		// the token service rejects a repeated request timestamp.
		ProtoV6ProviderFactories: providerFactoriesWithClock(func() time.Time {
			clock.Advance(time.Millisecond)
			return clock.Now()
		}),
		Steps: steps,
	})
}

// testFaultDuringDestroy starts a long run, then destroys it with
// on_destroy = "cancel" under the fault. A failed destroy keeps the resource
// in state; the test's final destroy, with the fault used up, cancels the run.
func testFaultDuringDestroy(t *testing.T, srv *emulator.Server, tc faultCase) {
	steps := []resource.TestStep{
		{Config: longRunConfig(srv), Check: checkRunsMatchState(srv, tc.runs)},
		{
			PreConfig: func() { tc.inject(srv) },
			Config:    longRunConfig(srv),
			Destroy:   true,
		},
	}
	if tc.wantErr != "" {
		steps[1].ExpectError = wrappedRegexp(tc.wantErr)
		steps = append(steps, resource.TestStep{RefreshState: true, Check: checkRunsMatchState(srv, tc.runs)})
	}
	acctest.ParallelUnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			if err := checkFaultFired(srv, tc)(nil); err != nil {
				return err
			}
			in := srv.Instances()
			if len(in) != 1 || enos.Status(in[0].Status) != enos.StatusCancel {
				return fmt.Errorf("destroy must leave one run, cancelled; got %+v", in)
			}
			return nil
		},
	})
}

// wrappedRegexp compiles expr with each space matching any white space, as
// terraform wraps long error messages.
func wrappedRegexp(expr string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(expr, " ", `\s+`))
}

// checkRunsMatchState is the matrix's invariant: the service started
// exactly want runs, the state holds exactly as many trigger resources, and
// each run's id is in state.
func checkRunsMatchState(srv *emulator.Server, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		inState := triggerIDsInState(s)
		var started []string
		for _, in := range srv.Instances() {
			started = append(started, in.ID)
		}
		slices.Sort(started)
		if len(started) != want {
			return fmt.Errorf("the service started %d runs %v, want %d", len(started), started, want)
		}
		if !slices.Equal(started, inState) {
			return fmt.Errorf("runs started %v, runs in state %v", started, inState)
		}
		return nil
	}
}

// triggerIDsInState lists the ids of the dataflow_flow_trigger resources in
// state, sorted.
func triggerIDsInState(s *terraform.State) []string {
	var ids []string
	if s == nil {
		return ids
	}
	for _, m := range s.Modules {
		for _, rs := range m.Resources {
			if rs.Type == "dataflow_flow_trigger" && rs.Primary != nil {
				ids = append(ids, rs.Primary.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// checkFaultFired makes sure the fault hit one of its operations, so that
// no case passes without having been tested.
func checkFaultFired(srv *emulator.Server, tc faultCase) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, r := range srv.Requests() {
			if slices.Contains(tc.phase.operations(), r.Operation) && r.Fault == tc.fault.Kind {
				return nil
			}
		}
		return fmt.Errorf("no %v request was hit by the %s fault", tc.phase.operations(), tc.fault.Kind)
	}
}

// checkTainted checks, when the resource is in state, whether it is tainted.
func checkTainted(inState, want bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if !inState {
			return nil
		}
		rs, ok := s.RootModule().Resources[testTrigger]
		if !ok {
			return fmt.Errorf("%s not in state", testTrigger)
		}
		if got := rs.Primary.Tainted; got != want {
			return fmt.Errorf("%s tainted = %t, want %t", testTrigger, got, want)
		}
		return nil
	}
}

// TestAccFlowTriggerFaults_waitOutlastsRetryBudget: a gateway outage during
// the wait that outlasts one call's retries (here three 502 answers to every
// status read, about two seconds) is still transient. The run goes on at the
// service, so the wait must go on polling until timeouts.create: failing the
// apply taints the resource, and the next apply would start the run again.
func TestAccFlowTriggerFaults_waitOutlastsRetryBudget(t *testing.T) {
	srv := acctest.StartEmulator(t, emulator.Options{})
	addFastFlow(t, srv)
	tc := faultCase{phase: phaseWaiting, fault: emulator.Fault{Kind: emulator.FaultHTTP502, Count: 3}, runs: 1}
	testFaultDuringCreate(t, srv, tc)
}

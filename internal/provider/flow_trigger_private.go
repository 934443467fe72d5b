package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// The private state of dataflow_flow_trigger: what the provider keeps
// between operations that is not part of the resource's schema. Each key's
// value is JSON, as private state requires. The import digests live under
// privateImportedRun (flow_trigger_import.go).
const (
	// privateWait remembers a wait that did not see its run end (waitMark).
	privateWait = "wait"
	// privateUnknownOutcome remembers a trigger whose outcome was unknown
	// when Create ended (unknownOutcome): the run in state is the one the
	// trigger would have started, until a refresh settles it.
	privateUnknownOutcome = "unknown_outcome"
)

// privateGetter and privateSetter are the private state of the framework's
// requests and responses.
type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// waitMark is the value under privateWait.
type waitMark string

const (
	// waitOver (no key): nothing to follow up.
	waitOver waitMark = ""
	// waitPending: a wait was interrupted, timed out in an update, or lost
	// sight of the run before it ended, or a trigger's outcome was unknown.
	// The next plan follows the same run again with an in-place update.
	waitPending waitMark = `"pending"`
	// waitFailed: the run was seen failing after its create. The next plan
	// replaces it, as it does a run that failed during create (tainted).
	waitFailed waitMark = `"failed"`
)

func getWaitMark(ctx context.Context, p privateGetter) (waitMark, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, privateWait)
	return waitMark(raw), diags
}

func setWaitMark(ctx context.Context, p privateSetter, m waitMark) diag.Diagnostics {
	return p.SetKey(ctx, privateWait, []byte(m))
}

// unknownOutcome is the value under privateUnknownOutcome: what
// FindTriggeredRun needs besides the state's flow and sent trigger time.
type unknownOutcome struct {
	// Since is the server time read before the first send, empty when it
	// could not be read.
	Since string `json:"since,omitempty"`
}

func getUnknownOutcome(ctx context.Context, p privateGetter) (*unknownOutcome, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, privateUnknownOutcome)
	if len(raw) == 0 || diags.HasError() {
		return nil, diags
	}
	var o unknownOutcome
	if err := json.Unmarshal(raw, &o); err != nil {
		// The mark only says that the run may not exist: without it the
		// run is treated as started, which never triggers twice.
		diags.AddWarning("Unreadable private state of a trigger", fmt.Sprintf(
			"Decoding the record of a trigger with an unknown outcome failed (%s); the run in state is treated as started.", err))
		return nil, diags
	}
	return &o, diags
}

// setUnknownOutcome records o, or with nil removes the record.
func setUnknownOutcome(ctx context.Context, p privateSetter, o *unknownOutcome) diag.Diagnostics {
	if o == nil {
		return p.SetKey(ctx, privateUnknownOutcome, nil)
	}
	raw, err := json.Marshal(o)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Cannot record the trigger", fmt.Sprintf("Encoding the record of a trigger with an unknown outcome failed: %s", err))
		return diags
	}
	return p.SetKey(ctx, privateUnknownOutcome, raw)
}

// since is the recorded server time, zero when none was read.
func (o *unknownOutcome) since() time.Time {
	t, err := time.Parse(time.RFC3339Nano, o.Since)
	if err != nil {
		return time.Time{}
	}
	return t
}

// newUnknownOutcome is the record of err.
func newUnknownOutcome(err *enos.TriggerOutcomeUnknownError) *unknownOutcome {
	o := &unknownOutcome{}
	if !err.Since.IsZero() {
		o.Since = err.Since.UTC().Format(time.RFC3339Nano)
	}
	return o
}

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
// value is JSON, as private state requires.
const (
	// privateImportedRun keeps what import remembered of the run's
	// parameters (importedRun) until the first apply after import, see
	// parametersReplace.
	privateImportedRun = "imported_run"
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
	// Since is the server time read before the first send, Until one read
	// after the last send and look-up; each empty when it could not be
	// read (records before Until have none).
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
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

// trigger is the recorded trigger of run, for FindTriggeredRun.
func (o *unknownOutcome) trigger(run enos.RunRef) enos.UnknownTrigger {
	return enos.UnknownTrigger{FlowID: run.FlowID, TriggerTime: run.TriggerTime, Since: parseRecordedTime(o.Since), Until: parseRecordedTime(o.Until)}
}

// newUnknownOutcome is the record of err.
func newUnknownOutcome(err *enos.TriggerOutcomeUnknownError) *unknownOutcome {
	return &unknownOutcome{Since: formatRecordedTime(err.Since), Until: formatRecordedTime(err.Until)}
}

// formatRecordedTime writes a recorded server time, empty when none was read.
func formatRecordedTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseRecordedTime reads a recorded server time, zero when none was read.
func parseRecordedTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// loadImportedRun returns what import remembered of the run, or nil when
// the resource was not imported or has been applied since.
func loadImportedRun(ctx context.Context, private privateGetter) (*importedRun, diag.Diagnostics) {
	if private == nil {
		return nil, nil
	}
	raw, diags := private.GetKey(ctx, privateImportedRun)
	if raw == nil || diags.HasError() {
		return nil, diags
	}
	var r importedRun
	if err := json.Unmarshal(raw, &r); err != nil {
		diags.AddError("Unreadable private state of an imported run", fmt.Sprintf(
			"Decoding what import stored about the run's parameters failed: %s. Import the run again.", err))
		return nil, diags
	}
	return &r, diags
}

// setImportedRun stores r under privateImportedRun; nil removes it.
func setImportedRun(ctx context.Context, p privateSetter, r *importedRun) diag.Diagnostics {
	if r == nil {
		return p.SetKey(ctx, privateImportedRun, nil)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Cannot import flow run", fmt.Sprintf("Encoding the import mark failed: %s", err))
		return diags
	}
	return p.SetKey(ctx, privateImportedRun, raw)
}

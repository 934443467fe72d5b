package enos

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Result codes the client acts on (SERVICE.md §5).
const (
	codeOK                = 0
	codeRepeatedToken     = 1001 // a token request repeated another's encryption
	codeStaleTimestamp    = 1004 // also a malformed token body, which this client never sends
	codeGatewayInternal   = 1005
	codeTokenExpired      = 1203
	codeUserOrgMismatch   = 62101
	codeInvalidParameter  = 62102
	codeNoPrivilege       = 62103
	codeBusinessRule      = 62104
	codeUserLocked        = 62105
	codeInternalException = 62109
)

// APIError is a failed call: a non-2xx HTTP answer, a non-zero result code,
// or a body that is not a response envelope.
type APIError struct {
	Operation  string // e.g. "flows/updateAndTrigger"
	HTTPStatus int
	Code       int // result code; 0 when the answer carried none
	Message    string
	SubMessage string
	RequestID  string
}

// Error renders "<operation>: code <n>: <msg>[; <submsg>] (requestId <id>)";
// an answer without a result code shows its HTTP status instead.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	b.WriteString(": ")
	switch {
	case e.Code != codeOK:
		b.WriteString("code " + strconv.Itoa(e.Code) + ": ")
	case !is2xx(e.HTTPStatus):
		b.WriteString("HTTP " + strconv.Itoa(e.HTTPStatus) + ": ")
	}
	b.WriteString(e.Message)
	if e.SubMessage != "" {
		b.WriteString("; " + e.SubMessage)
	}
	if e.Code != codeOK && !is2xx(e.HTTPStatus) {
		b.WriteString(" (HTTP " + strconv.Itoa(e.HTTPStatus) + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" (requestId " + e.RequestID + ")")
	}
	return b.String()
}

func is2xx(status int) bool { return status >= 200 && status < 300 }

func (e *APIError) messageContains(fragment string) bool {
	return strings.Contains(strings.ToLower(e.Message+" "+e.SubMessage), fragment)
}

func asAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports an unknown flow, instance or task instance (62102
// "... not found", or HTTP 404).
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsNoTask reports a trigger of a flow without tasks (62104).
func IsNoTask(err error) bool { return KindOf(err) == KindNoTask }

// IsNoPrivilege reports that the caller lacks the right, e.g. is not the
// flow's owner (62103, other than a locked flow).
func IsNoPrivilege(err error) bool { return KindOf(err) == KindNoPrivilege }

// IsLocked reports a locked user (62105) or a locked flow (62103 "...locked").
func IsLocked(err error) bool {
	k := KindOf(err)
	return k == KindUserLocked || k == KindFlowLocked
}

// IsUserOrgMismatch reports a user id that does not exist in the org (62101).
func IsUserOrgMismatch(err error) bool { return KindOf(err) == KindUserOrgMismatch }

// IsTransient reports a failure that may pass when repeated later:
// throttling, gateway errors, internal exceptions and lost connections.
func IsTransient(err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	e, ok := asAPIError(err)
	if !ok {
		return false
	}
	switch e.HTTPStatus {
	case 429, 502, 503, 504:
		return true
	}
	return e.Code == codeInternalException || e.Code == codeGatewayInternal
}

// IsDuplicateTrigger reports that the flow already has a run for the
// trigger minute (SERVICE.md §4.6), as the service's error or as a
// *DuplicateTriggerError from StartRun.
func IsDuplicateTrigger(err error) bool { return KindOf(err) == KindDuplicateTrigger }

func isTokenExpired(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Code == codeTokenExpired
}

func isRepeatedToken(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Code == codeRepeatedToken
}

func isIllegalSorter(err error) bool { return KindOf(err) == KindIllegalSorter }

// ErrOutcomeUnknown marks a trigger that may or may not have started a run:
// the request was sent but no definite answer came back.
var ErrOutcomeUnknown = errors.New("the outcome of the trigger is unknown")

// outcomeUnknownError wraps the failure of a trigger whose outcome is unknown.
type outcomeUnknownError struct{ err error }

func (e *outcomeUnknownError) Error() string {
	return e.err.Error() + " (the trigger may or may not have started a run)"
}
func (e *outcomeUnknownError) Unwrap() error        { return e.err }
func (e *outcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// transportError is a request that got no HTTP answer.
type transportError struct {
	op      string
	err     error
	written bool // the whole request reached the connection
}

func (e *transportError) Error() string {
	if e.written {
		return e.op + ": no answer after the request was sent: " + e.err.Error()
	}
	return e.op + ": request not sent: " + e.err.Error()
}
func (e *transportError) Unwrap() error { return e.err }

// DuplicateTriggerError is returned by StartRun for a trigger time the user
// chose when the flow already has a run in that slot and no other slot of
// the trigger time's period can be used. Nothing was started.
type DuplicateTriggerError struct {
	FlowID             int64
	Slot               time.Time     // start of the taken slot, in the server's zone
	SlotSize           time.Duration // a minute, or an hour for flows with hour ids
	Period             Period        // the period of the flow's cycle that holds the trigger time
	ExistingInstanceID string        // empty when the existing run was not found
	Why                string        // why no other slot could be used
	// Evidence says how the slot is known to be taken: a refusal, or how
	// the run that holds it shows that it is not the trigger's.
	Evidence string
}

// SlotName says "minute" or "hour".
func (e *DuplicateTriggerError) SlotName() string { return slotName(e.SlotSize) }

// slotName says "minute" or "hour" for a slot size.
func slotName(size time.Duration) string {
	if size == hourSlot {
		return "hour"
	}
	return "minute"
}

func (e *DuplicateTriggerError) Error() string {
	existing := ""
	if e.ExistingInstanceID != "" {
		existing = " (instance " + e.ExistingInstanceID + ")"
	}
	evidence := ""
	if e.Evidence != "" {
		evidence = "; " + e.Evidence
	}
	return fmt.Sprintf("flow %d already has a run triggered in the %s %s%s, and no other %s of %s can be used (%s)%s; "+
		"the service allows one run per flow and %s, and a run's time parameters derive from the period of the flow's cycle, "+
		"so set a trigger time in another period to start a new run",
		e.FlowID, e.SlotName(), e.Slot.Format("2006-01-02 15:04 MST"), existing, e.SlotName(), e.Period, e.Why, evidence, e.SlotName())
}

// TriggerOutcomeUnknownError is returned by StartRun when it cannot tell
// whether its trigger started a run: the answers were lost and the run was
// not found, or could not be looked for. It satisfies
// errors.Is(err, ErrOutcomeUnknown).
type TriggerOutcomeUnknownError struct {
	FlowID      int64
	TriggerTime time.Time // the trigger time sent, in the server's zone when known
	// ExpectedInstanceID is the id the run has if it started and the
	// service names it in its documented form (SERVICE.md §4.5); empty when the
	// server's zone is unknown.
	ExpectedInstanceID string
	// RequestSent is false only when the request is known not to have left
	// (so no run can have started); LookedUp says whether the run was searched for.
	RequestSent bool
	LookedUp    bool
	// Since is the server's time at the first send (zero when it could not
	// be read): a run created before it is not this trigger's. Until is its
	// time after the last send and look-up: a run created well after it
	// (lateActMargin) is not either. A caller that records the outcome keeps
	// both for FindTriggeredRun.
	Since, Until time.Time
	Err          error
}

func (e *TriggerOutcomeUnknownError) Error() string {
	done := "was sent and may or may not have started a run"
	switch {
	case !e.RequestSent:
		done = "was not sent, so it started no run"
	case e.LookedUp:
		done += "; the run was looked for and not found"
	default:
		done += "; the run was not searched for"
	}
	msg := fmt.Sprintf("the trigger of flow %d for %s %s: %v",
		e.FlowID, e.TriggerTime.Format("2006-01-02 15:04:05 MST"), done, e.Err)
	if e.ExpectedInstanceID != "" {
		msg += "; if it started, its instance id is " + e.ExpectedInstanceID + " (the service's documented id form)"
	}
	return msg
}
func (e *TriggerOutcomeUnknownError) Unwrap() error        { return e.Err }
func (e *TriggerOutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

package enos

import (
	"strconv"
	"strings"
)

// Status is a flow or task instance status code (SERVICE.md §4.3).
type Status int

// The documented status codes.
const (
	StatusFail          Status = -1
	StatusInit          Status = 0
	StatusSuccess       Status = 1
	StatusRunning       Status = 2
	StatusSuspend       Status = 3
	StatusInternalError Status = 4
	StatusWait          Status = 5
	StatusReady         Status = 6
	StatusTimeout       Status = 7
	StatusCancel        Status = 8
	StatusRerun         Status = 9
	StatusSkip          Status = 10
)

// Outcome is what a status means for a run.
type Outcome int

// The outcomes of SERVICE.md §4.3. Only OutcomeUnfinished is not terminal.
const (
	OutcomeUnfinished Outcome = iota
	OutcomeSucceeded
	OutcomeFailed    // FAIL, INTERNAL_ERROR, TIMEOUT
	OutcomeCancelled // CANCEL
	OutcomeSkipped   // SKIP
)

// statusTable is the one list of the documented statuses, in code order:
// names, the terminal set, the search filter and the provider's schema
// descriptions all derive from it. Which statuses are terminal is inferred
// (SERVICE.md §4.3).
var statusTable = []struct {
	status  Status
	name    string
	outcome Outcome
}{
	{StatusFail, "FAIL", OutcomeFailed},
	{StatusInit, "INIT", OutcomeUnfinished},
	{StatusSuccess, "SUCCESS", OutcomeSucceeded},
	{StatusRunning, "RUNNING", OutcomeUnfinished},
	{StatusSuspend, "SUSPEND", OutcomeUnfinished},
	{StatusInternalError, "INTERNAL_ERROR", OutcomeFailed},
	{StatusWait, "WAIT", OutcomeUnfinished},
	{StatusReady, "READY", OutcomeUnfinished},
	{StatusTimeout, "TIMEOUT", OutcomeFailed},
	{StatusCancel, "CANCEL", OutcomeCancelled},
	{StatusRerun, "RERUN", OutcomeUnfinished},
	{StatusSkip, "SKIP", OutcomeSkipped},
}

// Statuses returns the documented statuses in code order.
func Statuses() []Status {
	statuses := make([]Status, len(statusTable))
	for i, row := range statusTable {
		statuses[i] = row.status
	}
	return statuses
}

// lookup returns the table row of s.
func (s Status) lookup() (name string, outcome Outcome, ok bool) {
	for _, row := range statusTable {
		if row.status == s {
			return row.name, row.outcome, true
		}
	}
	return "", OutcomeUnfinished, false
}

// Name is the documented name of the status, e.g. "SUCCESS", or
// "UNKNOWN(<code>)" for a code SERVICE.md §4.3 does not list.
func (s Status) Name() string {
	if name, _, ok := s.lookup(); ok {
		return name
	}
	return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
}

// String implements fmt.Stringer.
func (s Status) String() string { return s.Name() }

// Outcome is what the status means for the run; unknown codes are
// unfinished (SERVICE.md §4.3).
func (s Status) Outcome() Outcome {
	_, outcome, _ := s.lookup()
	return outcome
}

// Terminal reports whether a run in this status will not change any more.
func (s Status) Terminal() bool { return s.Outcome() != OutcomeUnfinished }

// Succeeded reports whether the run finished successfully.
func (s Status) Succeeded() bool { return s.Outcome() == OutcomeSucceeded }

// ParseStatusName returns the status with the given documented name.
func ParseStatusName(name string) (Status, bool) {
	for _, row := range statusTable {
		if row.name == name {
			return row.status, true
		}
	}
	return 0, false
}

// allStatusCodes is the status filter sent when a search names none:
// every documented code, in ascending order.
var allStatusCodes = func() string {
	codes := make([]string, len(statusTable))
	for i, row := range statusTable {
		codes[i] = strconv.Itoa(int(row.status))
	}
	return strings.Join(codes, ",")
}()

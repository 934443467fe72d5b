package enos

import "strconv"

var statusNames = map[Status]string{
	StatusFail:          "FAIL",
	StatusInit:          "INIT",
	StatusSuccess:       "SUCCESS",
	StatusRunning:       "RUNNING",
	StatusSuspend:       "SUSPEND",
	StatusInternalError: "INTERNAL_ERROR",
	StatusWait:          "WAIT",
	StatusReady:         "READY",
	StatusTimeout:       "TIMEOUT",
	StatusCancel:        "CANCEL",
	StatusRerun:         "RERUN",
	StatusSkip:          "SKIP",
}

// Name is the documented name of the status, e.g. "SUCCESS", or
// "UNKNOWN(<code>)" for a code the spec does not list.
func (s Status) Name() string {
	if name, ok := statusNames[s]; ok {
		return name
	}
	return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
}

// String implements fmt.Stringer.
func (s Status) String() string { return s.Name() }

// Terminal reports whether a run in this status will not change any more.
// Unknown codes are not terminal (spec §4.3).
func (s Status) Terminal() bool {
	switch s {
	case StatusFail, StatusSuccess, StatusInternalError, StatusTimeout, StatusCancel, StatusSkip:
		return true
	}
	return false
}

// Succeeded reports whether the run finished successfully.
func (s Status) Succeeded() bool { return s == StatusSuccess }

// ParseStatusName returns the status with the given documented name.
func ParseStatusName(name string) (Status, bool) {
	for s, n := range statusNames {
		if n == name {
			return s, true
		}
	}
	return 0, false
}

// allStatusCodes is the status filter sent when a search names none:
// every documented code, in ascending order.
const allStatusCodes = "-1,0,1,2,3,4,5,6,7,8,9,10"

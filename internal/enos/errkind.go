package enos

import (
	"errors"
	"strings"
)

// ErrorKind is what a failed call means, read from the service's result
// codes and messages (SERVICE.md §5) so that callers never look at codes.
type ErrorKind int

// The kinds of failure. KindOther is anything not listed, including
// errors that did not come from a call.
const (
	KindOther ErrorKind = iota
	// Service refusals (SERVICE.md §5.1).
	KindUserOrgMismatch  // 62101: user_id unknown or not in org_id
	KindNotFound         // 62102 "... not found", "no log", or HTTP 404
	KindInvalidRequest   // 62102 "Invalid request body." and other invalid parameters
	KindIllegalSorter    // 62102 "illegal sorted by field"
	KindDuplicateTrigger // 62102 one run per flow and minute (SERVICE.md §4.6), or a *DuplicateTriggerError
	KindNoPrivilege      // 62103 "User has no privilege."
	KindFlowLocked       // 62103 "Workflow is locked"
	KindNoTask           // 62104 a flow without tasks cannot be triggered
	KindBusinessRule     // 62104 other business rules
	KindUserLocked       // 62105 "Your account has been locked"
	KindInternal         // 62109 or the gateway's 1005: a fault inside the service
	// Gateway and token refusals (SERVICE.md §5.2).
	KindRepeatedToken    // 1001: a token request repeated another's encryption
	KindUnknownAppKey    // 1002: access_key unknown
	KindBadSignature     // 1003: encryption or signature invalid, i.e. secret_key wrong
	KindStaleTimestamp   // 1004: the request's timestamp is outside the gateway's window
	KindMissingParameter // 1202: an apim-* header or token field is empty
	KindTokenExpired     // 1203: the access token has expired (after the client's one renewal)
	KindTokenRefresh     // 1204: a token refresh failed
	// HTTP and transport.
	KindThrottled    // HTTP 429
	KindUnavailable  // HTTP 5xx without a result code
	KindUnauthorized // HTTP 401 or 403 without a result code
	KindUnreachable  // no HTTP answer: connection refused or lost, timeout
	KindMalformed    // an answer that is not a readable envelope or payload
)

// Gateway and token result codes the client itself does not act on.
const (
	codeUnknownAppKey    = 1002
	codeBadEncryption    = 1003
	codeMissingParameter = 1202
	codeTokenRefresh     = 1204
)

// KindOf classifies err. Wrapped errors are unwrapped.
func KindOf(err error) ErrorKind {
	var dup *DuplicateTriggerError
	if errors.As(err, &dup) {
		return KindDuplicateTrigger
	}
	var te *transportError
	if errors.As(err, &te) {
		return KindUnreachable
	}
	e, ok := asAPIError(err)
	if !ok {
		return KindOther
	}
	if e.Code == codeOK {
		return httpKind(e)
	}
	return codeKind(e)
}

// codeKind classifies an answer with a non-zero result code.
func codeKind(e *APIError) ErrorKind {
	switch e.Code {
	case codeUserOrgMismatch:
		return KindUserOrgMismatch
	case codeInvalidParameter:
		switch {
		case e.messageContains("repeatedly") || e.messageContains("cannot create workflow instance"):
			return KindDuplicateTrigger
		case e.messageContains("illegal sorted by field"):
			return KindIllegalSorter
		case e.messageContains("not found") || e.messageContains("no log"):
			return KindNotFound
		}
		return KindInvalidRequest
	case codeNoPrivilege:
		if e.messageContains("lock") {
			return KindFlowLocked
		}
		return KindNoPrivilege
	case codeBusinessRule:
		if e.messageContains("no task") {
			return KindNoTask
		}
		return KindBusinessRule
	case codeUserLocked:
		return KindUserLocked
	case codeInternalException, codeGatewayInternal:
		return KindInternal
	case codeRepeatedToken:
		return KindRepeatedToken
	case codeUnknownAppKey:
		return KindUnknownAppKey
	case codeBadEncryption:
		return KindBadSignature
	case codeStaleTimestamp:
		return KindStaleTimestamp
	case codeMissingParameter:
		return KindMissingParameter
	case codeTokenExpired:
		return KindTokenExpired
	case codeTokenRefresh:
		return KindTokenRefresh
	}
	return KindOther
}

// httpKind classifies an answer without a result code.
func httpKind(e *APIError) ErrorKind {
	switch {
	case e.HTTPStatus == 404:
		return KindNotFound
	case e.HTTPStatus == 429:
		return KindThrottled
	case e.HTTPStatus == 401 || e.HTTPStatus == 403:
		return KindUnauthorized
	case e.HTTPStatus >= 500:
		return KindUnavailable
	case is2xx(e.HTTPStatus) && strings.HasPrefix(e.Message, "malformed response"):
		return KindMalformed
	case !is2xx(e.HTTPStatus):
		return KindOther
	}
	return KindMalformed
}

// HTTPStatus is the HTTP status of the failed call's answer, 0 when there
// was none.
func HTTPStatus(err error) int {
	if e, ok := asAPIError(err); ok {
		return e.HTTPStatus
	}
	return 0
}

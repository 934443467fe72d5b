package enos

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/enos-community/terraform-provider-dataflow/internal/emulator"
)

// Each kind from an answer decoded as the client decodes it.
func TestKindOf(t *testing.T) {
	envelopeErr := func(httpStatus int, body string) error {
		_, _, err := decodeEnvelope("op", httpStatus, []byte(body))
		return err
	}
	coded := func(code int, msg string) error {
		return envelopeErr(200, `{"status":`+strconv.Itoa(code)+`,"msg":"`+msg+`"}`)
	}
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"62101", coded(62101, "userId does not exist, or it does not match to orgId."), KindUserOrgMismatch},
		{"62102 flow not found", coded(62102, "Flow not found: 9"), KindNotFound},
		{"62102 instance not found", coded(62102, "Instance not found"), KindNotFound},
		{"62102 no log", coded(62102, "Invalid taskInstId or it has no log"), KindNotFound},
		{"62102 invalid body", coded(62102, "Invalid request body."), KindInvalidRequest},
		{"62102 sorter", coded(62102, "illegal sorted by field"), KindIllegalSorter},
		{"62102 duplicate", coded(62102, "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute."), KindDuplicateTrigger},
		{"duplicate from StartRun", &DuplicateTriggerError{FlowID: 1}, KindDuplicateTrigger},
		{"62103 no privilege", coded(62103, "User has no privilege."), KindNoPrivilege},
		{"62103 locked flow", coded(62103, "Workflow is locked"), KindFlowLocked},
		{"62104 no task", coded(62104, "This workflow has no task. You cannot trigger it."), KindNoTask},
		{"62104 relied on", coded(62104, "This workflow is relied on by other workflows. You cannot delete this workflow."), KindBusinessRule},
		{"62105", coded(62105, "Your account has been locked"), KindUserLocked},
		{"62109", coded(62109, "Server internal exception"), KindInternal},
		{"1001", coded(1001, "Repeated requests"), KindRepeatedToken},
		{"1002", coded(1002, "The appKey does not exist"), KindUnknownAppKey},
		{"1003", coded(1003, "The encryption is not valid"), KindBadSignature},
		{"1004", coded(1004, "Invalid parameter"), KindStaleTimestamp},
		{"1005", coded(1005, "Internal service exception"), KindInternal},
		{"1202", coded(1202, "The parameter is empty"), KindMissingParameter},
		{"1203 with HTTP 401", envelopeErr(401, `{"status":1203,"msg":"The access token has expired"}`), KindTokenExpired},
		{"1204", coded(1204, "Failed to refresh access token"), KindTokenRefresh},
		{"429", envelopeErr(429, `Too Many Requests`), KindThrottled},
		{"HTML 502", envelopeErr(502, `<html>502 Bad Gateway</html>`), KindUnavailable},
		{"HTTP 403 without code", envelopeErr(403, `{"error":"forbidden"}`), KindUnauthorized},
		{"HTTP 404 without code", envelopeErr(404, `{"error":"no route"}`), KindNotFound},
		{"truncated 200", envelopeErr(200, `{"status":0,"da`), KindMalformed},
		{"200 without code", envelopeErr(200, `{"msg":"x"}`), KindMalformed},
		{"lost connection", &transportError{op: "op", err: errors.New("EOF"), written: true}, KindUnreachable},
		{"outcome unknown keeps its cause", &outcomeUnknownError{err: &transportError{op: "op", err: errors.New("EOF")}}, KindUnreachable},
		{"unknown code", coded(99999, "?"), KindOther},
		{"not a call's error", errors.New("Instance not found"), KindOther},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("%s: KindOf(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

// A call to a port nobody listens on fails without an HTTP answer.
func TestKindOfRefusedConnection(t *testing.T) {
	srv := newEmu(t, emulator.Options{})
	c, _ := srv.client(t, func(cfg *Config) { cfg.ServerTimeZone = "GMT+8" })
	srv.server.Close()
	_, err := c.GetFlowInstance(context.Background(), "1-1")
	if KindOf(err) != KindUnreachable || HTTPStatus(err) != 0 {
		t.Fatalf("KindOf(%v) = %d, HTTP %d", err, KindOf(err), HTTPStatus(err))
	}
	if HTTPStatus(&APIError{HTTPStatus: http.StatusBadGateway}) != http.StatusBadGateway {
		t.Error("HTTPStatus does not read the answer's status")
	}
}

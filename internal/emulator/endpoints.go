package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
)

// Service result codes (SERVICE.md §5.1).
const (
	codeNoUser      = 62101
	codeInvalid     = 62102
	codeNoPrivilege = 62103
	codeRule        = 62104
	codeUserLocked  = 62105
	codeInternal    = 62109
)

// Messages of the service codes.
const (
	msgInvalidBody   = "Invalid request body."
	msgNoPrivilege   = "User has no privilege."
	msgFlowLocked    = "Workflow is locked"
	msgUserLocked    = "Your account has been locked"
	msgNoTask        = "This workflow has no task. You cannot trigger it."
	msgNotFound      = "Instance not found"
	msgDuplicate     = "Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute."
	msgIllegalSorter = "illegal sorted by field"
	msgNoLogV21      = "Invalid taskInstId or it has no log"
	msgNoLog         = "No log found"
	msgFlowNotFound  = "Flow not found: "
)

// endpoint is one action of one resource.
type endpoint struct {
	method  string
	noUser  bool // the time calls take no userId/orgId
	v21Only bool
	handle  func(*Emulator, *call) reply
}

// endpoints maps "<resource>/<action>" to its handler. Handlers run with
// e.mu held, after the gateway and user checks.
var endpoints = map[string]endpoint{
	"flows/updateAndTrigger": {method: http.MethodPost, handle: (*Emulator).updateAndTrigger},
	"flows/trigger":          {method: http.MethodPost, handle: (*Emulator).trigger},
	"flows/triggerFromTask":  {method: http.MethodPost, v21Only: true, handle: (*Emulator).triggerFromTask},
	"flows/get":              {method: http.MethodGet, handle: (*Emulator).getFlow},
	"flows/getMyFlow":        {method: http.MethodGet, handle: (*Emulator).getMyFlow},
	"flows/search":           {method: http.MethodPost, handle: (*Emulator).searchFlows},
	"flows/enable":           {method: http.MethodPost, handle: (*Emulator).enableFlow},
	"flows/disable":          {method: http.MethodPost, handle: (*Emulator).disableFlow},
	"flowInstances/get":      {method: http.MethodGet, handle: (*Emulator).getInstance},
	"flowInstances/search":   {method: http.MethodPost, handle: (*Emulator).searchInstances},
	"flowInstances/cancel":   {method: http.MethodPost, handle: (*Emulator).cancelInstance},
	"taskInstances/getLog":   {method: http.MethodGet, handle: (*Emulator).getLog},
	"taskInstances/get":      {method: http.MethodGet, v21Only: true, handle: (*Emulator).getTaskInstance},
	"time/getCurrentTime":    {method: http.MethodGet, noUser: true, handle: (*Emulator).currentTime},
	"time/getTimeZone":       {method: http.MethodGet, noUser: true, handle: (*Emulator).timeZone},
}

// decodeBody reads a JSON object body; wrong types make it invalid.
func decodeBody(body []byte, v any) bool {
	return len(body) > 0 && body[0] == '{' && json.Unmarshal(body, v) == nil
}

func invalidBody() reply { return fail(codeInvalid, msgInvalidBody) }

// canWrite checks the rights and locks of the writes (trigger, enable, disable).
func canWrite(u *User, f *flow, owners []string) *reply {
	var r reply
	switch {
	case u.OrgID != f.spec.OrgID || !slices.Contains(owners, u.Name):
		r = fail(codeNoPrivilege, msgNoPrivilege)
	case u.Locked:
		r = fail(codeUserLocked, msgUserLocked)
	case f.spec.Locked:
		r = fail(codeNoPrivilege, msgFlowLocked)
	default:
		return nil
	}
	return &r
}

// canRead checks that the flow is in the caller's OU.
func canRead(u *User, f *flow) *reply {
	if u.OrgID == f.spec.OrgID {
		return nil
	}
	r := fail(codeNoPrivilege, msgNoPrivilege)
	return &r
}

func (e *Emulator) currentTime(c *call) reply { return ok200(c.now.UnixMilli()) }

func (e *Emulator) timeZone(*call) reply {
	return ok200(map[string]string{"timezone": e.zone.String()})
}

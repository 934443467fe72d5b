package provider

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// One mapping from the client's errors to diagnostics, for every resource,
// data source and action: the summary says what went wrong, the detail
// names the operation, says what to do, and ends with the client's error
// (code, message and request id).

// callSubject is what a failed call was about, so that "not found" and
// "no privilege" say what to check.
type callSubject struct {
	flowID int64  // 0 when not known
	runID  string // "" for a call about a flow, or a search
}

// triggerCaller says what started a trigger: what holds its run, and so
// what to do after a failure, differs.
type triggerCaller int

const (
	byResource triggerCaller = iota // dataflow_flow_trigger: state holds the run
	byAction                        // dataflow_trigger_flow: nothing holds it
)

// describeTriggerError turns a failed StartRun into a diagnostic summary and
// detail that say what happened and what to do about it. An unknown
// outcome that a resource records is a warning instead (describeRecordedOutcome).
func describeTriggerError(flowID int64, err error, by triggerCaller) (summary, detail string) {
	var dup *enos.DuplicateTriggerError
	var unknown *enos.TriggerOutcomeUnknownError
	switch {
	case errors.As(err, &dup):
		existing := "an existing run"
		if dup.ExistingInstanceID != "" {
			existing = "the existing run " + dup.ExistingInstanceID
		}
		slot := dup.SlotName()
		return "Flow already triggered in this " + slot, fmt.Sprintf(
			"Flow %d already has %s triggered in the %s %s. The service names runs after the flow and the trigger %s, "+
				"so it allows one run per flow and %s. A run's time parameters (such as its business date) derive from the period of the flow's cycle "+
				"that holds the trigger time, %s, so the provider may trigger in another %s of that period; none could be used (%s). Nothing was started.\n\n"+
				"To start a new run, set trigger_time to a time in another period, or leave trigger_time unset to let the provider pick a free %s. "+
				"To keep the existing run instead, import it (terraform import <resource address> <instance id>).\n\n%s",
			dup.FlowID, existing, slot, dup.Slot.Format("2006-01-02 15:04 MST"), slot, slot, dup.Period, slot, dup.Why, slot, err)
	case errors.As(err, &unknown):
		detail := unknownOutcomeDone(unknown) + " "
		if !unknown.RequestSent {
			return "Trigger not sent", detail + "Nothing was recorded, and applying again triggers it.\n\n" + err.Error()
		}
		id := unknown.ExpectedInstanceID
		again := "applying again: an apply now"
		if by == byAction {
			again = "invoking the action again: an invocation now"
		}
		find := "Check the flow's runs triggered at that time (for example with the dataflow_flow_instances data source) before " + again + " would trigger once more."
		if id != "" {
			find = fmt.Sprintf("If it started, the service names it %s (its documented instance id form). Check for that run (for example with the dataflow_flow_instance data source) before %s would trigger once more.", id, again)
		}
		if by == byAction {
			return "Outcome of the trigger unknown", detail + "The action holds no state, so nothing records the run. " + find +
				" To track a run that did start, import it into a dataflow_flow_trigger resource by its flow instance id, or find it with `terraform query` and the dataflow_flow_trigger list resource.\n\n" + err.Error()
		}
		importHint := "To track a run that did start, import it into this resource by its flow instance id."
		if id != "" {
			importHint = fmt.Sprintf("To track that run, import it into this resource instead of applying again:\n\n"+
				"    terraform import '<resource address>' %s\n\nwith this resource's address (for example dataflow_flow_trigger.this, or dataflow_flow_trigger.this[\"key\"] with for_each), "+
				"or add an import block and apply:\n\n    import {\n      to = <resource address>\n      id = %q\n    }", id, id)
		}
		return "Outcome of the trigger unknown", detail +
			"Nothing was recorded in state: the run's instance id, which would record it, could not be worked out (the server's time zone could not be read). " +
			find + "\n\n" + importHint + "\n\n" + err.Error()
	case errors.Is(err, enos.ErrOutcomeUnknown):
		holder := "Nothing was recorded in state."
		if by == byAction {
			holder = "The action holds no state, so nothing records the run."
		}
		return "Outcome of the trigger unknown", fmt.Sprintf(
			"The trigger of flow %d got no definite answer, so it is unknown whether it started. %s "+
				"Check the flow's runs (for example with the dataflow_flow_instances data source) before triggering again; "+
				"to track a run that did start, import it into a dataflow_flow_trigger resource by its flow instance id.\n\n%s", flowID, holder, err)
	}
	return describeServiceError(fmt.Sprintf("Triggering flow %d", flowID), flowID, err)
}

// unknownOutcomeDone says what a trigger with an unknown outcome did: sent
// or not, looked for or not.
func unknownOutcomeDone(u *enos.TriggerOutcomeUnknownError) string {
	at := u.TriggerTime.Format("2006-01-02 15:04:05 MST")
	switch {
	case !u.RequestSent:
		return fmt.Sprintf("The trigger of flow %d for %s was not sent, so it started no run.", u.FlowID, at)
	case u.LookedUp:
		return fmt.Sprintf("The trigger of flow %d for %s was sent, but its answer was lost; the provider then looked for the run and did not find it, "+
			"so it is unknown whether it started (a run just started may not be visible yet).", u.FlowID, at)
	}
	return fmt.Sprintf("The trigger of flow %d for %s was sent, but its answer was lost, and the run could not be looked for afterwards, "+
		"so it is unknown whether it started.", u.FlowID, at)
}

// describeRecordedOutcome is the warning of a resource that recorded a
// trigger with an unknown outcome (see flowTriggerResource.recordUnknownOutcome).
func describeRecordedOutcome(u *enos.TriggerOutcomeUnknownError) (summary, detail string) {
	return "Outcome of the trigger unknown: run recorded as " + u.ExpectedInstanceID, unknownOutcomeDone(u) + fmt.Sprintf(
		" The resource is saved in state, not tainted, with the instance id the run has if it started: %s (the service's documented id form). "+
			"The next plan's refresh settles it: if the run exists it is kept (and followed to its end when wait_for_completion is true); "+
			"if neither a search of the flow's runs of that time nor a read of that id finds it, the resource is removed from state and that plan triggers it again. "+
			"No second run is started for a run that exists.\n\n%s", u.ExpectedInstanceID, u)
}

// triggerMoveDetail says from which trigger time to which a run was moved,
// and why.
func triggerMoveDetail(flowID int64, mv *enos.TriggerMove) string {
	slot := mv.SlotName()
	existing := "a run"
	if mv.ExistingInstanceID != "" {
		existing = "the run " + mv.ExistingInstanceID
	}
	return fmt.Sprintf("Flow %d already had %s triggered in the %s of trigger_time %s, and the service allows one run per flow and %s. "+
		"The run was triggered at %s (%s) instead, a free %s of the same period of the flow's cycle, %s, "+
		"so its time parameters (such as its business date) are those of trigger_time. trigger_time stays as written; sent_trigger_time holds the time sent.",
		flowID, existing, slot, mv.From.UTC().Format(time.RFC3339), slot,
		mv.To.UTC().Format(time.RFC3339), mv.To.Format("2006-01-02 15:04 MST"), slot, mv.Period)
}

// describeServiceError explains a failed call about flowID (0 for none);
// action says what was attempted, e.g. "Reading flow 1001".
func describeServiceError(action string, flowID int64, err error) (summary, detail string) {
	return describeCallError(action, callSubject{flowID: flowID}, err)
}

// DescribeError is the provider's explanation of a failed call about flowID
// (0 for none), the summary and detail a plan would show; the tenant check
// (cmd/dataflow-doctor) reports failures with it.
func DescribeError(action string, flowID int64, err error) (summary, detail string) {
	return describeServiceError(action, flowID, err)
}

// describeRunError explains a failed call about the run runID of flowID
// (0 when not known); action says what was attempted, e.g. "Reading run
// 1001-20240101080000".
func describeRunError(action string, flowID int64, runID string, err error) (summary, detail string) {
	return describeCallError(action, callSubject{flowID: flowID, runID: runID}, err)
}

// addCallError adds the diagnostic of a failed call. A "not found" is
// attached to lookedUp, the attribute that named what was looked up (an
// empty path for none).
func addCallError(diags *diag.Diagnostics, lookedUp path.Path, action string, about callSubject, err error) {
	summary, detail := describeCallError(action, about, err)
	if enos.IsNotFound(err) && !lookedUp.Equal(path.Empty()) {
		diags.AddAttributeError(lookedUp, summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

// describeCallError is the mapping: the service's refusals (SERVICE.md §5.1),
// the gateway's (§5.2), and HTTP and transport failures (§5.3).
func describeCallError(action string, about callSubject, err error) (summary, detail string) {
	failed := action + " failed: "
	flow := "the flow"
	if about.flowID != 0 {
		flow = fmt.Sprintf("flow %d", about.flowID)
	}
	explain := func(summary, format string, args ...any) (string, string) {
		return summary, failed + fmt.Sprintf(format, args...) + "\n\n" + err.Error()
	}
	switch enos.KindOf(err) {
	case enos.KindNotFound:
		if about.runID != "" {
			return explain("Flow instance not found",
				"the service does not know the flow instance %q. Check the id, and that the provider's endpoint and org_id are those of the environment the run was started in.", about.runID)
		}
		if about.flowID != 0 {
			return explain("Flow not found",
				"there is no flow %d in this organization (the service does not know flow %d). Check flow_id, and the provider's endpoint and org_id; "+
					"the dataflow_flow data source reads a flow by its id.", about.flowID, about.flowID)
		}
		return explain("Not found", "the service does not know what was asked for. Check the ids, and the provider's endpoint and org_id.")
	case enos.KindUserOrgMismatch:
		return explain("User does not belong to the organization",
			"the provider's user_id does not exist or is not in org_id (62101). Check user_id and org_id in the provider configuration.")
	case enos.KindNoPrivilege:
		return explain("No privilege on the flow",
			"the provider's user may not do this (62103). Only an owner of %s may change it (trigger it, cancel its runs, pause or resume its schedule), and only users of its organization may read it; "+
				"add the user to the flow's owners, or configure the provider with a user who owns it.", flow)
	case enos.KindFlowLocked:
		return explain("User or flow locked",
			"%s is locked (62103), and the service refuses every change to it (triggers, cancels, schedule changes) while it is. Ask an administrator of the organization to unlock it.", flow)
	case enos.KindUserLocked:
		return explain("User or flow locked",
			"the provider's user (user_id) is locked (62105), and the service refuses its writes while it is. Ask an administrator of the organization to unlock the account.")
	case enos.KindNoTask:
		return explain("Flow has no task",
			"%s has no task, and the service refuses to run a flow without tasks (62104). Add tasks to the flow in the Dataflow console, or check flow_id.", flow)
	case enos.KindBusinessRule:
		return explain("Refused by the service", "the service's rules do not allow this for %s (62104); its message says why.", flow)
	case enos.KindDuplicateTrigger:
		return explain("Flow already triggered in this minute",
			"%s already has a run in this minute, and the service allows one run per flow and minute. Trigger it in another minute.", flow)
	case enos.KindInvalidRequest, enos.KindIllegalSorter, enos.KindMissingParameter:
		return explain("Request refused as invalid",
			"the service refused the request as invalid. Check that api_version matches the service (v2.0 or v2.1); "+
				"if it does, please report this issue to the provider developers with the message below.")
	case enos.KindInternal:
		return explain("Service error",
			"the service reported an internal error, and it persisted through the provider's retries. Try again later; max_retries sets how often a call is repeated.")
	case enos.KindRepeatedToken, enos.KindTokenExpired, enos.KindTokenRefresh:
		return explain("Access token refused",
			"the gateway refused the provider's access token even after a new one was obtained. Try again; "+
				"if it persists, check that this machine's clock is synchronized and that no one revoked the application's credentials.")
	case enos.KindUnknownAppKey:
		return explain("Unknown access key",
			"the gateway does not know the application's access key (1002). Check access_key (ENOS_ACCESS_KEY) and that endpoint is the gateway of the application's environment.")
	case enos.KindBadSignature:
		return explain("Invalid signature",
			"the gateway refused the request's signature (1003), which is made with the secret key. Check secret_key (ENOS_SECRET_KEY) against the application's registration.")
	case enos.KindStaleTimestamp:
		return explain("Request timestamp refused",
			"the gateway refuses requests whose timestamp is more than 15 minutes from its own clock (1004). Check that this machine's clock is synchronized.")
	case enos.KindThrottled:
		return explain("Rate limited",
			"the gateway throttled the provider (HTTP 429) beyond its retries. The limit is shared by the whole organization: "+
				"set max_requests_per_second in the provider, raise max_retries, or apply with a lower -parallelism.")
	case enos.KindUnavailable:
		return explain("Service unavailable",
			"the gateway or the service answered HTTP %d, and did so through the provider's retries. Try again later; max_retries sets how often a call is repeated.", enos.HTTPStatus(err))
	case enos.KindUnauthorized:
		return explain("Access refused",
			"the gateway refused access (HTTP %d). Check access_key, secret_key and endpoint, and that the application is authorized for the organization.", enos.HTTPStatus(err))
	case enos.KindUnreachable:
		return explain("Service unreachable",
			"no answer came from the gateway. Check endpoint and the network (proxy settings, firewalls); request_timeout limits each attempt.")
	case enos.KindMalformed:
		return explain("Unreadable answer",
			"the service's answer could not be read. Check that endpoint is the EnOS API gateway and api_version matches the service; "+
				"if they do, please report this issue to the provider developers with the message below.")
	}
	return action + " failed", err.Error()
}

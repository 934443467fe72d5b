package provider

import (
	"errors"
	"fmt"
	"time"

	"github.com/enos-community/terraform-provider-dataflow/internal/enos"
)

// describeTriggerError turns a failed StartRun into a diagnostic summary and
// detail that say what happened and what to do about it.
func describeTriggerError(flowID int64, err error) (summary, detail string) {
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
		run := "The run's instance id could not be worked out (the server's time zone is unknown); look for it among the flow's runs triggered at that time."
		importHint := ""
		if id := unknown.ExpectedInstanceID; id != "" {
			run = fmt.Sprintf("If it started, the service names it %s (its documented instance id form: the flow id and the trigger time in the server's zone).", id)
			importHint = fmt.Sprintf("\n\nTo track that run, import it into this resource instead of applying again:\n\n"+
				"    terraform import '<resource address>' %s\n\nwith this resource's address (for example dataflow_flow_trigger.this, or dataflow_flow_trigger.this[\"key\"] with for_each), "+
				"or add an import block and apply:\n\n    import {\n      to = <resource address>\n      id = %q\n    }", id, id)
		}
		return "Outcome of the trigger unknown", fmt.Sprintf(
			"The trigger of flow %d for %s got no definite answer, and the run could not be found afterwards, so it is unknown whether it started. "+
				"Nothing was recorded in state. %s Check the flow's runs (for example with the dataflow_flow_instances data source) before applying again: "+
				"an apply now would trigger once more.%s\n\n%s",
			flowID, unknown.TriggerTime.Format("2006-01-02 15:04:05 MST"), run, importHint, err)
	case errors.Is(err, enos.ErrOutcomeUnknown):
		return "Outcome of the trigger unknown", fmt.Sprintf(
			"The trigger of flow %d got no definite answer, so it is unknown whether it started. Nothing was recorded in state. "+
				"Check the flow's runs (for example with the dataflow_flow_instances data source) before applying again; "+
				"to track a run that did start, import it by its flow instance id.\n\n%s", flowID, err)
	}
	return describeServiceError(fmt.Sprintf("Triggering flow %d", flowID), flowID, err)
}

// triggerMoveDetail says from which trigger time to which a run was moved,
// and why.
func triggerMoveDetail(flowID int64, mv *enos.TriggerMove) string {
	slot := "minute"
	if mv.SlotSize == time.Hour {
		slot = "hour"
	}
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

// describeServiceError explains the service's documented refusals (spec
// §5.1) of a call about flowID; action says what was attempted.
func describeServiceError(action string, flowID int64, err error) (summary, detail string) {
	switch {
	case enos.IsNoTask(err):
		return "Flow has no task", fmt.Sprintf(
			"%s failed: flow %d has no task, and the service refuses to run a flow without tasks (62104). "+
				"Add tasks to the flow in the Dataflow console, or check flow_id.\n\n%s", action, flowID, err)
	case enos.IsLocked(err):
		return "User or flow locked", fmt.Sprintf(
			"%s failed: the provider's user or flow %d is locked, and the service refuses writes while it is. "+
				"Ask an administrator of the organization to unlock it.\n\n%s", action, flowID, err)
	case enos.IsNoPrivilege(err):
		return "No privilege on the flow", fmt.Sprintf(
			"%s failed: the provider's user may not do this (62103). Only an owner of flow %d may trigger it or cancel its runs; "+
				"add the user to the flow's owners, or configure the provider with a user who owns it.\n\n%s", action, flowID, err)
	case enos.IsUserOrgMismatch(err):
		return "User does not belong to the organization", fmt.Sprintf(
			"%s failed: the provider's user_id does not exist or is not in org_id (62101). Check user_id and org_id in the provider configuration.\n\n%s",
			action, err)
	case enos.IsNotFound(err):
		return "Flow not found", fmt.Sprintf("%s failed: the service does not know flow %d. Check flow_id.\n\n%s", action, flowID, err)
	}
	return action + " failed", err.Error()
}

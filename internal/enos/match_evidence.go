package enos

// slotEvidence is how StartRun knows that a slot was taken before its
// first send there, so that the send started no run in it: the only
// grounds on which it sends again in another slot (see startRun).
type slotEvidence int

const (
	noEvidence slotEvidence = iota
	// evidenceRefused: the service refused the first send as a repeated
	// trigger (62102).
	evidenceRefused
	// evidenceHeldByClient: this client returned the slot's run for another
	// run, or holds its expected id for a trigger of unknown outcome.
	evidenceHeldByClient
	// evidenceHeldByCaller: the caller holds the run for another run
	// (TriggerRequest.HeldIDs).
	evidenceHeldByCaller
	// evidenceRecordedUnknown: this client returned another trigger's
	// outcome unknown, and the run is one of the forms that trigger's run
	// would have.
	evidenceRecordedUnknown
	// evidenceCreatedBefore: the run was created before the server's time
	// at the first send (see startMachine.ensureSince).
	evidenceCreatedBefore
	// evidenceCreatedAfter: settling a recorded outcome, the run was
	// created well after the trigger's last send (lateActMargin).
	evidenceCreatedAfter
	// evidenceOtherInstant: the run was triggered for another instant than
	// the one sent, beyond the forms the service may write it in.
	evidenceOtherInstant
)

// slotTaken is the evidence that a slot was taken, with the run that
// shows it.
type slotTaken struct {
	evidence slotEvidence
	run      *FlowInstance // the slot's run, when it was read
	runID    string        // the slot's run; empty when unknown
	// answered says that the service answered the trigger with that run.
	answered bool
	other    string // evidenceRecordedUnknown: that trigger's expected id
}

// String says how the slot is known to be taken, as a user reads it.
func (t slotTaken) String() string {
	run := "its run " + t.runID
	if t.runID == "" {
		run = "its run"
	}
	var why string
	switch t.evidence {
	case evidenceRefused:
		return "the service refused the trigger as a repeated one"
	case evidenceHeldByClient:
		why = "this client holds it for another run"
	case evidenceHeldByCaller:
		why = "it is held for another run"
	case evidenceRecordedUnknown:
		why = "another trigger of this client, recorded as " + t.other + " with an unknown outcome, may have started it"
	case evidenceCreatedBefore:
		why = "it was created at " + t.run.CreatedAt.Format(evidenceTimeLayout) + ", before the trigger was sent"
	case evidenceCreatedAfter:
		why = "it was created at " + t.run.CreatedAt.Format(evidenceTimeLayout) + ", after the trigger's outcome was recorded"
	case evidenceOtherInstant:
		why = "it was triggered for " + t.run.TriggerTime.Format(evidenceTimeLayout)
	default:
		return "no evidence"
	}
	if t.answered {
		return "the service answered the trigger with " + run[len("its "):] + ", which is not a new run: " + why
	}
	return run + " is not this trigger's: " + why
}

const evidenceTimeLayout = "2006-01-02 15:04:05 MST"

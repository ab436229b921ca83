package audit

// Actions of recalls and sightings sent back (docs/FEDERATION.md).
const (
	ActionRecallIssue   = "recall.issue"   // this node recalled an object: one entry per partner notified
	ActionRecallReceive = "recall.receive" // a partner's recall was honoured: objects purged, acknowledgement queued
	ActionRecallRefuse  = "recall.refuse"  // a recall notice or acknowledgement was refused (forged, not the originator, ...)
	ActionRecallAck     = "recall.ack"     // a partner's signed acknowledgement was recorded
	ActionRecallRead    = "recall.read"    // someone read the state of recalls
	ActionSightingSend  = "sighting.send"  // a sighting of a partner's object was sent back to it, or not (Decision)
	ActionSightingRecv  = "sighting.received"
)

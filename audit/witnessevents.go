package audit

// Actions of witnessing (docs/AUDIT.md, "Witnesses").
const (
	// ActionSplitView: a partner log showed two different trees (this node
	// found it as a witness, or by comparing notes with a partner).
	ActionSplitView = "audit.split-view"
	// ActionSplitAck: an administrator acknowledged a partner's split
	// view; deliveries to it resume.
	ActionSplitAck = "audit.split-ack"
	// ActionRollbackAck: a partner log declared a rollback in a signed
	// statement, and this witness follows it from the restored tree.
	ActionRollbackAck = "audit.rollback-ack"
	// ActionRollback: this node's log went back (a restore); the entry
	// carries the signed rollback statement and is the first after it.
	ActionRollback = "audit.rollback"
)

package scan

import "github.com/tearline/tearline/store"

// Witnessing rows (store/witness.go). Columns in the order of the *Cols
// constants.

// WitnessedLogCols are WitnessedLog's columns.
const WitnessedLogCols = `origin, size, root, note, updated_us`

// WitnessedLog reads a witnessed_logs row.
func WitnessedLog(sc Scanner) (store.WitnessedLog, error) {
	var l store.WitnessedLog
	var us int64
	if err := sc.Scan(&l.Origin, &l.Size, &l.Root, &l.Note, &us); err != nil {
		return l, err
	}
	l.Updated = FromUS(us)
	return l, nil
}

// WitnessRollbackCols are WitnessRollback's columns.
const WitnessRollbackCols = `origin, old_size, old_root, new_size, new_root, statement, at_us`

// WitnessRollback reads a witness_rollbacks row.
func WitnessRollback(sc Scanner) (store.WitnessRollback, error) {
	var r store.WitnessRollback
	var us int64
	if err := sc.Scan(&r.Origin, &r.OldSize, &r.OldRoot, &r.NewSize, &r.NewRoot, &r.Statement, &us); err != nil {
		return r, err
	}
	r.At = FromUS(us)
	return r, nil
}

// SplitViewCols are SplitView's columns.
const SplitViewCols = `id, origin, peer, size, ours, theirs, ours_root, their_root, reporter, detected_us, acked_us, acked_by`

// SplitView reads a split_views row.
func SplitView(sc Scanner) (store.SplitView, error) {
	var s store.SplitView
	var det, ack int64
	if err := sc.Scan(&s.ID, &s.Origin, &s.Peer, &s.Size, &s.Ours, &s.Theirs, &s.OursRoot, &s.TheirRoot, &s.Reporter, &det, &ack, &s.AckedBy); err != nil {
		return s, err
	}
	s.Detected, s.AckedAt = FromUS(det), fromOptionalUS(ack)
	return s, nil
}

// AuditCosignatureCols are AuditCosignature's columns.
const AuditCosignatureCols = `size, witness, line, created_us`

// AuditCosignature reads an audit_cosignatures row.
func AuditCosignature(sc Scanner) (store.AuditCosignature, error) {
	var c store.AuditCosignature
	var us int64
	if err := sc.Scan(&c.Size, &c.Witness, &c.Line, &us); err != nil {
		return c, err
	}
	c.Created = FromUS(us)
	return c, nil
}

// AuditRollbackCols are AuditRollback's columns.
const AuditRollbackCols = `seq, old_size, new_size, statement, created_us`

// AuditRollback reads an audit_rollbacks row.
func AuditRollback(sc Scanner) (store.AuditRollback, error) {
	var r store.AuditRollback
	var us int64
	if err := sc.Scan(&r.Seq, &r.OldSize, &r.NewSize, &r.Statement, &us); err != nil {
		return r, err
	}
	r.Created = FromUS(us)
	return r, nil
}

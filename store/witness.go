package store

import (
	"context"
	"time"
)

// Witnessing (docs/AUDIT.md, "Witnesses"). As a witness, a node keeps, per
// partner log it witnesses, the latest checkpoint it cosigned
// (WitnessedLog), the rollbacks those logs declared to it
// (WitnessRollback) and the split views it found (SplitView). As a log, it
// keeps the cosignatures its witnesses returned (AuditCosignature) and the
// rollback statements its restores signed (AuditRollback).

// WitnessReader reads witnessing state. Reader embeds it.
type WitnessReader interface {
	// WitnessedLog returns what this node last cosigned for origin;
	// ErrNotFound when it never cosigned a checkpoint of that log.
	WitnessedLog(ctx context.Context, origin string) (WitnessedLog, error)
	// WitnessedLogs returns every log's latest cosigned checkpoint, by
	// origin.
	WitnessedLogs(ctx context.Context) ([]WitnessedLog, error)
	// WitnessRollbacks returns the rollbacks origin declared and this
	// node acknowledged, oldest first.
	WitnessRollbacks(ctx context.Context, origin string) ([]WitnessRollback, error)
	// SplitViews returns the split views recorded for origin ("" for
	// every log), oldest first; open only those not acknowledged.
	SplitViews(ctx context.Context, origin string, open bool) ([]SplitView, error)
	// AuditCosignatures returns the cosignatures stored for this node's
	// checkpoint of size, by witness name.
	AuditCosignatures(ctx context.Context, size int64) ([]AuditCosignature, error)
	// LatestAuditCosignature returns witness's cosignature of the largest
	// size; ErrNotFound when it cosigned nothing.
	LatestAuditCosignature(ctx context.Context, witness string) (AuditCosignature, error)
	// AuditRollbacks returns the rollback statements of this node's log,
	// oldest first.
	AuditRollbacks(ctx context.Context) ([]AuditRollback, error)
}

// WitnessWriter writes witnessing state. Tx embeds it.
type WitnessWriter interface {
	// PutWitnessedLog records l as the latest checkpoint cosigned for
	// l.Origin, replacing the previous one. The caller has checked it is
	// consistent with that one (or covered by a rollback), in this same
	// transaction: check and record are one step, as C2SP tlog-witness
	// requires.
	PutWitnessedLog(ctx context.Context, l WitnessedLog) error
	// PutWitnessRollback records an acknowledged rollback; false when the
	// same statement was recorded before.
	PutWitnessRollback(ctx context.Context, r WitnessRollback) (bool, error)
	// PutSplitView records a split view; false when the same pair of roots
	// at that size was recorded before (acknowledged or not), so one fork
	// raises one alert.
	PutSplitView(ctx context.Context, s SplitView) (bool, error)
	// AckSplitViews acknowledges every open split view of origin and
	// returns how many.
	AckSplitViews(ctx context.Context, origin, by string, at time.Time) (int, error)
	// PutAuditCosignature stores (or replaces) a witness's cosignature of
	// this node's checkpoint of c.Size.
	PutAuditCosignature(ctx context.Context, c AuditCosignature) error
	// PutAuditRollback appends a rollback statement of this node's log.
	PutAuditRollback(ctx context.Context, r AuditRollback) error
}

// WitnessedLog is the latest checkpoint a witness cosigned for one log.
type WitnessedLog struct {
	Origin  string
	Size    int64
	Root    []byte
	Note    []byte // the checkpoint as the log signed it, with this witness's cosignature
	Updated time.Time
}

// WitnessRollback is a rollback a log declared to this witness in a signed
// statement: it abandoned its tree of OldSize (root OldRoot) and goes on
// from NewSize (root NewRoot).
type WitnessRollback struct {
	Origin    string
	OldSize   int64
	OldRoot   []byte
	NewSize   int64
	NewRoot   []byte
	Statement []byte // the signed note
	At        time.Time
}

// SplitView is proof that a log showed two different trees: Ours (the
// checkpoint this node holds) and Theirs (the one Reporter held, or a log
// sent), both signed by the log, at Size (of Ours).
type SplitView struct {
	ID        int64
	Origin    string
	Peer      string // the log's node (whose deliveries pause)
	Size      int64
	Ours      []byte
	Theirs    []byte
	OursRoot  []byte
	TheirRoot []byte
	Reporter  string // the partner whose checkpoint showed it, or the log itself
	Detected  time.Time
	AckedAt   time.Time // zero while open
	AckedBy   string
}

// AuditCosignature is one witness's cosignature line of this node's
// checkpoint of Size.
type AuditCosignature struct {
	Size    int64
	Witness string // the peer's name
	Line    []byte // "— <name> <base64>\n" (C2SP tlog-cosignature)
	Created time.Time
}

// AuditRollback is a signed rollback statement of this node's log (written
// by restore).
type AuditRollback struct {
	Seq       int64 // assigned by the store
	OldSize   int64
	NewSize   int64
	Statement []byte
	Created   time.Time
}

package oversight

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/store"
)

// A restore takes the audit log back behind what partners have cosigned.
// The restored log says so before anything else: its first new entry is a
// rollback statement signed with the log key (old size and root, new size
// and root, reason), kept also in audit_rollbacks. When a witness answers
// add-checkpoint with a size the statement abandons, the log sends it the
// statement first (witness.Cosign), and the witness records an
// acknowledged rollback instead of a split view (docs/AUDIT.md).

// LogState is an audit log's size and root hash.
type LogState struct {
	Size int64
	Root []byte
}

// ReadLogState reads the size and root of the audit log in r.
func ReadLogState(ctx context.Context, r store.Reader) (LogState, error) {
	size, err := r.AuditSize(ctx)
	if err != nil {
		return LogState{}, fmt.Errorf("audit log size: %w", err)
	}
	if size == 0 {
		return LogState{}, nil
	}
	root, err := audit.TreeHash(ctx, r, size)
	if err != nil {
		return LogState{}, fmt.Errorf("audit log root: %w", err)
	}
	return LogState{Size: size, Root: root}, nil
}

// declareRollback appends the signed rollback statement when the restored
// log in tx is shorter than prev. It must be the first entry the restore
// appends.
func (ov *Service) declareRollback(ctx context.Context, tx store.Tx, prev *LogState, reason, from string) error {
	if prev == nil {
		return nil
	}
	cur, err := ReadLogState(ctx, tx)
	if err != nil {
		return err
	}
	if cur.Size >= prev.Size {
		return nil
	}
	if reason == "" {
		reason = "restore from " + filepath.Base(from)
	}
	st, err := witness.SignRollback(ov.n.LogSigner(), witness.Rollback{Origin: ov.n.LogSigner().Name(),
		OldSize: prev.Size, OldRoot: prev.Root, NewSize: cur.Size, NewRoot: cur.Root, Time: ov.n.Now(), Reason: reason})
	if err != nil {
		return err
	}
	if err := tx.PutAuditRollback(ctx, store.AuditRollback{OldSize: prev.Size, NewSize: cur.Size, Statement: st, Created: ov.n.Now()}); err != nil {
		return err
	}
	ov.n.Logger().WarnContext(ctx, "audit log rolled back by a restore; witnesses will be sent the signed statement", "old_size", prev.Size, "new_size", cur.Size)
	return ov.n.AppendAudit(ctx, tx, audit.Event{Actor: "node:" + ov.n.Config().Name, Action: audit.ActionRollback, Decision: audit.Accept,
		Count: int(prev.Size - cur.Size), Detail: string(st)})
}

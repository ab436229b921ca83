package postgres

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
	"github.com/tearline/tearline/store/internal/treehash"
)

// auditState is what one write transaction knows about the audit tree.
type auditState struct {
	read bool
	next int64 // next leaf index
	err  error // a failed append poisons the rest of the transaction
}

func (t *tx) AppendAudit(ctx context.Context, entries ...[]byte) (int64, error) {
	if err := t.auditStart(ctx); err != nil {
		return 0, err
	}
	first := t.audit.next
	if len(entries) == 0 {
		return first, nil
	}
	idx := make([]int64, len(entries))
	data := make([][]byte, len(entries))
	for i, e := range entries {
		idx[i], data[i] = first+int64(i), nz(e)
	}
	// One statement however many entries: the arrays go over in binary.
	if _, err := t.t.Exec(ctx, `INSERT INTO audit (idx, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, idx, data); err != nil {
		t.audit.err = err
		return 0, fmt.Errorf("append audit at %d: %w", first, err)
	}
	if err := t.hashRecords(ctx, first, data); err != nil {
		t.audit.err = err
		return 0, err
	}
	t.audit.next += int64(len(entries))
	return first, nil
}

// auditStart takes the writer lock, which is the audit log's sequencer (see
// the package comment), then reads the log's size once per transaction and
// refuses to extend a tree whose stored hashes are out of step with its
// leaves. The size is read after the lock is held, so it counts every append
// committed by any process before this one's.
func (t *tx) auditStart(ctx context.Context) error {
	if t.audit.err != nil {
		return fmt.Errorf("append audit: earlier append in this transaction failed: %w", t.audit.err)
	}
	if t.audit.read {
		return nil
	}
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	var n, h int64
	err := t.t.QueryRow(ctx, `SELECT
		(SELECT COALESCE(MAX(idx) + 1, 0) FROM audit),
		(SELECT COALESCE(MAX(id) + 1, 0) FROM audit_hashes)`).Scan(&n, &h)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if want := tlog.StoredHashCount(n); h != want {
		return fmt.Errorf("append audit: tree has %d stored hashes for %d leaves, want %d (run `tearline audit verify`)", h, n, want)
	}
	t.audit = auditState{read: true, next: n}
	return nil
}

// hashRecords computes and inserts the stored hashes for records first,
// first+1, ... whose data is entries.
func (t *tx) hashRecords(ctx context.Context, first int64, entries [][]byte) error {
	ids, hashes, err := treehash.Append(first, entries, func(ids []int64) ([][]byte, error) {
		return readHashes(ctx, t.t, ids)
	})
	if err != nil {
		return err
	}
	raw := make([][]byte, len(hashes))
	for i := range hashes {
		raw[i] = hashes[i][:]
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO audit_hashes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, ids, raw); err != nil {
		return fmt.Errorf("audit tree hashes from %d: %w", first, err)
	}
	return nil
}

// readHashes returns the hashes with these ids in the order given.
func readHashes(ctx context.Context, q querier, ids []int64) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT id, hash FROM audit_hashes WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read audit hashes: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64][]byte, len(ids))
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("read audit hashes: %w", err)
		}
		byID[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit hashes: %w", err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := byID[id]
		if !ok || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("audit hash %d: %w", id, store.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

func (r reader) AuditSize(ctx context.Context) (int64, error) {
	var n int64
	if err := r.q.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit size: %w", err)
	}
	return n, nil
}

func (r reader) AuditEntries(ctx context.Context, start, end int64) ([]store.AuditEntry, error) {
	rows, err := r.q.Query(ctx, `SELECT idx, data FROM audit WHERE idx >= $1 AND idx < $2 ORDER BY idx`, start, end)
	if err != nil {
		return nil, fmt.Errorf("audit entries [%d,%d): %w", start, end, err)
	}
	defer rows.Close()
	out, err := scan.Collect(rows, scan.AuditEntry)
	if err != nil {
		return nil, fmt.Errorf("audit entries [%d,%d): %w", start, end, err)
	}
	return out, nil
}

func (r reader) AuditHashes(ctx context.Context, start, end int64) ([]store.AuditHash, error) {
	rows, err := r.q.Query(ctx, `SELECT id, hash FROM audit_hashes WHERE id >= $1 AND id < $2 ORDER BY id`, start, end)
	if err != nil {
		return nil, fmt.Errorf("audit hashes [%d,%d): %w", start, end, err)
	}
	defer rows.Close()
	out, err := scan.Collect(rows, scan.AuditHash)
	if err != nil {
		return nil, fmt.Errorf("audit hashes [%d,%d): %w", start, end, err)
	}
	return out, nil
}

func (r reader) ReadAuditHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	return readHashes(ctx, r.q, ids)
}

func (r reader) LatestAuditCheckpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	cs, err := r.checkpoints(ctx, `SELECT size, note, created_us FROM audit_checkpoints ORDER BY size DESC LIMIT 1`)
	if err != nil {
		return store.AuditCheckpoint{}, err
	}
	if len(cs) == 0 {
		return store.AuditCheckpoint{}, fmt.Errorf("audit checkpoint: %w", store.ErrNotFound)
	}
	return cs[0], nil
}

func (r reader) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]store.AuditCheckpoint, error) {
	// A negative limit is no limit, as in SQLite; LIMIT NULL says that here.
	var lim *int
	if limit >= 0 {
		lim = &limit
	}
	return r.checkpoints(ctx, `SELECT size, note, created_us FROM audit_checkpoints WHERE size > $1 ORDER BY size LIMIT $2`, after, lim)
}

func (r reader) checkpoints(ctx context.Context, q string, args ...any) ([]store.AuditCheckpoint, error) {
	rows, err := r.q.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	out, err := scan.Collect(rows, scan.AuditCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	return out, nil
}

func (t *tx) PutAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("audit checkpoint at size %d: %w", c.Size, err)
	}
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	_, err := t.t.Exec(ctx, `INSERT INTO audit_checkpoints (size, note, created_us) VALUES ($1, $2, $3)`, c.Size, nz(c.Note), c.Created.UnixMicro())
	if err != nil {
		if uniqueViolation(err) {
			return fmt.Errorf("audit checkpoint at size %d: %w", c.Size, store.ErrExists)
		}
		return fmt.Errorf("audit checkpoint at size %d: %w", c.Size, err)
	}
	return nil
}

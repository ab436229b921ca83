package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/purgeplan"
	"github.com/tearline/tearline/store/internal/scan"
	"github.com/tearline/tearline/store/sqlite/internal/idindex"
)

// putKeys stores the data keys of the sealed versions among vs.
func (t *tx) putKeys(ctx context.Context, vs []*store.ObjectVersion) error {
	const rowsPerInsert = 256
	var q strings.Builder
	args := make([]any, 0, 2*rowsPerInsert)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := t.t.ExecContext(ctx, q.String(), args...)
		q.Reset()
		args = args[:0]
		return err
	}
	for _, v := range vs {
		if v.Key == nil {
			continue
		}
		if len(args) == 0 {
			q.WriteString(`INSERT INTO data_keys (seq, wrapped) VALUES (?,?)`)
		} else {
			q.WriteString(`,(?,?)`)
		}
		args = append(args, v.Seq, v.Key)
		if len(args) == 2*rowsPerInsert {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (t *tx) PurgeVersions(ctx context.Context, p store.Purge) ([]store.Tombstone, error) {
	fail := func(err error) ([]store.Tombstone, error) { return nil, fmt.Errorf("purge %s: %w", p.ID, err) }
	at, err := t.versionRows(ctx, []string{p.ID})
	if err != nil {
		return fail(err)
	}
	var rows []purgeplan.Row
	if list, ok := idindex.SeqList(at); ok {
		rs, err := t.t.QueryContext(ctx, `SELECT `+purgeplan.RowColumns+` FROM objects WHERE seq IN (`+list+`) AND id = ?`, p.ID)
		if err != nil {
			return fail(err)
		}
		rows, err = scan.Collect(rs, purgeplan.ScanRow)
		rs.Close()
		if err != nil {
			return fail(err)
		}
	}
	tombs, err := t.TombstonesOf(ctx, []string{p.ID})
	if err != nil {
		return fail(err)
	}
	plan := purgeplan.Make(p, rows, tombs[p.ID])
	if len(plan.Delete) > 0 {
		list := scan.FormatClasses(plan.Delete) // seqs, formatted here: nothing is bound
		// Keys first: they are what makes the content unrecoverable.
		for _, q := range []string{
			`DELETE FROM data_keys WHERE seq IN (` + list + `)`,
			`DELETE FROM access_macs WHERE seq IN (` + list + `)`,
			`DELETE FROM objects WHERE seq IN (` + list + `) AND id = ?`,
			`DELETE FROM object_ids WHERE seq IN (` + list + `) AND id = ?`,
		} {
			if _, err := t.t.ExecContext(ctx, q, p.ID); err != nil {
				return fail(err)
			}
		}
		if len(plan.Latest) > 0 {
			if _, err := t.t.ExecContext(ctx, `UPDATE objects SET newer = 0 WHERE seq IN (`+scan.FormatClasses(plan.Latest)+`)`); err != nil {
				return fail(err)
			}
		}
		t.purged = append(t.purged, purgedRows(p.ID, at, plan.Delete)...)
		t.dropAdded(p.ID, plan.Delete)
	}
	for _, u := range plan.Unretain {
		if _, err := t.t.ExecContext(ctx, `DELETE FROM retention WHERE id = ? AND instance = ? AND modified_us = ?`, p.ID, u.Instance, u.ModUS); err != nil {
			return fail(err)
		}
	}
	if plan.Gone {
		if _, err := t.t.ExecContext(ctx, `DELETE FROM retention WHERE id = ?`, p.ID); err != nil {
			return fail(err)
		}
	}
	for _, ts := range plan.Write {
		vj, err := json.Marshal(ts.Versions)
		if err != nil {
			return fail(err)
		}
		if _, err := t.t.ExecContext(ctx, `INSERT INTO tombstones (`+scan.TombstoneColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id, instance) DO UPDATE SET versions = excluded.versions, versions_us = excluded.versions_us,
				classes = excluded.classes, whole = excluded.whole`,
			ts.ID, ts.Instance, string(vj), scan.FormatAt(ts.VersionsAt), ts.PurgedAt.UnixMicro(), ts.Reason, scan.FormatClasses(ts.Classes), boolInt(ts.Whole)); err != nil {
			return fail(fmt.Errorf("tombstone: %w", err))
		}
	}
	return plan.Purged, nil
}

// purgedRows returns the rows of at whose seq is among seqs.
func purgedRows(id string, at []idindex.Row, seqs []int64) []idindex.Row {
	var out []idindex.Row
	for _, r := range at {
		if r.ID == id && slices.Contains(seqs, r.Seq) {
			out = append(out, r)
		}
	}
	return out
}

func (t *tx) UpdateDataKey(ctx context.Context, k store.DataKey) error {
	at, err := t.versionRows(ctx, []string{k.ID})
	if err != nil {
		return fmt.Errorf("update data key of %s: %w", k.ID, err)
	}
	list, ok := idindex.SeqList(at)
	if !ok {
		return fmt.Errorf("update data key of %s: %w", k.ID, store.ErrNotFound)
	}
	// By seq when the key names one: two instances may share (id, modified).
	res, err := t.t.ExecContext(ctx, `UPDATE data_keys SET wrapped = ? WHERE seq = (SELECT seq FROM objects WHERE seq IN (`+list+`) AND id = ? AND modified_us = ? AND (?4 = 0 OR seq = ?4) ORDER BY instance LIMIT 1)`,
		k.Wrapped, k.ID, k.ModifiedAt.UnixMicro(), k.Seq)
	if err != nil {
		return fmt.Errorf("update data key of %s: %w", k.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update data key of %s: %w", k.ID, store.ErrNotFound)
	}
	return nil
}

func (r reader) DataKeys(ctx context.Context, after store.DataKey, limit int) ([]store.DataKey, error) {
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT k.seq, o.id, o.modified_us, k.wrapped FROM data_keys k JOIN objects o ON o.seq = k.seq WHERE k.seq > ? ORDER BY k.seq LIMIT ?`
	args := []any{after.Seq, limit}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("data keys: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("data keys", scan.DataKey))
}

func (r reader) Tombstones(ctx context.Context) ([]store.Tombstone, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.TombstoneColumns+` FROM tombstones ORDER BY id, instance`)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.Tombstone)
}

func (r reader) TombstonesOf(ctx context.Context, ids []string) (map[string][]store.Tombstone, error) {
	out := map[string][]store.Tombstone{}
	for start := 0; start < len(ids); start += manyIDs {
		in, args := placeholders(ids[start:min(start+manyIDs, len(ids))])
		rows, err := r.q.QueryContext(ctx, `SELECT `+scan.TombstoneColumns+` FROM tombstones WHERE id IN (`+in+`) ORDER BY id, instance`, args...)
		if err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		ts, err := scan.Collect(rows, scan.Tombstone)
		rows.Close()
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			out[t.ID] = append(out[t.ID], t)
		}
	}
	return out, nil
}

// Scrub folds the WAL into the database file and truncates it to nothing.
// secure_delete has zeroed deleted cells in the pages the WAL holds; until
// this checkpoint the WAL still holds older images of those pages, with the
// deleted keys in them. TRUNCATE waits (busy_timeout) for readers of old
// snapshots, so it is retried rather than reported as done when busy.
func (s *Store) Scrub(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A TRUNCATE checkpoint fails at once, without waiting, while the
	// background checkpointer holds SQLite's checkpoint lock.
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	for attempt := 0; ; attempt++ {
		var busy, logPages, done int
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done); err != nil {
			return fmt.Errorf("scrub: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return errors.New("scrub: readers kept the WAL busy; it still holds deleted pages until the next checkpoint")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("scrub: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Backup writes a consistent copy of the database to path, which must not
// exist, while the store stays open for reads and writes. VACUUM INTO
// builds a fresh, compact file: it holds no free pages, so nothing deleted
// before the backup (a purged key) is in it.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup to %s: %w", path, os.ErrExist)
	}
	if _, err := s.r.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

func (t *tx) SetRetention(ctx context.Context, r store.Retained) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO retention (id, instance, modified_us, until_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (id, instance, modified_us) DO UPDATE SET until_us = MIN(until_us, excluded.until_us)`,
		r.ID, r.Instance, r.ModifiedAt.UnixMicro(), r.Until.UnixMicro()); err != nil {
		return fmt.Errorf("set retention of %s: %w", r.ID, err)
	}
	return nil
}

func (r reader) Expired(ctx context.Context, now time.Time, limit int) ([]store.Retained, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+scan.RetainedColumns+` FROM retention WHERE until_us <= ? ORDER BY until_us, id, instance, modified_us LIMIT ?`, now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("expired objects: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("expired objects", scan.Retained))
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/purgeplan"
	"github.com/tearline/tearline/store/internal/scan"
)

func (t *tx) PurgeVersions(ctx context.Context, p store.Purge) ([]store.Tombstone, error) {
	fail := func(err error) ([]store.Tombstone, error) { return nil, fmt.Errorf("purge %s: %w", p.ID, err) }
	if err := t.lock(ctx); err != nil {
		return fail(err)
	}
	rs, err := t.t.Query(ctx, `SELECT `+purgeplan.RowColumns+` FROM objects WHERE id = $1`, p.ID)
	if err != nil {
		return fail(err)
	}
	rows, err := scan.Collect(rs, purgeplan.ScanRow)
	rs.Close()
	if err != nil {
		return fail(err)
	}
	tombs, err := t.TombstonesOf(ctx, []string{p.ID})
	if err != nil {
		return fail(err)
	}
	plan := purgeplan.Make(p, rows, tombs[p.ID])
	if len(plan.Delete) > 0 {
		// Keys first: they are what makes the content unrecoverable.
		for _, q := range []string{
			`DELETE FROM data_keys WHERE seq = ANY($1::bigint[])`,
			`DELETE FROM access_macs WHERE seq = ANY($1::bigint[])`,
			`DELETE FROM objects WHERE seq = ANY($1::bigint[])`,
		} {
			if _, err := t.t.Exec(ctx, q, plan.Delete); err != nil {
				return fail(err)
			}
		}
		if len(plan.Latest) > 0 {
			if _, err := t.t.Exec(ctx, `UPDATE objects SET newer = false WHERE seq = ANY($1::bigint[])`, plan.Latest); err != nil {
				return fail(err)
			}
		}
	}
	if len(plan.Unretain) > 0 {
		insts, mods := make([]int64, len(plan.Unretain)), make([]int64, len(plan.Unretain))
		for i, u := range plan.Unretain {
			insts[i], mods[i] = u.Instance, u.ModUS
		}
		if _, err := t.t.Exec(ctx, `DELETE FROM retention r USING unnest($2::bigint[], $3::bigint[]) AS u(instance, modified_us)
			WHERE r.id = $1 AND r.instance = u.instance AND r.modified_us = u.modified_us`, p.ID, insts, mods); err != nil {
			return fail(err)
		}
	}
	if plan.Gone {
		if _, err := t.t.Exec(ctx, `DELETE FROM retention WHERE id = $1`, p.ID); err != nil {
			return fail(err)
		}
	}
	for _, ts := range plan.Write {
		vj, err := json.Marshal(ts.Versions)
		if err != nil {
			return fail(err)
		}
		if _, err := t.t.Exec(ctx, `INSERT INTO tombstones (`+scan.TombstoneColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id, instance) DO UPDATE SET versions = excluded.versions, versions_us = excluded.versions_us,
				classes = excluded.classes, whole = excluded.whole`,
			ts.ID, ts.Instance, string(vj), scan.FormatAt(ts.VersionsAt), ts.PurgedAt.UnixMicro(), ts.Reason, scan.FormatClasses(ts.Classes), ts.Whole); err != nil {
			return fail(fmt.Errorf("tombstone: %w", err))
		}
	}
	return plan.Purged, nil
}

func (t *tx) UpdateDataKey(ctx context.Context, k store.DataKey) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("update data key of %s: %w", k.ID, err)
	}
	// By seq when the key names one: two instances may share (id, modified).
	tag, err := t.t.Exec(ctx, `UPDATE data_keys SET wrapped = $1 WHERE seq = (SELECT seq FROM objects WHERE id = $2 AND modified_us = $3 AND ($4 = 0 OR seq = $4) ORDER BY instance LIMIT 1)`,
		nz(k.Wrapped), k.ID, k.ModifiedAt.UnixMicro(), k.Seq)
	if err != nil {
		return fmt.Errorf("update data key of %s: %w", k.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update data key of %s: %w", k.ID, store.ErrNotFound)
	}
	return nil
}

func (r reader) DataKeys(ctx context.Context, after store.DataKey, limit int) ([]store.DataKey, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := r.q.Query(ctx, `SELECT k.seq, o.id, o.modified_us, k.wrapped FROM data_keys k JOIN objects o ON o.seq = k.seq
		WHERE k.seq > $1 ORDER BY k.seq LIMIT $2`, after.Seq, limit)
	if err != nil {
		return nil, fmt.Errorf("data keys: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("data keys", scan.DataKey))
}

func (r reader) Tombstones(ctx context.Context) ([]store.Tombstone, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.TombstoneColumns+` FROM tombstones ORDER BY id, instance`)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.Tombstone)
}

func (r reader) TombstonesOf(ctx context.Context, ids []string) (map[string][]store.Tombstone, error) {
	rows, err := r.q.Query(ctx, `SELECT `+scan.TombstoneColumns+` FROM tombstones WHERE id = ANY($1::text[]) ORDER BY id, instance`, ids)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer rows.Close()
	ts, err := scan.Collect(rows, scan.Tombstone)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]store.Tombstone, len(ts))
	for _, t := range ts {
		out[t.ID] = append(out[t.ID], t)
	}
	return out, nil
}

// Scrub vacuums the tables a purge deletes from. A deleted tuple stays in
// its page until VACUUM reclaims it; VACUUM FULL on data_keys (small: one
// short row per version) rewrites the table into a new file, so no page of
// the live table still holds a purged key. objects gets a plain VACUUM: its
// dead ciphertext is useless without the key. VACUUM cannot run inside a
// transaction, hence a method of its own. What this does not reach (WAL
// segments, archives, replicas, freed filesystem blocks) is in
// docs/STORAGE.md.
func (s *Store) Scrub(ctx context.Context) error {
	for _, q := range []string{`VACUUM (FULL) data_keys`, `VACUUM objects`} {
		if _, err := s.w.Exec(ctx, q); err != nil {
			return fmt.Errorf("scrub: %s: %w", q, err)
		}
	}
	return nil
}

func (t *tx) SetRetention(ctx context.Context, r store.Retained) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("set retention of %s: %w", r.ID, err)
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO retention (id, instance, modified_us, until_us) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id, instance, modified_us) DO UPDATE SET until_us = LEAST(retention.until_us, excluded.until_us)`,
		r.ID, r.Instance, r.ModifiedAt.UnixMicro(), r.Until.UnixMicro()); err != nil {
		return fmt.Errorf("set retention of %s: %w", r.ID, err)
	}
	return nil
}

func (r reader) Expired(ctx context.Context, now time.Time, limit int) ([]store.Retained, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := r.q.Query(ctx, `SELECT `+scan.RetainedColumns+` FROM retention WHERE until_us <= $1 ORDER BY until_us, id, instance, modified_us LIMIT $2`, now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("expired objects: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("expired objects", scan.Retained))
}

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/bindpack"
	"github.com/tearline/tearline/store/internal/putplan"
)

// PutObjects stores a batch of versions with the same outcome, object by
// object, as calling PutObject for each in order (store/internal/putplan
// decides). It reads what is stored for the batch's ids in one query and
// inserts the new rows, their older versions' marks and their keys in one
// statement each, with the values as arrays: one statement per object
// was most of a large ingest's time. A returned error (not
// errs) means the transaction must be abandoned.
func (t *tx) PutObjects(ctx context.Context, vs []*store.ObjectVersion) (created []bool, errs []error, err error) {
	if err := t.lock(ctx); err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	ids := make([]string, 0, len(vs))
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if !seen[v.ID] {
			seen[v.ID] = true
			ids = append(ids, v.ID)
		}
	}
	stored := map[string][]putplan.Stored{}
	rows, err := t.t.Query(ctx, `SELECT `+putplan.StoredColumns+` FROM objects WHERE id = ANY($1::text[])`, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	err = putplan.CollectStored(rows, stored)
	rows.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	purged, err := t.TombstonesOf(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}

	plan := putplan.Make(vs, stored, purged, time.Now().UTC())
	if err := t.insertObjects(ctx, plan); err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	if len(plan.MarkOlder) > 0 {
		mids := make([]string, len(plan.MarkOlder))
		mods, minst := make([]int64, len(plan.MarkOlder)), make([]int64, len(plan.MarkOlder))
		for i, v := range plan.MarkOlder {
			mids[i], mods[i], minst[i] = v.ID, v.ModifiedAt.UnixMicro(), v.Instance
		}
		// After the inserts, so that a version inserted earlier in this
		// batch is marked as well as one stored before it.
		if _, err := t.t.Exec(ctx, `UPDATE objects o SET newer = true FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS m(id, modified_us, instance)
			WHERE o.id = m.id AND o.instance = m.instance AND o.modified_us < m.modified_us AND NOT o.newer`, mids, mods, minst); err != nil {
			return nil, nil, fmt.Errorf("put objects: mark older versions: %w", err)
		}
	}
	var kseqs []int64
	var keys [][]byte
	for _, v := range plan.Insert {
		if v.Key != nil {
			kseqs, keys = append(kseqs, v.Seq), append(keys, v.Key)
		}
	}
	if len(kseqs) > 0 {
		if _, err := t.t.Exec(ctx, `INSERT INTO data_keys (seq, wrapped) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, kseqs, keys); err != nil {
			return nil, nil, fmt.Errorf("put objects: data keys: %w", err)
		}
	}
	return plan.Created, plan.Errs, nil
}

// insertObjects inserts plan.Insert in order, so the rows get their seqs,
// and their place in the heap, in the order given (node.clusterOrder
// groups a batch by type for that), and sets each version's Seq.
func (t *tx) insertObjects(ctx context.Context, plan putplan.Plan) error {
	n := len(plan.Insert)
	if n == 0 {
		return nil
	}
	var (
		ids, types, modified, created, digests, originators = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		modUS, classes, added, insts                        = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		revoked, newer                                      = make([]bool, n), make([]bool, n)
		raw, bindings                                       = make([][]byte, n), make([][]byte, n)
	)
	for i, v := range plan.Insert {
		ids[i], types[i], modified[i], created[i], digests[i], originators[i] = v.ID, v.Type, v.Modified, v.Created, v.Digest, v.Originator
		modUS[i], classes[i], added[i], insts[i] = v.ModifiedAt.UnixMicro(), v.Class, v.DateAdded.UnixMicro(), v.Instance
		revoked[i], newer[i] = v.Revoked, plan.Newer[i]
		raw[i], bindings[i] = nz(v.Raw), nz(bindpack.Pack(v.Bindings))
	}
	rows, err := t.t.Query(ctx, `INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, raw, bindings, class, date_added_us, originator, newer, instance)
		SELECT id, type, modified, modified_us, created, revoked, digest, raw, bindings, class, date_added_us, originator, newer, instance
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::boolean[], $7::text[], $8::bytea[], $9::bytea[], $10::bigint[], $11::bigint[], $12::text[], $13::boolean[], $14::bigint[])
			WITH ORDINALITY AS u(id, type, modified, modified_us, created, revoked, digest, raw, bindings, class, date_added_us, originator, newer, instance, ord)
		ORDER BY ord
		RETURNING seq, id, modified_us, instance`,
		ids, types, modified, modUS, created, revoked, digests, raw, bindings, classes, added, originators, newer, insts)
	if err != nil {
		return err
	}
	type key struct {
		id          string
		modUS, inst int64
	}
	seqs := make(map[key]int64, n)
	for rows.Next() {
		var k key
		var seq int64
		if err := rows.Scan(&seq, &k.id, &k.modUS, &k.inst); err != nil {
			rows.Close()
			return err
		}
		seqs[k] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range plan.Insert {
		seq, ok := seqs[key{v.ID, v.ModifiedAt.UnixMicro(), v.Instance}]
		if !ok {
			return fmt.Errorf("insert %s version %s: no seq returned", v.ID, v.Modified)
		}
		v.Seq = seq
	}
	return nil
}

package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/bindpack"
	"github.com/tearline/tearline/store/internal/putplan"
	"github.com/tearline/tearline/store/sqlite/internal/idindex"
)

// PutObject stores one version: PutObjects with a batch of one.
func (t *tx) PutObject(ctx context.Context, v *store.ObjectVersion) (bool, error) {
	created, errs, err := t.PutObjects(ctx, []*store.ObjectVersion{v})
	if err != nil {
		return false, err
	}
	return created[0], errs[0]
}

// PutObjects stores a batch of versions with the same outcome, object by
// object, as calling PutObject for each in order: created[i] is false for an
// identical resend; errs[i] is ErrConflict or ErrRevoked for a refused one.
// It reads what is already stored for the batch's ids in one query and
// writes the new rows with multi-row INSERTs: a large ingest spends its time
// on the data, not on statement round trips. A returned error (not errs)
// means the transaction must be abandoned.
func (t *tx) PutObjects(ctx context.Context, vs []*store.ObjectVersion) (created []bool, errs []error, err error) {
	stored := map[string][]putplan.Stored{}
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		if _, ok := stored[v.ID]; !ok {
			stored[v.ID] = nil
			ids = append(ids, v.ID)
		}
	}
	for start := 0; start < len(ids); start += manyIDs {
		part := ids[start:min(start+manyIDs, len(ids))]
		at, err := t.versionRows(ctx, part)
		if err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
		list, ok := idindex.SeqList(at)
		if !ok {
			continue
		}
		in, args := placeholders(part)
		rows, err := t.t.QueryContext(ctx, `SELECT `+putplan.StoredColumns+` FROM objects WHERE seq IN (`+list+`) AND id IN (`+in+`)`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
		err = putplan.CollectStored(rows, stored)
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
	}
	purged, err := t.TombstonesOf(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	plan := putplan.Make(vs, stored, purged, time.Now().UTC())

	const rowsPerInsert = 64
	for start := 0; start < len(plan.Insert); start += rowsPerInsert {
		part := plan.Insert[start:min(start+rowsPerInsert, len(plan.Insert))]
		var q strings.Builder
		q.WriteString(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, class, date_added_us, originator, newer, instance, raw, bindings) VALUES `)
		args := make([]any, 0, 14*len(part))
		for j, v := range part {
			if j > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
			args = append(args, v.ID, v.Type, v.Modified, v.ModifiedAt.UnixMicro(), v.Created, boolInt(v.Revoked), v.Digest,
				v.Class, v.DateAdded.UnixMicro(), v.Originator, boolInt(plan.Newer[start+j]), v.Instance, v.Raw, bindpack.Pack(v.Bindings))
		}
		res, err := t.t.ExecContext(ctx, q.String(), args...)
		if err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
		// Rowids of one multi-row INSERT are consecutive: the table has a
		// single writer and new rowids are one above the largest ever used.
		for j, v := range part {
			v.Seq = last - int64(len(part)-1-j)
		}
	}
	plan.Inserted()
	// The tail learns the new versions when the transaction commits. An
	// object that now has several versions has all of them in object_ids
	// at once: the listing's newer-version test reads only that.
	var several []idindex.Row
	indexed := map[putplan.Key]bool{}
	for _, v := range plan.Insert {
		t.stored(idindex.Row{ID: v.ID, Entry: idindex.Entry{Seq: v.Seq, ModUS: v.ModifiedAt.UnixMicro(), Class: v.Class, Inst: v.Instance}})
		if ks := plan.Versions[putplan.KeyOf(v)]; len(ks) > 1 && !indexed[putplan.KeyOf(v)] {
			indexed[putplan.KeyOf(v)] = true
			for _, k := range ks {
				several = append(several, idindex.Row{ID: v.ID, Entry: idindex.Entry{Seq: k.Seq, ModUS: k.ModUS, Class: k.Class, Inst: k.Instance}})
			}
		}
	}
	if err := idindex.InsertRows(ctx, t.t, several); err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	// After the inserts, so that a version inserted earlier in this batch
	// is marked as well as one stored before it.
	for _, v := range plan.MarkOlder {
		var older []idindex.Row
		for _, k := range plan.Older(v) {
			older = append(older, idindex.Row{ID: v.ID, Entry: idindex.Entry{Seq: k.Seq}})
		}
		list, _ := idindex.SeqList(older)
		if _, err := t.t.ExecContext(ctx, `UPDATE objects SET newer = 1 WHERE seq IN (`+list+`) AND newer = 0`); err != nil {
			return nil, nil, fmt.Errorf("put %s: mark older versions: %w", v.ID, err)
		}
	}
	if err := t.putKeys(ctx, plan.Insert); err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	return plan.Created, plan.Errs, nil
}

package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
)

// PutObjects stores a batch of versions with the same outcome, object by
// object, as calling PutObject for each in order: created[i] is false for an
// identical resend; errs[i] is ErrConflict or ErrRevoked for a refused one.
// It reads what is already stored for the batch's ids in one query and
// writes the new rows with multi-row INSERTs: a large ingest spends its time
// on the data, not on statement round trips. A returned error (not errs)
// means the transaction must be abandoned.
func (t *tx) PutObjects(ctx context.Context, vs []*store.ObjectVersion) (created []bool, errs []error, err error) {
	type known struct {
		modUS   int64
		digest  string
		revoked bool
	}
	seen := map[string][]known{}
	ids := make([]any, 0, len(vs))
	for _, v := range vs {
		if _, ok := seen[v.ID]; !ok {
			seen[v.ID] = nil
			ids = append(ids, v.ID)
		}
	}
	const idsPerQuery = 500
	for start := 0; start < len(ids); start += idsPerQuery {
		part := ids[start:min(start+idsPerQuery, len(ids))]
		rows, err := t.t.QueryContext(ctx, `SELECT id, modified_us, digest, revoked FROM objects WHERE id IN (`+
			strings.Repeat("?,", len(part)-1)+`?)`, part...)
		if err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
		for rows.Next() {
			var id string
			var k known
			var rev int
			if err := rows.Scan(&id, &k.modUS, &k.digest, &rev); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("put objects: %w", err)
			}
			k.revoked = rev == 1
			seen[id] = append(seen[id], k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
	}

	purged, err := t.purgedAmong(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}

	created = make([]bool, len(vs))
	errs = make([]error, len(vs))
	var insert []*store.ObjectVersion
	// newerOf[i] for insert[i]: a later version is stored or comes later in
	// the batch. markOlder lists the (id, modified) whose older versions
	// already stored must be marked.
	var newerOf []bool
	type mark struct {
		id    string
		modUS int64
	}
	var markOlder []mark
	now := time.Now().UTC()
	for i, v := range vs {
		modUS := v.ModifiedAt.UnixMicro()
		var same, conflict, revokedBefore bool
		for _, k := range seen[v.ID] {
			switch {
			case k.modUS == modUS && k.digest == v.Digest:
				same = true
			case k.modUS == modUS:
				conflict = true
			case k.revoked && k.modUS < modUS:
				revokedBefore = true
			}
		}
		switch {
		case same:
		case conflict:
			errs[i] = fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrConflict)
		case revokedBefore:
			errs[i] = fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrRevoked)
		case purged[v.ID]:
			errs[i] = fmt.Errorf("put %s version %s: %w", v.ID, v.Modified, store.ErrPurged)
		default:
			if v.DateAdded.IsZero() {
				v.DateAdded = now
			}
			created[i] = true
			newer, older := false, false
			for _, k := range seen[v.ID] {
				newer = newer || k.modUS > modUS
				older = older || k.modUS < modUS
			}
			insert = append(insert, v)
			newerOf = append(newerOf, newer)
			if older {
				markOlder = append(markOlder, mark{v.ID, modUS})
			}
			seen[v.ID] = append(seen[v.ID], known{modUS: modUS, digest: v.Digest, revoked: v.Revoked})
		}
	}

	const rowsPerInsert = 64
	for start := 0; start < len(insert); start += rowsPerInsert {
		part := insert[start:min(start+rowsPerInsert, len(insert))]
		var q strings.Builder
		q.WriteString(`INSERT INTO objects (id, type, modified, modified_us, created, revoked, digest, raw, bindings, class, date_added_us, originator, newer) VALUES `)
		args := make([]any, 0, 13*len(part))
		for j, v := range part {
			if j > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?,?)`)
			args = append(args, v.ID, v.Type, v.Modified, v.ModifiedAt.UnixMicro(), v.Created, boolInt(v.Revoked), v.Digest,
				v.Raw, v.Bindings, v.Class, v.DateAdded.UnixMicro(), v.Originator, boolInt(newerOf[start+j]))
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
		// single writer and new rowids are max+1.
		for j, v := range part {
			v.Seq = last - int64(len(part)-1-j)
		}
	}
	// After the inserts, so that a version inserted earlier in this batch
	// is marked as well as one stored before it.
	for _, m := range markOlder {
		if err := t.markOlder(ctx, m.id, m.modUS); err != nil {
			return nil, nil, fmt.Errorf("put objects: %w", err)
		}
	}
	if err := t.putKeys(ctx, insert); err != nil {
		return nil, nil, fmt.Errorf("put objects: %w", err)
	}
	return created, errs, nil
}

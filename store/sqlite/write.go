package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tearline/tearline/store/sqlite/internal/idindex"
	"github.com/tearline/tearline/store/sqlite/internal/records"
	"github.com/tearline/tearline/store/sqlite/internal/searchdb"
)

// tx is a write transaction. It writes objects, labels, access classes,
// the audit log and the id index itself; the record tables' writes are
// methods of the types embedded below, the way reader embeds their reads.
type tx struct {
	t     *sql.Tx
	q     txQuerier  // t, with the writer's prepared queries
	audit auditState // see audit.go
	rows  *rowStmts  // insertRows' prepared statements; nil before the store is open

	reader
	sharingWriter         // agreements.go, recalls.go
	queueWriter           // outbox.go, followups.go
	records.AccountWriter // internal/records: users, tokens, passwords, sessions
	records.WitnessWriter // internal/records: witnessed logs, cosignatures, rollbacks
	auditIndexWriter      // auditindex.go
	searchdb.Writer       // internal/searchdb: the search index

	// The id index as this transaction sees it (internal/idindex): the shared tail,
	// caught up once while this transaction holds the write lock, and
	// what this transaction stored and purged, which the tail learns at
	// the commit.
	ids      *idindex.Index
	caughtUp bool
	added    map[string][]idindex.Entry
	purged   []idindex.Row
}

// versionRows returns where the versions of ids are stored: the tail, what
// this transaction stored, and object_ids.
func (t *tx) versionRows(ctx context.Context, ids []string) ([]idindex.Row, error) {
	if !t.caughtUp {
		if err := t.ids.CatchUp(ctx, t.t); err != nil {
			return nil, err
		}
		t.caughtUp = true
	}
	out := t.ids.Lookup(ids, nil)
	for _, id := range ids {
		for _, e := range t.added[id] {
			out = append(out, idindex.Row{ID: id, Entry: e})
		}
	}
	return idindex.Indexed(ctx, t.t, ids, out)
}

// stored records a version this transaction inserted.
func (t *tx) stored(r idindex.Row) {
	if t.added == nil {
		t.added = map[string][]idindex.Entry{}
	}
	t.added[r.ID] = append(t.added[r.ID], r.Entry)
}

// committed tells the tail what the committed transaction stored and purged.
func (t *tx) committed() {
	if len(t.added) > 0 {
		rs := make([]idindex.Row, 0, len(t.added))
		for id, es := range t.added {
			for _, e := range es {
				rs = append(rs, idindex.Row{ID: id, Entry: e})
			}
		}
		t.ids.Add(rs)
		t.ids.Stored()
	}
	t.ids.Forget(t.purged)
}

// dropAdded forgets the versions of id this transaction stored that it
// purged since (by seq).
func (t *tx) dropAdded(id string, seqs []int64) {
	es := slices.DeleteFunc(t.added[id], func(e idindex.Entry) bool { return slices.Contains(seqs, e.Seq) })
	if len(es) == 0 {
		delete(t.added, id)
	} else {
		t.added[id] = es
	}
}

func (t *tx) PutLabel(ctx context.Context, id string, raw []byte) error {
	if _, err := t.t.ExecContext(ctx, `INSERT INTO labels (id, raw) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, raw); err != nil {
		return fmt.Errorf("put label %s: %w", id, err)
	}
	return nil
}

func (t *tx) AccessClass(ctx context.Context, labelIDs []string) (int64, error) {
	key := strings.Join(labelIDs, ",")
	var id int64
	err := t.t.QueryRowContext(ctx, `SELECT id FROM access_classes WHERE key = ?`, key).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("access class: %w", err)
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO access_classes (key) VALUES (?)`, key)
	if err != nil {
		return 0, fmt.Errorf("access class: %w", err)
	}
	return res.LastInsertId()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *tx) AppendAudit(ctx context.Context, entries ...[]byte) (int64, error) {
	return t.appendAudit(ctx, entries)
}

// txConn is what a record table's writes go through: the transaction and
// the writer's prepared queries.
type txConn struct {
	t *sql.Tx
	q txQuerier
}

// newTx returns the transaction over t, its queries through q; the caller
// sets its reader.
func newTx(t *sql.Tx, q txQuerier) *tx {
	c := txConn{t, q}
	return &tx{t: t, q: q, sharingWriter: sharingWriter{c}, queueWriter: queueWriter{c},
		AccountWriter: records.NewAccountWriter(t), WitnessWriter: records.NewWitnessWriter(t),
		auditIndexWriter: auditIndexWriter{t}, Writer: searchdb.Writer{Q: q}}
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/postgres/internal/records"
	"github.com/tearline/tearline/store/postgres/internal/searchdb"
)

// tx is a write transaction. It writes objects, labels, access classes and
// the audit log itself; the record tables' writes are methods of the types
// embedded below, the way reader embeds their reads. All of them share one
// txConn, so the writer lock is taken once per transaction.
type tx struct {
	*txConn
	audit auditState // see audit.go

	reader
	sharingWriter         // agreements.go, recalls.go
	queueWriter           // outbox.go, followups.go
	records.AccountWriter // internal/records: users, tokens, passwords, sessions
	records.WitnessWriter // internal/records: witnessed logs, cosignatures, rollbacks
	auditIndexWriter      // auditindex.go
	searchdb.Writer       // internal/searchdb: the search index
}

// newTx returns the transaction over t.
func newTx(t pgx.Tx) *tx {
	c := &txConn{t: t}
	return &tx{txConn: c, reader: newReader(t), sharingWriter: sharingWriter{c}, queueWriter: queueWriter{c},
		AccountWriter: records.NewAccountWriter(t, c.lock), WitnessWriter: records.NewWitnessWriter(t, c.lock),
		auditIndexWriter: auditIndexWriter{t}, Writer: searchdb.Writer{Q: t, Lock: c.lock}}
}

// WitnessedLog, inside a write transaction, takes the writer lock before it
// reads: a witness checks the state and then records the next one, and two
// replicas must not both check the same old state (C2SP tlog-witness asks
// for check and update to be atomic).
func (t *tx) WitnessedLog(ctx context.Context, origin string) (store.WitnessedLog, error) {
	if err := t.lock(ctx); err != nil {
		return store.WitnessedLog{}, err
	}
	return t.reader.WitnessedLog(ctx, origin)
}

// txConn is the transaction every write of a tx goes through, and whether
// it holds the writer lock.
type txConn struct {
	t      pgx.Tx
	locked bool // holds the writer lock
}

// lock takes the writer lock (see the package comment) unless this
// transaction holds it already. Every write calls it first.
func (t *txConn) lock(ctx context.Context) error {
	if t.locked {
		return nil
	}
	if _, err := t.t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLockKey); err != nil {
		return fmt.Errorf("take writer lock: %w", err)
	}
	t.locked = true
	return nil
}

// uniqueViolation reports whether err is PostgreSQL's unique_violation.
func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// nz returns b, or an empty slice for nil: pgx sends a nil []byte as NULL.
func nz(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (t *tx) PutLabel(ctx context.Context, id string, raw []byte) error {
	if err := t.lock(ctx); err != nil {
		return fmt.Errorf("put label %s: %w", id, err)
	}
	if _, err := t.t.Exec(ctx, `INSERT INTO labels (id, raw) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, nz(raw)); err != nil {
		return fmt.Errorf("put label %s: %w", id, err)
	}
	return nil
}

func (t *tx) AccessClass(ctx context.Context, labelIDs []string) (int64, error) {
	if err := t.lock(ctx); err != nil {
		return 0, fmt.Errorf("access class: %w", err)
	}
	key := strings.Join(labelIDs, ",")
	var id int64
	err := t.t.QueryRow(ctx, `SELECT id FROM access_classes WHERE key = $1`, key).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("access class: %w", err)
	}
	if err := t.t.QueryRow(ctx, `INSERT INTO access_classes (key) VALUES ($1) RETURNING id`, key).Scan(&id); err != nil {
		return 0, fmt.Errorf("access class: %w", err)
	}
	return id, nil
}

// PutObject stores one version: PutObjects with a batch of one, so the
// rules (store/internal/putplan) are decided in one place.
func (t *tx) PutObject(ctx context.Context, v *store.ObjectVersion) (bool, error) {
	created, errs, err := t.PutObjects(ctx, []*store.ObjectVersion{v})
	if err != nil {
		return false, err
	}
	return created[0], errs[0]
}

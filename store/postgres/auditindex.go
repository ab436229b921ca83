package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
)

// auditIndexSchema (migration 18) is the audit log's index
// (store.AuditIndexRow), as in package sqlite: empty when made, filled
// from the log by the node (node/oversight), so the migration costs
// nothing at any size. Each filter column is indexed with idx, so a
// filtered page newest first is one backward index range scan.
const auditIndexSchema = `
CREATE TABLE audit_index (
	idx     bigint PRIMARY KEY,
	at_us   bigint NOT NULL,
	actor   text COLLATE "C" NOT NULL,
	action  text COLLATE "C" NOT NULL,
	object  text COLLATE "C" NOT NULL,
	partner text COLLATE "C" NOT NULL
);
CREATE INDEX audit_index_actor   ON audit_index (actor, idx);
CREATE INDEX audit_index_action  ON audit_index (action, idx);
CREATE INDEX audit_index_object  ON audit_index (object, idx) WHERE object <> '';
CREATE INDEX audit_index_partner ON audit_index (partner, idx) WHERE partner <> '';
CREATE INDEX audit_index_at      ON audit_index (at_us);
-- Ledger reports per partner (store.LedgerQuery.Party).
CREATE INDEX ledger_party ON ledger (party, at_us);
`

// auditIndexReader reads the audit index (store.AuditIndexReader).
type auditIndexReader struct{ q querier }

func (r auditIndexReader) AuditIndexed(ctx context.Context) (int64, error) {
	var n int64
	if err := r.q.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_index`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit index size: %w", err)
	}
	return n, nil
}

func (r auditIndexReader) FindAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"object", f.Object}, {"partner", f.Partner}} {
		if c.v != "" {
			// "<> ''" lets the planner use the partial indexes on object
			// and partner under a generic plan too.
			conds = append(conds, "i."+c.col+" = "+arg(c.v)+" AND i."+c.col+" <> ''")
		}
	}
	if !f.Since.IsZero() {
		conds = append(conds, "i.at_us >= "+arg(f.Since.UnixMicro()))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "i.at_us < "+arg(f.Until.UnixMicro()))
	}
	if f.Before > 0 {
		conds = append(conds, "i.idx < "+arg(f.Before))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := r.q.Query(ctx, `SELECT i.idx, a.data FROM audit_index i JOIN audit a ON a.idx = i.idx`+where+
		` ORDER BY i.idx DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := row.Scan(&e.Index, &e.Data)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	return out, nil
}

// auditIndexWriter writes the audit index (store.AuditIndexWriter).
type auditIndexWriter struct{ db pgx.Tx }

func (w auditIndexWriter) IndexAudit(ctx context.Context, rows []store.AuditIndexRow) error {
	if len(rows) == 0 {
		return nil
	}
	idx := make([]int64, len(rows))
	at := make([]int64, len(rows))
	actor := make([]string, len(rows))
	action := make([]string, len(rows))
	object := make([]string, len(rows))
	partner := make([]string, len(rows))
	for i, r := range rows {
		idx[i], at[i], actor[i], action[i], object[i], partner[i] = r.Index, r.Time.UnixMicro(), r.Actor, r.Action, r.Object, r.Partner
	}
	if _, err := w.db.Exec(ctx, `INSERT INTO audit_index (idx, at_us, actor, action, object, partner)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
		ON CONFLICT (idx) DO NOTHING`, idx, at, actor, action, object, partner); err != nil {
		return fmt.Errorf("index audit entries from %d: %w", rows[0].Index, err)
	}
	return nil
}

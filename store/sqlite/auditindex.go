package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tearline/tearline/store"
)

// The audit index is migration 18 (internal/schema): a row per audit
// entry with the metadata an auditor filters by, each column indexed
// together with idx so a filtered page is one index range read backwards.

// auditIndexReader reads the audit index (store.AuditIndexReader).
type auditIndexReader struct{ q querier }

func (r auditIndexReader) AuditIndexed(ctx context.Context) (int64, error) {
	var n int64
	if err := r.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_index`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit index size: %w", err)
	}
	return n, nil
}

func (r auditIndexReader) FindAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	where, args := auditWhere(f)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := r.q.QueryContext(ctx, `SELECT i.idx, a.data FROM audit_index i JOIN audit a ON a.idx = i.idx`+where+
		` ORDER BY i.idx DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.Index, &e.Data); err != nil {
			return nil, fmt.Errorf("find audit entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	return out, nil
}

// auditWhere is f's WHERE clause over audit_index i.
func auditWhere(f store.AuditFilter) (string, []any) {
	var conds []string
	var args []any
	for _, c := range []struct {
		col, v string
	}{{"actor", f.Actor}, {"action", f.Action}, {"object", f.Object}, {"partner", f.Partner}} {
		if c.v != "" {
			// "<> ''" lets the planner use the partial indexes on object
			// and partner, which it cannot prove a parameter satisfies.
			conds, args = append(conds, "i."+c.col+" = ? AND i."+c.col+" <> ''"), append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "i.at_us >= ?"), append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, "i.at_us < ?"), append(args, f.Until.UnixMicro())
	}
	if f.Before > 0 {
		conds, args = append(conds, "i.idx < ?"), append(args, f.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// auditIndexWriter writes the audit index (store.AuditIndexWriter).
type auditIndexWriter struct{ db *sql.Tx }

func (w auditIndexWriter) IndexAudit(ctx context.Context, rows []store.AuditIndexRow) error {
	for len(rows) > 0 {
		n := min(len(rows), insertChunk)
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_index (idx, at_us, actor, action, object, partner) VALUES `)
		args := make([]any, 0, 6*n)
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, r.Index, r.Time.UnixMicro(), r.Actor, r.Action, r.Object, r.Partner)
		}
		b.WriteString(` ON CONFLICT (idx) DO NOTHING`)
		if _, err := w.db.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("index audit entries from %d: %w", rows[0].Index, err)
		}
		rows = rows[n:]
	}
	return nil
}

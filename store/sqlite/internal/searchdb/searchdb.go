// Package searchdb is the SQLite backend's search index (store/search.go;
// its tables are migration 19 in ../schema/search.go): kept apart so the
// backend's package and its reader and tx types do not grow. The backend
// embeds Reader in its reader and Writer in its tx, and gives Reader what
// it shares with listings (Env).
package searchdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/searchsql"
)

// Querier is what *sql.DB and *sql.Tx share.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Env is what the backend shares with the index's reads: the listings'
// visibility rule and how it reads object rows.
type Env struct {
	// ListWhere is the filter of a listing over objects o (visible classes,
	// types, not revoked, the latest visible version) and its arguments.
	ListWhere func(q store.ListQuery) (string, []any)
	// ObjectsSelect selects object rows as Collect reads them, from
	// objects o (joined with their keys): "SELECT ... FROM objects o ...".
	ObjectsSelect string
	Collect       func(rows *sql.Rows, n int) ([]store.ObjectVersion, error)
}

// Reader reads the index through Q.
type Reader struct {
	Q   Querier
	Env *Env
}

// Writer writes the index in a transaction through Q.
type Writer struct{ Q Querier }

// from is a search's FROM and WHERE under the listings' visibility rule.
func (r Reader) from(q store.SearchQuery) (string, []any) {
	where, args := r.Env.ListWhere(store.ListQuery{Types: q.Types, Classes: q.Classes})
	return searchsql.From(searchsql.SQLite, q, where, args)
}

func (r Reader) Search(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, error) {
	if !searchsql.Askable(q) {
		return nil, nil
	}
	from, args := r.from(q)
	rows, err := r.Q.QueryContext(ctx, searchsql.Select(q, from, q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []store.SearchHit
	for rows.Next() {
		var h store.SearchHit
		if err := rows.Scan(&h.Seq, &h.ID, &h.Class); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

func (r Reader) CountSearch(ctx context.Context, q store.SearchQuery, limit int) (int64, error) {
	if !searchsql.Askable(q) || limit <= 0 {
		return 0, nil
	}
	q.Before = 0
	from, args := r.from(q)
	var n int64
	err := r.Q.QueryRowContext(ctx, searchsql.Count(from, limit), args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count search: %w", err)
	}
	return n, nil
}

func (r Reader) PendingSearchDocs(ctx context.Context, after int64, limit int) ([]store.ObjectVersion, error) {
	// The state first, on its own, so the row query is a plain range scan.
	var upto, done int64
	if err := r.Q.QueryRowContext(ctx, `SELECT upto, done_us FROM search_backfill`).Scan(&upto, &done); err != nil {
		return nil, fmt.Errorf("pending search documents: %w", err)
	}
	if done != 0 || after >= upto {
		return nil, nil
	}
	rows, err := r.Q.QueryContext(ctx, r.Env.ObjectsSelect+
		` WHERE o.seq > ? AND o.seq <= ? AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.seq = o.seq) ORDER BY o.seq LIMIT ?`, after, upto, limit)
	if err != nil {
		return nil, fmt.Errorf("pending search documents: %w", err)
	}
	return r.Env.Collect(rows, limit)
}

func (r Reader) BackfilledSearchDocs(ctx context.Context, after int64, limit int) ([]store.SearchDoc, error) {
	var upto, done int64
	if err := r.Q.QueryRowContext(ctx, `SELECT upto, done_us FROM search_backfill`).Scan(&upto, &done); err != nil {
		return nil, fmt.Errorf("backfilled search documents: %w", err)
	}
	if done != 0 || after >= upto {
		return nil, nil
	}
	rows, err := r.Q.QueryContext(ctx, `SELECT seq, terms FROM search_docs WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, after, upto, limit)
	if err != nil {
		return nil, fmt.Errorf("backfilled search documents: %w", err)
	}
	defer rows.Close()
	out := make([]store.SearchDoc, 0, limit)
	for rows.Next() {
		var d store.SearchDoc
		var b sql.RawBytes
		if err := rows.Scan(&d.Seq, &b); err != nil {
			return nil, fmt.Errorf("backfilled search documents: %w", err)
		}
		d.Terms = searchsql.UnpackTerms(b)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backfilled search documents: %w", err)
	}
	return out, nil
}

func (r Reader) SavedSearches(ctx context.Context, userID string) ([]store.SavedSearch, error) {
	rows, err := r.Q.QueryContext(ctx, `SELECT user_id, name, query, filters, created_us FROM saved_searches WHERE user_id = ? ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("saved searches: %w", err)
	}
	defer rows.Close()
	var out []store.SavedSearch
	for rows.Next() {
		var s store.SavedSearch
		var us int64
		if err := rows.Scan(&s.UserID, &s.Name, &s.Query, &s.Filters, &us); err != nil {
			return nil, fmt.Errorf("saved searches: %w", err)
		}
		s.Created = time.UnixMicro(us).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

func (w Writer) PutSearchDocs(ctx context.Context, docs []store.SearchDoc) error {
	for _, d := range docs {
		res, err := w.Q.ExecContext(ctx, `INSERT INTO search_docs (seq, id, terms) SELECT seq, id, ? FROM objects WHERE seq = ? ON CONFLICT DO NOTHING`,
			searchsql.PackTerms(d.Terms), d.Seq)
		if err != nil {
			return fmt.Errorf("search document %d: %w", d.Seq, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // indexed already, or no such version
		}
		if err := insertPostings(ctx, w.Q, d); err != nil {
			return err
		}
	}
	return nil
}

func (w Writer) StageSearchDocs(ctx context.Context, docs []store.SearchDoc) error {
	for _, d := range docs {
		if _, err := w.Q.ExecContext(ctx, `INSERT INTO search_docs (seq, id, terms) SELECT seq, id, ? FROM objects WHERE seq = ? ON CONFLICT DO NOTHING`,
			searchsql.PackTerms(d.Terms), d.Seq); err != nil {
			return fmt.Errorf("search document %d: %w", d.Seq, err)
		}
	}
	return nil
}

// PutSearchPostings inserts ps as given (in term order they land beside
// each other in the term-first table); nothing once the backfill is
// finished (see store.SearchWriter).
func (w Writer) PutSearchPostings(ctx context.Context, ps []store.SearchPosting) error {
	var done int64
	if err := w.Q.QueryRowContext(ctx, `SELECT done_us FROM search_backfill`).Scan(&done); err != nil {
		return fmt.Errorf("search postings: %w", err)
	}
	if done != 0 {
		return nil
	}
	for start := 0; start < len(ps); start += PostingsPerInsert {
		part := ps[start:min(start+PostingsPerInsert, len(ps))]
		args := make([]any, 0, 2*len(part))
		for _, p := range part {
			args = append(args, p.Term, p.Seq)
		}
		if _, err := w.Q.ExecContext(ctx, PostingsSQL(len(part)), args...); err != nil {
			return fmt.Errorf("search postings: %w", err)
		}
	}
	return nil
}

// PostingsPerInsert is how many postings one statement of
// PutSearchPostings inserts; the backend prepares that statement once
// (PostingsSQL) for the writer, since parsing its 8,192 parameters cost
// more than running it.
const PostingsPerInsert = 2048

// PostingsSQL inserts n postings, ignoring those stored already.
func PostingsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO search_postings (term, seq) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?)`)
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	return b.String()
}

// postingsPerInsert bounds one multi-row insert (two parameters a row,
// SQLite allows 32,766).
const postingsPerInsert = 4096

func insertPostings(ctx context.Context, q Querier, d store.SearchDoc) error {
	for start := 0; start < len(d.Terms); start += postingsPerInsert {
		part := d.Terms[start:min(start+postingsPerInsert, len(d.Terms))]
		var b strings.Builder
		b.WriteString(`INSERT INTO search_postings (term, seq) VALUES `)
		args := make([]any, 0, 2*len(part))
		for i, t := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`(?,?)`)
			args = append(args, t, d.Seq)
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("search postings of %d: %w", d.Seq, err)
		}
	}
	return nil
}

func (w Writer) PruneSearchDocs(ctx context.Context, id string) error {
	rows, err := w.Q.QueryContext(ctx, `SELECT d.seq, d.terms FROM search_docs d WHERE d.id = ? AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.seq = d.seq)`, id)
	if err != nil {
		return fmt.Errorf("prune search documents of %s: %w", id, err)
	}
	var gone []store.SearchDoc
	for rows.Next() {
		var d store.SearchDoc
		var b []byte
		if err := rows.Scan(&d.Seq, &b); err != nil {
			rows.Close()
			return fmt.Errorf("prune search documents of %s: %w", id, err)
		}
		d.Terms = searchsql.UnpackTerms(b)
		gone = append(gone, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("prune search documents of %s: %w", id, err)
	}
	for _, d := range gone {
		for start := 0; start < len(d.Terms); start += postingsPerInsert {
			part := d.Terms[start:min(start+postingsPerInsert, len(d.Terms))]
			if _, err := w.Q.ExecContext(ctx, `DELETE FROM search_postings WHERE seq = ? AND term IN (`+searchsql.IntList(part)+`)`, d.Seq); err != nil {
				return fmt.Errorf("prune search postings of %s: %w", id, err)
			}
		}
		if _, err := w.Q.ExecContext(ctx, `DELETE FROM search_docs WHERE seq = ?`, d.Seq); err != nil {
			return fmt.Errorf("prune search documents of %s: %w", id, err)
		}
	}
	return nil
}

func (w Writer) FinishSearchDocs(ctx context.Context) error {
	if _, err := w.Q.ExecContext(ctx, `UPDATE search_backfill SET done_us = ? WHERE done_us = 0`, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("finish search documents: %w", err)
	}
	return nil
}

func (w Writer) SaveSearch(ctx context.Context, s store.SavedSearch) error {
	_, err := w.Q.ExecContext(ctx, `INSERT INTO saved_searches (user_id, name, query, filters, created_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, filters = excluded.filters, created_us = excluded.created_us`,
		s.UserID, s.Name, s.Query, s.Filters, s.Created.UnixMicro())
	if err != nil {
		return fmt.Errorf("save search %s: %w", s.Name, err)
	}
	return nil
}

func (w Writer) DeleteSavedSearch(ctx context.Context, userID, name string) error {
	res, err := w.Q.ExecContext(ctx, `DELETE FROM saved_searches WHERE user_id = ? AND name = ?`, userID, name)
	if err != nil {
		return fmt.Errorf("delete saved search %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("saved search %s: %w", name, store.ErrNotFound)
	}
	return nil
}

// Package searchdb is the PostgreSQL backend's search index
// (store/search.go): its schema (Schema, migration 19), reads and writes,
// kept apart so the backend's package and its reader and tx types do not
// grow. The backend embeds Reader in its reader and Writer in its tx.
package searchdb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/searchsql"
)

// Schema (migration 19): postings (term hash, version seq), a
// document per indexed version (its id and term hashes, 8 bytes each) for
// purges and the backfill, and saved searches. Empty tables: the node's
// backfill indexes what was stored before (docs/STORAGE.md).
const Schema = `
CREATE TABLE search_postings (
	term bigint NOT NULL,
	seq  bigint NOT NULL,
	PRIMARY KEY (term, seq)
);
CREATE TABLE search_docs (
	seq   bigint PRIMARY KEY,
	id    text   NOT NULL,
	terms bytea  NOT NULL
);
CREATE INDEX search_docs_id ON search_docs (id);
CREATE TABLE search_backfill (
	one     integer PRIMARY KEY CHECK (one = 1),
	upto    bigint  NOT NULL,
	done_us bigint  NOT NULL
);
INSERT INTO search_backfill (one, upto, done_us) SELECT 1, COALESCE(MAX(seq), 0), 0 FROM objects;
CREATE TABLE saved_searches (
	user_id    text   NOT NULL,
	name       text   NOT NULL,
	query      text   NOT NULL,
	filters    text   NOT NULL,
	created_us bigint NOT NULL,
	PRIMARY KEY (user_id, name)
);
`

// Querier is what *pgxpool.Pool and pgx.Tx share.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Env is what the backend shares with the index's reads: the listings'
// visibility rule and how it reads object rows.
type Env struct {
	// ListWhere is the filter of a listing over objects o and its
	// arguments ($1 onwards).
	ListWhere func(q store.ListQuery) (string, []any)
	// ObjectsSelect selects object rows as Collect reads them, from
	// objects o (joined with their keys).
	ObjectsSelect string
	Collect       func(rows pgx.Rows, n int) ([]store.ObjectVersion, error)
}

// Reader reads the index through Q.
type Reader struct {
	Q   Querier
	Env *Env
}

// Writer writes the index in a transaction: Lock takes the backend's
// writer lock (every write takes it first), Q runs the statements.
type Writer struct {
	Q    Querier
	Lock func(ctx context.Context) error
}

// exec runs a search's statement unnamed (pgx.QueryExecModeExec), so
// PostgreSQL plans it with the terms it is given each time. A cached
// prepared statement switches to a generic plan after five runs, and the
// generic plan of a search, not knowing how many postings a term has,
// hashes every posting of the second word before the first row (4.2 s at
// 2M objects against 31 ms planned for the terms: BENCHMARKS.md, "Web
// interface at 2M objects").
func exec(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// from is a search's FROM and WHERE under the listings' visibility rule.
func (r Reader) from(q store.SearchQuery) (string, []any) {
	where, args := r.Env.ListWhere(store.ListQuery{Types: q.Types, Classes: q.Classes})
	return searchsql.From(searchsql.Postgres, q, where, args)
}

func (r Reader) Search(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, error) {
	if !searchsql.Askable(q) {
		return nil, nil
	}
	from, args := r.from(q)
	rows, err := r.Q.Query(ctx, searchsql.Select(q, from, q.Limit), exec(args)...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SearchHit, error) {
		var h store.SearchHit
		err := row.Scan(&h.Seq, &h.ID, &h.Class)
		return h, err
	})
	if err != nil {
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
	if err := r.Q.QueryRow(ctx, searchsql.Count(from, limit), exec(args)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count search: %w", err)
	}
	return n, nil
}

func (r Reader) PendingSearchDocs(ctx context.Context, after int64, limit int) ([]store.ObjectVersion, error) {
	var upto, done int64
	if err := r.Q.QueryRow(ctx, `SELECT upto, done_us FROM search_backfill`).Scan(&upto, &done); err != nil {
		return nil, fmt.Errorf("pending search documents: %w", err)
	}
	if done != 0 || after >= upto {
		return nil, nil
	}
	rows, err := r.Q.Query(ctx, r.Env.ObjectsSelect+
		` WHERE o.seq > $1 AND o.seq <= $2 AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.seq = o.seq) ORDER BY o.seq LIMIT $3`, after, upto, limit)
	if err != nil {
		return nil, fmt.Errorf("pending search documents: %w", err)
	}
	return r.Env.Collect(rows, limit)
}

func (r Reader) BackfilledSearchDocs(ctx context.Context, after int64, limit int) ([]store.SearchDoc, error) {
	var upto, done int64
	if err := r.Q.QueryRow(ctx, `SELECT upto, done_us FROM search_backfill`).Scan(&upto, &done); err != nil {
		return nil, fmt.Errorf("backfilled search documents: %w", err)
	}
	if done != 0 || after >= upto {
		return nil, nil
	}
	rows, err := r.Q.Query(ctx, `SELECT seq, terms FROM search_docs WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`, after, upto, limit)
	if err != nil {
		return nil, fmt.Errorf("backfilled search documents: %w", err)
	}
	defer rows.Close()
	out := make([]store.SearchDoc, 0, limit)
	for rows.Next() {
		var d store.SearchDoc
		var b pgtype.DriverBytes
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
	rows, err := r.Q.Query(ctx, `SELECT user_id, name, query, filters, created_us FROM saved_searches WHERE user_id = $1 ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("saved searches: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SavedSearch, error) {
		var s store.SavedSearch
		var us int64
		err := row.Scan(&s.UserID, &s.Name, &s.Query, &s.Filters, &us)
		s.Created = time.UnixMicro(us).UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("saved searches: %w", err)
	}
	return out, nil
}

func (w Writer) PutSearchDocs(ctx context.Context, docs []store.SearchDoc) error {
	if len(docs) == 0 {
		return nil
	}
	if err := w.Lock(ctx); err != nil {
		return err
	}
	seqs, terms := docColumns(docs)
	// The documents of versions that exist and have none yet; then the
	// postings of exactly those.
	rows, err := w.Q.Query(ctx, `INSERT INTO search_docs (seq, id, terms)
		SELECT o.seq, o.id, d.terms FROM unnest($1::bigint[], $2::bytea[]) AS d (seq, terms) JOIN objects o ON o.seq = d.seq
		ON CONFLICT (seq) DO NOTHING RETURNING seq`, seqs, terms)
	if err != nil {
		return fmt.Errorf("put search documents: %w", err)
	}
	made, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("put search documents: %w", err)
	}
	isNew := make(map[int64]bool, len(made))
	for _, s := range made {
		isNew[s] = true
	}
	var pt, ps []int64
	for _, d := range docs {
		if !isNew[d.Seq] {
			continue
		}
		for _, term := range d.Terms {
			pt, ps = append(pt, term), append(ps, d.Seq)
		}
	}
	if len(pt) == 0 {
		return nil
	}
	if _, err := w.Q.Exec(ctx, `INSERT INTO search_postings (term, seq) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING`, pt, ps); err != nil {
		return fmt.Errorf("put search postings: %w", err)
	}
	return nil
}

func (w Writer) StageSearchDocs(ctx context.Context, docs []store.SearchDoc) error {
	if len(docs) == 0 {
		return nil
	}
	if err := w.Lock(ctx); err != nil {
		return err
	}
	seqs, terms := docColumns(docs)
	if _, err := w.Q.Exec(ctx, `INSERT INTO search_docs (seq, id, terms)
		SELECT o.seq, o.id, d.terms FROM unnest($1::bigint[], $2::bytea[]) AS d (seq, terms) JOIN objects o ON o.seq = d.seq
		ON CONFLICT (seq) DO NOTHING`, seqs, terms); err != nil {
		return fmt.Errorf("stage search documents: %w", err)
	}
	return nil
}

// PutSearchPostings inserts ps in the order given (term order: the
// index's pages are then filled one after the other); nothing once the
// backfill is finished (see store.SearchWriter).
func (w Writer) PutSearchPostings(ctx context.Context, ps []store.SearchPosting) error {
	if len(ps) == 0 {
		return nil
	}
	if err := w.Lock(ctx); err != nil {
		return err
	}
	pt, pseq := make([]int64, len(ps)), make([]int64, len(ps))
	for i, p := range ps {
		pt[i], pseq[i] = p.Term, p.Seq
	}
	if _, err := w.Q.Exec(ctx, `INSERT INTO search_postings (term, seq)
		SELECT g.term, g.seq FROM unnest($1::bigint[], $2::bigint[]) AS g (term, seq)
		WHERE (SELECT done_us FROM search_backfill) = 0
		ON CONFLICT DO NOTHING`, pt, pseq); err != nil {
		return fmt.Errorf("put search postings: %w", err)
	}
	return nil
}

func (w Writer) PruneSearchDocs(ctx context.Context, id string) error {
	if err := w.Lock(ctx); err != nil {
		return err
	}
	rows, err := w.Q.Query(ctx, `DELETE FROM search_docs d WHERE d.id = $1 AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.seq = d.seq) RETURNING seq, terms`, id)
	if err != nil {
		return fmt.Errorf("prune search documents of %s: %w", id, err)
	}
	gone, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SearchDoc, error) {
		var d store.SearchDoc
		var b []byte
		err := row.Scan(&d.Seq, &b)
		d.Terms = searchsql.UnpackTerms(b)
		return d, err
	})
	if err != nil {
		return fmt.Errorf("prune search documents of %s: %w", id, err)
	}
	var pt, ps []int64
	for _, d := range gone {
		for _, term := range d.Terms {
			pt, ps = append(pt, term), append(ps, d.Seq)
		}
	}
	if len(pt) == 0 {
		return nil
	}
	if _, err := w.Q.Exec(ctx, `DELETE FROM search_postings p USING unnest($1::bigint[], $2::bigint[]) AS g (term, seq) WHERE p.term = g.term AND p.seq = g.seq`, pt, ps); err != nil {
		return fmt.Errorf("prune search postings of %s: %w", id, err)
	}
	return nil
}

func (w Writer) FinishSearchDocs(ctx context.Context) error {
	if err := w.Lock(ctx); err != nil {
		return err
	}
	if _, err := w.Q.Exec(ctx, `UPDATE search_backfill SET done_us = $1 WHERE done_us = 0`, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("finish search documents: %w", err)
	}
	return nil
}

func (w Writer) SaveSearch(ctx context.Context, s store.SavedSearch) error {
	if err := w.Lock(ctx); err != nil {
		return err
	}
	_, err := w.Q.Exec(ctx, `INSERT INTO saved_searches (user_id, name, query, filters, created_us) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, filters = excluded.filters, created_us = excluded.created_us`,
		s.UserID, s.Name, s.Query, s.Filters, s.Created.UnixMicro())
	if err != nil {
		return fmt.Errorf("save search %s: %w", s.Name, err)
	}
	return nil
}

func (w Writer) DeleteSavedSearch(ctx context.Context, userID, name string) error {
	if err := w.Lock(ctx); err != nil {
		return err
	}
	tag, err := w.Q.Exec(ctx, `DELETE FROM saved_searches WHERE user_id = $1 AND name = $2`, userID, name)
	if err != nil {
		return fmt.Errorf("delete saved search %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("saved search %s: %w", name, store.ErrNotFound)
	}
	return nil
}

// docColumns is docs as the two arrays the statements unnest: seqs and
// packed terms.
func docColumns(docs []store.SearchDoc) ([]int64, [][]byte) {
	seqs := make([]int64, len(docs))
	terms := make([][]byte, len(docs))
	for i, d := range docs {
		seqs[i], terms[i] = d.Seq, searchsql.PackTerms(d.Terms)
	}
	return seqs, terms
}

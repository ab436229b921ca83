package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/tearline/tearline/store/sqlite/internal/searchdb"
)

// preparedDB runs the readers' queries through statements prepared once
// per connection (database/sql prepares a Stmt on each connection of the
// pool the first time it runs there and keeps it). Parsing and planning a
// statement cost more CPU than running it for the point reads every request
// makes (its token, its user, an object's id index rows and versions):
// about a sixth of a read's CPU in profiles before this cache.
//
// Only queries with few arguments are prepared: their texts come from a
// small set (a many-id read has one text per count of ids, and those are
// rarer and costlier to run, so parsing matters less there), which keeps
// the cache bounded without an eviction policy.
type preparedDB struct {
	db *sql.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxPreparedArgs is the most arguments a query may have to be prepared.
const maxPreparedArgs = 8

// maxPrepared bounds the statements kept.
const maxPrepared = 256

var _ querier = (*preparedDB)(nil)

func newPreparedDB(db *sql.DB) *preparedDB {
	return &preparedDB{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the statement for query, preparing it if needed; nil when
// it is not to be prepared or preparing failed (the query then runs
// unprepared, and reports its own error).
func (p *preparedDB) stmt(ctx context.Context, query string, args int) *sql.Stmt {
	if args > maxPreparedArgs {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stmts[query]; ok {
		return s
	}
	if len(p.stmts) >= maxPrepared {
		return nil
	}
	s, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.stmts[query] = s
	return s
}

func (p *preparedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, query, len(args)); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *preparedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmt(ctx, query, len(args)); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

// ExecContext is not prepared: readers do not write.
func (p *preparedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, query, args...)
}

// close closes the prepared statements (not the pool).
func (p *preparedDB) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, s := range p.stmts {
		s.Close()
		delete(p.stmts, q)
	}
	return nil
}

// txQuerier runs a write transaction's queries, the audit append's through
// statements the writer prepared when the store opened (writerQueries):
// every shared commit of reads' audit entries runs them, and parsing them
// cost the commit more than running them. A statement cannot be prepared
// inside the transaction for later ones (the writer's one connection is
// taken), hence the fixed set.
type txQuerier struct {
	t     *sql.Tx
	stmts map[string]*sql.Stmt
}

var _ querier = txQuerier{}

func (q txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := q.stmts[query]; s != nil {
		return q.t.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return q.t.QueryContext(ctx, query, args...)
}

func (q txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := q.stmts[query]; s != nil {
		return q.t.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return q.t.QueryRowContext(ctx, query, args...)
}

func (q txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := q.stmts[query]; s != nil {
		return q.t.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return q.t.ExecContext(ctx, query, args...)
}

// writerQueries are the queries the writer prepares when it opens: what
// appending to the audit log reads (its size, the last leaf's tree, the
// leaves holding the frontier's hashes: at most one per level of the tree),
// and the search backfill's insert of a full statement of postings.
func writerQueries() []string {
	qs := []string{auditSizeSQL, auditTreeSQL, searchdb.PostingsSQL(searchdb.PostingsPerInsert)}
	for n := 1; n <= 64; n++ {
		qs = append(qs, readHashesSQL(n))
	}
	return qs
}

// prepareWriterQueries prepares writerQueries on the writer.
func prepareWriterQueries(ctx context.Context, w *sql.DB) (map[string]*sql.Stmt, error) {
	m := map[string]*sql.Stmt{}
	for _, q := range writerQueries() {
		s, err := w.PrepareContext(ctx, q)
		if err != nil {
			closeStmts(m)
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		m[q] = s
	}
	return m, nil
}

func closeStmts(m map[string]*sql.Stmt) error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

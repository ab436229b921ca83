// Package postgres is the PostgreSQL store, for nodes that run several
// replicas against one database or that want PostgreSQL's operations
// (backups, replication). It implements store.Store exactly as package
// sqlite does; the suite in store/storetest runs against both.
//
// # Writers
//
// Every write transaction takes one transaction-scoped advisory lock, the
// writer lock, before its first write, and holds it until it commits or rolls
// back. Across all processes and replicas on the database this makes writes
// serial, as SQLite's single writer does, and that is what keeps three things
// true:
//
//   - The audit log is sequenced without gaps or forks: the writer lock is
//     the sequencer. The log's size is read after the lock is taken (each
//     statement of a READ COMMITTED transaction sees everything committed
//     before it started), so no two transactions can append at one index,
//     and the Merkle tree hashes written with the leaves build on exactly
//     the leaves before them.
//   - Object sequence numbers and access class ids become visible in the
//     order they are assigned, so a reader paging by Seq (or refreshing
//     classes by id) never skips a row that commits after it read past it.
//   - PutObject's checks (same version, conflicting version, revoked
//     object) and its insert act on one state of the object.
//
// Reads take no lock and run in parallel with writes, from any replica.
// They have a connection pool of their own, as in package sqlite: an Update
// waiting for the writer lock holds a connection, and readers (including
// one called from inside another Update's function) must never wait for
// those.
package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/groupcommit"
)

// Advisory lock keys (the single-bigint key space), per database: "tearline"
// and "tearmigr" in ASCII.
const (
	writerLockKey  int64 = 0x7465_6172_6c69_6e65
	migrateLockKey int64 = 0x7465_6172_6d69_6772
)

// rollbackTimeout bounds the rollback Update does after fn fails or panics,
// when the caller's context may already be done.
const rollbackTimeout = 10 * time.Second

// readBuffer is the size of each connection's read buffer.
const readBuffer = 64 << 10

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	w, r *pgxpool.Pool // writes (Update), reads
	reader
	dsn string // for pg_dump (backup.go); never in errors or logs: it may hold a password
	// audit commits the entries of concurrent reads together (CommitAudit).
	audit *groupcommit.Committer
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string, as libpq takes) and brings its schema up to
// date. Errors name the server and database but never the password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors redact the password themselves.
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	name := describe(cfg)
	// JIT compiles a plan whose estimated cost is high, and a listing's
	// LIMIT over millions of rows looks costly to the planner though it
	// reads a page: the compilation (≈10 ms) would be most of the query.
	// A DSN that sets jit itself keeps its setting.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// A page of 1,000 objects is ≈ 1.5 MB of rows: read in pgx's 8 KiB
	// chunks that is ≈ 190 read calls a page, a read buffer of 64 KiB
	// makes it ≈ 25 (docs/STORAGE.md, "Listings at scale"). pgconn's
	// SyncConn, for taking over the net.Conn, would not see what this
	// buffer holds; the store never takes a connection over.
	cfg.ConnConfig.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBuffer), w)
	}
	w, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", name, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate postgres store %s: %w", name, err)
	}
	r, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", name, err)
	}
	s := &Store{w: w, r: r, reader: newReader(r), dsn: dsn}
	s.audit = groupcommit.New(s.Update)
	return s, nil
}

// describe names the database cfg connects to, without its password.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	u := url.URL{Scheme: "postgres", User: url.User(c.User), Host: c.Host, Path: "/" + c.Database}
	if c.Port != 0 {
		u.Host += ":" + strconv.Itoa(int(c.Port))
	}
	if len(c.Host) > 0 && c.Host[0] == '/' { // a unix socket directory
		u.Host = ""
		u.RawQuery = url.Values{"host": {c.Host}}.Encode()
	}
	return u.String()
}

// Close closes both connection pools.
func (s *Store) Close() error {
	s.r.Close()
	s.w.Close()
	return nil
}

// CommitAudit implements store.Store: concurrent callers share one write
// transaction (package groupcommit), so one WAL flush and one turn of the
// writer lock make the entries of every read that arrived meanwhile durable.
func (s *Store) CommitAudit(ctx context.Context, entries ...[]byte) (int64, error) {
	return s.audit.Append(ctx, entries...)
}

// CommitRead implements store.Store: CommitAudit with ledger entries.
func (s *Store) CommitRead(ctx context.Context, ledger []store.LedgerEntry, entries ...[]byte) (int64, error) {
	return s.audit.AppendWith(ctx, ledger, entries...)
}

// Collector returns the store's metrics for an operator: the group commits
// of read audit entries (CommitAudit).
func (s *Store) Collector() prometheus.Collector { return s.audit }

// Update runs fn in one READ COMMITTED transaction. The transaction takes
// the writer lock (see the package comment) at its first write.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	pt, err := s.w.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Also when fn panics: the connection goes back to the pool clean, and
	// the writer lock is released now, not when the server notices. After
	// a Commit this is a no-op.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_ = pt.Rollback(rctx)
	}()
	if err := fn(newTx(pt)); err != nil {
		return err
	}
	// fn may have ignored a cancellation; a cancelled Update must not
	// commit.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := pt.Commit(ctx); err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			return fmt.Errorf("commit: %w: %w", cerr, err)
		}
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

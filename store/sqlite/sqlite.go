// Package sqlite is the embedded default store: one SQLite file in the
// node's data directory, pure Go (no cgo), WAL mode.
//
// One connection writes (SQLite has one writer anyway; holding it in-process
// turns lock contention into a queue) and a small pool reads, so reads never
// wait for a write to commit.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/groupcommit"
	"github.com/tearline/tearline/store/sqlite/internal/idindex"
	"github.com/tearline/tearline/store/sqlite/internal/schema"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a store.Store on one SQLite file.
type Store struct {
	w    *sql.DB              // one connection: the writer
	rows *rowStmts            // the writer's prepared multi-row inserts
	wq   map[string]*sql.Stmt // the writer's prepared queries (txQuerier)
	r    *sql.DB              // readers
	prep *preparedDB          // r, with the point reads' statements prepared
	mu   sync.Mutex
	reader
	ids *idindex.Index // internal/idindex; merged in the background (merges.go)
	// audit commits the entries of concurrent reads together (CommitAudit).
	audit *groupcommit.Committer

	// The id index's merger (see merges): mergeWake is poked when the
	// tail has grown past mergeAt. merging counts what it did (metrics.go).
	mergeWake    chan struct{}
	mergeStopped chan struct{}
	merging      mergeCounts

	// The background checkpointer (see checkpoints): ck is its own
	// connection, wake is poked after every commit.
	walPath string
	ck      *sql.DB
	ckMu    sync.Mutex // held while checkpointing: Scrub's TRUNCATE must not find the checkpoint lock taken
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// walBackground is the WAL size at which the background checkpointer
// copies the WAL into the database file. It is a quarter of the writer's
// own threshold (wal_autocheckpoint below), so when the writer's checkpoint
// comes, almost every frame is copied already and it costs the commit that
// runs it a few pages and an fsync instead of 16 MiB and an fsync.
const walBackground = 4 << 20

// checkpoints runs PASSIVE checkpoints on its own connection whenever the
// WAL has grown past walBackground. A PASSIVE checkpoint takes no lock a
// reader or the writer waits for, so the copying leaves the request path;
// the writer's own checkpoint after a commit (wal_autocheckpoint) remains
// what lets the WAL restart under a write load that never pauses.
func (s *Store) checkpoints() {
	defer close(s.stopped)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-tick.C:
		}
		fi, err := os.Stat(s.walPath)
		if err != nil || fi.Size() < walBackground {
			continue
		}
		// Errors (SQLITE_BUSY when the writer is checkpointing) only mean
		// this round copied less; the next wake-up tries again.
		s.ckMu.Lock()
		s.ck.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		s.ckMu.Unlock()
	}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(extra string, cacheMiB int) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		// FULL: a commit is on disk before Update returns, so an
		// acknowledged object or audit entry survives a power cut too.
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "cache_size(-"+strconv.Itoa(cacheMiB<<10)+")")
		// A purge destroys data keys: their bytes must be overwritten in
		// the file, not just unlinked from the b-tree (see Scrub).
		q.Add("_pragma", "secure_delete(1)")
		if extra != "" {
			q.Add("_txlock", extra)
		}
		return "file:" + path + "?" + q.Encode()
	}
	if err := create(ctx, path); err != nil {
		return nil, err
	}
	// The writer checkpoints the WAL itself, right after a commit, when it
	// holds more than 16 MiB: no other write can interleave, so the
	// checkpoint completes and the next transaction starts the WAL over.
	// (A checkpoint run beside a continuous ingest never completes, and the
	// WAL then grows without bound.)
	w, err := sql.Open("sqlite", dsn("immediate", writerCacheMiB)+"&_pragma=wal_autocheckpoint(4096)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := schema.Migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := backfillAuditHashes(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("audit tree %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("", readerCacheMiB))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Every reader stays open: a connection closed for want of an idle
	// slot (database/sql keeps two by default) takes its prepared
	// statements with it, and the next read opens, configures and
	// re-prepares a new one.
	r.SetMaxOpenConns(max(4, 2*runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, 2*runtime.GOMAXPROCS(0)))
	ck, err := sql.Open("sqlite", dsn("", 1))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	rows, err := prepareRowStmts(ctx, w)
	if err != nil {
		w.Close()
		r.Close()
		ck.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	wq, err := prepareWriterQueries(ctx, w)
	if err != nil {
		w.Close()
		r.Close()
		ck.Close()
		rows.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	ids := &idindex.Index{}
	if err := ids.Load(ctx, w); err != nil {
		closeStmts(wq)
		w.Close()
		r.Close()
		ck.Close()
		rows.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	prep := newPreparedDB(r)
	s := &Store{w: w, rows: rows, wq: wq, r: r, prep: prep, reader: newReader(prep, sharedIDs{ids, prep}), ids: ids,
		mergeWake: make(chan struct{}, 1), mergeStopped: make(chan struct{}),
		walPath: path + "-wal", ck: ck, wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	s.audit = groupcommit.New(s.Update)
	go s.checkpoints()
	go s.merges()
	return s, nil
}

// Page cache sizes, per connection. The writer's is large: every object
// ingested looks up and inserts its id in the (id, modified_us) index, at a
// random place, and once that index outgrows the cache (≈ 1M objects at
// 64 MiB) each lookup is a read from the file. 256 MiB keeps it cached to
// about 3.5M objects. Readers mostly read rows once per request.
const (
	writerCacheMiB = 256
	readerCacheMiB = 64
)

// pageSize is the page size of a new database. At 8 KiB an object row
// (≈2.7 KB with its binding) fits whole, several to a page, where a 4 KiB
// page held one and left a third empty, and larger reports spilled into
// overflow pages: a listing at a cold cursor reads about half as many pages
// and the file is smaller.
const pageSize = 8192

// create makes a new database file with pageSize pages in WAL mode. The page
// size must be set before the first table or the switch to WAL, and the
// driver runs a DSN's pragmas in alphabetical order (journal_mode before
// page_size), hence this first step of its own. An existing file keeps the
// page size it was made with.
func create(ctx context.Context, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer db.Close()
	for _, q := range []string{`PRAGMA page_size = ` + strconv.Itoa(pageSize), `PRAGMA journal_mode = WAL`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	return db.Close()
}

// Close folds the WAL into the database file and closes both connection
// pools. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.stopped
		<-s.mergeStopped
		// Merged now, the next start reads no rows back into the tail.
		var merr error
		if s.ids.MergesOnClose() {
			merr = s.ids.Merge(context.Background(), s.write)
		}
		_, cerr := s.w.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
		s.closeErr = errors.Join(merr, cerr, s.rows.close(), closeStmts(s.wq), s.ck.Close(), s.prep.close(), s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// Update runs fn in one IMMEDIATE transaction on the writer connection.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.transact(ctx, func(t *tx) error { return fn(t) }); err != nil {
		return err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if s.ids.TailSize() >= s.ids.MergeAt() {
		select {
		case s.mergeWake <- struct{}{}:
		default:
		}
	}
	return nil
}

// CommitAudit implements store.Store: concurrent callers share one write
// transaction (package groupcommit), so one fsync of the WAL makes the
// entries of every read that arrived meanwhile durable.
func (s *Store) CommitAudit(ctx context.Context, entries ...[]byte) (int64, error) {
	return s.audit.Append(ctx, entries...)
}

// CommitRead implements store.Store: CommitAudit with ledger entries.
func (s *Store) CommitRead(ctx context.Context, ledger []store.LedgerEntry, entries ...[]byte) (int64, error) {
	return s.audit.AppendWith(ctx, ledger, entries...)
}

// transact runs fn in one transaction on the writer; s.mu is held.
func (s *Store) transact(ctx context.Context, fn func(*tx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Also when fn panics: a leaked transaction would hold the only writer
	// connection and every later Update would wait for it forever. After a
	// Commit this is a no-op.
	defer t.Rollback()
	tx := newTx(t, txQuerier{t, s.wq})
	tx.rows, tx.ids = s.rows, s.ids
	tx.reader = newReader(tx.q, tx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			// database/sql rolls back on cancellation and may then report
			// only ErrTxDone; keep the reason for the caller.
			return fmt.Errorf("commit: %w: %w", cerr, err)
		}
		return fmt.Errorf("commit: %w", err)
	}
	tx.committed()
	return nil
}

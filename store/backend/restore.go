package backend

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/sqlite"
)

// SQLiteRestore is a restore of the SQLite database of the (stopped) node
// in dir from the backup file from, in the steps node.Restore takes:
// read the shred journal of the database it replaces, stage the backup
// beside it, and swap it in once the node has re-applied the journal.
// (A PostgreSQL restore is pg_restore into a new database; the node then
// re-applies the journal in place: node.RestoreJournal.)
type SQLiteRestore struct {
	dir, from string
	staged    *sqlite.Staged
}

// NewSQLiteRestore prepares a restore of dir's SQLite database from the
// backup file from. Nothing happens until node.Restore runs it.
func NewSQLiteRestore(dir, from string) *SQLiteRestore {
	return &SQLiteRestore{dir: dir, from: from}
}

// Journal reads the tombstones of the database being replaced; found is
// false when there is no database to replace.
func (r *SQLiteRestore) Journal(ctx context.Context) (ts []store.Tombstone, found bool, err error) {
	live := SQLitePath(r.dir)
	if _, err := os.Stat(live); errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	st, err := sqlite.Open(ctx, live)
	if err != nil {
		return nil, true, err
	}
	ts, err = st.Tombstones(ctx)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return ts, true, err
}

// Stage copies the backup beside the live database and opens the copy.
func (r *SQLiteRestore) Stage(ctx context.Context) (store.Store, error) {
	s, err := sqlite.Stage(ctx, SQLitePath(r.dir), r.from)
	if err != nil {
		return nil, err
	}
	r.staged = s
	return s.Store(), nil
}

// Swap puts the staged copy in the live database's place and returns where
// the replaced database was kept ("" when there was none).
func (r *SQLiteRestore) Swap() (string, error) {
	if r.staged == nil {
		return "", errors.New("swap: nothing staged")
	}
	replaced, err := r.staged.Swap()
	if err != nil {
		return replaced, fmt.Errorf("swap in the backup: %w", err)
	}
	r.staged = nil
	return replaced, nil
}

// Discard removes a staged copy that was not swapped in.
func (r *SQLiteRestore) Discard() {
	if r.staged != nil {
		r.staged.Discard()
		r.staged = nil
	}
}

// ReadReplaced calls fn with the database being replaced; found is false
// when there is none.
func (r *SQLiteRestore) ReadReplaced(ctx context.Context, fn func(store.Reader) error) (found bool, err error) {
	live := SQLitePath(r.dir)
	if _, err := os.Stat(live); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	st, err := sqlite.Open(ctx, live)
	if err != nil {
		return true, err
	}
	err = fn(st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return true, err
}

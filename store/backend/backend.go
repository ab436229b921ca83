// Package backend chooses a node's store: it turns the data directory and
// the --store URL into a store.Store. It is the one place that knows the
// backends by name, so package node (and everything above it but the
// wiring in cmd/tearline) works on store.Store alone, and a new backend
// touches this package and its own.
//
// URLs: "" is the SQLite file in the data directory (package sqlite),
// postgres:// or postgresql:// a PostgreSQL database (package postgres).
// A URL may hold a password, so no error here repeats it.
//
// It also gives each backend's backup and restore primitives the shape
// node uses: both stores write an online backup themselves (Backup), and a
// SQLite restore is staged beside the live file (SQLiteRestore) so the node
// can re-apply its shred journal before the swap.
package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/postgres"
	"github.com/tearline/tearline/store/sqlite"
)

// SQLiteFile is the name of the SQLite database in a data directory
// (package datadir keeps the layout).
const SQLiteFile = datadir.DBFile

// ErrNoDatabase is returned by Open for a data directory whose SQLite file
// is not there: either no node, or a node whose store is PostgreSQL opened
// without its URL. Open never creates the file (Create does).
var ErrNoDatabase = errors.New("no " + SQLiteFile + " here; a node whose store is PostgreSQL needs its URL (--store or TEARLINE_STORE)")

// Open opens the store of the existing node in dir. With url "" that is
// the SQLite file in dir, which must exist (ErrNoDatabase): opening a node
// that lives in PostgreSQL without its URL must not start an empty
// database beside it. With a postgres:// URL it is that database, whose
// schema it brings up to date.
func Open(ctx context.Context, dir, url string) (store.Store, error) {
	if url == "" {
		if _, err := os.Stat(SQLitePath(dir)); errors.Is(err, os.ErrNotExist) {
			return nil, ErrNoDatabase
		}
	}
	return Create(ctx, dir, url)
}

// Create opens the store of a new node in dir (tearline init): as Open,
// but the SQLite file is made when it is not there.
func Create(ctx context.Context, dir, url string) (store.Store, error) {
	scheme, _, isURL := strings.Cut(url, "://")
	switch {
	case url == "":
		s, err := sqlite.Open(ctx, SQLitePath(dir))
		if err != nil {
			return nil, err
		}
		return s, nil
	case isURL && (scheme == "postgres" || scheme == "postgresql"):
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	case isURL:
		// Never the URL itself in errors: it may hold a password.
		return nil, fmt.Errorf("store URL: want postgres://... (or none for SQLite in the data directory), not %s://...", scheme)
	default:
		return nil, errors.New("store URL: want postgres://... (or none for SQLite in the data directory)")
	}
}

// Opener is Open for url, in the form node.Options takes (node.StoreOpener).
func Opener(url string) func(ctx context.Context, dir string) (store.Store, error) {
	return func(ctx context.Context, dir string) (store.Store, error) { return Open(ctx, dir, url) }
}

// Creator is Create for url, in the form node.InitOptions takes.
func Creator(url string) func(ctx context.Context, dir string) (store.Store, error) {
	return func(ctx context.Context, dir string) (store.Store, error) { return Create(ctx, dir, url) }
}

// SQLitePath is the SQLite database of the data directory dir.
func SQLitePath(dir string) string { return filepath.Join(dir, SQLiteFile) }

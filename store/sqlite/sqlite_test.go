package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/sqlite/internal/schema"
	"github.com/tearline/tearline/store/storetest"
)

// openAt opens the store at path and closes it when the test ends.
func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "tearline.db"))
	})
}

// TestReopen: everything committed survives Close and Open, as after a
// restart, and numbering carries on where it stopped.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tearline.db")
	s := openAt(t, path)

	const labelID = "marking-definition--00000000-0000-4000-8000-000000000001"
	labelRaw := []byte(`{"id":"` + labelID + `"}`)
	user := store.User{ID: "user-1", Name: "alice", Role: "admin", Clearances: map[string]string{"nato": "NS"}, Compartments: []string{"SI"}, Created: time.UnixMicro(1_700_000_000_000_001).UTC()}
	tok := store.Token{ID: "tok-1", UserID: user.ID, Hash: []byte{1, 2, 3}, Created: user.Created}
	obj := store.ObjectVersion{
		ID: "indicator--00000000-0000-4000-8000-000000000001", Type: "indicator",
		Modified: "2025-03-01T12:00:00.000Z", ModifiedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Digest: "d1", Raw: []byte(`{"a":1}`), Bindings: []byte(`[]`), DateAdded: user.Created, Originator: "node-a",
	}
	var class int64
	err := s.Update(ctx, func(tx store.Tx) error {
		var err error
		if err = tx.PutLabel(ctx, labelID, labelRaw); err != nil {
			return err
		}
		if class, err = tx.AccessClass(ctx, []string{labelID}); err != nil {
			return err
		}
		obj.Class = class
		if _, err = tx.PutObject(ctx, &obj); err != nil {
			return err
		}
		if err = tx.PutUser(ctx, user); err != nil {
			return err
		}
		if err = tx.PutToken(ctx, tok); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, []byte("e0"), []byte("e1"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, path)
	if raw, err := s.Label(ctx, labelID); err != nil || string(raw) != string(labelRaw) {
		t.Errorf("Label after reopen = %q, %v", raw, err)
	}
	if cs, err := s.AccessClasses(ctx, 0); err != nil || len(cs) != 1 || cs[0].ID != class || len(cs[0].LabelIDs) != 1 || cs[0].LabelIDs[0] != labelID {
		t.Errorf("AccessClasses after reopen = %v, %v", cs, err)
	}
	vs, err := s.List(ctx, store.ListQuery{Classes: []int64{class}, Limit: 10})
	if err != nil || len(vs) != 1 || vs[0].Seq != obj.Seq || string(vs[0].Raw) != string(obj.Raw) || !vs[0].DateAdded.Equal(obj.DateAdded) {
		t.Errorf("List after reopen = %+v, %v; want %+v", vs, err, obj)
	}
	if u, err := s.UserByName(ctx, "alice"); err != nil || u.ID != user.ID || u.Clearances["nato"] != "NS" || !u.Created.Equal(user.Created) {
		t.Errorf("User after reopen = %+v, %v", u, err)
	}
	if got, err := s.Token(ctx, tok.ID); err != nil || string(got.Hash) != string(tok.Hash) {
		t.Errorf("Token after reopen = %+v, %v", got, err)
	}
	if es, err := s.AuditEntries(ctx, 0, 10); err != nil || len(es) != 2 || string(es[1].Data) != "e1" {
		t.Errorf("AuditEntries after reopen = %v, %v", es, err)
	}

	// Numbering continues.
	next := obj
	next.ModifiedAt = next.ModifiedAt.Add(time.Second)
	next.Modified, next.Digest = "2025-03-01T12:00:01.000Z", "d2"
	err = s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.PutObject(ctx, &next); err != nil {
			return err
		}
		first, err := tx.AppendAudit(ctx, []byte("e2"))
		if first != 2 {
			t.Errorf("AppendAudit after reopen = %d, want 2", first)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.Seq <= obj.Seq {
		t.Errorf("Seq after reopen = %d, want > %d", next.Seq, obj.Seq)
	}
}

type migration struct {
	version   int
	appliedUS int64
}

func appliedMigrations(t *testing.T, s *Store) []migration {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `SELECT version, applied_us FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.version, &m.appliedUS); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tearline.db")
	s := openAt(t, path)
	first := appliedMigrations(t, s)
	if len(first) != schema.Latest() {
		t.Fatalf("schema_migrations has %d rows, want %d", len(first), schema.Latest())
	}
	for i, m := range first {
		if m.version != i+1 || m.appliedUS == 0 {
			t.Errorf("schema_migrations[%d] = %+v, want version %d with a time", i, m, i+1)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies nothing again: same rows, same times, and the
	// tables (which a second CREATE TABLE would have refused) are intact.
	for range 2 {
		s = openAt(t, path)
		again := appliedMigrations(t, s)
		if fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("schema_migrations after reopen = %v, want %v", again, first)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tearline.db")
	s := openAt(t, path)
	newer := schema.Latest() + 1 // one past what this binary knows
	if _, err := s.w.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_us) VALUES (?, 1)`, newer); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(t.Context(), path)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	for _, want := range []string{path, "newer", fmt.Sprint(newer), fmt.Sprint(schema.Latest())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not mention %q", err, want)
		}
	}

	// The database was not touched: the newer version is still recorded.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var have int
	if err := db.QueryRowContext(t.Context(), `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have != newer {
		t.Errorf("schema version after refused Open = %d, want %d", have, newer)
	}
}

func TestOpenDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err == nil {
		s.Close()
		t.Fatal("Open of a directory succeeded")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("Open error %q does not name %s", err, dir)
	}
}

type sqliteBindings struct{ s *Store }

func (b sqliteBindings) Get(t *testing.T, id string) []byte {
	var out []byte
	if err := b.s.w.QueryRowContext(t.Context(), `SELECT bindings FROM objects WHERE id = ?`, id).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (b sqliteBindings) Set(t *testing.T, id string, stored []byte) {
	if _, err := b.s.w.ExecContext(t.Context(), `UPDATE objects SET bindings = ? WHERE id = ?`, stored, id); err != nil {
		t.Fatal(err)
	}
}

func TestBindingsAtRest(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tearline.db"))
	storetest.CheckBindingsAtRest(t, s, sqliteBindings{s})
}

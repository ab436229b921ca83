package node

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// sealedObject ingests one object whose content carries a unique marker and
// returns its id, its JSON and the marker.
func sealedObject(t *testing.T, n *Node, p *Principal) (id string, raw, marker []byte) {
	t.Helper()
	marker = []byte("PLAINTEXT-MARKER-" + uuid.NewString())
	id = newID("threat-actor")
	raw = sdo(id, t0, t1, map[string]any{"description": string(marker)})
	mustLand(t, n, p, bundle(raw), "NATO SECRET // REL TO GBR, USA")
	return id, raw, marker
}

// dbBytes returns the SQLite database file and its WAL, as on disk now.
func dbBytes(t *testing.T, n *Node) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{backend.SQLiteFile, backend.SQLiteFile + "-wal"} {
		b, err := os.ReadFile(filepath.Join(n.Dir(), f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// stored returns the stored (sealed) rows of id, read past the seal.
func stored(t *testing.T, n *Node, id string) []store.ObjectVersion {
	t.Helper()
	vs, err := store.Base(n.st).Versions(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// verifyLog signs a checkpoint and verifies the whole audit log against it.
func verifyLog(t *testing.T, n *Node) {
	t.Helper()
	if _, err := audit.Checkpoint(t.Context(), n.Store(), n.LogSigner(), n.Now()); err != nil {
		t.Fatalf("audit.Checkpoint: %v", err)
	}
	v, err := note.NewVerifier(n.AuditLogKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(t.Context(), n.Store(), v); err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
}

// cannotOpen checks that no data key the node holds opens sealed as id's
// content, with any KEK it holds.
func cannotOpen(t *testing.T, n *Node, v store.ObjectVersion) {
	t.Helper()
	w := seal.WhereOf(&v)
	// The key captured before the purge did open it: it is the key, and
	// only the key, that is gone.
	if _, err := n.sealed.Keys().Open(w, v.Raw, v.Key); err != nil {
		t.Fatalf("test setup: the captured data key does not open the captured content: %v", err)
	}
	var after store.DataKey
	for {
		keys, err := n.Store().DataKeys(t.Context(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			return
		}
		for _, k := range keys {
			if k.ID == v.ID {
				t.Errorf("data key of purged %s still stored", v.ID)
			}
			if _, err := n.sealed.Keys().Open(w, v.Raw, k.Wrapped); err == nil {
				t.Fatalf("data key of %s opens the purged content", k.ID)
			}
		}
		after = keys[len(keys)-1]
	}
}

func TestSealAtRestAndPurgeSQLite(t *testing.T) {
	ctx := t.Context()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	id, raw, marker := sealedObject(t, n, p)
	keepID, keepRaw, _ := sealedObject(t, n, p)

	// Reads return exactly what was ingested.
	got, err := n.Get(ctx, p, id)
	if err != nil || !bytes.Equal(got.Raw, raw) {
		t.Fatalf("Get = %q, %v; want %q", got.Raw, err, raw)
	}
	// No plaintext in the database file or its WAL, nor in the stored row.
	if bytes.Contains(dbBytes(t, n), marker) {
		t.Fatal("the database file holds the object's plaintext")
	}
	before := stored(t, n, id)
	if len(before) != 1 || before[0].Key == nil || bytes.Contains(before[0].Raw, marker) {
		t.Fatalf("stored row is not sealed: %+v", before)
	}
	if !bytes.Contains(dbBytes(t, n), before[0].Key) {
		t.Fatal("test setup: the wrapped data key is not found in the file before the purge")
	}

	versions, err := n.Purge(ctx, ConsoleAdmin(), PurgeTarget{ID: id, Reason: PurgeAdmin})
	if err != nil || len(versions) != 1 {
		t.Fatalf("Purge = %v, %v", versions, err)
	}
	if _, err := n.Get(ctx, p, id); !isNotFound(err) {
		t.Fatalf("Get after purge = %v, want not found", err)
	}
	if vs := stored(t, n, id); len(vs) != 0 {
		t.Fatalf("rows left after purge: %d", len(vs))
	}
	file := dbBytes(t, n)
	if bytes.Contains(file, before[0].Key) {
		t.Error("the database file still holds the purged wrapped data key")
	}
	if bytes.Contains(file, before[0].Raw[13:60]) {
		t.Error("the database file still holds the purged ciphertext")
	}
	cannotOpen(t, n, before[0])

	// The other object is untouched; the purged one can never land again.
	if got, err := n.Get(ctx, p, keepID); err != nil || !bytes.Equal(got.Raw, keepRaw) {
		t.Fatalf("Get other = %v", err)
	}
	res := mustIngest(t, n, p, bundle(raw), "NATO SECRET // REL TO GBR, USA")
	if len(res.Landed) != 0 || len(res.Refused) != 1 {
		t.Fatalf("re-ingest of a purged object = %+v", res)
	}
	ts, err := n.Store().Tombstones(ctx)
	if err != nil || len(ts) != 1 || ts[0].ID != id || ts[0].Reason != PurgeAdmin {
		t.Fatalf("Tombstones = %+v, %v", ts, err)
	}
	evs := findEvents(auditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionObjectPurge })
	if len(evs) != 1 || evs[0].Object != id || evs[0].Reasons[0] != PurgeAdmin {
		t.Fatalf("purge audit = %+v", evs)
	}
	verifyLog(t, n)
}

// twoSealed is a node with an admin and two sealed objects, a and b.
func twoSealed(t *testing.T) (n *Node, p *Principal, a, b string) {
	t.Helper()
	n = newTestNode(t, "gbr", "GBR")
	p, _ = addUser(t, n, adminSpec())
	a, _, _ = sealedObject(t, n, p)
	b, _, _ = sealedObject(t, n, p)
	return n, p, a, b
}

// rawDB opens n's SQLite database beside the node, as someone with the
// file would, and returns it with an exec that fails the test on error.
func rawDB(t *testing.T, n *Node) (*sql.DB, func(q string, args ...any)) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(n.Dir(), backend.SQLiteFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSealTamperDetected(t *testing.T) {
	ctx := t.Context()
	n, p, a, b := twoSealed(t)
	db, exec := rawDB(t, n)
	blob := func(q, id string) []byte {
		t.Helper()
		var b []byte
		if err := db.QueryRowContext(ctx, q, id).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	rawA, rawB := blob(`SELECT raw FROM objects WHERE id = ?`, a), blob(`SELECT raw FROM objects WHERE id = ?`, b)
	const keyOf = `SELECT wrapped FROM data_keys WHERE seq = (SELECT seq FROM objects WHERE id = ?)`
	const setKey = `UPDATE data_keys SET wrapped = ? WHERE seq = (SELECT seq FROM objects WHERE id = ?)`
	keyA, keyB := blob(keyOf, a), blob(keyOf, b)
	// Swap the two rows' ciphertexts and data keys: each pair is genuine,
	// but not for the row it is now in.
	exec(`UPDATE objects SET raw = ? WHERE id = ?`, rawB, a)
	exec(`UPDATE objects SET raw = ? WHERE id = ?`, rawA, b)
	exec(setKey, keyB, a)
	exec(setKey, keyA, b)
	for _, id := range []string{a, b} {
		if o, err := n.Get(ctx, p, id); err == nil || isNotFound(err) || !errors.Is(err, seal.ErrOpen) {
			t.Errorf("Get %s after swapping rows = %q, %v; want an ErrOpen error", id, o.Raw, err)
		}
	}
	// Only the ciphertext swapped: the key opens, the content does not.
	exec(setKey, keyA, a)
	if _, err := n.Get(ctx, p, a); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("Get after swapping ciphertexts = %v, want ErrOpen", err)
	}
	// One bit flipped in a row's own ciphertext.
	exec(setKey, keyB, b)
	flipped := bytes.Clone(rawB)
	flipped[20] ^= 1
	exec(`UPDATE objects SET raw = ? WHERE id = ?`, flipped, b)
	if _, err := n.Get(ctx, p, b); err == nil || isNotFound(err) {
		t.Errorf("Get after tampering = %v, want an error", err)
	}
	if _, err := n.List(ctx, p, ListOptions{}); err == nil {
		t.Error("List over a tampered row succeeded")
	}
}

func TestRotateKEK(t *testing.T) {
	ctx := t.Context()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	var ids []string
	var raws [][]byte
	for range 3 {
		id, raw, _ := sealedObject(t, n, p)
		ids, raws = append(ids, id), append(raws, raw)
	}
	oldText, err := os.ReadFile(filepath.Join(n.Dir(), KEKFile))
	if err != nil {
		t.Fatal(err)
	}
	oldKEK, err := datadir.ParseKEK(oldText)
	if err != nil {
		t.Fatal(err)
	}
	newID, count, err := n.RotateKEK(ctx, "test")
	if err != nil || count != 5 || newID == oldKEK.ID() { // three data keys, the access MAC key and the search index key
		t.Fatalf("RotateKEK = %s, %d, %v", newID, count, err)
	}
	if _, err := os.Stat(filepath.Join(n.Dir(), KEKNextFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind: %v", KEKNextFile, err)
	}
	check := func(n *Node) {
		for i, id := range ids {
			if got, err := n.Get(ctx, p, id); err != nil || !bytes.Equal(got.Raw, raws[i]) {
				t.Errorf("Get %s after rotation: %v", id, err)
			}
		}
	}
	check(n)
	oldRing := seal.NewKeyring(oldKEK)
	for _, id := range ids {
		v := stored(t, n, id)[0]
		if _, err := oldRing.Open(seal.WhereOf(&v), v.Raw, v.Key); !errors.Is(err, seal.ErrUnknownKEK) {
			t.Errorf("old KEK on %s: %v, want ErrUnknownKEK", id, err)
		}
	}
	dir := n.Dir()
	n.Close()
	n2, err := Open(ctx, dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if ids := n2.Sealed().Keys().IDs(); len(ids) != 1 || ids[0] != newID {
		t.Errorf("KEKIDs after reopen = %v, want [%s]", ids, newID)
	}
	check(n2)
	evs := findEvents(auditLog(t, n2.Store()), func(e audit.Event) bool { return e.Action == audit.ActionKeyRotate })
	if len(evs) != 1 || evs[0].Count != 5 {
		t.Errorf("rotation audit = %+v", evs)
	}
}

func TestSealAtRestPostgres(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "gbr")
	if err := Init(ctx, dir, InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator(dsn)}); err != nil {
		t.Fatal(err)
	}
	n, err := Open(ctx, dir, Options{OpenStore: backend.Opener(dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	p, _ := addUser(t, n, adminSpec())
	id, raw, marker := sealedObject(t, n, p)
	if got, err := n.Get(ctx, p, id); err != nil || !bytes.Equal(got.Raw, raw) {
		t.Fatalf("Get = %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Every column of every table, as text: no plaintext anywhere.
	for _, table := range []string{"objects", "data_keys", "labels", "audit"} {
		var hit bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` t WHERE position($1::bytea in convert_to(t::text, 'UTF8')) > 0 OR position($2::text in t::text) > 0)`,
			marker, `\x`+hexOf(marker)).Scan(&hit); err != nil {
			t.Fatal(err)
		}
		if hit {
			t.Errorf("table %s holds the plaintext", table)
		}
	}
	before := stored(t, n, id)[0]
	if _, err := n.Purge(ctx, ConsoleAdmin(), PurgeTarget{ID: id, Reason: PurgeAdmin}); err != nil {
		t.Fatal(err)
	}
	var keys int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM data_keys WHERE seq = $1`, before.Seq).Scan(&keys); err != nil || keys != 0 {
		t.Fatalf("data keys after purge: %d, %v", keys, err)
	}
	if _, err := n.Get(ctx, p, id); !isNotFound(err) {
		t.Fatalf("Get after purge = %v", err)
	}
	cannotOpen(t, n, before)
	verifyLog(t, n)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestSealedReadsOpen: every read of the node's store that returns content
// returns it opened, VersionsOf (the outbox's batch read) included; only
// the backend, asked for explicitly, holds ciphertext.
func TestSealedReadsOpen(t *testing.T) {
	ctx := t.Context()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	a, rawA, markerA := sealedObject(t, n, p)
	b, rawB, _ := sealedObject(t, n, p)
	vs, err := n.Store().VersionsOf(ctx, []string{a, b, a})
	if err != nil || len(vs) != 2 {
		t.Fatalf("VersionsOf = %d versions, %v; want 2", len(vs), err)
	}
	for _, v := range vs {
		want := map[string][]byte{a: rawA, b: rawB}[v.ID]
		if !bytes.Equal(v.Raw, want) {
			t.Errorf("VersionsOf %s: content %q, want the plaintext %q", v.ID, v.Raw, want)
		}
	}
	err = n.Store().Update(ctx, func(tx store.Tx) error {
		vs, err := tx.VersionsOf(ctx, []string{a})
		if err == nil && (len(vs) != 1 || !bytes.Equal(vs[0].Raw, rawA)) {
			t.Errorf("VersionsOf in a transaction = %+v, want the plaintext of %s", vs, a)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := n.sealed.Unwrap().VersionsOf(ctx, []string{a})
	if err != nil || len(raw) != 1 || bytes.Contains(raw[0].Raw, markerA) {
		t.Fatalf("backend VersionsOf = %+v, %v; want one sealed version", raw, err)
	}
}

// A process given another KEK than the one the store's data keys are
// wrapped under (a replica with its own keys/kek, or another
// $TEARLINE_KEK) refuses to open, rather than answer 500 for every object
// and seal new ones under a key the other replicas lack.
func TestOpenRefusesAnotherKEK(t *testing.T) {
	n, _, _, _ := twoSealed(t)
	dir := n.Dir()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	kek := filepath.Join(dir, KEKFile)
	if err := os.Remove(kek); err != nil {
		t.Fatal(err)
	}
	if _, err := datadir.WriteKEKFile(kek); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), dir, Options{OpenStore: backend.Opener("")})
	if !errors.Is(err, seal.ErrUnknownKEK) {
		t.Fatalf("Open with another KEK: %v, want ErrUnknownKEK", err)
	}
}

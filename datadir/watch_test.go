package datadir

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file replaced by one of the same size with the same modification time
// (an atomic rename within one clock tick, or a clock that stood still) is
// still seen as changed: the inode differs.
func TestWatchedSeesSameSizeSameMtimeReplacement(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := AtomicWrite(file, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	loads := 0
	w := NewWatched(func() (string, error) {
		loads++
		b, err := os.ReadFile(file)
		return string(b), err
	}, file)
	if v, err := w.Get(); err != nil || v != "one" {
		t.Fatalf("first Get = %q, %v", v, err)
	}
	if v, err := w.Get(); err != nil || v != "one" || loads != 1 {
		t.Fatalf("unchanged file: %q, %v, %d loads (want 1)", v, err, loads)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := AtomicWrite(file, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same size and modification time as before.
	if err := os.Chtimes(file, time.Time{}, fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if v, err := w.Get(); err != nil || v != "two" {
		t.Fatalf("after replacement: %q, %v, want two", v, err)
	}
	// A missing file is a state too: its loader decides what it means.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Get(); err == nil {
		t.Fatal("removed file: the loader's error was not returned")
	}
}

func TestKeysFollowRotationAndRevocation(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Name: "gbr-node", Country: "GBR", Identity: "identity--00000000-0000-4000-8000-000000000001"}
	cfg.Defaults()
	if _, err := Create(dir, cfg); err != nil {
		t.Fatal(err)
	}
	keys := NewKeys(dir, cfg.Name, cfg.Identity)
	before, err := keys.Current()
	if err != nil {
		t.Fatal(err)
	}
	r, err := RotateSigningKey(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	after, err := keys.Current()
	if err != nil {
		t.Fatal(err)
	}
	if before.Signer.KeyID() != r.Old || after.Signer.KeyID() != r.New {
		t.Fatalf("signer before %s, after %s; rotation %s -> %s", before.Signer.KeyID(), after.Signer.KeyID(), r.Old, r.New)
	}
	if k, ok := after.Keyring.Lookup(r.Old); !ok || !k.NotAfter.Equal(r.At) {
		t.Fatalf("retired key in the keyring: %+v %v", k, ok)
	}
	at := time.Now().UTC()
	if _, err := RevokeSigningKey(dir, r.Old, at); err != nil {
		t.Fatal(err)
	}
	now, err := keys.Current()
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := now.Keyring.Lookup(r.Old); !ok || !k.RevokedAt.Equal(at) {
		t.Fatalf("revoked key in the keyring: %+v %v", k, ok)
	}
	// A keyring a person broke by hand fails closed.
	if err := os.WriteFile(Path(dir, KeyringFile), []byte("- node: x\n  public: nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Current(); err == nil {
		t.Fatal("broken keyring: no error")
	}
}

// BenchmarkKeysCurrent is what a binding or verification pays to see key
// changes made by other processes: two stats, no parse.
func BenchmarkKeysCurrent(b *testing.B) {
	dir := b.TempDir()
	cfg := Config{Name: "gbr-node", Country: "GBR", Identity: "identity--00000000-0000-4000-8000-000000000001"}
	cfg.Defaults()
	if _, err := Create(dir, cfg); err != nil {
		b.Fatal(err)
	}
	keys := NewKeys(dir, cfg.Name, cfg.Identity)
	for b.Loop() {
		if _, err := keys.Current(); err != nil {
			b.Fatal(err)
		}
	}
}

package instance_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/postgres"
	"github.com/tearline/tearline/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The receiving side of instances on the wire, on both backends: a
// partner's versions join the instance here that holds the same origin
// instance of the same originator, and nothing else; instances received
// before origins were recorded are their originator's instance 0; a
// version of this node's own never joins with a partner's.
func TestAssignReceived(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		testAssignReceived(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		testAssignReceived(t, s)
	})
}

const self = "gbr"

func testAssignReceived(t *testing.T, s store.Store) {
	ctx := t.Context()
	var class int64
	update(t, s, func(tx store.Tx) (err error) {
		class, err = tx.AccessClass(ctx, []string{"marking-definition--x"})
		return
	})
	n := 0
	// receive assigns and stores one version of id from originator, of
	// its origin instance from, and returns the instance here.
	receive := func(id, originator string, from int64) int64 {
		t.Helper()
		n++
		v := version(id, originator, class, n)
		update(t, s, func(tx store.Tx) error {
			if err := instance.AssignReceived(ctx, tx, self, []*store.ObjectVersion{&v}, []int64{from}); err != nil {
				return err
			}
			_, err := tx.PutObject(ctx, &v)
			return err
		})
		return v.Instance
	}
	a := "threat-actor--00000000-0000-4000-8000-000000000001"
	if k := receive(a, "fra", 0); k != 0 {
		t.Fatalf("fra's instance 0 of a fresh id: instance %d here, want 0", k)
	}
	if k := receive(a, "fra", 3); k != 1 {
		t.Fatalf("fra's instance 3: instance %d here, want a new one, 1", k)
	}
	if k := receive(a, "fra", 3); k != 1 {
		t.Fatalf("fra's instance 3 again: instance %d, want 1", k)
	}
	if k := receive(a, "fra", 0); k != 0 {
		t.Fatalf("fra's instance 0 again: instance %d, want 0", k)
	}
	if k := receive(a, "usa", 3); k != 2 {
		t.Fatalf("usa's instance 3: instance %d, want its own, 2", k)
	}
	// What the wire names, from what is held.
	for k, want := range map[int64]instance.Origin{0: {"fra", 0}, 1: {"fra", 3}, 2: {"usa", 3}} {
		got, ok, err := instance.Local(ctx, s, self, a, want)
		if err != nil || !ok || got != k {
			t.Errorf("Local(%+v) = %d, %v, %v; want %d", want, got, ok, err, k)
		}
	}
	if _, ok, err := instance.Local(ctx, s, self, a, instance.Origin{Originator: "fra", Instance: 7}); ok || err != nil {
		t.Errorf("Local of an origin never received: %v, %v", ok, err)
	}

	// Held before origins were recorded (no row): the originator's 0.
	b := "threat-actor--00000000-0000-4000-8000-000000000002"
	legacy := version(b, "fra", class, 100)
	update(t, s, func(tx store.Tx) error { _, err := tx.PutObject(ctx, &legacy); return err })
	if k := receive(b, "fra", 0); k != 0 {
		t.Fatalf("fra's instance 0 of an id held from before: instance %d, want 0", k)
	}
	if k := receive(b, "fra", 2); k != 1 {
		t.Fatalf("fra's instance 2 of an id held from before: instance %d, want 1", k)
	}
	// This node's own object is never joined by a partner's version.
	c := "threat-actor--00000000-0000-4000-8000-000000000003"
	own := version(c, self, class, 200)
	update(t, s, func(tx store.Tx) error { _, err := tx.PutObject(ctx, &own); return err })
	if k := receive(c, "fra", 0); k != 1 {
		t.Fatalf("fra's version of an id this node holds of its own: instance %d, want 1", k)
	}

	// The origin a version is sent with.
	vs, err := s.VersionsOf(ctx, []string{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		got, err := instance.OriginOf(ctx, s, self, v)
		want := map[string]map[int64]int64{a: {0: 0, 1: 3, 2: 3}, b: {0: 0, 1: 2}, c: {0: 0, 1: 0}}[v.ID][v.Instance]
		if err != nil || got != want {
			t.Errorf("OriginOf(%s instance %d) = %d, %v; want %d", v.ID[len(v.ID)-1:], v.Instance, got, err, want)
		}
	}
}

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// version is a distinct version n of id from originator.
func version(id, originator string, class int64, n int) store.ObjectVersion {
	mod := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	modified := mod.Format("2006-01-02T15:04:05.000Z")
	raw := fmt.Sprintf(`{"type":"threat-actor","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":%q,"name":"v%d"}`, id, modified, n)
	sum := sha256.Sum256([]byte(raw))
	return store.ObjectVersion{ID: id, Type: "threat-actor", Modified: modified, ModifiedAt: mod, Created: "2026-01-01T00:00:00.000Z",
		Digest: hex.EncodeToString(sum[:]), Raw: []byte(raw), Bindings: []byte(`[]`), Class: class, DateAdded: mod, Originator: originator}
}

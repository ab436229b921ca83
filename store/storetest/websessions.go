package storetest

import (
	"errors"
	"testing"

	"github.com/tearline/tearline/store"
)

var webSessionTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"WebPasswords", testWebPasswords},
	{"WebSessions", testWebSessions},
}

func putTestUser(t *testing.T, s store.Store, id, name string) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		return tx.PutUser(t.Context(), store.User{ID: id, Name: name, Role: "analyst", Nationality: "GBR", Created: base})
	})
}

// testWebPasswords: a password is absent until put, kept as given with its
// lockout state, and replaced whole by the next put.
func testWebPasswords(t *testing.T, s store.Store) {
	ctx := t.Context()
	putTestUser(t, s, "user-pw", "pw")
	if _, err := s.Password(ctx, "user-pw"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Password before any put: %v, want ErrNotFound", err)
	}
	p := store.Password{UserID: "user-pw", Hash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", Changed: at(1)}
	update(t, s, func(tx store.Tx) error { return tx.PutPassword(ctx, p) })
	got, err := s.Password(ctx, "user-pw")
	if err != nil || got.Hash != p.Hash || !got.Changed.Equal(p.Changed) || got.Failures != 0 || !got.LockedUntil.IsZero() {
		t.Fatalf("Password = %+v, %v; want %+v", got, err, p)
	}
	p.Failures, p.LockedUntil = 5, at(9)
	update(t, s, func(tx store.Tx) error { return tx.PutPassword(ctx, p) })
	got, err = s.Password(ctx, "user-pw")
	if err != nil || got.Failures != 5 || !got.LockedUntil.Equal(at(9)) || got.Hash != p.Hash {
		t.Fatalf("Password after lockout = %+v, %v; want %+v", got, err, p)
	}
	p = store.Password{UserID: "user-pw", Hash: "$argon2id$other", Changed: at(10)}
	update(t, s, func(tx store.Tx) error { return tx.PutPassword(ctx, p) })
	got, err = s.Password(ctx, "user-pw")
	if err != nil || got.Hash != p.Hash || got.Failures != 0 || !got.LockedUntil.IsZero() || !got.Changed.Equal(at(10)) {
		t.Fatalf("Password after change = %+v, %v; want %+v", got, err, p)
	}
}

// testWebSessions: sessions are stored, touched, ended one at a time, per
// user, and when stale by idle time or by age.
func testWebSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	putTestUser(t, s, "user-s1", "s1")
	putTestUser(t, s, "user-s2", "s2")
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Session of nothing: %v, want ErrNotFound", err)
	}
	a := store.Session{ID: "a", UserID: "user-s1", Created: at(1), LastSeen: at(1)}
	b := store.Session{ID: "b", UserID: "user-s1", Created: at(2), LastSeen: at(2)}
	c := store.Session{ID: "c", UserID: "user-s2", Created: at(3), LastSeen: at(3)}
	old := store.Session{ID: "old", UserID: "user-s2", Created: at(0), LastSeen: at(50)}
	update(t, s, func(tx store.Tx) error {
		for _, x := range []store.Session{a, b, c, old} {
			if err := tx.PutSession(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutSession(ctx, a) }); err == nil {
		t.Fatal("PutSession of an existing id: no error")
	}
	got, err := s.Session(ctx, "a")
	if err != nil || got != a {
		t.Fatalf("Session(a) = %+v, %v; want %+v", got, err, a)
	}
	update(t, s, func(tx store.Tx) error { return tx.TouchSession(ctx, "a", at(40)) })
	if got, err := s.Session(ctx, "a"); err != nil || !got.LastSeen.Equal(at(40)) || !got.Created.Equal(at(1)) {
		t.Fatalf("Session(a) after touch = %+v, %v", got, err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.TouchSession(ctx, "nope", at(40)) }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchSession of nothing: %v, want ErrNotFound", err)
	}
	// Idle before at(10) ends b and c; created before at(1) ends old.
	var n int64
	update(t, s, func(tx store.Tx) (err error) { n, err = tx.DeleteStaleSessions(ctx, at(10), at(1)); return err })
	if n != 3 {
		t.Fatalf("DeleteStaleSessions = %d, want 3", n)
	}
	for id, want := range map[string]bool{"a": true, "b": false, "c": false, "old": false} {
		if _, err := s.Session(ctx, id); (err == nil) != want {
			t.Errorf("Session(%s) after stale sweep: %v, want present=%t", id, err, want)
		}
	}
	update(t, s, func(tx store.Tx) error {
		return tx.PutSession(ctx, store.Session{ID: "d", UserID: "user-s1", Created: at(41), LastSeen: at(41)})
	})
	update(t, s, func(tx store.Tx) (err error) { n, err = tx.DeleteUserSessions(ctx, "user-s1"); return err })
	if n != 2 {
		t.Fatalf("DeleteUserSessions = %d, want 2", n)
	}
	update(t, s, func(tx store.Tx) error {
		return errors.Join(tx.PutSession(ctx, store.Session{ID: "e", UserID: "user-s2", Created: at(42), LastSeen: at(42)}),
			tx.DeleteSession(ctx, "e"), tx.DeleteSession(ctx, "e"))
	})
	if _, err := s.Session(ctx, "e"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Session(e) after DeleteSession: %v, want ErrNotFound", err)
	}
}

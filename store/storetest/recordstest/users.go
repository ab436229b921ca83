package recordstest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/storetest/internal/suite"
)

// sameUser reports how got differs from want, or "". A nil and an empty
// Clearances or Compartments are the same.
func sameUser(got, want store.User) string {
	switch {
	case got.ID != want.ID || got.Name != want.Name || got.Role != want.Role ||
		got.Nationality != want.Nationality || got.Org != want.Org ||
		got.DefaultLabel != want.DefaultLabel || got.Disabled != want.Disabled:
		return fmt.Sprintf("got %+v, want %+v", got, want)
	case !maps.Equal(got.Clearances, want.Clearances):
		return fmt.Sprintf("Clearances = %v, want %v", got.Clearances, want.Clearances)
	case !slices.Equal(got.Compartments, want.Compartments):
		return fmt.Sprintf("Compartments = %q, want %q", got.Compartments, want.Compartments)
	case !got.Created.Equal(want.Created):
		return fmt.Sprintf("Created = %v, want %v", got.Created, want.Created)
	}
	return ""
}

func sameToken(got, want store.Token) string {
	switch {
	case got.ID != want.ID || got.UserID != want.UserID:
		return fmt.Sprintf("token %s of %s, want %s of %s", got.ID, got.UserID, want.ID, want.UserID)
	case string(got.Hash) != string(want.Hash):
		return fmt.Sprintf("Hash = %x, want %x", got.Hash, want.Hash)
	case !got.Created.Equal(want.Created):
		return fmt.Sprintf("Created = %v, want %v", got.Created, want.Created)
	case !got.Expires.Equal(want.Expires) || got.Expires.IsZero() != want.Expires.IsZero():
		return fmt.Sprintf("Expires = %v, want %v", got.Expires, want.Expires)
	case !got.RevokedAt.Equal(want.RevokedAt) || got.RevokedAt.IsZero() != want.RevokedAt.IsZero():
		return fmt.Sprintf("RevokedAt = %v, want %v", got.RevokedAt, want.RevokedAt)
	}
	return ""
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := store.User{
		ID: "user-1", Name: "alice", Role: "analyst", Nationality: "FRA", Org: "DGSE",
		Clearances:   map[string]string{"nato": "NATO SECRET", "fra": "SECRET DEFENSE"},
		Compartments: []string{"SI", "TK"},
		DefaultLabel: "NATO SECRET",
		Created:      suite.Base.Add(1500 * time.Microsecond),
	}
	bob := store.User{ID: "user-2", Name: "bob", Role: "admin", Nationality: "USA", Created: suite.Base, Disabled: true}
	carol := store.User{ID: "user-3", Name: "carol", Role: "system", Nationality: "DEU", Created: suite.Base}

	if _, err := s.User(ctx, alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User before PutUser: error = %v, want ErrNotFound", err)
	}
	suite.Update(t, s, func(tx store.Tx) error {
		for _, u := range []store.User{alice, bob} {
			if err := tx.PutUser(ctx, u); err != nil {
				return err
			}
		}
		got, err := tx.UserByName(ctx, "alice")
		if err != nil {
			return err
		}
		if d := sameUser(got, alice); d != "" {
			t.Errorf("tx.UserByName after PutUser: %s", d)
		}
		return nil
	})

	dupName := carol
	dupName.Name = "alice"
	dupID := carol
	dupID.ID = bob.ID
	for name, u := range map[string]store.User{"duplicate name": dupName, "duplicate id": dupID} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.PutUser(ctx, u) })
		if !errors.Is(err, store.ErrExists) {
			t.Errorf("PutUser(%s) error = %v, want ErrExists", name, err)
		}
	}
	suite.Update(t, s, func(tx store.Tx) error { return tx.PutUser(ctx, carol) })

	for _, want := range []store.User{alice, bob, carol} {
		got, err := s.User(ctx, want.ID)
		if err != nil {
			t.Errorf("User(%s): %v", want.ID, err)
		} else if d := sameUser(got, want); d != "" {
			t.Errorf("User(%s): %s", want.ID, d)
		}
		got, err = s.UserByName(ctx, want.Name)
		if err != nil {
			t.Errorf("UserByName(%s): %v", want.Name, err)
		} else if d := sameUser(got, want); d != "" {
			t.Errorf("UserByName(%s): %s", want.Name, d)
		}
	}
	checkUsers(t, s, alice, bob, carol)

	// Clearances change, and the next read sees it: in the transaction and
	// after it.
	alice2 := alice
	alice2.Clearances = map[string]string{"nato": "COSMIC TOP SECRET"}
	alice2.Compartments = []string{"SI"}
	alice2.Role = "admin"
	alice2.Disabled = true
	suite.Update(t, s, func(tx store.Tx) error {
		if err := tx.UpdateUser(ctx, alice2); err != nil {
			return err
		}
		got, err := tx.User(ctx, alice.ID)
		if err != nil {
			return err
		}
		if d := sameUser(got, alice2); d != "" {
			t.Errorf("tx.User after UpdateUser: %s", d)
		}
		return nil
	})
	if got, err := s.User(ctx, alice.ID); err != nil {
		t.Errorf("User after UpdateUser: %v", err)
	} else if d := sameUser(got, alice2); d != "" {
		t.Errorf("User after UpdateUser: %s", d)
	}
	if got, err := s.UserByName(ctx, "alice"); err != nil {
		t.Errorf("UserByName after UpdateUser: %v", err)
	} else if d := sameUser(got, alice2); d != "" {
		t.Errorf("UserByName after UpdateUser: %s", d)
	}

	// Clearances can be removed altogether.
	bob2 := bob
	bob2.Clearances = map[string]string{"usa": "TOP SECRET"}
	suite.Update(t, s, func(tx store.Tx) error { return tx.UpdateUser(ctx, bob2) })
	bob3 := bob
	suite.Update(t, s, func(tx store.Tx) error { return tx.UpdateUser(ctx, bob3) })
	if got, err := s.User(ctx, bob.ID); err != nil || len(got.Clearances) != 0 {
		t.Errorf("User after clearing clearances = %v, %v; want none", got.Clearances, err)
	}

	unknown := carol
	unknown.ID, unknown.Name = "user-9", "mallory"
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, unknown) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, unknown.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByName(ctx, unknown.Name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(unknown) error = %v, want ErrNotFound", err)
	}
	checkUsers(t, s, alice2, bob3, carol)
}

// checkUsers checks that Users returns exactly want, in any order.
func checkUsers(t *testing.T, r store.Reader, want ...store.User) {
	t.Helper()
	got, err := r.Users(t.Context())
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Users: %d users, want %d", len(got), len(want))
	}
	byID := func(a, b store.User) int { return cmp.Compare(a.ID, b.ID) }
	got = slices.SortedFunc(slices.Values(got), byID)
	want = slices.SortedFunc(slices.Values(want), byID)
	for i := range got {
		if d := sameUser(got[i], want[i]); d != "" {
			t.Errorf("Users[%s]: %s", want[i].ID, d)
		}
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := store.User{ID: "user-1", Name: "alice", Role: "analyst", Created: suite.Base}
	bob := store.User{ID: "user-2", Name: "bob", Role: "analyst", Created: suite.Base}
	t1 := store.Token{ID: "tok-1", UserID: alice.ID, Hash: []byte{0, 1, 2, 0xff, 0}, Created: suite.Base.Add(time.Second)}
	t2 := store.Token{ID: "tok-2", UserID: alice.ID, Hash: []byte("hash-2"), Created: suite.Base.Add(2 * time.Second), Expires: suite.Base.Add(90 * 24 * time.Hour)}
	t3 := store.Token{ID: "tok-3", UserID: bob.ID, Hash: []byte("hash-3"), Created: suite.Base.Add(3 * time.Second)}
	suite.Update(t, s, func(tx store.Tx) error {
		for _, u := range []store.User{alice, bob} {
			if err := tx.PutUser(ctx, u); err != nil {
				return err
			}
		}
		for _, tok := range []store.Token{t1, t2, t3} {
			if err := tx.PutToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})

	for _, want := range []store.Token{t1, t2, t3} {
		got, err := s.Token(ctx, want.ID)
		if err != nil {
			t.Errorf("Token(%s): %v", want.ID, err)
		} else if d := sameToken(got, want); d != "" {
			t.Errorf("Token(%s): %s", want.ID, d)
		}
	}
	checkTokens(t, s, alice.ID, t1, t2)
	checkTokens(t, s, bob.ID, t3)
	checkTokens(t, s, "user-9")
	if _, err := s.Token(ctx, "tok-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token(unknown) error = %v, want ErrNotFound", err)
	}

	revokedAt := suite.Base.Add(time.Hour + 7*time.Microsecond)
	suite.Update(t, s, func(tx store.Tx) error {
		if err := tx.RevokeToken(ctx, t1.ID, revokedAt); err != nil {
			return err
		}
		got, err := tx.Token(ctx, t1.ID)
		if err != nil {
			return err
		}
		if !got.RevokedAt.Equal(revokedAt) {
			t.Errorf("tx.Token after RevokeToken: RevokedAt = %v, want %v", got.RevokedAt, revokedAt)
		}
		return nil
	})
	t1.RevokedAt = revokedAt
	if got, err := s.Token(ctx, t1.ID); err != nil {
		t.Errorf("Token after RevokeToken: %v", err)
	} else if d := sameToken(got, t1); d != "" {
		t.Errorf("Token after RevokeToken: %s", d)
	}
	for tok, owner := range map[*store.Token]store.User{&t1: alice, &t2: alice, &t3: bob} {
		gotT, gotU, err := s.TokenUser(ctx, tok.ID)
		if err != nil {
			t.Errorf("TokenUser(%s): %v", tok.ID, err)
			continue
		}
		if d := sameToken(gotT, *tok); d != "" {
			t.Errorf("TokenUser(%s) token: %s", tok.ID, d)
		}
		if d := sameUser(gotU, owner); d != "" {
			t.Errorf("TokenUser(%s) user: %s", tok.ID, d)
		}
	}
	if _, _, err := s.TokenUser(ctx, "tok-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenUser(unknown) error = %v, want ErrNotFound", err)
	}
	checkTokens(t, s, alice.ID, t1, t2)

	for _, id := range []string{t1.ID, "tok-9"} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, id, revokedAt.Add(time.Hour)) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeToken(%s) error = %v, want ErrNotFound", id, err)
		}
	}
	// The second revocation did not move the first one's time.
	if got, err := s.Token(ctx, t1.ID); err != nil || !got.RevokedAt.Equal(revokedAt) {
		t.Errorf("Token after second RevokeToken: RevokedAt = %v, %v; want %v", got.RevokedAt, err, revokedAt)
	}
	checkTokens(t, s, bob.ID, t3)

	// Capping: tokens without an expiry or expiring after the limit get
	// the limit; earlier expiries and revoked tokens keep theirs.
	limit := suite.Base.Add(30 * 24 * time.Hour)
	t4 := store.Token{ID: "tok-4", UserID: bob.ID, Hash: []byte("hash-4"), Created: suite.Base, Expires: suite.Base.Add(24 * time.Hour)}
	var capped int64
	suite.Update(t, s, func(tx store.Tx) error {
		if err := tx.PutToken(ctx, t4); err != nil {
			return err
		}
		var err error
		capped, err = tx.CapTokenExpiry(ctx, limit)
		return err
	})
	if capped != 2 { // t2 (90 days) and t3 (none); not t1 (revoked), not t4 (earlier)
		t.Errorf("CapTokenExpiry changed %d tokens, want 2", capped)
	}
	t2.Expires, t3.Expires = limit, limit
	checkTokens(t, s, alice.ID, t1, t2)
	checkTokens(t, s, bob.ID, t3, t4)
	suite.Update(t, s, func(tx store.Tx) error {
		var err error
		capped, err = tx.CapTokenExpiry(ctx, limit)
		return err
	})
	if capped != 0 {
		t.Errorf("CapTokenExpiry again changed %d tokens, want 0", capped)
	}
}

// checkTokens checks that Tokens(userID) returns exactly want, in any order.
func checkTokens(t *testing.T, r store.Reader, userID string, want ...store.Token) {
	t.Helper()
	got, err := r.Tokens(t.Context(), userID)
	if err != nil {
		t.Fatalf("Tokens(%s): %v", userID, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Tokens(%s): %d tokens, want %d", userID, len(got), len(want))
	}
	byID := func(a, b store.Token) int { return cmp.Compare(a.ID, b.ID) }
	got = slices.SortedFunc(slices.Values(got), byID)
	want = slices.SortedFunc(slices.Values(want), byID)
	for i := range got {
		if d := sameToken(got[i], want[i]); d != "" {
			t.Errorf("Tokens(%s)[%s]: %s", userID, want[i].ID, d)
		}
	}
}

var userTests = []suite.Test{
	{Name: "Users", Fn: testUsers},
	{Name: "Tokens", Fn: testTokens},
}

package cursor

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func codec(t testing.TB, key byte, c *clock) *Codec {
	t.Helper()
	k := bytes.Repeat([]byte{key}, KeySize)
	cd, err := New(k, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return cd
}

var scopeA = Scope{User: "user-a", Route: "api/objects", Params: []string{"type=indicator", "limit=10", "revoked=false"}}

func TestRoundTrip(t *testing.T) {
	c := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	cd := codec(t, 1, c)
	for _, p := range []Position{{}, {After: 1}, {After: 1 << 40, Skip: 7}, {After: 1<<63 - 1, Skip: maxSkip}} {
		s, err := cd.Seal(scopeA, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != EncodedLen {
			t.Errorf("cursor of %+v has %d characters, want %d", p, len(s), EncodedLen)
		}
		if _, err := base64.RawURLEncoding.DecodeString(s); err != nil || strings.ContainsAny(s, "+/=") {
			t.Errorf("cursor %q is not URL-safe base64", s)
		}
		got, err := cd.Open(scopeA, s)
		if err != nil || got != p {
			t.Errorf("Open(Seal(%+v)) = %+v, %v", p, got, err)
		}
	}
	// The order of the parameters is not part of the query.
	s, _ := cd.Seal(scopeA, Position{After: 5})
	swapped := scopeA
	swapped.Params = []string{"revoked=false", "type=indicator", "limit=10"}
	if _, err := cd.Open(swapped, s); err != nil {
		t.Errorf("same parameters in another order: %v", err)
	}
}

// TestAttacker: everything a reader might try with a cursor.
func TestAttacker(t *testing.T) {
	c := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	cd := codec(t, 1, c)
	s, err := cd.Seal(scopeA, Position{After: 42, Skip: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(s)
	// The position is not in the clear (its 8-byte encoding, either
	// order; a random nonce holds one with probability ≈ 2^-58).
	for _, needle := range [][]byte{{0, 0, 0, 0, 0, 0, 0, 42}, {42, 0, 0, 0, 0, 0, 0, 0}} {
		if bytes.Contains(raw, needle) {
			t.Errorf("cursor %q holds the position in the clear", s)
		}
	}
	// The same position twice gives two cursors.
	s2, _ := cd.Seal(scopeA, Position{After: 42, Skip: 1})
	if s2 == s {
		t.Error("the same position gave the same cursor twice")
	}
	other := func(f func(*Scope)) Scope {
		sc := scopeA
		sc.Params = append([]string(nil), scopeA.Params...)
		f(&sc)
		return sc
	}
	bad := map[string]struct {
		scope Scope
		cur   string
		codec *Codec
	}{
		"another user":           {other(func(s *Scope) { s.User = "user-b" }), s, cd},
		"another route":          {other(func(s *Scope) { s.Route = "api/export" }), s, cd},
		"another type":           {other(func(s *Scope) { s.Params[0] = "type=malware" }), s, cd},
		"another limit":          {other(func(s *Scope) { s.Params[1] = "limit=11" }), s, cd},
		"a filter dropped":       {other(func(s *Scope) { s.Params = s.Params[:2] }), s, cd},
		"a filter added":         {other(func(s *Scope) { s.Params = append(s.Params, "x=") }), s, cd},
		"field boundary moved":   {Scope{User: "user-aapi/objects", Params: scopeA.Params}, s, cd},
		"another node's key":     {scopeA, s, codec(t, 2, c)},
		"old API format":         {scopeA, "1,3,6,7", cd},
		"old API format base 36": {scopeA, "2n", cd},
		"old TAXII format":       {scopeA, base64.RawURLEncoding.EncodeToString([]byte("3.0")), cd},
		"empty":                  {scopeA, "", cd},
		"padded":                 {scopeA, s + "=", cd},
		"standard base64":        {scopeA, strings.NewReplacer("-", "+", "_", "/").Replace(s) + "", cd},
		"truncated":              {scopeA, s[:len(s)-1], cd},
		"trailing bits set":      {scopeA, s[:len(s)-1] + string(trailing(s[len(s)-1])), cd},
	}
	for name, b := range bad {
		if b.cur == s && name == "standard base64" {
			continue // s had no - or _ to change
		}
		if _, err := b.codec.Open(b.scope, b.cur); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Open = %v, want ErrInvalid", name, err)
		}
	}
	// Every flipped bit of the decoded cursor.
	for i := range len(raw) * 8 {
		f := bytes.Clone(raw)
		f[i/8] ^= 1 << (i % 8)
		if _, err := cd.Open(scopeA, base64.RawURLEncoding.EncodeToString(f)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bit %d flipped: Open = %v, want ErrInvalid", i, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	c := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	cd := codec(t, 1, c)
	s, _ := cd.Seal(scopeA, Position{After: 3})
	c.t = c.t.Add(Lifetime)
	if _, err := cd.Open(scopeA, s); err != nil {
		t.Fatalf("at exactly its lifetime: %v", err)
	}
	c.t = c.t.Add(time.Microsecond)
	if _, err := cd.Open(scopeA, s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("past its lifetime: %v, want ErrInvalid", err)
	}
	// A cursor from the future (a replica's clock far ahead) is refused too.
	c.t = time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	future, _ := cd.Seal(scopeA, Position{After: 3})
	c.t = c.t.Add(-time.Hour)
	if _, err := cd.Open(scopeA, future); !errors.Is(err, ErrInvalid) {
		t.Fatalf("issued an hour ahead: %v, want ErrInvalid", err)
	}
}

func TestBadKey(t *testing.T) {
	if _, err := New(make([]byte, 16), time.Now); err == nil {
		t.Fatal("New with a 128-bit key: no error")
	}
}

// FuzzOpen: the decoder never panics, and accepts only what was issued
// for that scope: a forgery would need the key. (Fuzz workers each seal
// their own seeds, with their own nonces, so acceptance is checked by what
// an issued cursor must be: for user-a, one of the issued positions, and
// exactly the string an encoder would write.)
func FuzzOpen(f *testing.F) {
	c := &clock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	cd := codec(f, 1, c)
	positions := []Position{{}, {After: 9, Skip: 2}, {After: 1 << 33}}
	for _, p := range positions {
		s, err := cd.Seal(scopeA, p)
		if err != nil {
			f.Fatal(err)
		}
		if got, err := cd.Open(scopeA, s); err != nil || got != p {
			f.Fatalf("Open of an issued cursor = %+v, %v", got, err)
		}
		f.Add(s, "user-a")
		f.Add(s, "user-b")
		f.Add(s[:len(s)-2]+"AA", "user-a")
	}
	f.Add("1,3,6,7", "user-a")
	f.Add("My4w", "user-a")
	f.Add(strings.Repeat("A", EncodedLen), "user-a")
	f.Fuzz(func(t *testing.T, s, user string) {
		sc := scopeA
		sc.User = user
		p, err := cd.Open(sc, s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(%q): %v, want ErrInvalid", s, err)
			}
			return
		}
		raw, _ := base64.RawURLEncoding.DecodeString(s)
		switch {
		case user != scopeA.User:
			t.Fatalf("Open(%q) accepted user-a's cursor for %q", s, user)
		case !slices.Contains(positions, p):
			t.Fatalf("Open(%q) = %+v, a position never issued", s, p)
		case base64.RawURLEncoding.EncodeToString(raw) != s:
			t.Fatalf("Open accepted %q, which no encoder writes", s)
		}
	})
}

// trailing returns the base64url character that differs from c only in the
// low bits an 86-character cursor does not use.
func trailing(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

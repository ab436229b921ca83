// Package cursor makes the page cursors (`next`) a node hands to readers,
// so that a cursor reveals nothing about what the reader cannot see.
//
// A listing's position is a store position (a sequence number). Given in
// the clear, the gaps between two pages' positions would count the objects
// hidden from the reader between them. So a cursor is the position sealed
// with XChaCha20-Poly1305 under a key only the node holds (kept in the
// store, wrapped under the KEK), with:
//
//   - a random 192-bit nonce, so the same position gives a different cursor
//     each time, and to each user;
//   - as associated data, a Scope: the user and the query (route and every
//     filter, limit included, in a canonical encoding), so a cursor is
//     valid only for the user and the query it was issued for;
//   - the time it was issued, inside the ciphertext, so it expires after
//     Lifetime.
//
// Every cursor has the same length, EncodedLen, whatever its position, so
// its length leaks nothing either. Anything that does not open, for any
// reason, is ErrInvalid: the caller answers 400, never data.
package cursor

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a cursor key: 256 bits.
const KeySize = chacha20poly1305.KeySize

// Lifetime is how long a cursor stays valid after it is issued. A reader
// paging through a listing gets a fresh cursor with every page, so only a
// pause of more than an hour between two pages ends a walk; it then starts
// again from the first page.
const Lifetime = time.Hour

// skew is how far in the future an issue time may be: replicas share the
// key, and their clocks may differ a little.
const skew = 2 * time.Minute

// maxSkip bounds the skip a position may hold (TAXII's versions of one
// object split across pages).
const maxSkip = 1 << 20

const (
	plainLen = 8 + 8 + 8 // issued (Unix µs), after, skip
	rawLen   = chacha20poly1305.NonceSizeX + plainLen + chacha20poly1305.Overhead
)

// EncodedLen is the length of every cursor string.
var EncodedLen = base64.RawURLEncoding.EncodedLen(rawLen)

// ErrInvalid reports a cursor that was not issued by this node for this
// user and query, was altered, has expired, or is in an older format.
var ErrInvalid = errors.New("not a cursor this server issued for this query, or it has expired")

// Position is where the next page starts: after the row at store position
// After, skipping the first Skip items of the next row.
type Position struct {
	After int64
	Skip  int
}

// Codec seals and opens cursors under one key. It is safe for concurrent
// use.
type Codec struct {
	aead cipher.AEAD
	now  func() time.Time
}

// New returns a codec for key (KeySize bytes); now is the clock cursors are
// issued and checked by. New keeps no reference to key.
func New(key []byte, now func() time.Time) (*Codec, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	return &Codec{aead: aead, now: now}, nil
}

// Scope is what a cursor is bound to: who asked, and exactly what.
type Scope struct {
	User   string   // the reader's user id
	Route  string   // the listing, e.g. "api/objects", "taxii/manifest"
	Params []string // every filter as "name=value", in any order; the limit too
}

// aad is the scope's canonical encoding: a version tag, then each field
// length-prefixed (so no two scopes encode alike), the parameters sorted.
func (s Scope) aad() []byte {
	b := []byte("tearline cursor v1\x00")
	field := func(v string) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	field(s.User)
	field(s.Route)
	ps := slices.Sorted(slices.Values(s.Params))
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		field(p)
	}
	return b
}

// Seal returns the cursor for p within s.
func (c *Codec) Seal(s Scope, p Position) (string, error) {
	if p.After < 0 || p.Skip < 0 || p.Skip > maxSkip {
		return "", fmt.Errorf("seal cursor: position %+v out of range", p)
	}
	raw := make([]byte, chacha20poly1305.NonceSizeX, rawLen)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("seal cursor: %w", err)
	}
	var plain [plainLen]byte
	binary.BigEndian.PutUint64(plain[0:], uint64(c.now().UnixMicro()))
	binary.BigEndian.PutUint64(plain[8:], uint64(p.After))
	binary.BigEndian.PutUint64(plain[16:], uint64(p.Skip))
	raw = c.aead.Seal(raw, raw[:chacha20poly1305.NonceSizeX], plain[:], s.aad())
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// Open returns the position a cursor issued for s holds. Whatever is
// wrong with it, the error is ErrInvalid (wrapped with why, for logs; the
// reasons are not secrets: the reader knows what it sent).
func (c *Codec) Open(s Scope, cur string) (Position, error) {
	if len(cur) != EncodedLen {
		return Position{}, fmt.Errorf("cursor of %d characters: %w", len(cur), ErrInvalid)
	}
	// Strict: one string per cursor (no trailing bits set), as issued.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cur)
	if err != nil || len(raw) != rawLen {
		return Position{}, fmt.Errorf("cursor is not URL-safe base64: %w", ErrInvalid)
	}
	nonce, sealed := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	plain, err := c.aead.Open(nil, nonce, sealed, s.aad())
	if err != nil {
		return Position{}, fmt.Errorf("cursor does not open for this user and query: %w", ErrInvalid)
	}
	issued := time.UnixMicro(int64(binary.BigEndian.Uint64(plain[0:])))
	after := int64(binary.BigEndian.Uint64(plain[8:]))
	skip := binary.BigEndian.Uint64(plain[16:])
	now := c.now()
	if issued.After(now.Add(skew)) || now.Sub(issued) > Lifetime {
		return Position{}, fmt.Errorf("cursor issued %s has expired (lifetime %s): %w", issued.UTC().Format(time.RFC3339), Lifetime, ErrInvalid)
	}
	if after < 0 || skip > maxSkip {
		return Position{}, fmt.Errorf("cursor position out of range: %w", ErrInvalid)
	}
	return Position{After: after, Skip: int(skip)}, nil
}

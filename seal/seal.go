// Package seal encrypts object content at rest.
//
// Each object version is sealed with AES-256-GCM under a data key (DEK) of
// its own, made for it and used once. The DEK is kept only wrapped: sealed
// with AES-256-GCM under the node's key-encryption key (KEK), which lives
// outside the database (a file in the data directory or an environment
// variable). So:
//
//   - the database, and any backup of it, holds ciphertext and wrapped DEKs
//     but never a key that opens them;
//   - destroying one wrapped DEK makes that version's content unrecoverable
//     (crypto-shredding), whatever copies of its ciphertext remain;
//   - rotating the KEK re-wraps the small DEKs and leaves the content alone.
//
// Both seals bind where the bytes belong through GCM's additional data: the
// content to its object id, version and store digest, the DEK to its object
// id, version and KEK id. Ciphertext or a key moved to another row does not
// open; it is an error, never other content.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/klauspost/compress/s2"
)

// KeySize is the size of every key here: AES-256.
const KeySize = 32

const (
	formatV1 byte = 1
	// formatS2 is content compressed with S2 (klauspost/compress/s2, a
	// block without framing) before it is sealed: STIX JSON is about half
	// its size compressed, and a listing reads every row it returns from
	// disk when the row is not cached. Data keys stay formatV1.
	formatS2 byte = 2
	// minSaving is how much smaller the compressed content must be for a
	// version to be stored compressed: below it, decompressing on every
	// read costs more than the bytes it saves.
	minSaving = 64
	// maxPlain bounds what opening one version may allocate. Content is
	// authenticated before it is decompressed, so only this node can have
	// written a length over it; the bound keeps a bug from becoming an
	// allocation of gigabytes.
	maxPlain = 64 << 20
	nonceLen = 12
	tagLen   = 16
	kekIDLen = 8
	// wrappedLen is the size of a wrapped DEK: format, KEK id, nonce,
	// sealed key and tag.
	wrappedLen = 1 + kekIDLen + nonceLen + KeySize + tagLen
)

// Errors callers test with errors.Is.
var (
	// ErrUnknownKEK: the DEK was wrapped under a KEK this keyring lacks
	// (rotated away, or a backup from another node).
	ErrUnknownKEK = errors.New("data key wrapped under a key-encryption key this node does not hold")
	// ErrOpen: authentication failed. The bytes were altered, or belong to
	// another object or version.
	ErrOpen = errors.New("sealed content does not authenticate")
)

// KEK is a key-encryption key.
type KEK struct {
	id   [kekIDLen]byte
	aead cipher.AEAD
}

// NewKEK makes a KEK from 32 key bytes. It keeps no reference to key.
func NewKEK(key []byte) (*KEK, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key-encryption key: %d bytes, want %d", len(key), KeySize)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	k := &KEK{aead: aead}
	// The id names the key without revealing it: a domain-separated hash.
	sum := sha256.Sum256(append([]byte("tearline kek id v1\x00"), key...))
	copy(k.id[:], sum[:])
	return k, nil
}

// ID is the KEK's short public name, 16 hex digits.
func (k *KEK) ID() string { return hex.EncodeToString(k.id[:]) }

// GenerateKey returns 32 random bytes, for a new KEK.
func GenerateKey() ([]byte, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return b, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Keyring holds the KEK that wraps new data keys and, during a rotation,
// the one it replaces. It is safe for concurrent use: it never changes
// after it is made.
type Keyring struct {
	current *KEK
	all     []*KEK
}

// NewKeyring returns a keyring that wraps under current and also unwraps
// under older.
func NewKeyring(current *KEK, older ...*KEK) *Keyring {
	return &Keyring{current: current, all: append([]*KEK{current}, older...)}
}

// Current returns the KEK new data keys are wrapped under.
func (r *Keyring) Current() *KEK { return r.current }

// IDs returns the ids of every KEK the keyring holds, current first.
func (r *Keyring) IDs() []string {
	ids := make([]string, len(r.all))
	for i, k := range r.all {
		ids[i] = k.ID()
	}
	return ids
}

func (r *Keyring) kek(id []byte) *KEK {
	for _, k := range r.all {
		if string(k.id[:]) == string(id) {
			return k
		}
	}
	return nil
}

// Where names the row sealed bytes belong to.
type Where struct {
	ID       string // object id
	Modified int64  // the version: modified time in Unix microseconds, as the store keys it
	Digest   string // the store digest of the version's canonical form
}

// contentAAD is "tearline content v<format>\x00<id>\x00<modified>\x00<digest>",
// built in one allocation (TestGolden holds it to what is stored). It
// differs by format, so a format byte changed in the database does not
// authenticate either.
func (w Where) contentAAD(format byte) []byte {
	const prefix = "tearline content v"
	b := make([]byte, 0, len(prefix)+3+len(w.ID)+20+len(w.Digest)+3)
	b = strconv.AppendInt(append(b, prefix...), int64(format), 10)
	return append(w.appendPlace(append(b, 0)), w.Digest...)
}

// keyAAD is "tearline dek v1\x00<id>\x00<modified>\x00" and the wrapped
// key's header.
func keyAAD(w Where, header []byte) []byte {
	const prefix = "tearline dek v1\x00"
	b := make([]byte, 0, len(prefix)+len(w.ID)+20+2+len(header))
	return append(w.appendPlace(append(b, prefix...)), header...)
}

// appendPlace appends "<id>\x00<modified>\x00".
func (w Where) appendPlace(b []byte) []byte {
	b = strconv.AppendInt(append(append(b, w.ID...), 0), w.Modified, 10)
	return append(b, 0)
}

// Seal encrypts plain under a new data key and returns the ciphertext and
// the data key wrapped under the current KEK. Content that compresses
// by at least minSaving bytes is compressed first (formatS2).
func (r *Keyring) Seal(w Where, plain []byte) (sealed, wrapped []byte, err error) {
	if len(plain) > maxPlain {
		return nil, nil, fmt.Errorf("seal %s: content of %d bytes is over %d", w.ID, len(plain), maxPlain)
	}
	format, body := formatV1, plain
	if c := s2.Encode(nil, plain); len(c)+minSaving <= len(plain) {
		format, body = formatS2, c
	}
	var buf [KeySize + nonceLen]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return nil, nil, fmt.Errorf("seal %s: %w", w.ID, err)
	}
	dek, nonce := buf[:KeySize], buf[KeySize:]
	aead, err := newGCM(dek)
	if err != nil {
		return nil, nil, fmt.Errorf("seal %s: %w", w.ID, err)
	}
	sealed = make([]byte, 0, 1+nonceLen+len(body)+tagLen)
	sealed = append(sealed, format)
	sealed = append(sealed, nonce...)
	sealed = aead.Seal(sealed, nonce, body, w.contentAAD(format))
	wrapped, err = r.current.wrap(w, dek)
	clear(buf[:])
	if err != nil {
		return nil, nil, fmt.Errorf("seal %s: %w", w.ID, err)
	}
	return sealed, wrapped, nil
}

func (k *KEK) wrap(w Where, dek []byte) ([]byte, error) {
	out := make([]byte, 1+kekIDLen+nonceLen, wrappedLen)
	out[0] = formatV1
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+kekIDLen:]); err != nil {
		return nil, err
	}
	header := out[:1+kekIDLen]
	return k.aead.Seal(out, out[1+kekIDLen:], dek, keyAAD(w, header)), nil
}

// unwrap returns the data key in wrapped, which must belong to w.
func (r *Keyring) unwrap(w Where, wrapped []byte) ([]byte, error) {
	if len(wrapped) != wrappedLen || wrapped[0] != formatV1 {
		return nil, fmt.Errorf("data key of %s: malformed: %w", w.ID, ErrOpen)
	}
	k := r.kek(wrapped[1 : 1+kekIDLen])
	if k == nil {
		return nil, fmt.Errorf("data key of %s (kek %x): %w", w.ID, wrapped[1:1+kekIDLen], ErrUnknownKEK)
	}
	header := wrapped[:1+kekIDLen]
	nonce := wrapped[1+kekIDLen : 1+kekIDLen+nonceLen]
	dek, err := k.aead.Open(nil, nonce, wrapped[1+kekIDLen+nonceLen:], keyAAD(w, header))
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w", w.ID, ErrOpen)
	}
	return dek, nil
}

// Open decrypts sealed content of w with its wrapped data key.
func (r *Keyring) Open(w Where, sealed, wrapped []byte) ([]byte, error) {
	return r.open(w, sealed, wrapped, false)
}

// open is Open. inPlace decrypts into sealed's own storage, which then no
// longer holds the sealed content, whether or not it opens: for callers
// that replace the sealed bytes with what they open to, and so spare a
// page of reads an allocation per object.
func (r *Keyring) open(w Where, sealed, wrapped []byte, inPlace bool) ([]byte, error) {
	dek, err := r.unwrap(w, wrapped)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	if len(sealed) < 1+nonceLen+tagLen || sealed[0] != formatV1 && sealed[0] != formatS2 {
		return nil, fmt.Errorf("content of %s: malformed: %w", w.ID, ErrOpen)
	}
	aead, err := newGCM(dek)
	if err != nil {
		return nil, fmt.Errorf("content of %s: %w", w.ID, err)
	}
	format := sealed[0]
	var dst []byte
	if inPlace {
		// cipher.AEAD allows exactly this overlap: ciphertext[:0].
		dst = sealed[1+nonceLen : 1+nonceLen]
	}
	body, err := aead.Open(dst, sealed[1:1+nonceLen], sealed[1+nonceLen:], w.contentAAD(format))
	if err != nil {
		return nil, fmt.Errorf("content of %s: %w", w.ID, ErrOpen)
	}
	if format == formatV1 {
		return body, nil
	}
	n, err := s2.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("content of %s: decompress: %w", w.ID, err)
	}
	if n > maxPlain {
		return nil, fmt.Errorf("content of %s: decompresses to %d bytes, over %d", w.ID, n, maxPlain)
	}
	plain, err := s2.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("content of %s: decompress: %w", w.ID, err)
	}
	return plain, nil
}

// Rewrap returns wrapped's data key wrapped under the current KEK. The
// content it seals is not touched.
func (r *Keyring) Rewrap(w Where, wrapped []byte) ([]byte, error) {
	dek, err := r.unwrap(w, wrapped)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	out, err := r.current.wrap(w, dek)
	if err != nil {
		return nil, fmt.Errorf("rewrap data key of %s: %w", w.ID, err)
	}
	return out, nil
}

// WrapKey wraps a key of the node's own (a node secret such as the cursor
// key, store.NodeKey) under the current KEK, exactly as a data key is
// wrapped: w names what it is for, so a wrapped key moved to another name
// does not open. Rewrap re-wraps it on a KEK rotation.
func (r *Keyring) WrapKey(w Where, key []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("wrap key %s: %d bytes, want %d", w.ID, len(key), KeySize)
	}
	out, err := r.current.wrap(w, key)
	if err != nil {
		return nil, fmt.Errorf("wrap key %s: %w", w.ID, err)
	}
	return out, nil
}

// UnwrapKey returns the key wrapped by WrapKey for w.
func (r *Keyring) UnwrapKey(w Where, wrapped []byte) ([]byte, error) {
	return r.unwrap(w, wrapped)
}

// WrappedBy returns the id of the KEK wrapped was made under.
func WrappedBy(wrapped []byte) (string, error) {
	if len(wrapped) != wrappedLen || wrapped[0] != formatV1 {
		return "", fmt.Errorf("wrapped data key: malformed: %w", ErrOpen)
	}
	return hex.EncodeToString(wrapped[1 : 1+kekIDLen]), nil
}

// Package accessmac seals the facts a read of an object version decides on
// (its store position, id, version, instance, access class and the label
// ids of that class, its digest, bindings, revocation and originator) with
// HMAC-SHA256 under a node key, and checks them on the way out of the
// store.
//
// The store is not trusted to keep the access rule: someone who can write
// the database could move a SECRET version into an UNCLASSIFIED class, or
// rewrite a class's label list, and the pushed-down read rule (`class IN
// (…)`) would then serve it. With a MAC over the facts, computed by the
// node after the binding was verified and the row's seq assigned, in the
// write's own transaction, a row whose facts were changed no longer
// matches its MAC, and Store drops it from every read and listing (it
// reads as absent) and reports it. Only the rows touched read as absent:
// everything else keeps reading.
//
// The key is a node key (docs/STORAGE.md, "Node keys"), wrapped by the KEK:
// the database holds no key that would let its writer make a MAC.
package accessmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"sync"

	"github.com/tearline/tearline/store"
)

// KeyName names the MAC key among the node keys.
const KeyName = "access-mac"

// Size is the size of a MAC.
const Size = sha256.Size

// domain separates these MACs from anything else made with HMAC-SHA256,
// and names the layout of Facts (v1).
const domain = "tearline access mac v1\x00"

// Facts are what a MAC covers: the facts of one stored version a read
// decides on.
type Facts struct {
	Seq        int64
	ID         string
	ModifiedUS int64 // the version key: modified, in microseconds
	// Instance is the object's instance (polyinstantiation); 0 is the
	// default instance, every version stored before instances existed.
	Instance   int64
	Class      int64
	LabelIDs   []string // the class's labels, as the node decides with them
	Digest     string
	Revoked    bool
	Originator string
	Bindings   []byte
}

// FactsOf returns the facts of v, stored in a class of labelIDs.
func FactsOf(v *store.ObjectVersion, labelIDs []string) Facts {
	return Facts{Seq: v.Seq, ID: v.ID, ModifiedUS: v.ModifiedAt.UnixMicro(), Instance: v.Instance, Class: v.Class, LabelIDs: labelIDs,
		Digest: v.Digest, Revoked: v.Revoked, Originator: v.Originator, Bindings: v.Bindings}
}

// Sealer makes and checks MACs under one key. It is safe for concurrent use.
type Sealer struct {
	pool sync.Pool // of *state
}

type state struct {
	h   hash.Hash
	buf []byte
}

// New returns a sealer for key (32 bytes); it keeps its own copy.
func New(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("access MAC key: want 32 bytes")
	}
	k := append([]byte(nil), key...)
	s := &Sealer{}
	s.pool.New = func() any { return &state{h: hmac.New(sha256.New, k), buf: make([]byte, 0, 1024)} }
	return s, nil
}

// Sum returns the MAC of f.
func (s *Sealer) Sum(f Facts) []byte {
	return s.sum(f, make([]byte, 0, Size))
}

// Check reports whether mac is the MAC of f, in constant time.
func (s *Sealer) Check(f Facts, mac []byte) bool {
	if len(mac) != Size {
		return false
	}
	var out [Size]byte
	return hmac.Equal(s.sum(f, out[:0]), mac)
}

func (s *Sealer) sum(f Facts, out []byte) []byte {
	st := s.pool.Get().(*state)
	b := encode(st.buf[:0], f)
	st.h.Reset()
	st.h.Write(b)
	out = st.h.Sum(out)
	st.buf = b[:0]
	s.pool.Put(st)
	return out
}

// encode appends f's canonical form: fixed-width integers, and every
// string and byte string preceded by its length, so no two different facts
// encode alike.
func encode(b []byte, f Facts) []byte {
	b = append(b, domain...)
	b = binary.BigEndian.AppendUint64(b, uint64(f.Seq))
	b = appendBytes(b, f.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(f.ModifiedUS))
	b = binary.BigEndian.AppendUint64(b, uint64(f.Instance))
	b = binary.BigEndian.AppendUint64(b, uint64(f.Class))
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.LabelIDs)))
	for _, l := range f.LabelIDs {
		b = appendBytes(b, l)
	}
	b = appendBytes(b, f.Digest)
	if f.Revoked {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendBytes(b, f.Originator)
	b = appendBytes(b, f.Bindings)
	return b
}

func appendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Package searchindex keeps the search index blind (docs/SEARCH.md): every
// term of an object version (package searchterm) is stored only as a keyed
// hash, HMAC-SHA256 under the node's index key cut to 64 bits, so the
// database holds no term in the clear, and a search asks for the hashes of
// its terms. The key is a node key (docs/STORAGE.md, "Node keys") wrapped
// by the KEK and re-wrapped by `key rotate-kek`, like the access MAC and
// cursor keys.
//
// Store wraps the node's store so that every version stored through it is
// indexed in the same transaction (its SearchTerms, made by ingest's
// workers, or computed here), and every purge through it removes the
// purged versions' postings in the same transaction.
package searchindex

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/tearline/tearline/searchterm"
	"github.com/tearline/tearline/store"
)

// KeyName names the index key among the node keys.
const KeyName = "search-index"

// KeySize is the size of the index key.
const KeySize = 32

// domain separates these hashes from anything else made with the key's
// HMAC, and names the term layout (v1).
const domain = "tearline search term v1\x00"

// Hasher hashes terms under the index key. It is safe for concurrent use.
type Hasher struct {
	pool sync.Pool // of hash.Hash (HMAC-SHA256 keyed)
}

// NewHasher returns the hasher of key (KeySize bytes); it keeps its own
// copy.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("search index key: %d bytes, want %d", len(key), KeySize)
	}
	k := append([]byte(nil), key...)
	h := &Hasher{}
	h.pool.New = func() any { return hmac.New(sha256.New, k) }
	return h, nil
}

// Hash returns the keyed hash of term.
func (h *Hasher) Hash(term string) int64 {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(domain))
	m.Write([]byte(term))
	var sum [sha256.Size]byte
	out := int64(binary.BigEndian.Uint64(m.Sum(sum[:0])))
	h.pool.Put(m)
	return out
}

// Hashes returns the keyed hashes of terms, each once.
func (h *Hasher) Hashes(terms []string) []int64 {
	out := make([]int64, 0, len(terms))
	seen := make(map[int64]bool, len(terms))
	for _, t := range terms {
		x := h.Hash(t)
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Terms returns the hashes of the terms of a STIX object (its JSON); never
// nil, so an object without terms is still indexed (as having none).
func (h *Hasher) Terms(raw []byte) []int64 {
	return h.Hashes(searchterm.Extract(raw))
}

// Groups returns the hashes of a query's groups (searchterm.Query.Groups).
func (h *Hasher) Groups(groups [][]string) [][]int64 {
	out := make([][]int64, len(groups))
	for i, g := range groups {
		out[i] = h.Hashes(g)
	}
	return out
}

// Opener opens a version's sealed content: the plain JSON of v, without
// changing v.
type Opener func(v *store.ObjectVersion) ([]byte, error)

// Store wraps a store.Store so that versions stored through it are indexed
// and purges through it prune the index, each in the writing transaction.
// Everything else passes through.
type Store struct {
	store.Store
	h    *Hasher
	open Opener
}

// Wrap returns st indexing with h; open reads the content of a version
// stored sealed without its SearchTerms.
func Wrap(st store.Store, h *Hasher, open Opener) *Store { return &Store{Store: st, h: h, open: open} }

// With returns the same index over another store (the node's store
// re-wrapped after a KEK rotation).
func (s *Store) With(st store.Store, open Opener) *Store {
	return &Store{Store: st, h: s.h, open: open}
}

// Unwrap returns the store underneath.
func (s *Store) Unwrap() store.Store { return s.Store }

// Hasher returns the hasher terms are hashed with.
func (s *Store) Hasher() *Hasher { return s.h }

// From returns the index st is (or wraps, through Unwrap), if any.
func From(st store.Store) (*Store, bool) {
	for st != nil {
		if s, ok := st.(*Store); ok {
			return s, true
		}
		u, ok := st.(interface{ Unwrap() store.Store })
		if !ok {
			break
		}
		st = u.Unwrap()
	}
	return nil, false
}

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(t store.Tx) error {
		return fn(store.Hook(t, store.Hooks{Created: s.index, Purged: prune}))
	})
}

// index stores the documents of vs, just inserted by tx (seqs assigned).
func (s *Store) index(ctx context.Context, tx store.Tx, vs []*store.ObjectVersion) error {
	docs := make([]store.SearchDoc, len(vs))
	for i, v := range vs {
		terms, err := s.termsOf(v)
		if err != nil {
			return fmt.Errorf("search index of %s: %w", v.ID, err)
		}
		docs[i] = store.SearchDoc{Seq: v.Seq, Terms: terms}
	}
	return tx.PutSearchDocs(ctx, docs)
}

// termsOf returns v's term hashes: those ingest made, else those of its
// content (opened when sealed).
func (s *Store) termsOf(v *store.ObjectVersion) ([]int64, error) {
	if v.SearchTerms != nil {
		return v.SearchTerms, nil
	}
	raw := v.Raw
	if v.Key != nil {
		if s.open == nil {
			return nil, errors.New("sealed content and no way to open it")
		}
		var err error
		if raw, err = s.open(v); err != nil {
			return nil, err
		}
	}
	return s.h.Terms(raw), nil
}

// prune removes, after a purge of p.ID, the postings of the versions it
// deleted: those of p.ID no longer stored (a version purged before had its
// postings removed then), so a version left, of this instance or another,
// keeps its postings.
func prune(ctx context.Context, tx store.Tx, p store.Purge, gone []store.Tombstone) error {
	for _, ts := range gone {
		if len(ts.Versions) > 0 {
			return tx.PruneSearchDocs(ctx, p.ID)
		}
	}
	return nil
}

// Backfill indexes the versions stored before the index existed, batch
// versions a transaction, holding at most budget postings (16 bytes each)
// at once, and records that it is done; it returns how many versions it
// indexed. It
// costs one small query once done.
//
// It works in two passes, because postings are keyed term first: a
// version's 40–70 terms land on as many pages of the postings table,
// spread over all of it, so indexing a batch of versions at a time would
// rewrite nearly a page per posting (at 2M versions, hundreds of GB of
// writes). The first pass stores each version's document alone (its terms,
// keyed by seq: appends), batch versions a transaction. The second makes
// the postings from the documents, in term order: a slice of the term
// space at a time, at most budget postings held, each slice read
// from every document and inserted sorted, so each page of the postings
// table is written once. A crash between them leaves the backfill
// unfinished: the next open stores the documents still missing and makes
// the postings again (those stored already are kept).
func (s *Store) Backfill(ctx context.Context, batch, budget int) (int64, error) {
	var after, count int64
	for {
		vs, err := s.Store.PendingSearchDocs(ctx, after, batch)
		if err != nil {
			return count, fmt.Errorf("search index backfill: %w", err)
		}
		if len(vs) == 0 {
			break
		}
		docs, err := s.docs(vs)
		if err != nil {
			return count, err
		}
		if err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.StageSearchDocs(ctx, docs) }); err != nil {
			return count, fmt.Errorf("search index backfill: %w", err)
		}
		count += int64(len(vs))
		after = vs[len(vs)-1].Seq
	}
	built, err := s.buildPostings(ctx, max(budget, 2))
	if err != nil {
		return count, fmt.Errorf("search index backfill: %w", err)
	}
	if !built {
		return count, nil // done before
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error { return tx.FinishSearchDocs(ctx) })
	if err != nil {
		return count, fmt.Errorf("search index backfill: %w", err)
	}
	return count, nil
}

// docsPerRead and postingsPerTx size the second pass's reads and writes.
const (
	docsPerRead   = 8192
	postingsPerTx = 1 << 16
)

// buildPostings makes the postings of the backfilled documents in term
// order, at most budget held at a time (see Backfill). It reports false
// when the backfill was finished before (no document to read).
func (s *Store) buildPostings(ctx context.Context, budget int) (bool, error) {
	// The slice of the term space is [lo, hi), hi unbounded while open;
	// it shrinks while the slice's postings outgrow the budget, and the
	// next pass starts where this one stopped.
	lo, first := int64(math.MinInt64), true
	for {
		hi, open := int64(0), true
		var buf []store.SearchPosting
		var after int64
		for {
			ds, err := s.Store.BackfilledSearchDocs(ctx, after, docsPerRead)
			if err != nil {
				return false, err
			}
			if len(ds) == 0 {
				break
			}
			after = ds[len(ds)-1].Seq
			for _, d := range ds {
				for _, t := range d.Terms {
					if t >= lo && (open || t < hi) {
						buf = append(buf, store.SearchPosting{Term: t, Seq: d.Seq})
					}
				}
			}
			if len(buf) > budget {
				sortPostings(buf)
				buf, hi, open = cut(buf, budget/2)
			}
		}
		if first && after == 0 {
			return false, nil
		}
		first = false
		sortPostings(buf)
		for start := 0; start < len(buf); start += postingsPerTx {
			part := buf[start:min(start+postingsPerTx, len(buf))]
			if err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.PutSearchPostings(ctx, part) }); err != nil {
				return false, err
			}
		}
		if open {
			return true, nil
		}
		lo = hi
	}
}

func sortPostings(ps []store.SearchPosting) {
	slices.SortFunc(ps, func(a, b store.SearchPosting) int {
		if c := cmp.Compare(a.Term, b.Term); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}

// cut keeps the postings (sorted) of the terms below the term at index
// keep and returns them and that term, the slice's new exclusive end; it
// keeps at least one term, however many postings it has, and reports
// open when the slice must stay unbounded (its one term is the last
// there is).
func cut(ps []store.SearchPosting, keep int) (_ []store.SearchPosting, hi int64, open bool) {
	hi = ps[keep].Term
	if hi == ps[0].Term {
		if hi == math.MaxInt64 {
			return ps, 0, true
		}
		hi++ // one term fills half the budget: keep it alone
	}
	i, _ := slices.BinarySearchFunc(ps, hi, func(p store.SearchPosting, t int64) int { return cmp.Compare(p.Term, t) })
	return ps[:i], hi, false
}

// docs computes the documents of vs on every core.
func (s *Store) docs(vs []store.ObjectVersion) ([]store.SearchDoc, error) {
	docs := make([]store.SearchDoc, len(vs))
	errs := make([]error, len(vs))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(vs); i += workers {
				terms, err := s.termsOf(&vs[i])
				if err != nil {
					errs[i] = fmt.Errorf("search index backfill of %s: %w", vs[i].ID, err)
					continue
				}
				docs[i] = store.SearchDoc{Seq: vs[i].Seq, Terms: terms}
			}
		}()
	}
	wg.Wait()
	return docs, errors.Join(errs...)
}

package accessmac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
)

// ErrUntrusted is the error of an access class one of whose labels no
// longer matches its id (a label row rewritten in place): Classes returns
// it, and every version in that class is a mismatch.
var ErrUntrusted = errors.New("access class bears a stored label that does not match its id")

// Classes gives the label ids of an access class as the node decides reads
// with them.
type Classes interface {
	// LabelIDs returns the label ids of class. An error wrapping
	// ErrUntrusted or store.ErrNotFound makes the versions of that class
	// mismatches; any other error fails the read.
	LabelIDs(ctx context.Context, r store.Reader, class int64) ([]string, error)
}

// Reasons a version is a mismatch.
const (
	ReasonMissing = "access-mac-missing" // the row has no MAC
	ReasonChanged = "access-mac-changed" // the row's facts are not those the MAC was made over
	ReasonClass   = "access-class-unknown"
	ReasonLabel   = "access-class-label-altered"
)

// Mismatch is a stored version that failed its check and was left out of a
// read.
type Mismatch struct {
	Seq      int64
	ID       string
	Modified string
	Class    int64
	Reason   string
}

// Reporter is told of every mismatch a read meets. It must not block on
// the store: it may be called inside a write transaction.
type Reporter interface {
	Mismatch(m Mismatch)
}

// Store wraps a store.Store: versions written through it get their MACs in
// the same transaction, and versions read through it (Versions, VersionsOf,
// List, in or out of a transaction) are checked, a mismatch left out and
// reported. Count counts the rows List returns once checked: it reads and
// checks every row it counts (up to CountAtMost), so a rewritten class
// column can no longer change a count; CountSearch likewise reads and
// checks every hit it counts. Everything else passes through.
type Store struct {
	store.Store
	c *checker
}

type checker struct {
	s   *Sealer
	cs  Classes
	rep Reporter
}

// Wrap returns st with access MACs made by s, classes read through cs and
// mismatches reported to rep.
func Wrap(st store.Store, s *Sealer, cs Classes, rep Reporter) *Store {
	return &Store{Store: st, c: &checker{s: s, cs: cs, rep: rep}}
}

// Unwrap returns the store underneath.
func (s *Store) Unwrap() store.Store { return s.Store }

// Sealer returns the sealer MACs are made with.
func (s *Store) Sealer() *Sealer { return s.c.s }

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(t store.Tx) error {
		return fn(&tx{HookedTx: store.Hook(t, store.Hooks{Created: s.c.seal}), c: s.c})
	})
}

func (s *Store) Versions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	vs, err := s.Store.Versions(ctx, id)
	return s.c.filter(ctx, s.Store, vs, err)
}

func (s *Store) VersionsOf(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	vs, err := s.Store.VersionsOf(ctx, ids)
	return s.c.filter(ctx, s.Store, vs, err)
}

func (s *Store) List(ctx context.Context, q store.ListQuery) ([]store.ObjectVersion, error) {
	vs, err := s.Store.List(ctx, q)
	return s.c.filter(ctx, s.Store, vs, err)
}

func (s *Store) Count(ctx context.Context, q store.ListQuery) (int64, error) {
	return s.c.count(ctx, s.Store, q)
}

func (s *Store) CountSearch(ctx context.Context, q store.SearchQuery, limit int) (int64, error) {
	return s.c.countSearch(ctx, s.Store, q, limit)
}

// tx checks what it reads; its puts (store.HookedTx) store the MACs of the
// versions they create.
type tx struct {
	*store.HookedTx
	c *checker
}

func (t *tx) Count(ctx context.Context, q store.ListQuery) (int64, error) {
	return t.c.count(ctx, t.Tx, q)
}

func (t *tx) CountSearch(ctx context.Context, q store.SearchQuery, limit int) (int64, error) {
	return t.c.countSearch(ctx, t.Tx, q, limit)
}

func (t *tx) Versions(ctx context.Context, id string) ([]store.ObjectVersion, error) {
	vs, err := t.Tx.Versions(ctx, id)
	return t.c.filter(ctx, t.Tx, vs, err)
}

func (t *tx) VersionsOf(ctx context.Context, ids []string) ([]store.ObjectVersion, error) {
	vs, err := t.Tx.VersionsOf(ctx, ids)
	return t.c.filter(ctx, t.Tx, vs, err)
}

func (t *tx) List(ctx context.Context, q store.ListQuery) ([]store.ObjectVersion, error) {
	vs, err := t.Tx.List(ctx, q)
	return t.c.filter(ctx, t.Tx, vs, err)
}

// seal stores the MACs of vs, just inserted by tx (their seqs assigned). The
// label ids of their classes are read in this transaction (a class may be
// new in it), by class, once each.
func (c *checker) seal(ctx context.Context, tx store.Tx, vs []*store.ObjectVersion) error {
	labels := map[int64][]string{}
	macs := make([]store.AccessMAC, 0, len(vs))
	for _, v := range vs {
		ids, ok := labels[v.Class]
		if !ok {
			var err error
			if ids, err = classLabels(ctx, tx, v.Class); err != nil {
				return fmt.Errorf("access MAC of %s: %w", v.ID, err)
			}
			labels[v.Class] = ids
		}
		mac := c.s.Sum(FactsOf(v, ids))
		v.MAC = mac
		macs = append(macs, store.AccessMAC{Seq: v.Seq, MAC: mac})
	}
	return tx.PutAccessMACs(ctx, macs)
}

// classLabels reads the label ids of class from r, uncached.
func classLabels(ctx context.Context, r store.Reader, class int64) ([]string, error) {
	cs, err := r.AccessClasses(ctx, class-1)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 || cs[0].ID != class {
		return nil, fmt.Errorf("access class %d: %w", class, store.ErrNotFound)
	}
	return cs[0].LabelIDs, nil
}

// countPage is how many rows one read of a count takes.
const countPage = 1024

// count counts what r.List returns under q, with no cursor and no limit,
// once checked, page by page (docs/STORAGE.md, "Access MACs": what it
// costs); it stops at q.CountAtMost when that is set.
func (c *checker) count(ctx context.Context, r store.Reader, q store.ListQuery) (int64, error) {
	if len(q.Classes) == 0 {
		return 0, nil
	}
	q.After, q.Limit = 0, countPage
	var n int64
	for {
		vs, err := r.List(ctx, q)
		if err != nil {
			return 0, err
		}
		if len(vs) == 0 {
			return n, nil
		}
		last := vs[len(vs)-1].Seq
		ok, err := c.filter(ctx, r, vs, nil)
		if err != nil {
			return 0, err
		}
		n += int64(len(ok))
		if q.CountAtMost > 0 && n >= q.CountAtMost {
			return q.CountAtMost, nil
		}
		if len(vs) < countPage {
			return n, nil
		}
		q.After = last
	}
}

// countSearch counts what r.Search finds under q, with no cursor, once
// checked, up to limit: the index's rows carry the class column the read
// rule was pushed down on, so each hit counted is read and checked as a
// hit shown is (a rewritten class column changes no count).
func (c *checker) countSearch(ctx context.Context, r store.Reader, q store.SearchQuery, limit int) (int64, error) {
	if len(q.Classes) == 0 || limit <= 0 {
		return 0, nil
	}
	q.Before, q.Limit = 0, countPage
	var n int64
	for {
		hits, err := r.Search(ctx, q)
		if err != nil || len(hits) == 0 {
			return n, err
		}
		ids := make([]string, 0, len(hits))
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		vs, err := r.VersionsOf(ctx, ids)
		if err != nil {
			return 0, err
		}
		bySeq := make(map[int64]*store.ObjectVersion, len(vs))
		for i := range vs {
			bySeq[vs[i].Seq] = &vs[i]
		}
		for _, h := range hits {
			v := bySeq[h.Seq]
			if v == nil { // purged since the index was read
				continue
			}
			ok, err := c.check(ctx, r, v)
			if err != nil {
				return 0, err
			}
			if ok {
				if n++; n >= int64(limit) {
					return n, nil
				}
			}
		}
		if len(hits) < countPage {
			return n, nil
		}
		q.Before = hits[len(hits)-1].Seq
	}
}

// filter returns vs without the versions that fail their check, reporting
// each of those.
func (c *checker) filter(ctx context.Context, r store.Reader, vs []store.ObjectVersion, err error) ([]store.ObjectVersion, error) {
	if err != nil {
		return nil, err
	}
	bad := -1
	for i := range vs {
		ok, err := c.check(ctx, r, &vs[i])
		if err != nil {
			return nil, err
		}
		if !ok {
			bad = i
			break
		}
	}
	if bad < 0 {
		return vs, nil
	}
	out := slices.Clone(vs[:bad])
	for i := bad + 1; i < len(vs); i++ {
		ok, err := c.check(ctx, r, &vs[i])
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, vs[i])
		}
	}
	return out, nil
}

// consistent reports whether the columns of v the MAC does not cover
// (they were added to rows before MACs existed) agree with those it does:
// the version key as text with the sealed modified time, the type with
// the sealed id's prefix. A row whose text or type was rewritten would
// otherwise be served under another version or type.
func consistent(v *store.ObjectVersion) bool {
	if !strings.HasPrefix(v.ID, v.Type) || !strings.HasPrefix(v.ID[len(v.Type):], "--") {
		return false
	}
	if v.Modified == "" { // objects without a version (SCOs, marking-definitions)
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, v.Modified)
	return err == nil && t.UnixMicro() == v.ModifiedAt.UnixMicro()
}

// check reports whether v matches its MAC; a mismatch is reported.
func (c *checker) check(ctx context.Context, r store.Reader, v *store.ObjectVersion) (bool, error) {
	reason := ""
	ids, err := c.cs.LabelIDs(ctx, r, v.Class)
	switch {
	case errors.Is(err, ErrUntrusted):
		reason = ReasonLabel
	case errors.Is(err, store.ErrNotFound):
		reason = ReasonClass
	case err != nil:
		return false, err
	case v.MAC == nil:
		reason = ReasonMissing
	case !c.s.Check(FactsOf(v, ids), v.MAC), !consistent(v):
		reason = ReasonChanged
	default:
		return true, nil
	}
	c.rep.Mismatch(Mismatch{Seq: v.Seq, ID: v.ID, Modified: v.Modified, Class: v.Class, Reason: reason})
	return false, nil
}

// Package search is the node's search service (docs/SEARCH.md): one box
// for free text, an exact value or a pasted list of values, over the blind
// index the core keeps at ingest (package searchindex). What a user may
// not read is never a hit nor counted: the read rule is pushed into the
// store as the access classes the user may read, as listings do, and every
// hit is read back through the node's store (opened, access MAC checked)
// and checked again with policy.CanRead before it is shown. Every search
// and every hit shown is audited, as a listing's page is.
package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/searchindex"
	"github.com/tearline/tearline/searchterm"
	"github.com/tearline/tearline/store"
)

// Limits of one search.
const (
	DefaultLimit = 50   // hits of a page (free text, one value)
	MaxLimit     = 200  // the largest page asked for
	GroupLimit   = 10   // hits shown per value of a pasted list
	CountCap     = 1000 // counts stop here: "1,000+"
)

// Service searches for the users of one node.
type Service struct{ n *node.Node }

// New returns the search service of core n.
func New(n *node.Node) *Service { return &Service{n: n} }

// Filters narrow a search. The label filters (classification,
// releasability, discipline, topic) narrow the access classes searched,
// so they are pushed down with the read rule.
type Filters struct {
	Types []string
	// Classification "POLICY:LEVEL": a label of the object has that level.
	Classification string
	// Releasable: every label of the object is releasable to this country
	// or group, as written in the labels.
	Releasable string
	Discipline string // a label of the object names this discipline
	Topic      string // a label of the object names this topic
	Originator string // the node that originated the object
	Since      time.Time
	Until      time.Time
}

// key is the filters in a canonical form, for the page cursor.
func (f Filters) key() string {
	types := slices.Compact(slices.Sorted(slices.Values(f.Types)))
	parts := []string{"type=" + strings.Join(types, ","), "class=" + f.Classification, "rel=" + f.Releasable,
		"disc=" + f.Discipline, "topic=" + f.Topic, "orig=" + f.Originator}
	if !f.Since.IsZero() {
		parts = append(parts, "since="+strconv.FormatInt(f.Since.UnixMicro(), 10))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "until="+strconv.FormatInt(f.Until.UnixMicro(), 10))
	}
	return strings.Join(parts, "&")
}

// narrows reports whether f narrows the classes searched.
func (f Filters) narrows() bool {
	return f.Classification != "" || f.Releasable != "" || f.Discipline != "" || f.Topic != ""
}

// accepts reports whether the objects of class c pass f's label filters.
func (f Filters) accepts(c policy.Class) bool {
	if len(c.Labels) == 0 {
		return !f.narrows()
	}
	any := func(ok func(i int) bool) bool {
		for i := range c.Labels {
			if ok(i) {
				return true
			}
		}
		return false
	}
	if f.Classification != "" {
		pol, lvl, _ := strings.Cut(f.Classification, ":")
		if !any(func(i int) bool { return c.Labels[i].Policy == pol && c.Labels[i].Classification == lvl }) {
			return false
		}
	}
	if f.Releasable != "" {
		for _, l := range c.Labels {
			if !slices.Contains(l.ReleasableTo, f.Releasable) {
				return false
			}
		}
	}
	if f.Discipline != "" && !any(func(i int) bool { return slices.Contains(c.Labels[i].Disciplines, f.Discipline) }) {
		return false
	}
	if f.Topic != "" && !any(func(i int) bool { return slices.Contains(c.Labels[i].Topics, f.Topic) }) {
		return false
	}
	return true
}

// Options are one search.
type Options struct {
	Query   string // the search box
	Filters Filters
	Limit   int    // hits per page; DefaultLimit when 0
	Next    string // the cursor of the previous page (free text or one value)
}

// Group is the hits of one matched value of a pasted list (Value set), or
// of the whole query (free text, or a single value).
type Group struct {
	Value   string        // the value matched, canonical; "" for free text
	Objects []node.Object // the hits, newest first, each readable by the user
	Count   int64         // how many hits there are, counted up to CountCap
	Capped  bool          // Count stopped at CountCap: there are at least that many
	More    bool          // there is a next page
	Next    string        // its cursor (not for the groups of a list)
}

// Result is the answer to one search.
type Result struct {
	Query  searchterm.Query
	Groups []Group
}

// Search runs one search for p. A query the parser refuses is
// node.ErrInvalid, as is a cursor of another search.
func (s *Service) Search(ctx context.Context, p *node.Principal, o Options) (Result, error) {
	res, err := s.search(ctx, p, o)
	if err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	return res, nil
}

func (s *Service) search(ctx context.Context, p *node.Principal, o Options) (Result, error) {
	if err := node.Authorize(p, node.ActSearch); err != nil {
		return Result{}, err
	}
	q, err := searchterm.Parse(o.Query)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", node.ErrInvalid, err)
	}
	res := Result{Query: q}
	if q.Empty() {
		return res, nil
	}
	ix, ok := searchindex.From(s.n.Store())
	if !ok {
		return Result{}, errors.New("the node's store has no search index")
	}
	st := s.n.Store()
	classes, err := s.n.Classes().Visible(ctx, st, p.Subject)
	if err != nil {
		return Result{}, err
	}
	if o.Filters.narrows() {
		kept := classes[:0:0]
		for _, id := range classes {
			c, err := s.n.Classes().Of(ctx, st, id)
			if err != nil {
				return Result{}, err
			}
			if o.Filters.accepts(c) {
				kept = append(kept, id)
			}
		}
		classes = kept
	}
	base := store.SearchQuery{Classes: classes, Types: o.Filters.Types, Originator: o.Filters.Originator,
		Since: o.Filters.Since, Until: o.Filters.Until}
	events := []audit.Event{{Actor: p.Actor(), Action: audit.ActionSearch, Decision: audit.Allow,
		// The query's shape, never its text: the text would sit in the
		// audit log in the clear, beside the blind index (docs/SEARCH.md).
		Detail: fmt.Sprintf("list=%t values=%d words=%d %s", q.List, len(q.Values), len(q.Words), o.Filters.key())}}
	if q.List && len(q.Values) > 1 {
		if o.Next != "" {
			return Result{}, fmt.Errorf("%w: a list of values has no next page (search one value for more)", node.ErrInvalid)
		}
		for _, v := range q.Values {
			sq := base
			sq.Groups = ix.Hasher().Groups(searchterm.Query{List: true, Values: []searchterm.Value{v}}.Groups())
			g, err := s.group(ctx, p, st, sq, GroupLimit, &events)
			if err != nil {
				return Result{}, err
			}
			g.Value = v.Text
			res.Groups = append(res.Groups, g.Group)
		}
	} else {
		limit := o.Limit
		if limit <= 0 {
			limit = DefaultLimit
		}
		limit = min(limit, MaxLimit)
		cur, err := s.n.Cursors(ctx)
		if err != nil {
			return Result{}, err
		}
		params := []string{"q=" + q.String(), o.Filters.key()}
		sq := base
		sq.Groups = ix.Hasher().Groups(q.Groups())
		if o.Next != "" {
			pos, err := cur.Open(p, "ui/search", params, o.Next)
			if err != nil {
				return Result{}, err
			}
			sq.Before = pos.After
		}
		g, err := s.group(ctx, p, st, sq, limit, &events)
		if err != nil {
			return Result{}, err
		}
		if q.List {
			g.Value = q.Values[0].Text
		}
		if g.More {
			if g.Next, err = cur.Seal(p, "ui/search", params, pagecursor.Position{After: g.last}); err != nil {
				return Result{}, err
			}
		}
		res.Groups = []Group{g.Group}
	}
	events[0].Count = len(events) - 1
	if err := s.n.RecordReads(ctx, events...); err != nil {
		return Result{}, err
	}
	return res, nil
}

// page is a group and the store position its page ended at.
type page struct {
	Group
	last int64
}

// group runs one store search of up to limit hits and its capped count,
// reads the hits back and adds a read event per hit shown to events.
func (s *Service) group(ctx context.Context, p *node.Principal, st store.Store, sq store.SearchQuery, limit int, events *[]audit.Event) (page, error) {
	var g page
	if len(sq.Classes) == 0 {
		return g, nil
	}
	sq.Limit = limit + 1
	hits, err := st.Search(ctx, sq)
	if err != nil {
		return g, err
	}
	if len(hits) > limit {
		hits, g.More = hits[:limit], true
	}
	if len(hits) > 0 {
		g.last = hits[len(hits)-1].Seq
	}
	if g.Objects, err = s.read(ctx, p, st, hits, events); err != nil {
		return g, err
	}
	if sq.Before == 0 && !g.More {
		g.Count = int64(len(g.Objects)) // what was shown, each checked
	} else if g.Count, err = st.CountSearch(ctx, sq, CountCap+1); err != nil {
		return g, err
	}
	if g.Count > CountCap {
		g.Count, g.Capped = CountCap, true
	}
	return g, nil
}

// read returns the versions hits name, read through the node's store (so
// opened and access-MAC checked: a version failing its check is absent)
// and each checked with policy.CanRead; an id is shown once.
func (s *Service) read(ctx context.Context, p *node.Principal, st store.Store, hits []store.SearchHit, events *[]audit.Event) ([]node.Object, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(hits))
	for _, h := range hits {
		ids = append(ids, h.ID)
	}
	vs, err := st.VersionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	bySeq := make(map[int64]store.ObjectVersion, len(vs))
	for _, v := range vs {
		bySeq[v.Seq] = v
	}
	var out []node.Object
	shown := map[string]bool{}
	for _, h := range hits {
		v, ok := bySeq[h.Seq]
		if !ok || shown[v.ID] {
			continue
		}
		c, err := s.n.Classes().Of(ctx, st, v.Class)
		if err != nil {
			return nil, err
		}
		if !policy.CanRead(s.n.Registry(), p.Subject, c.Labels).Allow {
			continue // the store's pushed-down rule disagrees: never shown
		}
		shown[v.ID] = true
		out = append(out, node.Object{ObjectVersion: v, Labels: c.LabelIDs})
		*events = append(*events, audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: v.ID, Modified: v.Modified,
			Labels: c.LabelIDs, Decision: audit.Allow, Detail: "search"})
	}
	return out, nil
}

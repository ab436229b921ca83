package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/instance"
	// Aliased: the partner view still has a cursor type of its own (taxii_read.go).
	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Object is one object version as a reader receives it.
type Object struct {
	store.ObjectVersion
	Labels []string // label ids a reader of it satisfies
	// Instances is how many instances of the id this reader may read
	// (package instance), set by Get and Versions: 0 or 1 is an ordinary
	// object, and only a reader of several learns that there are several.
	Instances int
}

// Get returns the latest version of id that p may read. The versions are
// read from a snapshot; the decision, allow or deny, is audited in a write
// transaction shared with concurrent reads (RecordReads), and nothing is
// returned before its entry is durable.
func (n *Node) Get(ctx context.Context, p *Principal, id string) (Object, error) {
	out, ev, err := get(ctx, n, p, id)
	if err == nil {
		err = n.RecordReads(ctx, ev)
	}
	if err != nil {
		return Object{}, fmt.Errorf("get %s: %w", id, err)
	}
	if ev.Decision != audit.Allow {
		return Object{}, fmt.Errorf("get %s: %w", id, ErrNotFound)
	}
	return out, nil
}

// get decides a read of id by p and returns the event that records it.
func get(ctx context.Context, n *Node, p *Principal, id string) (Object, audit.Event, error) {
	ev := audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: id}
	versions, err := n.st.Versions(ctx, id)
	if err != nil {
		return Object{}, ev, err
	}
	if len(versions) == 0 {
		ev.Decision, ev.Reasons = audit.Deny, []string{"no-such-object"}
		return Object{}, ev, nil
	}
	r, err := instance.Pick(ctx, n.classes, n.reg, n.st, p.Subject, versions)
	if err != nil {
		return Object{}, ev, err
	}
	if r.Instances > 0 {
		best := Object{ObjectVersion: r.Version, Labels: classIDs(r.Class), Instances: r.Instances}
		ev.Modified, ev.Labels, ev.Decision = best.Modified, best.Labels, audit.Allow
		return best, ev, nil
	}
	last := versions[len(versions)-1]
	c, err := n.Classes().Of(ctx, n.st, last.Class)
	if err != nil {
		return Object{}, ev, err
	}
	ev.Modified, ev.Labels = last.Modified, classIDs(c)
	ev.Decision, ev.Reasons = audit.Deny, r.Denied
	return Object{}, ev, nil
}

// Versions returns the versions of id that p may read, oldest first, read
// from a snapshot and audited as Get is.
func (n *Node) Versions(ctx context.Context, p *Principal, id string) ([]Object, error) {
	out, err := func() ([]Object, error) {
		versions, err := n.st.Versions(ctx, id)
		if err != nil {
			return nil, err
		}
		var out []Object
		var events []audit.Event
		readable := map[int64]bool{}
		for _, v := range versions {
			c, err := n.Classes().Of(ctx, n.st, v.Class)
			if err != nil {
				return nil, err
			}
			d := policy.CanRead(n.reg, p.Subject, c.Labels)
			ev := audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: id, Modified: v.Modified, Labels: classIDs(c), Decision: audit.Allow, Detail: "versions"}
			if d.Allow {
				out = append(out, Object{ObjectVersion: v, Labels: classIDs(c)})
				readable[v.Instance] = true
			} else {
				ev.Decision, ev.Reasons = audit.Deny, policy.ReasonStrings(d.Reasons)
			}
			events = append(events, ev)
		}
		if len(versions) == 0 {
			events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: id, Decision: audit.Deny, Reasons: []string{"no-such-object"}, Detail: "versions"})
		}
		for i := range out {
			out[i].Instances = len(readable)
		}
		return out, n.RecordReads(ctx, events...)
	}()
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("versions of %s: %w", id, ErrNotFound)
	}
	return out, nil
}

// ListOptions select a page of objects.
type ListOptions struct {
	// Route names the listing a reader asked for ("objects", "export"):
	// a cursor is valid only for the route, user and filters it was
	// issued for.
	Route          string
	Types          []string
	Limit          int    // default 100, at most 1000
	Next           string // cursor from a previous page of the same listing
	IncludeRevoked bool
	// After starts the listing after this store position when Next is
	// empty: for in-process callers only (benchmarks sampling a large
	// store), never from a reader's input.
	After int64
	// Where, when set, narrows the listing to the access classes it
	// accepts (the web interface's classification filter); WhereKey names
	// the filter in the page cursor, so a cursor is valid only for it. It
	// only narrows what the reader may read anyway.
	Where    func(policy.Class) bool
	WhereKey string
	// CountAtMost, when above 0, lets Count stop once it has counted that
	// many (store.ListQuery.CountAtMost): every row counted is read and
	// checked, so a count costs what it counts. List ignores it.
	CountAtMost int64
}

// cursorParams is the query a List cursor is bound to, canonical: the
// types sorted and without repeats, and include_revoked. Not the limit: a
// position means the same whatever the page size, and clients change it
// between pages (see taxiiCursorParams).
func (o ListOptions) cursorParams() []string {
	types := slices.Compact(slices.Sorted(slices.Values(o.Types)))
	params := []string{"type=" + strings.Join(types, ","), "include_revoked=" + strconv.FormatBool(o.IncludeRevoked)}
	if o.WhereKey != "" {
		params = append(params, "where="+o.WhereKey)
	}
	return params
}

// Page is one page of a listing.
type Page struct {
	Objects []Object
	More    bool
	Next    string
}

// MaxPage is the largest page a listing returns.
const MaxPage = 1000

// List returns the latest version of each object p may read. The read rule
// is pushed into the store as the set of access classes p may read; every
// object returned is audited, one batch per page.
func (n *Node) List(ctx context.Context, p *Principal, o ListOptions) (Page, error) {
	var page Page
	limit := o.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxPage)
	route, params := "api/"+o.Route, o.cursorParams()
	cur, err := n.Cursors(ctx)
	if err != nil {
		return page, fmt.Errorf("list: %w", err)
	}
	after := o.After
	if o.Next != "" {
		pos, err := cur.Open(p, route, params, o.Next)
		if err != nil {
			return page, fmt.Errorf("list: %w", err)
		}
		after = pos.After
	}
	// The page is read from a snapshot outside the write transaction, and
	// only its audit entries are written in one, shared with concurrent
	// reads: the single writer (SQLite) or the audit sequencer lock
	// (PostgreSQL) is then held for the append, not for the query, so pages
	// and ingests do not queue behind each other. Nothing is returned
	// before the entries are durable.
	classes, err := n.Classes().Visible(ctx, n.st, p.Subject)
	if err != nil {
		return Page{}, fmt.Errorf("list: %w", err)
	}
	if o.Where != nil {
		if classes, err = narrow(ctx, n, classes, o.Where); err != nil {
			return Page{}, fmt.Errorf("list: %w", err)
		}
		if len(classes) == 0 {
			return page, n.RecordReads(ctx, audit.Event{Actor: p.Actor(), Action: audit.ActionList, Decision: audit.Allow,
				Detail: "type=" + strings.Join(o.Types, ",") + " where=" + o.WhereKey})
		}
	}
	vs, err := n.st.List(ctx, store.ListQuery{Types: o.Types, Classes: classes, After: after, Limit: limit + 1, IncludeRevoked: o.IncludeRevoked})
	if err != nil {
		return Page{}, fmt.Errorf("list: %w", err)
	}
	if len(vs) > limit {
		vs, page.More = vs[:limit], true
		if page.Next, err = cur.Seal(p, route, params, pagecursor.Position{After: vs[len(vs)-1].Seq}); err != nil {
			return Page{}, fmt.Errorf("list: %w", err)
		}
	}
	events := make([]audit.Event, 0, len(vs)+1)
	events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionList, Decision: audit.Allow, Count: len(vs),
		Detail: "type=" + strings.Join(o.Types, ",")})
	page.Objects = make([]Object, 0, len(vs))
	for _, v := range vs {
		c, err := n.Classes().Of(ctx, n.st, v.Class)
		if err != nil {
			return Page{}, fmt.Errorf("list: %w", err)
		}
		ids := classIDs(c)
		page.Objects = append(page.Objects, Object{ObjectVersion: v, Labels: ids})
		events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: v.ID, Modified: v.Modified, Labels: ids, Decision: audit.Allow, Detail: "list"})
	}
	if err := n.RecordReads(ctx, events...); err != nil {
		return Page{}, fmt.Errorf("list: %w", err)
	}
	return page, nil
}

// Count counts the objects p may read, as List would list them with the
// same options (types, include_revoked, Where): the store's access MAC
// checks count the rows that pass them. Not audited: it names no object.
func (n *Node) Count(ctx context.Context, p *Principal, o ListOptions) (int64, error) {
	classes, err := n.Classes().Visible(ctx, n.st, p.Subject)
	if err != nil {
		return 0, err
	}
	if o.Where != nil {
		if classes, err = narrow(ctx, n, classes, o.Where); err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
	}
	return n.st.Count(ctx, store.ListQuery{Types: o.Types, Classes: classes, IncludeRevoked: o.IncludeRevoked, CountAtMost: o.CountAtMost})
}

// narrow keeps the access classes where accepts.
func narrow(ctx context.Context, n *Node, classes []int64, where func(policy.Class) bool) ([]int64, error) {
	kept := classes[:0:0]
	for _, id := range classes {
		c, err := n.Classes().Of(ctx, n.st, id)
		if err != nil {
			return nil, err
		}
		if where(c) {
			kept = append(kept, id)
		}
	}
	return kept, nil
}

// Label returns a label's marking-definition if p may read at least one
// object that bears it; otherwise the label does not exist for p. It reads
// from a snapshot, and the decision is audited with concurrent reads (group
// commit, RecordReads) before it is answered.
func (n *Node) Label(ctx context.Context, p *Principal, id string) ([]byte, error) {
	raw, ev, err := readLabel(ctx, n, p, id)
	if err == nil {
		err = n.RecordReads(ctx, ev)
	}
	if err != nil {
		return nil, fmt.Errorf("label %s: %w", id, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("label %s: %w", id, ErrNotFound)
	}
	return raw, nil
}

// readLabel decides a read of label id by p and returns the event that records it.
func readLabel(ctx context.Context, n *Node, p *Principal, id string) ([]byte, audit.Event, error) {
	ev := audit.Event{Actor: p.Actor(), Action: audit.ActionLabelRead, Object: id, Decision: audit.Deny}
	all, err := n.classes.All(ctx, n.st)
	if err != nil {
		return nil, ev, err
	}
	var bearing []policy.Class
	for _, c := range all {
		if slices.Contains(classIDs(c), id) {
			bearing = append(bearing, c)
		}
	}
	ids := policy.Classes(n.reg, p.Subject, bearing)
	if len(ids) == 0 {
		return nil, ev, nil
	}
	// Whether one checked row bears it (the store's access MAC checks
	// read the rows: a rewritten class column cannot make a label appear).
	cnt, err := n.st.Count(ctx, store.ListQuery{Classes: ids, IncludeRevoked: true, CountAtMost: 1})
	if err != nil || cnt == 0 {
		return nil, ev, err
	}
	raw, err := n.st.Label(ctx, id)
	if err != nil {
		return nil, ev, err
	}
	ev.Decision = audit.Allow
	return raw, ev, nil
}

func classIDs(c policy.Class) []string { return c.LabelIDs }

// OriginatorOf returns the node that originated id: its recorded provenance
// if it came from elsewhere (or is a tearline of something that did), else
// the node that signed its latest version's binding.
func OriginatorOf(ctx context.Context, r store.Reader, id string, versions []store.ObjectVersion) (string, error) {
	prov, err := r.Provenance(ctx, id)
	switch {
	case err == nil:
		return prov.Originator, nil
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	case len(versions) == 0:
		return "", fmt.Errorf("object %s: %w", id, ErrNotFound)
	}
	return versions[len(versions)-1].Originator, nil
}

// VersionOf returns version k of id: of its instance k.Instance only,
// since another instance may share its modified (docs/SECURITY.md).
func VersionOf(ctx context.Context, r store.Reader, id string, k VersionKey) (store.ObjectVersion, error) {
	versions, err := r.Versions(ctx, id)
	if err != nil {
		return store.ObjectVersion{}, err
	}
	for _, v := range versions {
		if v.Instance == k.Instance && v.Modified == k.Modified {
			return v, nil
		}
	}
	return store.ObjectVersion{}, fmt.Errorf("object %s version %s: %w", id, k.Modified, ErrNotFound)
}

// KeyOf is v's VersionKey.
func KeyOf(v store.ObjectVersion) VersionKey {
	return VersionKey{Instance: v.Instance, Modified: v.Modified}
}

// WentTo reports whether id went from this node to party, whole or as a
// tearline (the dissemination ledger says so).
func WentTo(ctx context.Context, r store.Reader, id, party string) (bool, error) {
	ledgerID := id
	if prov, err := r.Provenance(ctx, id); err == nil && prov.DerivedFrom != "" {
		ledgerID, _, _ = strings.Cut(prov.DerivedFrom, "@") // a tearline is in the ledger under its source
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	entries, err := r.Ledger(ctx, store.LedgerQuery{ObjectID: ledgerID})
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Party == party && (e.Outcome == store.LedgerRelease && e.ObjectID == id || e.Outcome == store.LedgerTearline && e.TearlineID == id) {
			return true, nil
		}
	}
	return false, nil
}

package taxiiview

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/tearline/tearline/audit"
	pagecursor "github.com/tearline/tearline/cursor" // aliased: cursor is the partner view's type here
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// served checks a value read from the store before a TAXII envelope
// carries it. The handler writes values as they are (taxii.Backend), and a
// value that is not one JSON value would break the envelope or add objects
// to it. Content opened from sealed content needs no check: it is
// authenticated as what this node parsed as an object and sealed, and
// checking a page of 1,000 again cost ≈ 2 ms. Bindings are parsed as they
// are split (store.ObjectVersion.BindingObjects). What nothing vouches for,
// a label or a row older than sealing, is checked here, as leniently as
// encoding/json checks.
func served(what string, raw []byte, authenticated bool) (json.RawMessage, error) {
	if !authenticated && !jsontext.Value(raw).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) {
		return nil, fmt.Errorf("%s: stored value is not one JSON value", what)
	}
	return raw, nil
}

// taxiiMaxScan bounds the object rows one TAXII page may look at. Filters
// the store cannot apply (version, spec_version) may drop rows; past this
// many the page ends early with more=true, as TAXII allows.
const taxiiMaxScan = 10 * node.MaxPage

// cursor is a position in a TAXII listing: after the object listed at Seq
// after, skipping the first skip items of the next object listed (an
// object whose versions did not all fit on the previous page). It never
// leaves the node in clear: every view, the users' and the partners',
// seals it (cursors.go, pagecursor).
type cursor struct {
	after int64
	skip  int
}

// taxiiRoute names the TAXII listing q asks for, for its cursors.
func taxiiRoute(q taxii.Query, versions bool) string {
	switch {
	case versions:
		return "taxii/versions"
	case q.Object != "" && q.Manifest:
		return "taxii/object-manifest"
	case q.Object != "":
		return "taxii/object"
	case q.Manifest:
		return "taxii/manifest"
	}
	return "taxii/objects"
}

// taxiiCursorParams is the query a TAXII cursor is bound to, canonical:
// every filter, sorted where order does not matter. Not the limit: a
// position means the same whatever the page size, and the stock client
// (taxii2-client's as_pages) sets its page size to what the first page
// held and sends that with the cursor.
func taxiiCursorParams(q taxii.Query) []string {
	sorted := func(vs []string) string { return strings.Join(slices.Compact(slices.Sorted(slices.Values(vs))), ",") }
	var at []string
	for _, t := range q.Version.At {
		at = append(at, strconv.FormatInt(t.UnixNano(), 10))
	}
	added := ""
	if !q.AddedAfter.IsZero() {
		added = strconv.FormatInt(q.AddedAfter.UnixNano(), 10)
	}
	return []string{
		"object=" + q.Object,
		"match[id]=" + sorted(q.IDs),
		"match[type]=" + sorted(q.Types),
		"match[spec_version]=" + sorted(q.SpecVersions),
		fmt.Sprintf("match[version]=first:%t,last:%t,all:%t,at:%s", q.Version.First, q.Version.Last, q.Version.All, sorted(at)),
		"added_after=" + added,
	}
}

// userRoute is taxiiRoute for a user's collection: the marked copy's
// cursors are not the holdings collection's.
func userRoute(q taxii.Query, versions, marked bool) string {
	if marked {
		return taxiiRoute(q, versions) + "/marked"
	}
	return taxiiRoute(q, versions)
}

// taxiiSealCursor seals pos for p's listing q.
func (t *TAXII) taxiiSealCursor(ctx context.Context, p *node.Principal, q taxii.Query, versions, marked bool, pos cursor) (string, error) {
	cur, err := t.n.Cursors(ctx)
	if err != nil {
		return "", err
	}
	return cur.Seal(p, userRoute(q, versions, marked), taxiiCursorParams(q), pagecursor.Position{After: pos.after, Skip: pos.skip})
}

// TAXIICursorAt issues the cursor of q's listing (objects or manifest) for
// p that starts after store position after. For in-process callers that
// start pages at chosen places (bench/scale); no reader reaches it.
func (t *TAXII) TAXIICursorAt(ctx context.Context, p *node.Principal, q taxii.Query, after int64) (string, error) {
	if after < 0 {
		return "", fmt.Errorf("taxii cursor at %d: a store position is not negative", after)
	}
	return t.taxiiSealCursor(ctx, p, q, false, false, cursor{after: after})
}

// taxiiOpenCursor opens q.Next for p's listing q: any cursor this node did
// not issue for exactly this user and query, or that expired, is a 400.
func (t *TAXII) taxiiOpenCursor(ctx context.Context, p *node.Principal, q taxii.Query, versions, marked bool) (cursor, error) {
	cur, err := t.n.Cursors(ctx)
	if err != nil {
		return cursor{}, err
	}
	pos, err := cur.Open(p, userRoute(q, versions, marked), taxiiCursorParams(q), q.Next)
	if errors.Is(err, node.ErrBadCursor) {
		return cursor{}, fmt.Errorf("next: %v: %w", err, taxii.ErrBadRequest)
	}
	if err != nil {
		return cursor{}, err
	}
	return cursor{after: pos.After, skip: pos.Skip}, nil
}

func pageLimit(l int) int {
	if l <= 0 {
		return 100
	}
	return min(l, node.MaxPage)
}

// specMatch applies match[spec_version]: every object Tearline holds is
// STIX 2.1 (Ingest refuses anything else).
func specMatch(svs []string) bool { return len(svs) == 0 || slices.Contains(svs, "2.1") }

// taxiiItem is a version as TAXII reports it. TAXII's version is modified, else
// created; objects with neither (SCOs, marking definitions) report their
// date_added, which is also what match[version]=<timestamp> compares.
func taxiiItem(v store.ObjectVersion, obj json.RawMessage, related []json.RawMessage) taxii.Item {
	version := v.Modified
	if version == "" {
		version = taxii.Timestamp(v.DateAdded)
	}
	return taxii.Item{ID: v.ID, Version: version, DateAdded: v.DateAdded, MediaType: taxii.MediaTypeSTIX, Object: obj, Related: related}
}

func versionTime(v store.ObjectVersion) time.Time {
	if v.Modified == "" {
		return v.DateAdded
	}
	return v.ModifiedAt
}

// rowSource yields, in Seq order, the latest version p may read of each
// candidate object.
type rowSource interface {
	next() (store.ObjectVersion, bool, error)
}

// listSource reads the store's listing in batches.
type listSource struct {
	ctx  context.Context
	tx   store.Reader
	q    store.ListQuery
	buf  []store.ObjectVersion
	done bool
}

func (s *listSource) next() (store.ObjectVersion, bool, error) {
	if len(s.buf) == 0 && !s.done {
		vs, err := s.tx.List(s.ctx, s.q)
		if err != nil {
			return store.ObjectVersion{}, false, err
		}
		s.done = len(vs) < s.q.Limit
		if len(vs) > 0 {
			s.q.After = vs[len(vs)-1].Seq
		}
		s.buf = vs
	}
	if len(s.buf) == 0 {
		return store.ObjectVersion{}, false, nil
	}
	v := s.buf[0]
	s.buf = s.buf[1:]
	return v, true, nil
}

// sliceSource yields rows prepared in memory (match[id], one object).
type sliceSource struct{ rows []store.ObjectVersion }

func (s *sliceSource) next() (store.ObjectVersion, bool, error) {
	if len(s.rows) == 0 {
		return store.ObjectVersion{}, false, nil
	}
	v := s.rows[0]
	s.rows = s.rows[1:]
	return v, true, nil
}

// seekAdded returns the Seq cursor after which the listing holds only
// versions added after t. The store assigns date_added in commit order, so
// date_added grows with Seq and a galloping binary search over Seq finds
// the boundary in O(log n) one-row queries. Each step moves a bound
// strictly, so it ends even if that order were ever broken; rows are still
// filtered one by one afterwards.
func seekAdded(ctx context.Context, tx store.Reader, lq store.ListQuery, t time.Time) (int64, error) {
	lq.Limit = 1
	first := func(after int64) (store.ObjectVersion, bool, error) {
		q := lq
		q.After = after
		vs, err := tx.List(ctx, q)
		if err != nil || len(vs) == 0 {
			return store.ObjectVersion{}, false, err
		}
		return vs[0], true, nil
	}
	// Invariant: every listed row with Seq <= lo was added at or before t.
	var lo int64
	var hi int64 = -1 // the first row after hi was added after t, or there is none
	for step := int64(1); hi < 0; step *= 2 {
		v, ok, err := first(lo)
		if err != nil {
			return 0, err
		}
		if !ok || v.DateAdded.After(t) {
			return lo, nil
		}
		lo = v.Seq
		probe := lo + step
		if v, ok, err = first(probe); err != nil {
			return 0, err
		}
		if !ok || v.DateAdded.After(t) {
			hi = probe
		} else {
			lo = v.Seq
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		v, ok, err := first(mid)
		if err != nil {
			return 0, err
		}
		if ok && v.Seq <= hi && !v.DateAdded.After(t) {
			lo = v.Seq
		} else {
			hi = mid
		}
	}
	for {
		v, ok, err := first(lo)
		if err != nil {
			return 0, err
		}
		if !ok || v.DateAdded.After(t) {
			return lo, nil
		}
		lo = v.Seq
	}
}

// taxiiRead serves the objects, object-by-id and manifest endpoints of a
// user's collection (holdings, or its marked copy): one page of what p may
// read, exactly the items the filters select, each counted in the limit.
// The items are the objects' selected versions and our labels that apply
// to them, as marking-definitions (readerLabels); bindings are not items.
// Everything returned is audited before it is returned, as List and Get
// do; an object-by-id request for something p cannot see is audited as a
// denial, exactly like Get, and reported as not found.
func (t *TAXII) taxiiRead(ctx context.Context, p *node.Principal, q taxii.Query, marked bool, places *labelPlaces) (taxii.Page, error) {
	limit := pageLimit(q.Limit)
	var start cursor
	if q.Next != "" {
		c, err := t.taxiiOpenCursor(ctx, p, q, false, marked)
		if err != nil {
			return taxii.Page{}, err
		}
		start = c
	}
	detail := "taxii"
	if q.Manifest {
		detail = "taxii-manifest"
	}
	if marked {
		detail += "-marked"
	}
	// As in List: the page is read outside the write transaction and only
	// its audit entries are appended in one, before anything is returned.
	var page taxii.Page
	var missing bool
	var events []audit.Event
	if q.Object == "" {
		// A page of 1,000 is audited as ≈ 1,000 entries; room for them,
		// and for the list entry that comes first and is filled in last,
		// is made once rather than by growing and prepending.
		events = make([]audit.Event, 1, 1+limit+16)
		page.Items = make([]taxii.Item, 0, limit)
	}
	tx := store.Reader(t.n.Store())
	err := func() error {
		classes, err := t.n.Classes().Visible(ctx, tx, p.Subject)
		if err != nil {
			return err
		}
		visible := make(map[int64]bool, len(classes))
		for _, c := range classes {
			visible[c] = true
		}
		// versions holds the readable versions of objects already fetched.
		versions := map[string][]store.ObjectVersion{}
		readable := func(id string) ([]store.ObjectVersion, []store.ObjectVersion, error) {
			all, err := tx.Versions(ctx, id)
			if err != nil {
				return nil, nil, err
			}
			var vis []store.ObjectVersion
			for _, v := range all {
				if visible[v.Class] {
					vis = append(vis, v)
				}
			}
			versions[id] = vis
			return all, vis, nil
		}

		// labels are the label items the listing may hold, in its order.
		var labels []readerLabel
		wantLabels := q.Object == "" && specMatch(q.SpecVersions) &&
			(len(q.Types) == 0 || slices.Contains(q.Types, labelType)) &&
			(len(q.IDs) == 0 || slices.ContainsFunc(q.IDs, func(id string) bool { return strings.HasPrefix(id, labelPrefix) }))
		if wantLabels || strings.HasPrefix(q.Object, labelPrefix) {
			if labels, err = t.readerLabels(ctx, tx, classes, places); err != nil {
				return err
			}
		}

		var src rowSource
		switch {
		case q.Object != "":
			if i := slices.IndexFunc(labels, func(l readerLabel) bool { return l.id == q.Object }); i >= 0 {
				// A label of ours: the collection's item of that id.
				l := labels[i]
				labels = nil
				if err := l.load(ctx, tx); err != nil {
					return err
				}
				if start.skip == 0 && l.selected(q) {
					page.Items = append(page.Items, l.item(q.Manifest))
					events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionLabelRead, Object: l.id, Decision: audit.Allow, Detail: detail})
				}
				return nil
			}
			labels = nil
			all, vis, err := readable(q.Object)
			if err != nil {
				return err
			}
			if len(vis) == 0 {
				missing = true
				events = append(events, t.denial(ctx, tx, p, q.Object, all, detail))
				return nil
			}
			src = &sliceSource{rows: afterSeq(vis[len(vis)-1:], start.after)}
		case !specMatch(q.SpecVersions):
			// Every object here is STIX 2.1: nothing to scan.
			src = &sliceSource{}
		case len(q.IDs) > 0:
			var rows []store.ObjectVersion
			for _, id := range slices.Compact(slices.Sorted(slices.Values(q.IDs))) {
				_, vis, err := readable(id)
				if err != nil {
					return err
				}
				if len(vis) > 0 && (len(q.Types) == 0 || slices.Contains(q.Types, vis[0].Type)) {
					rows = append(rows, vis[len(vis)-1])
				}
			}
			slices.SortFunc(rows, func(a, b store.ObjectVersion) int { return cmp.Compare(a.Seq, b.Seq) })
			src = &sliceSource{rows: afterSeq(rows, start.after)}
		default:
			lq := store.ListQuery{Types: q.Types, Classes: classes, After: start.after, Limit: limit + 1, IncludeRevoked: true}
			if !q.AddedAfter.IsZero() && q.Next == "" {
				if lq.After, err = seekAdded(ctx, tx, lq, q.AddedAfter); err != nil {
					return err
				}
			}
			src = &listSource{ctx: ctx, tx: tx, q: lq}
		}

		// The listing is a sequence of groups, one per row in Seq order:
		// the labels placed before the row (readerLabels), then the row's
		// selected versions; after the last row, the labels placed after
		// it. A cursor is a row and how many items of the next group were
		// served.
		li := 0
		for li < len(labels) && labels[li].pos <= start.after {
			li++
		}
		prev, firstGroup, scanned := start.after, true, 0
		var group []groupItem
	rows:
		for {
			if scanned == taxiiMaxScan {
				page.More = true
				if page.Next, err = t.taxiiSealCursor(ctx, p, q, false, marked, cursor{after: prev}); err != nil {
					return err
				}
				break
			}
			v, ok, err := src.next()
			if err != nil {
				return err
			}
			group = group[:0]
			for li < len(labels) && (!ok || labels[li].pos <= v.Seq) {
				// Read only now: a label is read when the page reaches it.
				if err := labels[li].load(ctx, tx); err != nil {
					return err
				}
				if labels[li].selected(q) {
					group = append(group, groupItem{label: &labels[li]})
				}
				li++
			}
			if ok {
				scanned++
				sel, err := t.selectVersions(v, q, versions, readable)
				if err != nil {
					return err
				}
				for _, s := range sel {
					group = append(group, groupItem{v: s})
				}
			}
			k := 0
			if firstGroup {
				k, firstGroup = start.skip, false
			}
			for ; k < len(group); k++ {
				if len(page.Items) == limit {
					page.More = true
					if page.Next, err = t.taxiiSealCursor(ctx, p, q, false, marked, cursor{after: prev, skip: k}); err != nil {
						return err
					}
					break rows
				}
				if l := group[k].label; l != nil {
					page.Items = append(page.Items, l.item(q.Manifest))
					events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionLabelRead, Object: l.id, Decision: audit.Allow, Detail: detail})
					continue
				}
				s := group[k].v
				c, err := t.n.Classes().Of(ctx, tx, s.Class)
				if err != nil {
					return err
				}
				ids := c.LabelIDs
				it := taxiiItem(s, nil, nil)
				if !q.Manifest {
					if it.Object, err = served("object "+s.ID, s.Raw, s.Opened); err != nil {
						return err
					}
					if marked {
						if it.Object, err = markedCopy(it.Object, ids); err != nil {
							return fmt.Errorf("object %s: %w", s.ID, err)
						}
					}
				}
				page.Items = append(page.Items, it)
				events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: s.ID, Modified: s.Modified,
					Labels: ids, Decision: audit.Allow, Detail: detail})
			}
			if !ok {
				break
			}
			prev = v.Seq
		}
		if q.Object == "" {
			events[0] = audit.Event{Actor: p.Actor(), Action: audit.ActionList, Decision: audit.Allow,
				Count: len(page.Items), Detail: describeQuery(detail, q)}
		}
		return nil
	}()
	if err == nil {
		err = t.n.RecordReads(ctx, events...)
	}
	if err != nil {
		return taxii.Page{}, fmt.Errorf("taxii read: %w", err)
	}
	if missing {
		return taxii.Page{}, fmt.Errorf("taxii read %s: %w", q.Object, taxii.ErrNotFound)
	}
	return page, nil
}

// groupItem is one item of a listing group: a label, or a version.
type groupItem struct {
	label *readerLabel
	v     store.ObjectVersion
}

const (
	labelType   = "marking-definition"
	labelPrefix = labelType + "--"
)

// readerLabel is one of our labels as an item of a user's collection.
type readerLabel struct {
	id      string
	raw     json.RawMessage
	version string    // its created: a marking-definition has no modified
	at      time.Time // created, for match[version]
	// pos places it in the listing: right before the row at Seq pos, the
	// first listed row bearing it among those the reader may read. Its
	// date_added is that row's less a microsecond (the store gives rows
	// distinct date_added two microseconds apart), so that it sorts
	// before the row and a poller's added_after never falls between them.
	pos   int64
	added time.Time
}

// load reads the label, which readerLabels only places.
func (l *readerLabel) load(ctx context.Context, tx store.Reader) error {
	if l.raw != nil {
		return nil
	}
	raw, err := tx.Label(ctx, l.id)
	if err != nil {
		return err
	}
	if raw, err = served("label "+l.id, raw, false); err != nil {
		return err
	}
	var m struct {
		Created string `json:"created"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("label %s: %w", l.id, err)
	}
	at, err := time.Parse(time.RFC3339Nano, m.Created)
	if err != nil {
		return fmt.Errorf("label %s: created %q: %w", l.id, m.Created, err)
	}
	l.raw, l.version, l.at = raw, m.Created, at.UTC()
	return nil
}

func (l readerLabel) item(manifest bool) taxii.Item {
	it := taxii.Item{ID: l.id, Version: l.version, DateAdded: l.added, MediaType: taxii.MediaTypeSTIX}
	if !manifest {
		it.Object = l.raw
	}
	return it
}

// selected applies q's filters to a label item.
func (l readerLabel) selected(q taxii.Query) bool {
	switch {
	case !specMatch(q.SpecVersions):
	case len(q.Types) > 0 && !slices.Contains(q.Types, labelType):
	case len(q.IDs) > 0 && !slices.Contains(q.IDs, l.id):
	case !q.AddedAfter.IsZero() && !l.added.After(q.AddedAfter):
	case !q.Version.Default() && !q.Version.First && !q.Version.Last && !q.Version.All &&
		!slices.ContainsFunc(q.Version.At, func(t time.Time) bool { return t.Truncate(time.Microsecond).Equal(l.at.Truncate(time.Microsecond)) }):
	default:
		return true
	}
	return false
}

// readerLabels returns our labels that apply to objects a reader of
// classes may read, in listing order, placed but not read (load). Each is placed by the first listed
// row, among those the reader may read, whose class bears it: when the
// reader may read everything bearing a label, that is when this node first
// bound it (give or take a purge); a reader never learns of a row it
// cannot see from it. Finding that row is a single-row listing, which on a
// large node walks far for a label first bound late; places remembers it,
// and a remembered row is checked with one read of its object's versions.
func (t *TAXII) readerLabels(ctx context.Context, tx store.Reader, classes []int64, places *labelPlaces) ([]readerLabel, error) {
	byLabel := map[string][]int64{}
	for _, cid := range classes {
		c, err := t.n.Classes().Of(ctx, tx, cid)
		if err != nil {
			return nil, err
		}
		for _, id := range c.LabelIDs {
			byLabel[id] = append(byLabel[id], cid)
		}
	}
	out := make([]readerLabel, 0, len(byLabel))
	for id, cs := range byLabel {
		first, ok, err := places.first(ctx, tx, id, cs)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // its objects are gone
		}
		out = append(out, readerLabel{id: id, pos: first.seq, added: first.added.Add(-time.Microsecond)})
	}
	slices.SortFunc(out, func(a, b readerLabel) int { return cmp.Or(cmp.Compare(a.pos, b.pos), strings.Compare(a.id, b.id)) })
	return out, nil
}

// labelPlaces remembers, per label and set of classes bearing it, the
// first row a listing of those classes returns. Rows are only ever added
// after it (a higher Seq), so the row stays first until its object gets a
// later version in those classes (which moves the object later) or is
// purged: both show in the object's versions, which are read to check it.
// A nil *labelPlaces remembers nothing.
type labelPlaces struct {
	mu sync.Mutex
	m  map[string]labelPlace
}

type labelPlace struct {
	object string
	seq    int64
	added  time.Time
}

// maxLabelPlaces bounds what labelPlaces keeps; past it, it starts again.
const maxLabelPlaces = 4096

// first returns the first row of the listing of classes cs (the ones
// bearing label id), ok false when there is none.
func (lp *labelPlaces) first(ctx context.Context, tx store.Reader, id string, cs []int64) (labelPlace, bool, error) {
	var key string
	if lp != nil {
		var b strings.Builder
		b.WriteString(id)
		for _, c := range cs {
			b.WriteByte(',')
			b.WriteString(strconv.FormatInt(c, 10))
		}
		key = b.String()
		lp.mu.Lock()
		pl, ok := lp.m[key]
		lp.mu.Unlock()
		if ok {
			vs, err := tx.Versions(ctx, pl.object)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return labelPlace{}, false, err
			}
			// The object's listed version is its latest in cs.
			var latest *store.ObjectVersion
			for i := range vs {
				if slices.Contains(cs, vs[i].Class) && (latest == nil || !vs[i].ModifiedAt.Before(latest.ModifiedAt)) {
					latest = &vs[i]
				}
			}
			if latest != nil && latest.Seq == pl.seq {
				return pl, true, nil
			}
		}
	}
	rows, err := tx.List(ctx, store.ListQuery{Classes: cs, Limit: 1, IncludeRevoked: true})
	if err != nil || len(rows) == 0 {
		return labelPlace{}, false, err
	}
	pl := labelPlace{object: rows[0].ID, seq: rows[0].Seq, added: rows[0].DateAdded}
	if lp != nil {
		lp.mu.Lock()
		if lp.m == nil || len(lp.m) >= maxLabelPlaces {
			lp.m = map[string]labelPlace{}
		}
		lp.m[key] = pl
		lp.mu.Unlock()
	}
	return pl, true, nil
}

// taxiiLabelVersions serves the versions endpoint for one of our labels:
// its one version. ok false: q.Object is not a label item for p.
func (t *TAXII) taxiiLabelVersions(ctx context.Context, p *node.Principal, q taxii.Query, places *labelPlaces) (taxii.Page, bool, error) {
	classes, err := t.n.Classes().Visible(ctx, t.n.Store(), p.Subject)
	if err != nil {
		return taxii.Page{}, false, err
	}
	labels, err := t.readerLabels(ctx, t.n.Store(), classes, places)
	if err != nil {
		return taxii.Page{}, false, err
	}
	i := slices.IndexFunc(labels, func(l readerLabel) bool { return l.id == q.Object })
	if i < 0 {
		return taxii.Page{}, false, nil
	}
	var page taxii.Page
	l := labels[i]
	if err := l.load(ctx, t.n.Store()); err != nil {
		return taxii.Page{}, false, err
	}
	if q.Next == "" && specMatch(q.SpecVersions) && (q.AddedAfter.IsZero() || l.added.After(q.AddedAfter)) {
		page.Items = append(page.Items, l.item(true))
	}
	if err := t.n.RecordReads(ctx, audit.Event{Actor: p.Actor(), Action: audit.ActionLabelRead, Object: l.id, Decision: audit.Allow, Detail: "taxii-versions"}); err != nil {
		return taxii.Page{}, false, fmt.Errorf("taxii versions: %w", err)
	}
	return page, true, nil
}

// markedCopy returns raw with labels added to its object_marking_refs
// (created when absent), members otherwise in their order and as they
// were: the marked collection's copy of an object.
func markedCopy(raw []byte, labels []string) (json.RawMessage, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, fmt.Errorf("marked copy: not a JSON object")
	}
	out := make([]byte, 0, len(raw)+len(labels)*64+32)
	out = append(out, '{')
	refs := func(have []string) ([]byte, error) {
		for _, l := range labels {
			if !slices.Contains(have, l) {
				have = append(have, l)
			}
		}
		return json.Marshal(have)
	}
	found := false
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("marked copy: %w", err)
		}
		name := tok.String() // before the next read voids tok
		val, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("marked copy: %w", err)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		qn, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		out = append(append(out, qn...), ':')
		if name == "object_marking_refs" && !found {
			var have []string
			if err := json.Unmarshal(val, &have); err != nil {
				return nil, fmt.Errorf("marked copy: object_marking_refs: %w", err)
			}
			b, err := refs(have)
			if err != nil {
				return nil, err
			}
			out, found = append(out, b...), true
			continue
		}
		out = append(out, val...)
	}
	if !found && len(labels) > 0 {
		b, err := refs(nil)
		if err != nil {
			return nil, err
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(out, `"object_marking_refs":`...), b...)
	}
	return append(out, '}'), nil
}

// selectVersions applies match[version], added_after and match[spec_version]
// to one object whose latest readable version is v.
func (t *TAXII) selectVersions(v store.ObjectVersion, q taxii.Query, versions map[string][]store.ObjectVersion,
	readable func(string) ([]store.ObjectVersion, []store.ObjectVersion, error)) ([]store.ObjectVersion, error) {
	if !specMatch(q.SpecVersions) {
		return nil, nil
	}
	cand := []store.ObjectVersion{v}
	if !q.Version.Default() {
		vis, ok := versions[v.ID]
		if !ok {
			var err error
			if _, vis, err = readable(v.ID); err != nil {
				return nil, err
			}
		}
		cand = cand[:0]
		for i, x := range vis {
			if q.Version.All || q.Version.First && i == 0 || q.Version.Last && i == len(vis)-1 || atMatch(q.Version.At, x) {
				cand = append(cand, x)
			}
		}
	}
	out := cand[:0]
	for _, x := range cand {
		if q.AddedAfter.IsZero() || x.DateAdded.After(q.AddedAfter) {
			out = append(out, x)
		}
	}
	return out, nil
}

func atMatch(at []time.Time, v store.ObjectVersion) bool {
	vt := versionTime(v)
	for _, t := range at {
		if t.Truncate(time.Microsecond).Equal(vt) {
			return true
		}
	}
	return false
}

// denial is the audit entry for an object-by-id read of an object p cannot
// see, with Get's reasons.
func (t *TAXII) denial(ctx context.Context, tx store.Reader, p *node.Principal, id string, all []store.ObjectVersion, detail string) audit.Event {
	ev := audit.Event{Actor: p.Actor(), Action: audit.ActionRead, Object: id, Decision: audit.Deny, Detail: detail}
	if len(all) == 0 {
		ev.Reasons = []string{"no-such-object"}
		return ev
	}
	for i, v := range all {
		c, err := t.n.Classes().Of(ctx, tx, v.Class)
		if err != nil {
			ev.Reasons = append(ev.Reasons, "class-unknown")
			continue
		}
		if i == len(all)-1 {
			ev.Modified, ev.Labels = v.Modified, c.LabelIDs
		}
		for _, r := range policy.CanRead(t.n.Registry(), p.Subject, c.Labels).Reasons {
			if !slices.Contains(ev.Reasons, string(r)) {
				ev.Reasons = append(ev.Reasons, string(r))
			}
		}
	}
	return ev
}

// describeQuery is the audit detail of a listing: its filters, never
// content.
func describeQuery(detail string, q taxii.Query) string {
	var b strings.Builder
	b.WriteString(detail)
	if len(q.Types) > 0 {
		b.WriteString(" type=" + strings.Join(q.Types, ","))
	}
	if len(q.IDs) > 0 {
		b.WriteString(" ids=" + strconv.Itoa(len(q.IDs)))
	}
	if !q.AddedAfter.IsZero() {
		b.WriteString(" added_after=" + taxii.Timestamp(q.AddedAfter))
	}
	if !q.Version.Default() {
		b.WriteString(" version=")
		var vs []string
		for _, x := range []struct {
			on   bool
			name string
		}{{q.Version.First, "first"}, {q.Version.Last, "last"}, {q.Version.All, "all"}, {len(q.Version.At) > 0, "timestamps"}} {
			if x.on {
				vs = append(vs, x.name)
			}
		}
		b.WriteString(strings.Join(vs, ","))
	}
	return clip.String(b.String(), 200)
}

func afterSeq(rows []store.ObjectVersion, after int64) []store.ObjectVersion {
	return slices.DeleteFunc(slices.Clone(rows), func(v store.ObjectVersion) bool { return v.Seq <= after })
}

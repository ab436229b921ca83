package node

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
)

// cursorFixture: a node whose listing interleaves objects a low reader may
// read with runs of SECRET objects of different lengths (0, 1, 2, 3, ...),
// so that a cursor that carried store positions would count them.
type cursorFixture struct {
	n         *Node
	low, high *Principal
	open      []string // ids the low reader may read, in listing order
	all       int
}

func newCursorFixture(t *testing.T) *cursorFixture {
	t.Helper()
	n := newTestNode(t, "gbr", "GBR")
	admin, _ := addUser(t, n, adminSpec())
	f := &cursorFixture{n: n}
	f.low, _ = addUser(t, n, UserSpec{Name: "low", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	f.high, _ = addUser(t, n, UserSpec{Name: "high", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	for i := range 6 {
		id := newID("threat-actor")
		mustLand(t, n, admin, sdo(id, t0, t0, map[string]any{"name": "open " + strconv.Itoa(i)}), "NATO UNCLASSIFIED")
		f.open = append(f.open, id)
		f.all++
		for j := range i {
			mustLand(t, n, admin, sdo(newID("threat-actor"), t0, t0, map[string]any{"name": "secret " + strconv.Itoa(i) + "." + strconv.Itoa(j)}), "NATO SECRET // REL TO GBR, USA")
			f.all++
		}
	}
	return f
}

// pages walks a listing one object a page and returns each page's cursor.
func (f *cursorFixture) pages(t *testing.T, p *Principal, o ListOptions) (ids []string, cursors []string) {
	t.Helper()
	o.Limit = 1
	for range 1000 {
		page, err := f.n.List(t.Context(), p, o)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, ob := range page.Objects {
			ids = append(ids, ob.ID)
		}
		if !page.More {
			return ids, cursors
		}
		cursors = append(cursors, page.Next)
		o.Next = page.Next
	}
	t.Fatal("List does not end")
	return nil, nil
}

// TestCursorsRevealNothing is written from the attacker's side: a low
// reader and a high reader page the same listing. Nothing in the low
// reader's cursors may count the SECRET objects between its pages, and no
// cursor may be used by anyone or for anything but the listing it was
// issued for.
func TestCursorsRevealNothing(t *testing.T) {
	ctx := t.Context()
	f := newCursorFixture(t)
	n := f.n
	lowIDs, lowCur := f.pages(t, f.low, ListOptions{Route: "objects"})
	highIDs, highCur := f.pages(t, f.high, ListOptions{Route: "objects"})
	if len(lowIDs) != len(f.open) || len(highIDs) != f.all {
		t.Fatalf("low read %d (want %d), high read %d (want %d)", len(lowIDs), len(f.open), len(highIDs), f.all)
	}
	for i, id := range lowIDs {
		if id != f.open[i] {
			t.Fatalf("low's page %d = %s, want %s", i, id, f.open[i])
		}
	}
	seen := map[string]bool{}
	for i, c := range append(append([]string(nil), lowCur...), highCur...) {
		// Every cursor has the same length, whatever position (and gap)
		// it stands for, and is URL-safe base64.
		if len(c) != pagecursor.EncodedLen {
			t.Errorf("cursor %d has %d characters, want %d for every cursor", i, len(c), pagecursor.EncodedLen)
		}
		if _, err := base64.RawURLEncoding.DecodeString(c); err != nil {
			t.Errorf("cursor %q is not URL-safe base64", c)
		}
		// No position is in the clear: the store positions are small
		// integers, which neither base 36 nor base 10 digits of any
		// cursor may be alone.
		for seq := range int64(f.all + 2) {
			if c == strconv.FormatInt(seq, 36) || c == base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 36)+".0")) {
				t.Errorf("cursor %q is store position %d", c, seq)
			}
		}
		if seen[c] {
			t.Errorf("cursor %q issued twice", c)
		}
		seen[c] = true
	}
	// The same page position gives different cursors to different users,
	// and to the same user asking twice.
	if lowCur[0] == highCur[0] {
		t.Error("low and high got the same cursor for page 1")
	}
	again, err := n.List(ctx, f.low, ListOptions{Route: "objects", Limit: 1})
	if err != nil || again.Next == lowCur[0] {
		t.Errorf("the same page asked again gave the same cursor (%v)", err)
	}

	// Every misuse is ErrBadCursor (400), never data and never another error.
	c := lowCur[2]
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x10
	bad := map[string]struct {
		p *Principal
		o ListOptions
	}{
		"replayed by another user": {f.high, ListOptions{Route: "objects", Limit: 1, Next: c}},
		"another type filter":      {f.low, ListOptions{Route: "objects", Limit: 1, Types: []string{"malware"}, Next: c}},
		"include_revoked added":    {f.low, ListOptions{Route: "objects", Limit: 1, IncludeRevoked: true, Next: c}},
		"another route (export)":   {f.low, ListOptions{Route: "export", Limit: 1, Next: c}},
		"a flipped bit":            {f.low, ListOptions{Route: "objects", Limit: 1, Next: base64.RawURLEncoding.EncodeToString(flipped)}},
		"old format, base 36":      {f.low, ListOptions{Route: "objects", Limit: 1, Next: strconv.FormatInt(3, 36)}},
		"old format, list":         {f.low, ListOptions{Route: "objects", Limit: 1, Next: "1,3,6,7"}},
		"old TAXII format":         {f.low, ListOptions{Route: "objects", Limit: 1, Next: oldCursor(cursor{after: 3})}},
		"truncated":                {f.low, ListOptions{Route: "objects", Limit: 1, Next: c[:len(c)-4]}},
	}
	for name, b := range bad {
		page, err := n.List(ctx, b.p, b.o)
		if !errors.Is(err, ErrBadCursor) || len(page.Objects) != 0 {
			t.Errorf("%s: List = %d objects, %v; want ErrBadCursor and nothing", name, len(page.Objects), err)
		}
	}
	// The cursor itself still works for its owner and query, with any
	// page size (clients change it between pages).
	if page, err := n.List(ctx, f.low, ListOptions{Route: "objects", Limit: 2, Next: c}); err != nil || len(page.Objects) != 2 || page.Objects[0].ID != f.open[3] {
		t.Fatalf("owner's cursor, limit 2: %+v, %v; want %s first", page.Objects, err, f.open[3])
	}
	if page, err := n.List(ctx, f.low, ListOptions{Route: "objects", Limit: 1, Next: c}); err != nil || len(page.Objects) != 1 || page.Objects[0].ID != f.open[3] {
		t.Fatalf("owner's cursor: %+v, %v; want %s", page.Objects, err, f.open[3])
	}
	// Expired: an hour and a moment later, by the node's clock.
	real := n.now
	n.now = func() time.Time { return real().Add(pagecursor.Lifetime + time.Second) }
	defer func() { n.now = real }()
	if _, err := n.List(ctx, f.low, ListOptions{Route: "objects", Limit: 1, Next: c}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("expired cursor: %v, want ErrBadCursor", err)
	}
}

// TestTAXIICursorsRevealNothing: the same for the TAXII routes users read
// with a token: objects, manifest and versions.
func TestTAXIICursorsRevealNothing(t *testing.T) {
	ctx := t.Context()
	f := newCursorFixture(t)
	n, tx := f.n, f.n.TAXII()
	coll := n.HoldingsID()
	walk := func(p *Principal, q taxii.Query, get func(taxii.Query) (taxii.Page, error)) (items int, cursors []string) {
		t.Helper()
		for range 1000 {
			page, err := get(q)
			if err != nil {
				t.Fatalf("page: %v", err)
			}
			for _, it := range page.Items {
				if !strings.HasPrefix(it.ID, "marking-definition--") { // the labels are items too
					items++
				}
			}
			if !page.More {
				return items, cursors
			}
			cursors = append(cursors, page.Next)
			q.Next = page.Next
		}
		t.Fatal("listing does not end")
		return 0, nil
	}
	objects := func(p *Principal) func(taxii.Query) (taxii.Page, error) {
		return func(q taxii.Query) (taxii.Page, error) { return tx.Objects(ctx, p, coll, q) }
	}
	versions := func(p *Principal) func(taxii.Query) (taxii.Page, error) {
		return func(q taxii.Query) (taxii.Page, error) { return tx.Versions(ctx, p, coll, q) }
	}
	lowN, lowCur := walk(f.low, taxii.Query{Limit: 1}, objects(f.low))
	highN, highCur := walk(f.high, taxii.Query{Limit: 1}, objects(f.high))
	if lowN != len(f.open) || highN != f.all {
		t.Fatalf("low read %d (want %d), high %d (want %d)", lowN, len(f.open), highN, f.all)
	}
	manN, manCur := walk(f.low, taxii.Query{Limit: 1, Manifest: true}, objects(f.low))
	if manN != len(f.open) {
		t.Fatalf("low's manifest: %d, want %d", manN, len(f.open))
	}
	// An object with three versions, paged one version at a time.
	admin, _ := addUser(t, n, UserSpec{Name: "admin2", Role: RoleAdmin, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	vid := newID("threat-actor")
	for _, m := range []string{t0, t1, t2} {
		mustLand(t, n, admin, sdo(vid, t0, m, nil), "NATO UNCLASSIFIED")
	}
	verN, verCur := walk(f.low, taxii.Query{Object: vid, Limit: 1}, versions(f.low))
	if verN != 3 || len(verCur) != 2 {
		t.Fatalf("versions: %d items, %d cursors; want 3 and 2", verN, len(verCur))
	}
	for _, c := range append(append(append(append([]string(nil), lowCur...), highCur...), manCur...), verCur...) {
		if len(c) != pagecursor.EncodedLen {
			t.Errorf("TAXII cursor %q has %d characters, want %d", c, len(c), pagecursor.EncodedLen)
		}
	}
	if lowCur[0] == highCur[0] {
		t.Error("low and high got the same TAXII cursor for page 1")
	}
	c := lowCur[1]
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	raw[3] ^= 1
	bad := map[string]struct {
		get func(taxii.Query) (taxii.Page, error)
		q   taxii.Query
	}{
		"replayed by another user":          {objects(f.high), taxii.Query{Limit: 1, Next: c}},
		"another match[type]":               {objects(f.low), taxii.Query{Limit: 1, Types: []string{"malware"}, Next: c}},
		"another added_after":               {objects(f.low), taxii.Query{Limit: 1, AddedAfter: time.Unix(1, 0), Next: c}},
		"objects cursor on manifest":        {objects(f.low), taxii.Query{Limit: 1, Manifest: true, Next: c}},
		"manifest cursor on objects":        {objects(f.low), taxii.Query{Limit: 1, Next: manCur[0]}},
		"objects cursor on versions":        {versions(f.low), taxii.Query{Object: vid, Limit: 1, Next: c}},
		"versions cursor of another object": {versions(f.low), taxii.Query{Object: f.open[0], Limit: 1, Next: verCur[0]}},
		"a flipped bit":                     {objects(f.low), taxii.Query{Limit: 1, Next: base64.RawURLEncoding.EncodeToString(raw)}},
		"old format":                        {objects(f.low), taxii.Query{Limit: 1, Next: oldCursor(cursor{after: 3})}},
		"old versions format":               {versions(f.low), taxii.Query{Object: vid, Limit: 1, Next: oldCursor(cursor{skip: 1})}},
	}
	for name, b := range bad {
		page, err := b.get(b.q)
		if !errors.Is(err, taxii.ErrBadRequest) || len(page.Items) != 0 {
			t.Errorf("%s: %d items, %v; want ErrBadRequest and nothing", name, len(page.Items), err)
		}
	}
	real := n.now
	n.now = func() time.Time { return real().Add(pagecursor.Lifetime + time.Second) }
	defer func() { n.now = real }()
	if _, err := tx.Objects(ctx, f.low, coll, taxii.Query{Limit: 1, Next: c}); !errors.Is(err, taxii.ErrBadRequest) {
		t.Errorf("expired TAXII cursor: %v, want ErrBadRequest", err)
	}
	if _, err := tx.Versions(ctx, f.low, coll, taxii.Query{Object: vid, Limit: 1, Next: verCur[0]}); !errors.Is(err, taxii.ErrBadRequest) {
		t.Errorf("expired versions cursor: %v, want ErrBadRequest", err)
	}
}

// TestCursorKeyKept: the cursor key is in the store, wrapped under the KEK:
// a cursor issued before a restart, and before a KEK rotation, still
// opens after them, and the stored key follows the rotation.
func TestCursorKeyKept(t *testing.T) {
	ctx := t.Context()
	f := newCursorFixture(t)
	n := f.n
	page, err := n.List(ctx, f.low, ListOptions{Route: "objects", Limit: 1})
	if err != nil || !page.More {
		t.Fatalf("List: %v", err)
	}
	k, err := n.Store().NodeKey(ctx, cursorKeyName)
	if err != nil {
		t.Fatalf("no cursor key stored after a page: %v", err)
	}
	if by, err := seal.WrappedBy(k.Wrapped); err != nil || by != n.KEKIDs()[0] {
		t.Fatalf("cursor key wrapped by %s (%v), want the KEK %s", by, err, n.KEKIDs()[0])
	}
	newKEK, count, err := n.RotateKEK(ctx, "test")
	if err != nil || count < 1 {
		t.Fatalf("RotateKEK = %d, %v", count, err)
	}
	if k, err = n.Store().NodeKey(ctx, cursorKeyName); err != nil {
		t.Fatal(err)
	}
	if by, _ := seal.WrappedBy(k.Wrapped); by != newKEK {
		t.Fatalf("after rotation the cursor key is wrapped by %s, want %s", by, newKEK)
	}
	dir := n.Dir()
	n.Close()
	n2, err := Open(ctx, dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	got, err := n2.List(ctx, f.low, ListOptions{Route: "objects", Limit: 1, Next: page.Next})
	if err != nil || len(got.Objects) != 1 || got.Objects[0].ID != f.open[1] {
		t.Fatalf("cursor from before the restart and rotation: %+v, %v", got.Objects, err)
	}
}

// oldCursor is the format cursors had before they were sealed: base64 of
// the store position in clear.
func oldCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.after, 36) + "." + strconv.Itoa(c.skip)))
}

// The partner view's cursors are sealed too, bound to the peer and the
// query: a partner learns no store position (whose gaps would count what
// was not released to it), and a cursor one partner was given is a 400 for
// another, for another query, flipped, or in the old format.
func TestPartnerCursorsRevealNothing(t *testing.T) {
	ctx := t.Context()
	f := newRelFixture(t)
	for range 3 {
		f.ingestLabelled(t, actor(newID("threat-actor"), nil), okBanner, nil)
	}
	usa, can := &Peer{Name: "usa"}, &Peer{Name: "can"}
	first, err := f.n.partnerRead(ctx, usa, taxii.Query{Limit: 1})
	if err != nil || len(first.Items) != 1 || !first.More || first.Next == "" {
		t.Fatalf("first partner page: %d items, more %t, %v", len(first.Items), first.More, err)
	}
	c := first.Next
	second, err := f.n.partnerRead(ctx, usa, taxii.Query{Limit: 1, Next: c})
	if err != nil || len(second.Items) != 1 || second.Items[0].ID == first.Items[0].ID {
		t.Fatalf("second partner page: %+v, %v", second.Items, err)
	}
	if len(second.Next) != len(c) {
		t.Errorf("cursor lengths differ: %d and %d", len(c), len(second.Next))
	}
	// A pull sends added_after on its first page and next alone after it
	// (federation.Pull, and the release before): that continues.
	pulled, err := f.n.partnerRead(ctx, usa, taxii.Query{Limit: 1, AddedAfter: time.Unix(1, 0)})
	if err != nil || pulled.Next == "" {
		t.Fatalf("pull's first page: %v", err)
	}
	if pg, err := f.n.partnerRead(ctx, usa, taxii.Query{Limit: 1, Next: pulled.Next}); err != nil || len(pg.Items) != 1 {
		t.Fatalf("pull's next page without added_after: %d items, %v", len(pg.Items), err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	bad := map[string]struct {
		peer *Peer
		q    taxii.Query
	}{
		"another partner":     {can, taxii.Query{Limit: 1, Next: c}},
		"another query":       {usa, taxii.Query{Limit: 1, Manifest: true, Next: c}},
		"another type filter": {usa, taxii.Query{Limit: 1, Types: []string{"malware"}, Next: c}},
		"a flipped bit":       {usa, taxii.Query{Limit: 1, Next: base64.RawURLEncoding.EncodeToString(raw)}},
		"the old format":      {usa, taxii.Query{Limit: 1, Next: oldCursor(cursor{after: 1})}},
	}
	for name, b := range bad {
		page, err := f.n.partnerRead(ctx, b.peer, b.q)
		if !errors.Is(err, taxii.ErrBadRequest) || len(page.Items) != 0 {
			t.Errorf("%s: %d items, %v; want a bad request and nothing", name, len(page.Items), err)
		}
	}
}

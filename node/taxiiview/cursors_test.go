package taxiiview_test

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/taxii"
)

// cursorFixture: a node whose listing interleaves objects a low reader may
// read with runs of SECRET objects of different lengths (0, 1, 2, 3, ...),
// so that a cursor that carried store positions would count them (as in
// node's cursors_test.go).
type cursorFixture struct {
	n         *stack.Node
	low, high *node.Principal
	open      []string // ids the low reader may read, in listing order
	all       int
}

func newCursorFixture(t *testing.T, clock *testClock) *cursorFixture {
	t.Helper()
	n := nodetest.NewWith(t, "gbr", "GBR", node.Options{Now: clock.Now})
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	f := &cursorFixture{n: n}
	f.low, _ = nodetest.AddUser(t, n, users.UserSpec{Name: "low", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	f.high, _ = nodetest.AddUser(t, n, users.UserSpec{Name: "high", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	for i := range 6 {
		id := nodetest.NewID("threat-actor")
		nodetest.MustLand(t, n, admin, nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": "open " + strconv.Itoa(i)}), "NATO UNCLASSIFIED")
		f.open = append(f.open, id)
		f.all++
		for j := range i {
			nodetest.MustLand(t, n, admin, nodetest.SDO(nodetest.NewID("threat-actor"), nodetest.T0, nodetest.T0, map[string]any{"name": "secret " + strconv.Itoa(i) + "." + strconv.Itoa(j)}), "NATO SECRET // REL TO GBR, USA")
			f.all++
		}
	}
	return f
}

// oldCursor is the format cursors had before they were sealed: base64 of
// the store position in clear.
func oldCursor(after int64, skip int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(after, 36) + "." + strconv.Itoa(skip)))
}

// TestTAXIICursorsRevealNothing: the same for the TAXII routes users read
// with a token: objects, manifest and versions.
func TestTAXIICursorsRevealNothing(t *testing.T) {
	ctx := t.Context()
	clock := &testClock{}
	f := newCursorFixture(t, clock)
	n, tx := f.n, f.n.TAXII
	coll := tx.HoldingsID()
	walk := func(p *node.Principal, q taxii.Query, get func(taxii.Query) (taxii.Page, error)) (items int, cursors []string) {
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
	objects := func(p *node.Principal) func(taxii.Query) (taxii.Page, error) {
		return func(q taxii.Query) (taxii.Page, error) { return tx.Objects(ctx, p, coll, q) }
	}
	versions := func(p *node.Principal) func(taxii.Query) (taxii.Page, error) {
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
	admin, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "admin2", Role: node.RoleAdmin, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	vid := nodetest.NewID("threat-actor")
	for _, m := range []string{nodetest.T0, nodetest.T1, nodetest.T2} {
		nodetest.MustLand(t, n, admin, nodetest.SDO(vid, nodetest.T0, m, nil), "NATO UNCLASSIFIED")
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
		"old format":                        {objects(f.low), taxii.Query{Limit: 1, Next: oldCursor(3, 0)}},
		"old versions format":               {versions(f.low), taxii.Query{Object: vid, Limit: 1, Next: oldCursor(0, 1)}},
	}
	for name, b := range bad {
		page, err := b.get(b.q)
		if !errors.Is(err, taxii.ErrBadRequest) || len(page.Items) != 0 {
			t.Errorf("%s: %d items, %v; want ErrBadRequest and nothing", name, len(page.Items), err)
		}
	}
	clock.Add(pagecursor.Lifetime + time.Second)
	defer clock.Add(-(pagecursor.Lifetime + time.Second))
	if _, err := tx.Objects(ctx, f.low, coll, taxii.Query{Limit: 1, Next: c}); !errors.Is(err, taxii.ErrBadRequest) {
		t.Errorf("expired TAXII cursor: %v, want ErrBadRequest", err)
	}
	if _, err := tx.Versions(ctx, f.low, coll, taxii.Query{Object: vid, Limit: 1, Next: verCur[0]}); !errors.Is(err, taxii.ErrBadRequest) {
		t.Errorf("expired versions cursor: %v, want ErrBadRequest", err)
	}
}

// The partner view's cursors are sealed too, bound to the peer and the
// query: a partner learns no store position (whose gaps would count what
// was not released to it), and a cursor one partner was given is a 400 for
// another, for another query, flipped, or in the old format.
func TestPartnerCursorsRevealNothing(t *testing.T) {
	ctx := t.Context()
	f := newRelFixture(t)
	for range 3 {
		f.ingestLabelled(t, actor(nodetest.NewID("threat-actor"), nil), okBanner)
	}
	usa, can := &node.Peer{Name: "usa"}, &node.Peer{Name: "can"}
	first, err := partnerRead(ctx, f.n, usa, taxii.Query{Limit: 1})
	if err != nil || len(first.Items) != 1 || !first.More || first.Next == "" {
		t.Fatalf("first partner page: %d items, more %t, %v", len(first.Items), first.More, err)
	}
	c := first.Next
	second, err := partnerRead(ctx, f.n, usa, taxii.Query{Limit: 1, Next: c})
	if err != nil || len(second.Items) != 1 || second.Items[0].ID == first.Items[0].ID {
		t.Fatalf("second partner page: %+v, %v", second.Items, err)
	}
	if len(second.Next) != len(c) {
		t.Errorf("cursor lengths differ: %d and %d", len(c), len(second.Next))
	}
	// A pull sends added_after on its first page and next alone after it
	// (federation.Pull, and the release before): that continues.
	pulled, err := partnerRead(ctx, f.n, usa, taxii.Query{Limit: 1, AddedAfter: time.Unix(1, 0)})
	if err != nil || pulled.Next == "" {
		t.Fatalf("pull's first page: %v", err)
	}
	if pg, err := partnerRead(ctx, f.n, usa, taxii.Query{Limit: 1, Next: pulled.Next}); err != nil || len(pg.Items) != 1 {
		t.Fatalf("pull's next page without added_after: %d items, %v", len(pg.Items), err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	bad := map[string]struct {
		peer *node.Peer
		q    taxii.Query
	}{
		"another partner":     {can, taxii.Query{Limit: 1, Next: c}},
		"another query":       {usa, taxii.Query{Limit: 1, Manifest: true, Next: c}},
		"another type filter": {usa, taxii.Query{Limit: 1, Types: []string{"malware"}, Next: c}},
		"a flipped bit":       {usa, taxii.Query{Limit: 1, Next: base64.RawURLEncoding.EncodeToString(raw)}},
		"the old format":      {usa, taxii.Query{Limit: 1, Next: oldCursor(1, 0)}},
	}
	for name, b := range bad {
		page, err := partnerRead(ctx, f.n, b.peer, b.q)
		if !errors.Is(err, taxii.ErrBadRequest) || len(page.Items) != 0 {
			t.Errorf("%s: %d items, %v; want a bad request and nothing", name, len(page.Items), err)
		}
	}
}

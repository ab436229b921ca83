package node

import (
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"

	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/store/backend"
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
		"old TAXII format":         {f.low, ListOptions{Route: "objects", Limit: 1, Next: oldCursor(3, 0)}},
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
	if by, err := seal.WrappedBy(k.Wrapped); err != nil || by != n.Sealed().Keys().IDs()[0] {
		t.Fatalf("cursor key wrapped by %s (%v), want the KEK %s", by, err, n.Sealed().Keys().IDs()[0])
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
func oldCursor(after int64, skip int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(after, 36) + "." + strconv.Itoa(skip)))
}

package search_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	_ "modernc.org/sqlite"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/search"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
)

const (
	secret     = "NATO SECRET // REL TO GBR, USA"
	restricted = "NATO RESTRICTED // REL TO GBR, USA"
)

// fixture is a node with a high and a low analyst and objects of both
// levels: a SECRET indicator (text and a pattern), a RESTRICTED observable
// and a RESTRICTED report in Japanese.
type fixture struct {
	n                       *stack.Node
	high, low               *node.Principal
	indicator, addr, report string
	marker                  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	n := nodetest.New(t, "gbr", "GBR")
	f := &fixture{n: n, marker: "zqxmarker" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")}
	f.high, _ = nodetest.AddUser(t, n, users.UserSpec{Name: "high", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}})
	f.low, _ = nodetest.AddUser(t, n, users.UserSpec{Name: "low", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	f.indicator = nodetest.NewID("indicator")
	ind := nodetest.SDO(f.indicator, nodetest.T0, nodetest.T0, map[string]any{
		"name": "Fancy Bear beacon " + f.marker, "description": "Beacons to evil[.]example.com daily",
		"pattern":      "[ipv4-addr:value = '203.0.113.9'] OR [file:hashes.'SHA-256' = '" + strings.Repeat("ab", 32) + "']",
		"pattern_type": "stix", "valid_from": nodetest.T0, "indicator_types": []string{"malicious-activity"}})
	nodetest.MustLand(t, n, f.high, nodetest.Bundle(ind), secret)
	f.addr = "ipv4-addr--" + uuid.NewString()
	nodetest.MustLand(t, n, f.low, nodetest.Bundle([]byte(`{"type":"ipv4-addr","spec_version":"2.1","id":"`+f.addr+`","value":"198.51.100.7"}`)), restricted)
	f.report = nodetest.NewID("report")
	rep := nodetest.SDO(f.report, nodetest.T0, nodetest.T0, map[string]any{"name": "標的型攻撃メールの分析",
		"published": nodetest.T0, "object_refs": []string{f.addr}})
	nodetest.MustLand(t, n, f.low, nodetest.Bundle(rep), restricted)
	return f
}

func (f *fixture) search(t *testing.T, p *node.Principal, q string, flt search.Filters) search.Result {
	t.Helper()
	res, err := f.n.Search.Search(t.Context(), p, search.Options{Query: q, Filters: flt})
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	return res
}

// ids returns the ids of the hits of each group.
func ids(res search.Result) [][]string {
	var out [][]string
	for _, g := range res.Groups {
		var s []string
		for _, o := range g.Objects {
			s = append(s, o.ID)
		}
		out = append(out, s)
	}
	return out
}

func TestSearchTextValuesAndCIDR(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		q    string
		who  *node.Principal
		want []string
	}{
		{"fancy BEAR", f.high, []string{f.indicator}},
		{"ＦＡＮＣＹ bear", f.high, []string{f.indicator}}, // NFKC and case folding
		{"fancy bear", f.low, nil},                    // SECRET: not for the low analyst
		{"fancy wolf", f.high, nil},                   // every word must match
		{"fanc", f.high, nil},                         // no prefix matching
		{"evil.example.com", f.high, []string{f.indicator}},
		{"203.0.113.9", f.high, []string{f.indicator}}, // a pattern literal
		{"203.0.113.0/24", f.high, []string{f.indicator}},
		{strings.Repeat("AB", 32), f.high, []string{f.indicator}},
		{"198.51.100.7", f.low, []string{f.addr}},
		{"198.51.0.0/16", f.low, []string{f.addr}},
		{"198.0.0.0/7", f.low, []string{f.addr}}, // shorter than /8: asked as its /8s
		{"198.51.101.0/24", f.low, nil},
		{"攻撃", f.low, []string{f.report}}, // a CJK bigram
		{"撃メ", f.low, []string{f.report}},
		{"標的型攻撃", f.low, []string{f.report}},
		{f.addr, f.low, []string{f.addr, f.report}}, // a STIX id: itself and what refers to it
	} {
		got := ids(f.search(t, c.who, c.q, search.Filters{}))
		if len(got) != 1 {
			t.Fatalf("%q: %d groups", c.q, len(got))
		}
		slices.Sort(got[0])
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got[0], want) {
			t.Errorf("%q as %s: %v, want %v", c.q, c.who.User.Name, got[0], want)
		}
	}
}

// A pasted list is searched value by value, the results grouped by value;
// what the user may not read is in no group and no count.
func TestSearchPastedList(t *testing.T) {
	f := newFixture(t)
	q := "198.51.100.7, 203.0.113.9\nnothing.example.org"
	for _, c := range []struct {
		who   *node.Principal
		want  [][]string
		count []int64
	}{
		{f.high, [][]string{{f.addr}, {f.indicator}, nil}, []int64{1, 1, 0}},
		{f.low, [][]string{{f.addr}, nil, nil}, []int64{1, 0, 0}},
	} {
		res := f.search(t, c.who, q, search.Filters{})
		if !res.Query.List || len(res.Groups) != 3 {
			t.Fatalf("%s: %+v", c.who.User.Name, res)
		}
		for i, g := range res.Groups {
			if g.Value != res.Query.Values[i].Text || g.Count != c.count[i] {
				t.Errorf("%s group %d: value %q count %d, want %q %d", c.who.User.Name, i, g.Value, g.Count, res.Query.Values[i].Text, c.count[i])
			}
		}
		if got := ids(res); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%s: %v, want %v", c.who.User.Name, got, c.want)
		}
	}
}

func TestSearchFilters(t *testing.T) {
	f := newFixture(t)
	admin, _ := nodetest.AddUser(t, f.n, nodetest.AdminSpec())
	q := f.addr + " " + f.indicator // no object has both: a list of two ids
	for name, c := range map[string]struct {
		flt  search.Filters
		want [][]string
	}{
		"none":           {search.Filters{}, [][]string{{f.report, f.addr}, {f.indicator}}},
		"type":           {search.Filters{Types: []string{"report"}}, [][]string{{f.report}, nil}},
		"classification": {search.Filters{Classification: "NATO:SECRET"}, [][]string{nil, {f.indicator}}},
		"releasable":     {search.Filters{Releasable: "FRA"}, [][]string{nil, nil}},
		"releasable usa": {search.Filters{Releasable: "USA"}, [][]string{{f.report, f.addr}, {f.indicator}}},
		"originator":     {search.Filters{Originator: "elsewhere"}, [][]string{nil, nil}},
	} {
		if got := ids(f.search(t, admin, q, c.flt)); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

// A purge (recall, retention and the console's all purge) takes the object
// out of the index in the same transaction.
func TestSearchAfterPurge(t *testing.T) {
	f := newFixture(t)
	if got := ids(f.search(t, f.high, "fancy", search.Filters{})); len(got[0]) != 1 {
		t.Fatalf("before: %v", got)
	}
	if _, err := f.n.Purge(t.Context(), node.ConsoleAdmin(), node.PurgeTarget{ID: f.indicator, Reason: node.PurgeRecall}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"fancy", "203.0.113.9", "evil.example.com"} {
		res := f.search(t, f.high, q, search.Filters{})
		if len(res.Groups[0].Objects) != 0 || res.Groups[0].Count != 0 {
			t.Errorf("%q after the purge: %+v", q, res.Groups[0])
		}
	}
	var postings int
	db, err := sql.Open("sqlite", filepath.Join(f.n.Dir(), backend.SQLiteFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT COUNT(*) FROM search_docs d WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.seq = d.seq)`).Scan(&postings); err != nil || postings != 0 {
		t.Errorf("documents of purged versions left: %d, %v", postings, err)
	}
}

// Pages: a search's pages are newest first, each hit once, and the count
// stops at CountCap.
func TestSearchPages(t *testing.T) {
	n := nodetest.New(t, "gbr", "GBR")
	p, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	var objs [][]byte
	for i := 0; i < 25; i++ {
		objs = append(objs, nodetest.SDO(nodetest.NewID("threat-actor"), nodetest.T0, nodetest.T0, map[string]any{"description": "kestrel wing"}))
	}
	nodetest.MustLand(t, n, p, nodetest.Bundle(objs...), restricted)
	seen := map[string]bool{}
	next := ""
	for pages := 0; ; pages++ {
		res, err := n.Search.Search(t.Context(), p, search.Options{Query: "kestrel", Limit: 10, Next: next})
		if err != nil {
			t.Fatal(err)
		}
		g := res.Groups[0]
		if g.Count != 25 || g.Capped {
			t.Errorf("page %d: count %d capped %v", pages, g.Count, g.Capped)
		}
		for _, o := range g.Objects {
			if seen[o.ID] {
				t.Fatalf("%s twice", o.ID)
			}
			seen[o.ID] = true
		}
		if !g.More {
			break
		}
		next = g.Next
	}
	if len(seen) != 25 {
		t.Errorf("%d objects over the pages, want 25", len(seen))
	}
	// A cursor is bound to its query.
	res, _ := n.Search.Search(t.Context(), p, search.Options{Query: "kestrel", Limit: 10})
	if _, err := n.Search.Search(t.Context(), p, search.Options{Query: "wing", Limit: 10, Next: res.Groups[0].Next}); !errors.Is(err, node.ErrBadCursor) {
		t.Errorf("another query's cursor: %v", err)
	}
}

// The index is blind: a raw read of the database file shows no term of a
// sealed object, and the audit log records a search's shape, not its
// text.
func TestSearchIndexIsBlind(t *testing.T) {
	f := newFixture(t)
	if got := ids(f.search(t, f.high, f.marker, search.Filters{})); len(got[0]) != 1 {
		t.Fatalf("the marker is not found: %v", got)
	}
	dir := f.n.Dir()
	f.n.Close()
	var all []byte
	for _, name := range []string{backend.SQLiteFile, backend.SQLiteFile + "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for _, plain := range []string{f.marker, "Fancy", "fancy", "evil.example.com", "203.0.113.9", "203.0.113.0/24", "標的型", "攻撃"} {
		if bytes.Contains(all, []byte(plain)) {
			t.Errorf("the database file holds %q", plain)
		}
	}
}

// The index key is a node key: a KEK rotation re-wraps it, and the node
// opened again with the new KEK finds what it found before.
func TestSearchAfterKEKRotation(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, _, err := f.n.RotateKEK(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if got := ids(f.search(t, f.high, "fancy", search.Filters{})); len(got[0]) != 1 {
		t.Fatalf("after the rotation: %v", got)
	}
	n2 := reopen(t, f.n)
	p, err := n2.Authenticate(ctx, mustToken(t, n2, "high"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := n2.Search.Search(ctx, p, search.Options{Query: "fancy bear"})
	if err != nil || len(res.Groups[0].Objects) != 1 {
		t.Fatalf("reopened: %+v, %v", res, err)
	}
	// Ingest after the rotation is indexed too.
	id := nodetest.NewID("threat-actor")
	nodetest.MustLand(t, n2, p, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"description": "osprey"})), restricted)
	if res, err := n2.Search.Search(ctx, p, search.Options{Query: "osprey"}); err != nil || len(res.Groups[0].Objects) != 1 {
		t.Fatalf("after the rotation, a new object: %+v, %v", res, err)
	}
}

// The backfill indexes versions stored before the index existed: a node
// whose index is emptied and marked not done finds everything again once
// opened.
func TestSearchBackfill(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	dir := f.n.Dir()
	f.n.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, backend.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM search_postings`, `DELETE FROM search_docs`,
		`UPDATE search_backfill SET done_us = 0, upto = (SELECT MAX(seq) FROM objects)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	n := openNode(t, dir)
	p, err := n.Authenticate(ctx, mustToken(t, n, "high"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"fancy bear", "203.0.113.0/24", "evil.example.com"} {
		if res, err := n.Search.Search(ctx, p, search.Options{Query: q}); err != nil || len(res.Groups[0].Objects) != 1 {
			t.Errorf("%q after the backfill: %+v, %v", q, res, err)
		}
	}
}

func TestSavedSearches(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.n.Search.Save(ctx, f.low, "c2", "198.51.100.0/24", "type=indicator"); err != nil {
		t.Fatal(err)
	}
	if err := f.n.Search.Save(ctx, f.low, "empty", "  ", ""); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("an empty query saved: %v", err)
	}
	if err := f.n.Search.Save(ctx, f.low, "", "x", ""); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("a nameless search saved: %v", err)
	}
	got, err := f.n.Search.Saved(ctx, f.low)
	if err != nil || len(got) != 1 || got[0].Query != "198.51.100.0/24" || got[0].Filters != "type=indicator" {
		t.Fatalf("Saved = %+v, %v", got, err)
	}
	if other, _ := f.n.Search.Saved(ctx, f.high); len(other) != 0 {
		t.Errorf("another user sees %+v", other)
	}
	if err := f.n.Search.Delete(ctx, f.high, "c2"); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("another user deleted it: %v", err)
	}
	if err := f.n.Search.Delete(ctx, f.low, "c2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.n.Search.Saved(ctx, f.low); len(got) != 0 {
		t.Errorf("after delete: %+v", got)
	}
}

func reopen(t *testing.T, n *stack.Node) *stack.Node {
	t.Helper()
	dir := n.Dir()
	n.Close()
	return openNode(t, dir)
}

func openNode(t *testing.T, dir string) *stack.Node {
	t.Helper()
	n, err := stack.Open(context.Background(), dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// mustToken issues a new API token for the user called name.
func mustToken(t *testing.T, n *stack.Node, name string) string {
	t.Helper()
	tok, err := n.Users.IssueToken(t.Context(), node.ConsoleAdmin(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A search's count is of hits that pass their access-MAC check: SECRET
// rows whose class column was rewritten to a RESTRICTED class (by someone
// with write access to the database file) are absent from the RESTRICTED
// reader's pages, and they do not swell its count either, on the pages
// where the count comes from the index rather than from the hits shown.
func TestSearchCountsCheckedRows(t *testing.T) {
	n := nodetest.New(t, "gbr", "GBR")
	low, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "low", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	high, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "high", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}})
	land := func(p *node.Principal, k int, label string) []string {
		var objs [][]byte
		var ids []string
		for i := 0; i < k; i++ {
			id := nodetest.NewID("threat-actor")
			ids = append(ids, id)
			objs = append(objs, nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"description": "osprey nest"}))
		}
		nodetest.MustLand(t, n, p, nodetest.Bundle(objs...), label)
		return ids
	}
	lowIDs := land(low, 12, restricted)
	highIDs := land(high, 3, secret)
	count := func() search.Group {
		t.Helper()
		res, err := n.Search.Search(t.Context(), low, search.Options{Query: "osprey", Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		return res.Groups[0]
	}
	if g := count(); g.Count != 12 || !g.More {
		t.Fatalf("before tampering: count %d, more %v; want 12 and more pages", g.Count, g.More)
	}
	db, err := sql.Open("sqlite", filepath.Join(n.Dir(), backend.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tbl := range []string{"objects", "object_ids"} {
		for _, id := range highIDs {
			if _, err := db.Exec(`UPDATE `+tbl+` SET class = (SELECT class FROM objects WHERE id = ?) WHERE id = ?`, lowIDs[0], id); err != nil {
				t.Fatal(err)
			}
		}
	}
	g := count()
	for _, o := range g.Objects {
		if slices.Contains(highIDs, o.ID) {
			t.Errorf("a rewritten SECRET row is a hit for the RESTRICTED reader: %s", o.ID)
		}
	}
	if g.Count != 12 {
		t.Errorf("count with three SECRET rows rewritten into the reader's class: %d, want 12", g.Count)
	}
}

package taxiiview_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
)

// twoSealed is a node with an admin and two sealed objects, a and b, each
// with a unique marker in its content (as in node's seal_test.go).
func twoSealed(t *testing.T) (n *stack.Node, p *node.Principal, a, b string) {
	t.Helper()
	n = nodetest.New(t, "gbr", "GBR")
	p, _ = nodetest.AddUser(t, n, nodetest.AdminSpec())
	for _, id := range []*string{&a, &b} {
		*id = nodetest.NewID("threat-actor")
		raw := nodetest.SDO(*id, nodetest.T0, nodetest.T1, map[string]any{"description": "PLAINTEXT-MARKER-" + uuid.NewString()})
		nodetest.MustLand(t, n, p, nodetest.Bundle(raw), "NATO SECRET // REL TO GBR, USA")
	}
	return n, p, a, b
}

// rawDB opens n's SQLite database beside the node, as someone with the
// file would, and returns it with an exec that fails the test on error.
func rawDB(t *testing.T, n *stack.Node) (*sql.DB, func(q string, args ...any)) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(n.Dir(), backend.SQLiteFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTAXIIServesOnlyJSON: the TAXII handler writes what the node returns
// into the envelope unchecked (taxii.Backend), so whatever the database
// holds that nothing authenticates must be one JSON value before it is
// served: a row older than sealing (no data key) and a label. Either,
// changed in the database to break out of its place in the envelope, fails
// the read instead of adding an object to the page.
func TestTAXIIServesOnlyJSON(t *testing.T) {
	ctx := t.Context()
	n, p, a, b := twoSealed(t)
	db, exec := rawDB(t, n)
	var leading []json.RawMessage
	page := func() ([]json.RawMessage, error) {
		// The threat actors, and the labels they bear: items too.
		pg, err := n.TAXII.Objects(ctx, p, n.TAXII.HoldingsID(), taxii.Query{Types: []string{"threat-actor", "marking-definition"}})
		var vals []json.RawMessage
		leading = nil
		for _, it := range pg.Items {
			if strings.HasPrefix(it.ID, "marking-definition--") {
				leading = append(leading, it.Object)
			} else {
				vals = append(vals, it.Object)
			}
		}
		return vals, err
	}
	if vals, err := page(); err != nil || len(vals) != 2 || len(leading) == 0 {
		t.Fatalf("page before tampering: %d objects, %d labels, %v", len(vals), len(leading), err)
	}
	var named struct{ ID string }
	if err := json.Unmarshal(leading[0], &named); err != nil {
		t.Fatal(err)
	}

	// b as a row older than sealing: plain content, no data key. Valid
	// JSON is served as stored; anything else fails the page.
	exec(`DELETE FROM data_keys WHERE seq = (SELECT seq FROM objects WHERE id = ?)`, b)
	exec(`UPDATE objects SET raw = ? WHERE id = ?`, `{"type":"threat-actor","id":"`+b+`"}`, b)
	if vals, err := page(); err != nil || len(vals) != 2 || !bytes.Contains(vals[1], []byte(b)) {
		t.Fatalf("page with a plain row: %q, %v", vals, err)
	}
	injected := `{"type":"threat-actor","id":"` + b + `"},{"type":"indicator","id":"indicator--00000000-0000-4000-8000-000000000000"}`
	exec(`UPDATE objects SET raw = ? WHERE id = ?`, injected, b)
	if vals, err := page(); err == nil || !strings.Contains(err.Error(), "object "+b) {
		t.Fatalf("page with a plain row that is two values: %q, %v; want an error naming %s", vals, err, b)
	}
	exec(`UPDATE objects SET raw = ? WHERE id = ?`, `{"type":"threat-actor","id":"`+b+`"}`, b)

	// A label the page names, changed to two values.
	label := named.ID
	var raw []byte
	if err := db.QueryRowContext(ctx, `SELECT raw FROM labels WHERE id = ?`, label).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE labels SET raw = ? WHERE id = ?`, append(bytes.Clone(raw), []byte(`,{"type":"indicator"}`)...), label)
	if vals, err := page(); err == nil || !strings.Contains(err.Error(), "label "+label) {
		t.Fatalf("page naming a label that is two values: %q, %v; want an error naming %s", vals, err, label)
	}
	exec(`UPDATE labels SET raw = ? WHERE id = ?`, raw, label)
	if vals, err := page(); err != nil || len(vals) != 2 || !bytes.Contains(vals[0], []byte(a)) {
		t.Fatalf("page after the label is restored: %q, %v", vals, err)
	}
}

// TestPartnerTAXIIServesOnlyJSON is TestTAXIIServesOnlyJSON for what a
// partner pulls: a label the page names, changed in the database to two
// values, fails the read. (This path also parses each label it serves, to
// translate it, which refuses it first.)
func TestPartnerTAXIIServesOnlyJSON(t *testing.T) {
	ctx := t.Context()
	f := newRelFixture(t)
	f.ingestLabelled(t, actor(nodetest.NewID("threat-actor"), nil), okBanner)
	usa := &node.Peer{Name: "usa"}
	pg, err := partnerRead(ctx, f.n, usa, taxii.Query{})
	if err != nil || len(pg.Items) != 1 || len(pg.Leading) == 0 {
		t.Fatalf("partner page before tampering: %d items, %d labels, %v", len(pg.Items), len(pg.Leading), err)
	}
	var named struct{ ID string }
	if err := json.Unmarshal(pg.Leading[0], &named); err != nil {
		t.Fatal(err)
	}
	_, exec := rawDB(t, f.n)
	exec(`UPDATE labels SET raw = raw || ',{"type":"indicator"}' WHERE id = ?`, named.ID)
	if pg, err := partnerRead(ctx, f.n, usa, taxii.Query{}); err == nil || !strings.Contains(err.Error(), "label "+named.ID) {
		t.Fatalf("partner page naming a label that is two values: %d items, %v; want an error naming %s", len(pg.Items), err, named.ID)
	}
}

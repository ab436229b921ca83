package web_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/web/site"
)

// TestAuditorScreens: an auditor filters the log by actor and by object
// (newest first, paged), opens an entry and sees its inclusion proof
// verified against the signed checkpoint, checks the consistency of two
// checkpoints, and reports the ledger per partner on screen, as CSV and as
// JSON. Analysts get 403 on every one of these screens. An entry rewritten
// in the database is shown as not verified: the page checks, it does not
// just display.
func TestAuditorScreens(t *testing.T) {
	ctx := context.Background()
	rf := nodetest.NewRelFixture(t)
	n := rf.N
	id := rf.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner, nil)
	if res := nodetest.MustRelease(t, n, rf.Rob, id, "usa"); res.Outcome != "release" {
		t.Fatalf("release to usa: %+v", res)
	}
	for _, name := range []string{"audrey", "ann"} {
		if err := n.Users.SetPassword(ctx, node.ConsoleAdmin(), name, password); err != nil {
			t.Fatal(err)
		}
	}
	ui, err := site.New(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui)
	t.Cleanup(srv.Close)
	f := &fixture{n: n, srv: srv}
	ann, aud := f.client(t), f.client(t)
	ann.mustLogin("ann")
	aud.mustLogin("audrey")

	// Some reads by ann, so her actor has a page of its own.
	for range 3 {
		if _, err := n.Get(ctx, rf.Ann, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/ui/audit", "/ui/audit?actor=user:ann", "/ui/audit/entries/0", "/ui/audit/checkpoints",
		"/ui/ledger", "/ui/ledger?party=usa", "/ui/ledger?party=usa&format=csv"} {
		if p := ann.get(path); p.code != http.StatusForbidden || strings.Contains(p.body, id) {
			t.Errorf("analyst GET %s = %d, want 403 naming nothing", path, p.code)
		}
	}

	indexes := regexp.MustCompile(`data-audit-index="(\d+)"`)
	p := aud.get("/ui/audit?actor=user:ann&action=object.read")
	rows := indexes.FindAllStringSubmatch(p.body, -1)
	if p.code != http.StatusOK || len(rows) != 3 {
		t.Fatalf("ann's reads: %d, %d rows\n%s", p.code, len(rows), p.body)
	}
	if banners(t, p.body) != n.Registry().SystemHigh() {
		t.Errorf("filtered audit page banner %q, want system-high", banners(t, p.body))
	}
	var prev int
	for i, r := range rows {
		var v int
		fmt.Sscan(r[1], &v)
		if i > 0 && v >= prev {
			t.Errorf("rows not newest first: %v", rows)
		}
		prev = v
	}
	p = aud.get("/ui/audit?object=" + id)
	if p.code != http.StatusOK || !strings.Contains(p.body, "release.decide") || !strings.Contains(p.body, "object.ingest") {
		t.Errorf("entries about the object lack its ingest or release: %d\n%s", p.code, p.body)
	}
	if p := aud.get("/ui/audit?partner=usa"); p.code != http.StatusOK || !strings.Contains(p.body, "party:usa") {
		t.Errorf("entries about usa: %d", p.code)
	}
	if p := aud.get("/ui/audit?since=yesterday"); p.code != http.StatusBadRequest {
		t.Errorf("a bad time = %d, want 400", p.code)
	}

	// An entry, proved.
	entry := rows[0][1]
	p = aud.get("/ui/audit/entries/" + entry)
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-proof="verified"`) || !strings.Contains(p.body, `data-signature="verified"`) {
		t.Fatalf("entry %s: %d\n%s", entry, p.code, p.body)
	}
	if p := aud.get("/ui/audit/entries/999999"); p.code != http.StatusNotFound {
		t.Errorf("an entry beyond the log = %d, want 404", p.code)
	}

	// Two checkpoints, consistent.
	p = aud.get("/ui/audit/checkpoints")
	sizes := regexp.MustCompile(`data-checkpoint-size="(\d+)"`).FindAllStringSubmatch(p.body, -1)
	if p.code != http.StatusOK || len(sizes) == 0 {
		t.Fatalf("checkpoints: %d\n%s", p.code, p.body)
	}
	first := sizes[0][1]
	nodetest.AddUser(t, n, usersSpec("later", node.RoleAnalyst)) // the log grows
	p = aud.get("/ui/audit/checkpoints")                         // signs the grown log
	sizes = regexp.MustCompile(`data-checkpoint-size="(\d+)"`).FindAllStringSubmatch(p.body, -1)
	last := sizes[len(sizes)-1][1]
	if last == first {
		t.Fatalf("no second checkpoint: %v", sizes)
	}
	p = aud.get("/ui/audit/checkpoints?from=" + first + "&to=" + last)
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-consistency="verified"`) {
		t.Fatalf("consistency %s..%s: %d\n%s", first, last, p.code, p.body)
	}
	if p := aud.get("/ui/audit/checkpoints?from=" + last + "&to=" + first); p.code != http.StatusBadRequest {
		t.Errorf("consistency backwards = %d, want 400", p.code)
	}

	// The ledger per partner, on screen and exported.
	p = aud.get("/ui/ledger?party=usa")
	if p.code != http.StatusOK || !strings.Contains(p.body, id) || !strings.Contains(p.body, `data-export="csv"`) {
		t.Fatalf("ledger for usa: %d\n%s", p.code, p.body)
	}
	if p := aud.get("/ui/ledger?party=fra"); p.code != http.StatusOK || strings.Contains(p.body, id) {
		t.Errorf("ledger for fra shows the release to usa: %d", p.code)
	}
	p = aud.get("/ui/ledger?party=usa&format=csv")
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if p.code != http.StatusOK || err != nil || len(recs) != 2 || recs[0][2] != "object" || recs[1][2] != id || recs[1][4] != "usa" {
		t.Fatalf("ledger CSV: %d %v %q", p.code, err, recs)
	}
	p = aud.get("/ui/ledger?party=usa&format=json")
	var js struct {
		Entries []struct{ Object, Party, Outcome string }
	}
	if err := json.Unmarshal([]byte(p.body), &js); err != nil || len(js.Entries) != 1 || js.Entries[0].Object != id || js.Entries[0].Outcome != "release" {
		t.Fatalf("ledger JSON: %v %s", err, p.body)
	}

	// Rewrite the entry's bytes in the database: the page now says the
	// proof fails, and where.
	db, err := sql.Open("sqlite", filepath.Join(n.Dir(), datadir.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit SET data = CAST(REPLACE(CAST(data AS TEXT), 'user:ann', 'user:bob') AS BLOB) WHERE idx = ?`, entry); err != nil {
		t.Fatal(err)
	}
	p = aud.get("/ui/audit/entries/" + entry)
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-proof="failed"`) {
		t.Fatalf("a rewritten entry: %d\n%s", p.code, p.body)
	}
}

package demo

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/tearline/tearline/store"
)

// Follow-up work is written in the ingest's transaction and survives what
// stops it: here the automatic release of an ingested object cannot run
// (gbr's peers file is unreadable, so nothing can be decided), the row
// stays, and after a restart with the file mended the release goes out. A
// crash between the ingest's commit and its follow-up leaves the same row.
func TestFollowupResumesAfterRestart(t *testing.T) { eachBackend(t, testFollowupResumesAfterRestart) }

func testFollowupResumesAfterRestart(t *testing.T, b backend) {
	ctx := context.Background()
	c := newCluster(t, b, true, "gbr", "usa")
	gbr, usa := c.Member("gbr"), c.Member("usa")
	// gbr serves (it read its trust files) before they are broken.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	waitFor(t, "gbr to serve", func() bool {
		resp, err := hc.Get(gbr.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	peersFile := filepath.Join(gbr.Dir, "peers.yaml")
	good, err := os.ReadFile(peersFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(peersFile, []byte("- name: [not a peer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id, err := Publish(ctx, gbr, ScenarioReport())
	if err != nil {
		t.Fatal(err)
	}
	pending := func() []store.Followup {
		t.Helper()
		fs, err := gbr.Node.Store().PendingFollowups(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	fs := pending()
	if len(fs) != 1 || fs[0].Kind != store.FollowupAutoRelease || fs[0].Attempts < 1 || fs[0].LastError == "" || fs[0].Actor != "analyst" {
		t.Fatalf("follow-up rows after an ingest whose release could not run: %+v", fs)
	}
	if es, err := gbr.Node.Store().Ledger(ctx, store.LedgerQuery{ObjectID: id}); err != nil || len(es) != 0 {
		t.Fatalf("ledger before the follow-up ran: %+v %v", es, err)
	}

	// Restart with the file mended: the row is carried out at start.
	if err := c.Stop(gbr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(peersFile, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(gbr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "usa to receive the report after gbr's restart", func() bool { return len(versions(t, usa, id)) == 1 })
	waitFor(t, "the follow-up row to be taken", func() bool { return len(pending()) == 0 })
	es, err := gbr.Node.Store().Ledger(ctx, store.LedgerQuery{ObjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	released := 0
	for _, e := range es {
		if e.Party == "usa" && e.Outcome == store.LedgerRelease {
			released++
			if e.By != "user:analyst" {
				t.Errorf("released by %q, want the ingesting user", e.By)
			}
		}
	}
	if released != 1 {
		t.Fatalf("ledger: %+v, want one release to usa", es)
	}
}

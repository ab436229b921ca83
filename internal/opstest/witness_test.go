package opstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/trust"
)

// TestWitnessesOnServingNodes runs gbr, usa and fra as `tearline serve`
// processes that witness each other's audit logs (gbr and fra made peers
// again with `peer add --identity --witness` while stopped): checkpoints
// get cosigned and `audit verify --min-cosignatures 2` passes; a split view
// of usa's log (one key, two trees, shown to gbr and fra) is caught by
// comparing notes and pauses gbr's deliveries to usa until `peer ack-split`
// on the serving node; and (SQLite) a restored gbr is seen by its witnesses
// as an acknowledged rollback, not a split view.
func TestWitnessesOnServingNodes(t *testing.T) {
	bin := buildTearline(t)
	t.Run("sqlite", func(t *testing.T) { runWitnesses(t, bin, func(*testing.T) string { return "" }) })
	t.Run("postgres", func(t *testing.T) { runWitnesses(t, bin, func(t *testing.T) string { return pgtest.DSN(t) }) })
}

var witnessFlags = []string{"--witness-interval", "300ms", "--checkpoint-interval", "300ms"}

// cosignatures returns how many cosignature lines f's served checkpoint
// carries, and its size.
func (f *fedNode) cosignatures() (int, int64) {
	st, b, err := f.srv.call(http.MethodGet, "/api/v1/audit/checkpoint", f.admin, nil)
	if err != nil || st != http.StatusOK {
		return 0, 0
	}
	lines := strings.Split(string(b), "\n")
	var size int64
	if len(lines) > 1 {
		fmt.Sscan(lines[1], &size)
	}
	return strings.Count(string(b), "\n— ") - 1, size
}

func (f *fedNode) splitViews(open bool) int {
	path := "/api/v1/audit/split-views"
	if open {
		path += "?open=true"
	}
	b := f.srv.want(http.StatusOK, http.MethodGet, path, f.admin, nil)
	var out struct {
		SplitViews []json.RawMessage `json:"split_views"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		f.t.Fatal(err)
	}
	return len(out.SplitViews)
}

func runWitnesses(t *testing.T, bin string, storeURL func(*testing.T) string) {
	ctx := context.Background()
	fed := newFederation(t, bin, storeURL)
	gbr, usa, fra := fed["gbr"], fed["usa"], fed["fra"]
	for _, p := range [][2]*fedNode{{gbr, fra}, {fra, gbr}} {
		at, other := p[0], p[1]
		file := filepath.Join(t.TempDir(), other.name+".identity")
		if err := os.WriteFile(file, []byte(other.run("identity", "--data", other.dir, "--url", "https://"+other.addr)), 0o600); err != nil {
			t.Fatal(err)
		}
		at.run("peer", "add", "--data", at.dir, "--identity", file, "--witness")
	}
	for _, f := range []*fedNode{gbr, usa, fra} {
		f.srv = f.start(f.addr, witnessFlags...)
	}

	// Cosigned by both witnesses, and verified so.
	gbr.srv.publish(gbr.analyst, fedBanner)
	waitFor(t, "gbr's checkpoint cosigned by usa and fra", func() bool { n, _ := gbr.cosignatures(); return n == 2 })
	out := gbr.run("audit", "verify", "--data", gbr.dir, "--witness", "usa", "--witness", "fra", "--min-cosignatures", "2")
	if !strings.Contains(out, "cosigned by 2 witnesses") {
		t.Fatalf("audit verify --min-cosignatures 2: %s", out)
	}
	if o, e, err := gbr.cli("audit", "verify", "--data", gbr.dir, "--witness", "usa", "--min-cosignatures", "2"); err == nil || !strings.Contains(e, "too few witness cosignatures") {
		t.Fatalf("two cosignatures of one named witness passed: %s %s %v", o, e, err)
	}

	// A split view of usa's log: stopped, its log is read, and two trees
	// that extend it differently are signed with its key and shown to gbr
	// and fra.
	// usa stays stopped until both forks are cosigned, so that its own
	// submissions cannot move the witnesses past the forks' common prefix.
	usa.srv.stop()
	// The forks run 1,000 entries ahead of usa's real log, which then does
	// not reach their size during the test (at that size, usa's own next
	// submission would be a second split view, recorded by the witness).
	forks := forkLog(t, usa.node, 1000)
	for i, w := range []*fedNode{gbr, fra} {
		cl, err := trust.FederationClient(usa.dir, w.name)
		if err != nil {
			t.Fatal(err)
		}
		f := forks[i]
		if _, err := witness.Cosign(ctx, witness.Submission{Client: cl, Base: "https://" + w.addr, Timeout: 10 * time.Second,
			Size: f.size, Checkpoint: f.note, Proof: f.proof}); err != nil {
			t.Fatalf("%s cosigns a fork of usa's log: %v", w.name, err)
		}
	}
	usa.srv = usa.start(usa.addr, witnessFlags...)
	waitFor(t, "gbr catches the split view by comparing notes", func() bool { return gbr.splitViews(true) == 1 })
	if !gbr.audited(audit.ActionSplitView, "peer:usa") {
		t.Fatal("no audit entry for the split view")
	}
	if out := gbr.run("audit", "split-views", "--data", gbr.dir, "--open"); !strings.Contains(out, "usa/audit") || !strings.Contains(out, "deliveries paused") {
		t.Fatalf("audit split-views --open: %s", out)
	}
	id := gbr.srv.publish(gbr.analyst, fedBanner)
	gbr.release(id, "usa")
	waitFor(t, "gbr holds the delivery to usa back", func() bool { return pausedAt(t, gbr, "usa") })
	if usa.holds(id) {
		t.Fatal("usa received a release while gbr had deliveries to it paused")
	}
	out = gbr.run("peer", "ack-split", "usa", "--data", gbr.dir)
	if !strings.Contains(out, "acknowledged 1 split view") {
		t.Fatalf("peer ack-split: %s", out)
	}
	waitFor(t, "usa receives the release after ack-split", func() bool { return usa.holds(id) })
	if !gbr.audited(audit.ActionSplitAck, "peer:usa") {
		t.Fatal("no audit entry for the acknowledgement")
	}
	if out := gbr.run("audit", "split-views", "--data", gbr.dir, "--open"); strings.Contains(out, "usa/audit") {
		t.Fatalf("audit split-views --open after ack-split: %s", out)
	}

	if gbr.store != "" {
		for _, f := range []*fedNode{gbr, usa, fra} {
			f.srv.stop()
		}
		return
	}
	// A restore: gbr goes back behind what usa and fra cosigned.
	backup := filepath.Join(t.TempDir(), "gbr.backup")
	gbr.run("backup", "--data", gbr.dir, "--out", backup)
	_, before := gbr.cosignatures()
	gbr.srv.publish(gbr.analyst, fedBanner)
	gbr.srv.publish(gbr.analyst, fedBanner)
	waitFor(t, "the grown log cosigned by both", func() bool { n, s := gbr.cosignatures(); return n == 2 && s > before })
	gbr.srv.stop()
	gbr.run("restore", "--data", gbr.dir, "--from", backup, "--reason", "test")
	gbr.srv = gbr.start(gbr.addr, witnessFlags...)
	for _, w := range []*fedNode{usa, fra} {
		waitFor(t, w.name+" acknowledges gbr's rollback", func() bool { return w.audited(audit.ActionRollbackAck, "peer:gbr") })
	}
	waitFor(t, "the restored log cosigned by both", func() bool { n, _ := gbr.cosignatures(); return n == 2 })
	for _, w := range []*fedNode{usa, fra} {
		// Split views of usa's fork only (from above), none of gbr.
		st, b, err := w.srv.call(http.MethodGet, "/api/v1/audit/split-views?peer=gbr", w.admin, nil)
		if err != nil || st != http.StatusOK || strings.Contains(string(b), `"peer":"gbr"`) {
			t.Fatalf("%s's split views of gbr after the restore: %d %s %v", w.name, st, b, err)
		}
	}
	for _, f := range []*fedNode{gbr, usa, fra} {
		f.srv.stop()
	}
}

// pausedAt reports whether f's outbox holds a message to peer back as
// paused (read from its store, as the node sees it).
func pausedAt(t *testing.T, f *fedNode, peer string) bool {
	st, err := backend.Open(context.Background(), f.dir, f.store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, err := st.OutboxItems(context.Background(), peer, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Delivered.IsZero() && strings.Contains(it.LastError, "paused") {
			return true
		}
	}
	return false
}

type fork struct {
	size  int64
	note  []byte
	proof func(ctx context.Context, from int64) ([][]byte, error)
}

// forkLog reads n's (stopped) audit log and returns two trees that extend
// it with extra different leaves each, checkpoints signed with its log key.
func forkLog(t *testing.T, n *node, extra int) [2]fork {
	t.Helper()
	ctx := context.Background()
	st, err := backend.Open(ctx, n.dir, n.store)
	if err != nil {
		t.Fatal(err)
	}
	size, err := st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var leaves [][]byte
	for start := int64(0); start < size; start += 1000 {
		es, err := st.AuditEntries(ctx, start, min(start+1000, size))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			leaves = append(leaves, e.Data)
		}
	}
	st.Close()
	skey, err := os.ReadFile(datadir.Path(n.dir, datadir.LogKey))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	var out [2]fork
	for i := range out {
		fs, err := backend.Create(ctx, t.TempDir(), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		if err := fs.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.AppendAudit(ctx, leaves...); err != nil {
				return err
			}
			for j := range extra {
				if _, err := tx.AppendAudit(ctx, []byte(fmt.Sprintf(`{"fork":%d,"i":%d}`, i, j))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		cp, err := audit.Checkpoint(ctx, fs, signer, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out[i] = fork{size: cp.Size, note: cp.Note, proof: func(ctx context.Context, from int64) ([][]byte, error) {
			return audit.ConsistencyProof(ctx, fs, from, cp.Size)
		}}
	}
	return out
}

package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/oversight"
	"github.com/tearline/tearline/store"
	storebackend "github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/store/sqlite"
	"github.com/tearline/tearline/trust"
)

// witnessesOf returns m's peers that witness its log, as an auditor names
// them.
func witnessesOf(t testing.TB, m *Member) []audit.NamedWitness {
	t.Helper()
	peers, err := trust.LoadPeers(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var ws []audit.NamedWitness
	for _, p := range peers {
		v, err := fnote.NewVerifierForCosignatureV1(p.WitnessKey)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, audit.NamedWitness{Name: p.Name, Verifier: v})
	}
	return ws
}

func logVerifier(t testing.TB, m *Member) note.Verifier {
	t.Helper()
	k, err := datadir.ReadLogVerifierKey(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWitnessesCosign: running nodes on loopback cosign each other's
// checkpoints over mutual TLS, the log serves the cosignatures with its
// checkpoint, and an auditor's check for two named witnesses passes.
func TestWitnessesCosign(t *testing.T) { eachBackend(t, testWitnessesCosign) }

func testWitnessesCosign(t *testing.T, b backend) {
	ctx := context.Background()
	c := newScenario(t, b, "gbr", "usa", "fra")
	gbr, usa, fra := c.Member("gbr"), c.Member("usa"), c.Member("fra")
	if _, err := Publish(ctx, gbr, ScenarioReport()); err != nil {
		t.Fatal(err)
	}
	if err := gbr.Node.Oversight.CosignRound(ctx); err != nil {
		t.Fatalf("cosign round: %v", err)
	}
	cp, err := gbr.Node.Oversight.AuditCheckpoint(ctx, node.ConsoleAdmin())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(cp.Note), "\n— "); got != 3 {
		t.Fatalf("served checkpoint has %d signatures, want the log's and 2 cosignatures:\n%s", got, cp.Note)
	}
	ws := witnessesOf(t, gbr)
	if names := audit.Cosigners(cp.Note, ws); !slices.Equal(names, []string{"fra", "usa"}) && !slices.Equal(names, []string{"usa", "fra"}) {
		t.Fatalf("served checkpoint's cosigners = %v, want fra and usa", names)
	}
	got, names, err := audit.CosignedCheckpoint(ctx, gbr.Node.Store(), logVerifier(t, gbr), ws, 2)
	if err != nil || got.Size != cp.Size || len(names) != 2 {
		t.Fatalf("CosignedCheckpoint(min 2) = %d %v %v, want size %d by 2", got.Size, names, err, cp.Size)
	}
	if _, _, err := audit.CosignedCheckpoint(ctx, gbr.Node.Store(), logVerifier(t, gbr), ws, 3); err == nil {
		t.Fatal("three cosignatures required of two witnesses: passed")
	}
	// Each witness holds gbr's checkpoint.
	for _, w := range []*Member{usa, fra} {
		h, err := w.Node.Store().WitnessedLog(ctx, "gbr/audit")
		if err != nil || h.Size != cp.Size {
			t.Fatalf("%s holds %+v, %v; want size %d", w.Name, h, err, cp.Size)
		}
	}
	// The log grows: the next round proves consistency from what each
	// witness holds.
	if _, err := Publish(ctx, gbr, Labelled{Object: map[string]any{"type": "indicator", "spec_version": "2.1",
		"id": "indicator--1d9f6c2e-1b7a-4c3e-8f21-5a6b7c8d9e02", "created": "2026-03-02T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z",
		"name": "x", "pattern": "[ipv4-addr:value = '198.51.100.8']", "pattern_type": "stix", "valid_from": "2026-03-02T10:00:00Z"},
		Banner: "NATO UNCLASSIFIED"}); err != nil {
		t.Fatal(err)
	}
	// Only usa cosigns the grown log at first: fra and usa now hold two
	// sizes, and fra compares them with gbr's own consistency proof,
	// fetched from gbr over mutual TLS.
	cp2, err := gbr.Node.Oversight.AuditCheckpoint(ctx, node.ConsoleAdmin())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := trust.FederationClient(gbr.Dir, "usa")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := witness.Cosign(ctx, witness.Submission{Client: cl, Base: usa.URL, Timeout: 10 * time.Second,
		Size: cp2.Size, Checkpoint: cp2.Note, Known: cp.Size, Proof: func(ctx context.Context, from int64) ([][]byte, error) {
			return gbr.Node.Oversight.AuditConsistencyProof(ctx, node.ConsoleAdmin(), from, cp2.Size)
		}}); err != nil {
		t.Fatalf("usa cosigns the grown log: %v", err)
	}
	fcl, err := trust.FederationClient(fra.Dir, "gbr")
	if err != nil {
		t.Fatal(err)
	}
	pf, err := witness.FetchProof(ctx, fcl, gbr.URL, cp.Size, cp2.Size, 10*time.Second)
	if err != nil || len(pf) == 0 {
		t.Fatalf("fra fetches gbr's consistency proof: %d hashes, %v", len(pf), err)
	}
	if err := fra.Node.Oversight.CompareNotes(ctx); err != nil {
		t.Fatalf("fra compares notes on two sizes: %v", err)
	}
	if svs, _ := fra.Node.Store().SplitViews(ctx, "", false); len(svs) != 0 {
		t.Fatalf("an honest log's two sizes made a split view: %+v", svs)
	}
	if err := gbr.Node.Oversight.CosignRound(ctx); err != nil {
		t.Fatalf("second cosign round: %v", err)
	}
	got2, _, err := audit.CosignedCheckpoint(ctx, gbr.Node.Store(), logVerifier(t, gbr), ws, 2)
	if err != nil || got2.Size <= cp.Size {
		t.Fatalf("after growth: cosigned size %d, %v; want above %d", got2.Size, err, cp.Size)
	}
	// Comparing notes between honest witnesses finds nothing.
	for _, m := range []*Member{gbr, usa, fra} {
		if err := m.Node.Oversight.CompareNotes(ctx); err != nil {
			t.Fatalf("%s compares notes: %v", m.Name, err)
		}
		if svs, _ := m.Node.Store().SplitViews(ctx, "", false); len(svs) != 0 {
			t.Fatalf("%s found split views among honest nodes: %+v", m.Name, svs)
		}
	}
}

// forkedTree returns a checkpoint of size leaves signed with the log key
// in dir, over leaves tagged tag: two tags, two trees of one size, one key.
func forkedTree(t *testing.T, dir, tag string, size int) []byte {
	t.Helper()
	ctx := context.Background()
	skey, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(datadir.LogKey)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), tag+".db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Update(ctx, func(tx store.Tx) error {
		for i := range size {
			if _, err := tx.AppendAudit(ctx, []byte(fmt.Sprintf(`{"fork":%q,"i":%d}`, tag, i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cp, err := audit.Checkpoint(ctx, st, s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cp.Note
}

func gather(t *testing.T, m *Member, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Node.Oversight.WitnessCollector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, x := range mf.GetMetric() {
			sum += x.GetGauge().GetValue() + x.GetCounter().GetValue()
		}
	}
	return sum
}

// TestSplitViewPausesDeliveries: usa's log key signs two different trees
// of one size; one is shown to gbr, the other to fra. Comparing notes, gbr
// catches it: an alert (audit entry, metric), and deliveries to usa pause
// until an admin acknowledges it.
func TestSplitViewPausesDeliveries(t *testing.T) { eachBackend(t, testSplitViewPausesDeliveries) }

func testSplitViewPausesDeliveries(t *testing.T, b backend) {
	ctx := context.Background()
	c := newScenario(t, b, "gbr", "usa", "fra")
	gbr, usa, fra := c.Member("gbr"), c.Member("usa"), c.Member("fra")

	honest, forked := forkedTree(t, usa.Dir, "honest", 7), forkedTree(t, usa.Dir, "forked", 7)
	for _, to := range []struct {
		m  *Member
		cp []byte
	}{{gbr, honest}, {fra, forked}} {
		cl, err := trust.FederationClient(usa.Dir, to.m.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := witness.Submit(ctx, cl, to.m.URL, witness.AddCheckpointRequest{Checkpoint: to.cp}, 10*time.Second); err != nil {
			t.Fatalf("%s cosigns usa's checkpoint: %v", to.m.Name, err)
		}
	}
	if _, paused, _ := gbr.Node.Deliveries.DeliveriesPaused(ctx, "usa"); paused {
		t.Fatal("deliveries paused before any split view")
	}
	if err := gbr.Node.Oversight.CompareNotes(ctx); err != nil {
		t.Fatalf("compare notes: %v", err)
	}
	svs, err := gbr.Node.Oversight.SplitViews(ctx, node.ConsoleAdmin(), "usa", true)
	if err != nil || len(svs) != 1 || svs[0].Reporter != "fra" || svs[0].Size != 7 {
		t.Fatalf("gbr's open split views of usa: %+v, %v", svs, err)
	}
	if n := auditActions(t, gbr)[audit.ActionSplitView]; n != 1 {
		t.Fatalf("%d %s audit entries, want 1", n, audit.ActionSplitView)
	}
	if v := gather(t, gbr, "tearline_witness_split_views_open"); v != 1 {
		t.Fatalf("tearline_witness_split_views_open = %v, want 1", v)
	}
	// Comparing again raises nothing new.
	if err := gbr.Node.Oversight.CompareNotes(ctx); err != nil {
		t.Fatal(err)
	}
	if n := auditActions(t, gbr)[audit.ActionSplitView]; n != 1 {
		t.Fatalf("a second comparison raised another alert: %d", n)
	}

	// A release to usa waits, paused, in the outbox.
	id, err := Publish(ctx, gbr, ScenarioReport())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, "usa", "analysis"); err != nil || res.Outcome != "release" {
		t.Fatalf("release: %+v, %v", res, err)
	}
	waitFor(t, "the delivery to usa to be held back as paused", func() bool {
		items, err := gbr.Node.Store().OutboxItems(ctx, "usa", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(items) > 0 && strings.HasPrefix(items[len(items)-1].LastError, "paused: split view")
	})
	if vs := versions(t, usa, id); len(vs) != 0 {
		t.Fatal("usa received a release while deliveries to it were paused")
	}
	// A non-admin may not acknowledge; the admin does, and it arrives.
	if _, err := gbr.Node.Oversight.AckSplitView(ctx, gbr.Analyst, "usa"); err == nil {
		t.Fatal("an analyst acknowledged a split view")
	}
	if n, err := gbr.Node.Oversight.AckSplitView(ctx, node.ConsoleAdmin(), "usa"); err != nil || n != 1 {
		t.Fatalf("ack-split: %d, %v", n, err)
	}
	waitFor(t, "usa to receive the release after ack-split", func() bool { return len(versions(t, usa, id)) == 1 })
	if n := auditActions(t, gbr)[audit.ActionSplitAck]; n != 1 {
		t.Fatalf("%d %s audit entries, want 1", n, audit.ActionSplitAck)
	}
	if v := gather(t, gbr, "tearline_witness_split_views_open"); v != 0 {
		t.Fatalf("tearline_witness_split_views_open after ack = %v, want 0", v)
	}
}

// TestRestoreSeenAsRollback: a node restored from a backup has a shorter
// log than its witnesses cosigned. Its first new entry is a signed
// rollback statement; its witnesses record an acknowledged rollback, not a
// split view, and cosign its new tree.
func TestRestoreSeenAsRollback(t *testing.T) {
	ctx := context.Background()
	c := newScenario(t, sqliteBackend, "gbr", "usa", "fra")
	gbr, usa, fra := c.Member("gbr"), c.Member("usa"), c.Member("fra")
	if _, err := Publish(ctx, gbr, ScenarioReport()); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "gbr.backup")
	if err := gbr.Node.Oversight.Backup(ctx, "user:console", backup); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, gbr, Labelled{Object: map[string]any{"type": "indicator", "spec_version": "2.1",
		"id": "indicator--2d9f6c2e-1b7a-4c3e-8f21-5a6b7c8d9e03", "created": "2026-03-02T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z",
		"name": "lost", "pattern": "[ipv4-addr:value = '198.51.100.9']", "pattern_type": "stix", "valid_from": "2026-03-02T10:00:00Z"},
		Banner: "NATO UNCLASSIFIED"}); err != nil {
		t.Fatal(err)
	}
	if err := gbr.Node.Oversight.CosignRound(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := usa.Node.Store().WitnessedLog(ctx, "gbr/audit")
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Stop(gbr); err != nil {
		t.Fatal(err)
	}
	if _, err := oversight.Restore(ctx, gbr.Dir, backup, storebackend.NewSQLiteRestore(gbr.Dir, backup), oversight.RestoreOptions{Reason: "test restore"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(gbr); err != nil {
		t.Fatal(err)
	}
	// The restored log's first new entry is the signed statement.
	rbs, err := gbr.Node.Store().AuditRollbacks(ctx)
	if err != nil || len(rbs) != 1 || rbs[0].OldSize < before.Size || rbs[0].NewSize >= before.Size {
		t.Fatalf("rollback statements: %+v, %v; want one from at least %d", rbs, err, before.Size)
	}
	es, err := gbr.Node.Store().AuditEntries(ctx, rbs[0].NewSize, rbs[0].NewSize+1)
	if err != nil || len(es) != 1 {
		t.Fatal(err)
	}
	ev, err := audit.Parse(es[0].Data)
	if err != nil || ev.Action != audit.ActionRollback || ev.Detail != string(rbs[0].Statement) {
		t.Fatalf("entry %d after the restore = %+v, %v; want the rollback statement", rbs[0].NewSize, ev, err)
	}
	if _, err := witness.OpenRollback(rbs[0].Statement, logVerifier(t, gbr)); err != nil {
		t.Fatalf("the statement does not verify with the log key: %v", err)
	}

	if err := gbr.Node.Oversight.CosignRound(ctx); err != nil {
		t.Fatalf("cosign round after the restore: %v", err)
	}
	cp, err := gbr.Node.Oversight.AuditCheckpoint(ctx, node.ConsoleAdmin())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*Member{usa, fra} {
		if n := auditActions(t, w)[audit.ActionRollbackAck]; n != 1 {
			t.Fatalf("%s: %d %s entries, want 1", w.Name, n, audit.ActionRollbackAck)
		}
		h, err := w.Node.Store().WitnessedLog(ctx, "gbr/audit")
		if err != nil || h.Size != cp.Size {
			t.Fatalf("%s holds gbr at %d, %v; want the restored log's %d", w.Name, h.Size, err, cp.Size)
		}
		if v := gather(t, w, "tearline_witness_rollbacks_acknowledged_total"); v != 1 {
			t.Fatalf("%s rollbacks metric = %v, want 1", w.Name, v)
		}
	}
	for _, m := range []*Member{usa, fra} {
		if err := m.Node.Oversight.CompareNotes(ctx); err != nil {
			t.Fatal(err)
		}
		if svs, _ := m.Node.Store().SplitViews(ctx, "", false); len(svs) != 0 {
			t.Fatalf("%s saw the restore as a split view: %+v", m.Name, svs)
		}
		if _, paused, _ := m.Node.Deliveries.DeliveriesPaused(ctx, "gbr"); paused {
			t.Fatalf("%s paused deliveries to the restored node", m.Name)
		}
	}
}

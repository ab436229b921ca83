package retention_test

import (
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
)

// An object ingested with a retention time is purged by the sweep once the
// time has passed, not before, and the purge is audited with the reason
// "retention" in a log that still verifies.
func TestRetentionPurges(t *testing.T) {
	ctx := t.Context()
	clock := nodetest.NewClock(time.Now())
	n := nodetest.NewWith(t, "gbr", "GBR", node.Options{Now: clock.Now})
	p, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	id := nodetest.NewID("threat-actor")
	res, err := n.Ingest(ctx, p, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T1, nil)),
		node.IngestOptions{Label: "NATO UNCLASSIFIED", RetainUntil: clock.Now().Add(time.Hour)})
	if err != nil || len(res.Landed) != 1 {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	if c, err := n.Retention.PurgeExpired(ctx); err != nil || c != 0 {
		t.Fatalf("PurgeExpired before expiry = %d, %v", c, err)
	}
	clock.Set(clock.Now().Add(2 * time.Hour))
	if c, err := n.Retention.PurgeExpired(ctx); err != nil || c != 1 {
		t.Fatalf("PurgeExpired = %d, %v", c, err)
	}
	if _, err := n.Get(ctx, p, id); !nodetest.IsNotFound(err) {
		t.Fatalf("Get after retention = %v", err)
	}
	evs := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionObjectPurge })
	if len(evs) != 1 || evs[0].Reasons[0] != node.PurgeRetention {
		t.Errorf("retention audit = %+v", evs)
	}
	if _, err := audit.Checkpoint(ctx, n.Store(), n.LogSigner(), n.Now()); err != nil {
		t.Fatalf("audit.Checkpoint: %v", err)
	}
	v, err := note.NewVerifier(n.AuditLogKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(ctx, n.Store(), v); err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
}

// Retention is per version: a version received with a retention time is
// purged when it passes, the object's later version (kept without one)
// stays readable, and the purge names that version alone.
func TestRetentionPurgesVersions(t *testing.T) {
	ctx := t.Context()
	clock := nodetest.NewClock(time.Now())
	n := nodetest.NewWith(t, "gbr", "GBR", node.Options{Now: clock.Now})
	p, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	id := nodetest.NewID("threat-actor")
	for _, v := range []struct {
		modified string
		until    time.Time
	}{{nodetest.T0, clock.Now().Add(time.Hour)}, {nodetest.T1, time.Time{}}} {
		res, err := n.Ingest(ctx, p, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, v.modified, nil)),
			node.IngestOptions{Label: "NATO UNCLASSIFIED", RetainUntil: v.until})
		if err != nil || len(res.Landed) != 1 {
			t.Fatalf("Ingest %s = %+v, %v", v.modified, res, err)
		}
	}
	clock.Set(clock.Now().Add(2 * time.Hour))
	if c, err := n.Retention.PurgeExpired(ctx); err != nil || c != 1 {
		t.Fatalf("PurgeExpired = %d, %v; want the one version due", c, err)
	}
	vs, err := n.Versions(ctx, p, id)
	if err != nil || len(vs) != 1 || vs[0].Modified != nodetest.T1 {
		t.Fatalf("versions after retention: %+v, %v; want %s alone", vs, err, nodetest.T1)
	}
	evs := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionObjectPurge })
	if len(evs) != 1 || evs[0].Count != 1 || evs[0].Detail != "instance=0 versions="+nodetest.T0 {
		t.Errorf("retention audit = %+v", evs)
	}
	if c, err := n.Retention.PurgeExpired(ctx); err != nil || c != 0 {
		t.Fatalf("PurgeExpired again = %d, %v", c, err)
	}
}

// Retention is per instance too: a SECRET version kept until a time (as an
// agreement's retention on what a partner sent would keep it) is purged
// when due, and the RESTRICTED user's instance of the same id, kept with no
// time, stays whole: neither user's versions are the other's to expire.
func TestRetentionSparesOtherInstances(t *testing.T) {
	ctx := t.Context()
	clock := nodetest.NewClock(time.Now())
	n := nodetest.NewWith(t, "gbr", "GBR", node.Options{Now: clock.Now})
	sam, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "sam", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}})
	rita, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	id := nodetest.NewID("threat-actor")
	if res, err := n.Ingest(ctx, sam, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T1, nil)),
		node.IngestOptions{Label: "NATO SECRET", RetainUntil: clock.Now().Add(time.Hour)}); err != nil || len(res.Landed) != 1 {
		t.Fatalf("sam's ingest = %+v, %v", res, err)
	}
	for _, mod := range []string{nodetest.T1, nodetest.T2} {
		if res, err := n.Ingest(ctx, rita, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, mod, nil)),
			node.IngestOptions{Label: "NATO RESTRICTED"}); err != nil || len(res.Landed) != 1 {
			t.Fatalf("rita's ingest %s = %+v, %v", mod, res, err)
		}
	}
	if vs, err := n.Versions(ctx, sam, id); err != nil || len(vs) != 3 {
		t.Fatalf("sam's versions before: %d, %v; want his one and rita's two", len(vs), err)
	}
	clock.Set(clock.Now().Add(2 * time.Hour))
	if c, err := n.Retention.PurgeExpired(ctx); err != nil || c != 1 {
		t.Fatalf("PurgeExpired = %d, %v; want sam's one version", c, err)
	}
	if _, err := n.Get(ctx, sam, id); err != nil {
		t.Fatalf("sam's GET after retention: %v; want rita's instance, which he may read", err)
	}
	vs, err := n.Versions(ctx, rita, id)
	if err != nil || len(vs) != 2 {
		t.Fatalf("rita's versions after retention: %d, %v; want her two, untouched", len(vs), err)
	}
	if vs, err := n.Versions(ctx, sam, id); err != nil || len(vs) != 2 {
		t.Fatalf("sam's versions after retention: %d, %v; want rita's two alone", len(vs), err)
	}
}

package oversight_test

import (
	"bytes"
	"context"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/oversight"
)

// TestRestoreJournalDeclaresRollback: the PostgreSQL restore path
// (RestoreJournal, with the replaced database's log read by the CLI) makes
// the rollback statement the first new entry when the replaced log was
// longer, and none when it was not.
func TestRestoreJournalDeclaresRollback(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	nodetest.AddUser(t, n, nodetest.AdminSpec())
	cur, err := oversight.ReadLogState(ctx, n.Store())
	if err != nil || cur.Size == 0 {
		t.Fatalf("log state: %+v, %v", cur, err)
	}
	// Not longer: no statement.
	if _, err := n.Oversight.RestoreJournal(ctx, "pg_restore", nil, &oversight.LogState{Size: cur.Size, Root: cur.Root}, ""); err != nil {
		t.Fatal(err)
	}
	if rbs, err := n.Store().AuditRollbacks(ctx); err != nil || len(rbs) != 0 {
		t.Fatalf("rollbacks after a restore of an equal log: %+v, %v", rbs, err)
	}
	cur, err = oversight.ReadLogState(ctx, n.Store())
	if err != nil {
		t.Fatal(err)
	}
	prev := &oversight.LogState{Size: cur.Size + 40, Root: bytes.Repeat([]byte{7}, 32)}
	if _, err := n.Oversight.RestoreJournal(ctx, "pg_restore", nil, prev, "disk lost"); err != nil {
		t.Fatal(err)
	}
	rbs, err := n.Store().AuditRollbacks(ctx)
	if err != nil || len(rbs) != 1 || rbs[0].OldSize != prev.Size || rbs[0].NewSize != cur.Size {
		t.Fatalf("rollbacks: %+v, %v; want %d to %d", rbs, err, prev.Size, cur.Size)
	}
	es, err := n.Store().AuditEntries(ctx, cur.Size, cur.Size+2)
	if err != nil || len(es) != 2 {
		t.Fatalf("entries after the restore: %d, %v", len(es), err)
	}
	first, err := audit.Parse(es[0].Data)
	if err != nil || first.Action != audit.ActionRollback {
		t.Fatalf("first new entry: %+v, %v; want %s", first, err, audit.ActionRollback)
	}
	if second, _ := audit.Parse(es[1].Data); second.Action != audit.ActionRestore {
		t.Fatalf("second new entry: %s, want %s", second.Action, audit.ActionRestore)
	}
	v, err := note.NewVerifier(n.AuditLogKey())
	if err != nil {
		t.Fatal(err)
	}
	r, err := witness.OpenRollback([]byte(first.Detail), v)
	if err != nil || r.OldSize != prev.Size || !bytes.Equal(r.OldRoot, prev.Root) || r.NewSize != cur.Size ||
		!bytes.Equal(r.NewRoot, cur.Root) || r.Reason != "disk lost" {
		t.Fatalf("the statement in the entry: %+v, %v", r, err)
	}
}

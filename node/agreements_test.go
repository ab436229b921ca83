package node

import (
	"context"
	"errors"
	"testing"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
)

func TestAgreementLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	n := f.n
	id := newID("threat-actor")
	f.ingestLabelled(t, actor(id, nil), "NATO SECRET // DISC SIGINT // TOPIC CYBER", nil)

	// Import refuses a document that does not name this node under its key.
	other := relDoc(n, "usa-fra", []string{"usa", "fra"}, relTable("USA", "FRA"), relTerms([]string{"usa", "fra"}, []string{"usa", "fra"}))
	other.Parties = other.Parties[1:]
	if _, err := n.ImportAgreement(ctx, f.admin, docJSON(t, other)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("import without this node: %v, want ErrInvalid", err)
	}
	wrongKey := relDoc(n, "gbr-deu", []string{"usa"}, relTable("GBR", "USA"), relTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
	wrongKey.Parties[0].PublicKey = wrongKey.Parties[1].PublicKey
	wrongKey.Parties[1].PublicKey = "ed25519:" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	if _, err := n.ImportAgreement(ctx, f.admin, docJSON(t, wrongKey)); err == nil {
		t.Fatal("import with another key for this node succeeded")
	}
	if _, err := n.ImportAgreement(ctx, f.ann, docJSON(t, other)); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst import: %v, want ErrForbidden", err)
	}

	// A half-signed agreement decides nothing: no activation, no release.
	d := relDoc(n, "gbr-usa-2", []string{"usa"}, relTable("GBR", "USA"), relTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
	if _, err := n.ImportAgreement(ctx, f.admin, docJSON(t, d)); err != nil {
		t.Fatal(err)
	}
	ai, err := n.SignAgreement(ctx, f.admin, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ai.Signed) != 1 || len(ai.Missing) != 1 || ai.Missing[0] != "usa" {
		t.Fatalf("after our signature: signed %v missing %v", ai.Signed, ai.Missing)
	}
	if _, err := n.TransitionAgreement(ctx, f.admin, d.ID, 1, agreement.StateProposed, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.TransitionAgreement(ctx, f.admin, d.ID, 1, agreement.StateActive, ""); !errors.Is(err, agreement.ErrUnsigned) {
		t.Fatalf("activate half-signed: %v, want ErrUnsigned", err)
	}
	res := mustExplain(t, n, f.ann, id, "usa", "analysis")
	for _, c := range res.Candidates {
		if c.Agreement == d.ID {
			t.Fatalf("half-signed agreement decided: %+v", c)
		}
	}
	// A signature over a different document does not verify.
	tampered := *d
	tampered.Title = "changed"
	s, _ := tampered.Sign("usa", partnerKey("usa"))
	tampered.Signatures = append(tampered.Signatures, s)
	if _, err := n.AddAgreementSignatures(ctx, f.admin, d.ID, 1, docJSON(t, &tampered)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered signature: %v, want ErrInvalid", err)
	}

	// Amendment: version 2 of gbr-usa supersedes version 1 at once.
	v2 := relDoc(n, "gbr-usa", []string{"usa"}, relTable("GBR", "USA"), relTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
	v2.Version = 2
	v2.Terms[0].Purposes = []string{"network-defence"}
	activate(t, n, f.admin, v2)
	v1, _, err := n.Agreement(ctx, f.admin, "gbr-usa", 1)
	if err != nil || v1.State != string(agreement.StateAmended) {
		t.Fatalf("v1 after amendment: %+v, %v", v1.State, err)
	}
	res = mustExplain(t, n, f.ann, id, "usa", "analysis")
	if res.Outcome != "refuse" || res.Agreement != "gbr-usa" || res.Version != 2 || !hasReason(res, "purpose") {
		t.Fatalf("after amendment, analysis: %+v", res)
	}
	if res := mustExplain(t, n, f.ann, id, "usa", "network-defence"); res.Outcome != "release" || res.Version != 2 {
		t.Fatalf("after amendment, network-defence: %+v", res)
	}

	// Every transition is in the history and the audit log.
	_, hist, err := n.Agreement(ctx, f.admin, "gbr-usa", 0)
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, h := range hist {
		moves = append(moves, h.From+">"+h.To+"@"+itoa(h.Version))
	}
	want := []string{"draft>proposed@1", "proposed>active@1", "draft>proposed@2", "active>amended@1", "proposed>active@2"}
	if !equalStrings(moves, want) {
		t.Fatalf("history %v, want %v", moves, want)
	}
	evs := findEvents(auditLog(t, n.st), func(e audit.Event) bool {
		return e.Action == audit.ActionAgreementTransition && (e.Subject == "gbr-usa@1" || e.Subject == "gbr-usa@2")
	})
	if len(evs) != len(want) {
		t.Fatalf("%d transition audit events, want %d", len(evs), len(want))
	}
	if len(findEvents(auditLog(t, n.st), func(e audit.Event) bool { return e.Action == audit.ActionReleaseExplain })) == 0 {
		t.Fatal("no audit entry for the dry runs")
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

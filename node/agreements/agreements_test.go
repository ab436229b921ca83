package agreements_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
)

func TestAgreementLifecycle(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	id := nodetest.NewID("threat-actor")
	f.IngestLabelled(t, nodetest.Actor(id, nil), "NATO SECRET // DISC SIGINT // TOPIC CYBER", nil)

	// Import refuses a document that does not name this node under its key.
	other := nodetest.RelDoc(n, "usa-fra", []string{"usa", "fra"}, nodetest.RelTable("USA", "FRA"), nodetest.RelTerms([]string{"usa", "fra"}, []string{"usa", "fra"}))
	other.Parties = other.Parties[1:]
	if _, err := n.Agreements.ImportAgreement(ctx, f.Admin, nodetest.DocJSON(t, other)); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("import without this node: %v, want ErrInvalid", err)
	}
	wrongKey := nodetest.RelDoc(n, "gbr-deu", []string{"usa"}, nodetest.RelTable("GBR", "USA"), nodetest.RelTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
	wrongKey.Parties[0].PublicKey = wrongKey.Parties[1].PublicKey
	wrongKey.Parties[1].PublicKey = "ed25519:" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	if _, err := n.Agreements.ImportAgreement(ctx, f.Admin, nodetest.DocJSON(t, wrongKey)); err == nil {
		t.Fatal("import with another key for this node succeeded")
	}
	if _, err := n.Agreements.ImportAgreement(ctx, f.Ann, nodetest.DocJSON(t, other)); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("analyst import: %v, want ErrForbidden", err)
	}

	// A half-signed agreement decides nothing: no activation, no release.
	d := nodetest.RelDoc(n, "gbr-usa-2", []string{"usa"}, nodetest.RelTable("GBR", "USA"), nodetest.RelTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
	if _, err := n.Agreements.ImportAgreement(ctx, f.Admin, nodetest.DocJSON(t, d)); err != nil {
		t.Fatal(err)
	}
	ai, err := n.Agreements.SignAgreement(ctx, f.Admin, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ai.Signed) != 1 || len(ai.Missing) != 1 || ai.Missing[0] != "usa" {
		t.Fatalf("after our signature: signed %v missing %v", ai.Signed, ai.Missing)
	}
	if _, err := n.Agreements.TransitionAgreement(ctx, f.Admin, d.ID, 1, agreement.StateProposed, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Agreements.TransitionAgreement(ctx, f.Admin, d.ID, 1, agreement.StateActive, ""); !errors.Is(err, agreement.ErrUnsigned) {
		t.Fatalf("activate half-signed: %v, want ErrUnsigned", err)
	}
	res := nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis")
	for _, c := range res.Candidates {
		if c.Agreement == d.ID {
			t.Fatalf("half-signed agreement decided: %+v", c)
		}
	}
	// A signature over a different document does not verify.
	tampered := *d
	tampered.Title = "changed"
	s, _ := tampered.Sign("usa", nodetest.PartnerKey("usa"))
	tampered.Signatures = append(tampered.Signatures, s)
	if _, err := n.Agreements.AddAgreementSignatures(ctx, f.Admin, d.ID, 1, nodetest.DocJSON(t, &tampered)); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("tampered signature: %v, want ErrInvalid", err)
	}

	// Amendment: version 2 of gbr-usa supersedes version 1 at once.
	v2 := nodetest.RelDoc(n, "gbr-usa", []string{"usa"}, nodetest.RelTable("GBR", "USA"), nodetest.RelTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
	v2.Version = 2
	v2.Terms[0].Purposes = []string{"network-defence"}
	nodetest.Activate(t, n, f.Admin, v2)
	v1, _, err := n.Agreements.Agreement(ctx, f.Admin, "gbr-usa", 1)
	if err != nil || v1.State != string(agreement.StateAmended) {
		t.Fatalf("v1 after amendment: %+v, %v", v1.State, err)
	}
	res = nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis")
	if res.Outcome != "refuse" || res.Agreement != "gbr-usa" || res.Version != 2 || !nodetest.HasReason(res, "purpose") {
		t.Fatalf("after amendment, analysis: %+v", res)
	}
	if res := nodetest.MustExplain(t, n, f.Ann, id, "usa", "network-defence"); res.Outcome != "release" || res.Version != 2 {
		t.Fatalf("after amendment, network-defence: %+v", res)
	}

	// Every transition is in the history and the audit log.
	_, hist, err := n.Agreements.Agreement(ctx, f.Admin, "gbr-usa", 0)
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, h := range hist {
		moves = append(moves, h.From+">"+h.To+"@"+strconv.Itoa(h.Version))
	}
	want := []string{"draft>proposed@1", "proposed>active@1", "draft>proposed@2", "active>amended@1", "proposed>active@2"}
	if !slices.Equal(moves, want) {
		t.Fatalf("history %v, want %v", moves, want)
	}
	evs := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool {
		return e.Action == audit.ActionAgreementTransition && (e.Subject == "gbr-usa@1" || e.Subject == "gbr-usa@2")
	})
	if len(evs) != len(want) {
		t.Fatalf("%d transition audit events, want %d", len(evs), len(want))
	}
	if len(nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionReleaseExplain })) == 0 {
		t.Fatal("no audit entry for the dry runs")
	}
}

package publish_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/publish"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/stixbuild"
)

// TestLabelsOfferOnlyWhatOneMayApply: every label offered passes the rule
// (policy.CanRead of the user), the default label comes first, and labels
// above the user's clearance, of another nationality or of compartments
// they do not hold are neither offered nor accepted.
func TestLabelsOfferOnlyWhatOneMayApply(t *testing.T) {
	n := nodetest.New(t, "gbr", "GBR")
	ctx := context.Background()
	p, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "CONFIDENTIAL"}, Compartments: []string{"HERON"}, DefaultLabel: "NATO RESTRICTED // REL TO FVEY"})
	reg := n.Registry()
	// Labels of objects rita may read are offered; a label of objects she
	// may not read is not.
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	nodetest.MustLand(t, n, admin, nodetest.SDO(nodetest.NewID("campaign"), nodetest.T0, nodetest.T0, nil), "NATO RESTRICTED // REL TO GBR, USA // DISC SIGINT")
	nodetest.MustLand(t, n, admin, nodetest.SDO(nodetest.NewID("campaign"), nodetest.T0, nodetest.T0, nil), "NATO SECRET // REL TO GBR, USA // DISC SIGINT")
	offered, err := n.Publish.Labels(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(offered) < 10 {
		t.Fatalf("offered %d labels", len(offered))
	}
	if got := reg.Banner(offered[0]); got != "NATO RESTRICTED // REL TO FVEY" {
		t.Errorf("first offered %q, want the default label", got)
	}
	banners := map[string]bool{}
	for _, l := range offered {
		b := reg.Banner(l)
		banners[b] = true
		if !policy.CanRead(reg, p.Subject, []label.Label{l}).Allow {
			t.Errorf("offered %q, which rita cannot read", b)
		}
		if _, err := n.Publish.Label(p, b); err != nil {
			t.Errorf("offered %q, which Label refuses: %v", b, err)
		}
	}
	for _, want := range []string{"NATO UNCLASSIFIED", "NATO CONFIDENTIAL // REL TO GBR", "NATO CONFIDENTIAL // COMPARTMENTS HERON", "NATO RESTRICTED // REL TO GBR, USA // DISC SIGINT"} {
		if !banners[want] {
			t.Errorf("%q not offered; offered %v", want, offered)
		}
	}
	for _, no := range []string{"NATO SECRET", "NATO SECRET // REL TO GBR, USA // DISC SIGINT", "GBR OFFICIAL", "NATO RESTRICTED // REL TO USA", "NATO RESTRICTED // COMPARTMENTS KESTREL"} {
		if banners[no] {
			t.Errorf("%q offered", no)
		}
		_, err := n.Publish.Label(p, no)
		if !errors.Is(err, node.ErrForbidden) || !errors.Is(err, publish.ErrLabel) {
			t.Errorf("Label(%q) = %v, want a refusal", no, err)
		}
	}
	if _, err := n.Publish.Label(p, "NATO GREEN"); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("Label of a banner that parses to nothing: %v", err)
	}
	// Nothing is published under a label one may not apply.
	id := nodetest.NewID("threat-actor")
	if _, err := n.Publish.Bundle(ctx, p, nodetest.SDO(id, nodetest.T0, nodetest.T0, nil), "NATO SECRET"); !errors.Is(err, publish.ErrLabel) {
		t.Fatalf("Bundle under NATO SECRET: %v", err)
	}
	if _, err := n.Publish.Indicator(ctx, p, stixbuild.IndicatorInput{Value: "198.51.100.9"}, "NATO SECRET"); !errors.Is(err, publish.ErrLabel) {
		t.Fatalf("Indicator under NATO SECRET: %v", err)
	}
	if _, err := n.Get(ctx, admin, id); !nodetest.IsNotFound(err) {
		t.Errorf("the refused bundle's object was stored: %v", err)
	}
	// Each refusal is audited as ingest's are, with its reasons.
	evs := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool {
		return e.Action == audit.ActionIngestRefuse && e.Actor == p.Actor() && slices.Contains(e.Reasons, "label")
	})
	if len(evs) != 2 || !slices.Contains(evs[0].Reasons, string(policy.ReasonClearance)) || evs[0].Decision != audit.Refuse {
		t.Errorf("label refusals audited: %+v", evs)
	}
	// An auditor publishes nothing and is offered nothing.
	aud, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "otto", Role: node.RoleAuditor, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	if l, err := n.Publish.Labels(ctx, aud); err != nil || len(l) != 0 {
		t.Errorf("an auditor is offered %d labels", len(l))
	}
}

// TestIndicatorAndReport: an indicator lands under the picked label; a
// report over it lands; a report with a ref the user may not read is
// refused exactly as one with a ref that does not exist, and nothing is
// stored.
func TestIndicatorAndReport(t *testing.T) {
	n := nodetest.New(t, "gbr", "GBR")
	ctx := context.Background()
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	p, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	res, err := n.Publish.Indicator(ctx, p, stixbuild.IndicatorInput{Value: "evil[.]example.com", Types: []string{"malicious-activity"}}, "NATO RESTRICTED // REL TO GBR")
	if err != nil || len(res.Landed) != 1 {
		t.Fatalf("indicator: %+v %v", res, err)
	}
	ind := res.Landed[0].ID
	o, err := n.Get(ctx, p, ind)
	if err != nil {
		t.Fatal(err)
	}
	if want := nodetest.MustLabel(t, n, "NATO RESTRICTED // REL TO GBR").ID(); !slices.Equal(o.Labels, []string{want}) {
		t.Errorf("indicator labels %v, want %s", o.Labels, want)
	}
	if !strings.Contains(string(o.Raw), `"pattern":"[domain-name:value = 'evil.example.com']"`) {
		t.Errorf("indicator %s", o.Raw)
	}
	if _, err := n.Publish.Indicator(ctx, p, stixbuild.IndicatorInput{Value: "not a value"}, ""); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("a malformed value: %v", err)
	}

	secret := nodetest.NewID("campaign")
	nodetest.MustLand(t, n, admin, nodetest.SDO(secret, nodetest.T0, nodetest.T0, nil), "NATO SECRET")
	missing := nodetest.NewID("campaign")
	var answers []string
	for _, ref := range []string{secret, missing} {
		res, err := n.Publish.Report(ctx, p, stixbuild.ReportInput{Name: "weekly", Refs: []string{ind, ref}}, "NATO RESTRICTED")
		if err != nil || len(res.Landed) != 0 || len(res.Refused) != 2 {
			t.Fatalf("report over %s: %+v %v", ref, res, err)
		}
		rid := res.Refused[0].ID
		if _, err := n.Get(ctx, admin, rid); !nodetest.IsNotFound(err) {
			t.Errorf("the refused report was stored: %v", err)
		}
		answers = append(answers, strings.ReplaceAll(nodetest.FmtRefusals(res.Refused), rid, "REPORT"))
	}
	if evs := nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool {
		return e.Action == audit.ActionIngestRefuse && e.Actor == p.Actor() && slices.Contains(e.Reasons, "object_refs")
	}); len(evs) != 2 {
		t.Errorf("refused reports audited: %+v", evs)
	}
	if answers[0] != answers[1] {
		t.Errorf("a hidden ref is answered\n%s\nand a missing one\n%s", answers[0], answers[1])
	}
	if strings.Contains(answers[0], secret) {
		t.Errorf("the refusal names the hidden id: %s", answers[0])
	}
	res, err = n.Publish.Report(ctx, p, stixbuild.ReportInput{Name: "weekly", Refs: []string{ind}}, "NATO RESTRICTED")
	if err != nil || len(res.Landed) != 1 {
		t.Fatalf("report: %+v %v", res, err)
	}
}

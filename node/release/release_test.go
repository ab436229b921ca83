package release_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
)

const okBanner = nodetest.OKBanner

// TestReleaseRefusalReasons checks that each refusal reason reaches the
// caller of Explain and Release, with its words.
func TestReleaseRefusalReasons(t *testing.T) {
	f := nodetest.NewRelFixture(t)
	n := f.N
	hop := store.Hop{Agreement: "gbr-usa", Version: 1, From: "usa", To: "gbr"}
	cases := []struct {
		name, banner, party, purpose string
		extra                        map[string]any
		setup                        func(id string)
		reason                       string
	}{
		{name: "purpose", banner: okBanner, party: "usa", purpose: "law-enforcement", reason: "purpose"},
		{name: "classification", banner: "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER", party: "usa", reason: "classification"},
		{name: "topic", banner: "NATO SECRET // DISC SIGINT // TOPIC MILITARY", party: "usa", reason: "topic"},
		{name: "discipline", banner: "NATO SECRET // DISC HUMINT // TOPIC CYBER", party: "usa", reason: "discipline"},
		{name: "tlp", banner: okBanner + " // TLP:RED", party: "usa", reason: "tlp"},
		{name: "releasability", banner: "NATO SECRET // REL TO GBR, FRA // DISC SIGINT // TOPIC CYBER", party: "usa", reason: "releasability"},
		{name: "originator-only", banner: "GBR SECRET // NOFORN // DISC SIGINT // TOPIC CYBER", party: "usa", reason: "originator-only"},
		{name: "compartment", banner: "NATO SECRET // COMPARTMENTS KESTREL // DISC SIGINT // TOPIC CYBER", party: "usa", reason: "compartment"},
		{name: "no-equivalence", banner: "GBR SECRET // DISC SIGINT // TOPIC CYBER", party: "fra", reason: "no-equivalence"},
		{name: "no-terms", banner: okBanner, party: "deu", reason: "no-terms"},
		{name: "condition", banner: okBanner, party: "usa", extra: map[string]any{"x_no_release": true}, reason: "condition"},
		{name: "provenance", banner: okBanner, party: "usa", setup: func(id string) {
			f.Foreign(t, id, "usa", store.Hop{Agreement: "usa-fra", Version: 1, From: "usa", To: "gbr"})
		}, reason: "provenance"},
		{name: "orcon", banner: "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER", party: "fra", setup: func(id string) { f.Foreign(t, id, "usa", hop) }, reason: "orcon"},
		{name: "third-party", banner: "NATO CONFIDENTIAL // DISC SIGINT // TOPIC CYBER", party: "fra", setup: func(id string) { f.Foreign(t, id, "usa", hop) }, reason: "third-party"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), c.extra), c.banner, nil)
			if c.setup != nil {
				c.setup(id)
			}
			purpose := c.purpose
			if purpose == "" {
				purpose = "analysis"
			}
			res := nodetest.MustExplain(t, n, f.Ann, id, c.party, purpose)
			if res.Outcome != "refuse" || !nodetest.HasReason(res, c.reason) {
				t.Fatalf("explain: %s %v, want refuse with %s", res.Outcome, res.Reasons, c.reason)
			}
			if len(res.Words) != len(res.Reasons) || res.Words[0] == res.Reasons[0] {
				t.Fatalf("reasons not in words: %v", res.Words)
			}
			rel, err := n.Releases.Release(context.Background(), f.Ann, id, c.party, purpose)
			if err != nil {
				t.Fatal(err)
			}
			// The refusal is in the ledger; its sequence number is not in
			// an analyst's answer (it counts releases of every level).
			if rel.Outcome != "refuse" || !nodetest.HasReason(rel, c.reason) || rel.Ledger != 0 {
				t.Fatalf("release: %+v", rel)
			}
			if led, err := n.Store().Ledger(context.Background(), store.LedgerQuery{ObjectID: id}); err != nil || len(led) == 0 || led[len(led)-1].Outcome != store.LedgerRefuse {
				t.Fatalf("ledger after the refusal: %+v %v", led, err)
			}
		})
	}
}

// TestLabelTranslation: a national label is compared through the
// equivalence table: GBR SECRET is NATO SECRET, within the terms; GBR TOP
// SECRET is above them.
func TestLabelTranslation(t *testing.T) {
	f := nodetest.NewRelFixture(t)
	sec := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "GBR SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", nil)
	ts := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "GBR TOP SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", nil)
	if res := nodetest.MustExplain(t, f.N, f.Ann, sec, "usa", "analysis"); res.Outcome != "release" {
		t.Fatalf("GBR SECRET to usa: %+v", res)
	}
	if res := nodetest.MustExplain(t, f.N, f.Ann, ts, "usa", "analysis"); res.Outcome != "refuse" || !nodetest.HasReason(res, "classification") {
		t.Fatalf("GBR TOP SECRET to usa: %+v", res)
	}
}

// TestTearline: parts above the terms are cut, refs to objects the party
// may not receive are dropped, and the result is a new, valid, bound STIX
// object linked to the original by derived-from.
func TestTearline(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	okRef := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), okBanner, nil)
	secretRef := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER", nil)
	unknownRef := nodetest.NewID("malware")
	rep := map[string]any{"type": "report", "spec_version": "2.1", "id": nodetest.NewID("report"), "created": nodetest.T0, "modified": nodetest.T1,
		"name": "Operation Heron", "published": nodetest.T1, "description": "source HERON-7 reports the implant",
		"object_refs": []any{okRef, secretRef, unknownRef}}
	id := f.IngestLabelled(t, rep, okBanner, map[string]string{"description": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})

	ex := nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis")
	if ex.Outcome != "tearline" || !nodetest.HasReason(ex, "parts-cut") || len(ex.Cut) != 1 || ex.Cut[0] != "description" {
		t.Fatalf("explain: %+v", ex)
	}
	res := nodetest.MustRelease(t, n, f.Ann, id, "usa")
	if res.Outcome != "tearline" || res.Tearline == "" || res.Tearline == id {
		t.Fatalf("release: %+v", res)
	}
	again := nodetest.MustRelease(t, n, f.Ann, id, "usa")
	if again.Tearline != res.Tearline {
		t.Fatalf("tearline id not stable: %s then %s", res.Tearline, again.Tearline)
	}

	obj, err := n.Get(ctx, f.Admin, res.Tearline)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stix.ValidateObject(obj.Raw); err != nil {
		t.Fatalf("tearline does not validate: %v\n%s", err, obj.Raw)
	}
	relValidate(t, relSchema(t, "sdos/report.json"), "tearline", obj.Raw)
	s := string(obj.Raw)
	if x := containsAny(s, "HERON-7", "description", secretRef, unknownRef, `"id":"`+id); x != "" {
		t.Fatalf("tearline carries removed content %q:\n%s", x, s)
	}
	if !strings.Contains(s, okRef) {
		t.Fatalf("tearline lost the releasable ref:\n%s", s)
	}
	// Bound by this node, as an alternative derived from the original's binding.
	var bs []json.RawMessage
	if err := json.Unmarshal(obj.Bindings, &bs); err != nil || len(bs) != 1 {
		t.Fatalf("bindings: %v %s", err, obj.Bindings)
	}
	b, err := binding.Parse(bs[0])
	if err != nil {
		t.Fatal(err)
	}
	orig, err := n.Get(ctx, f.Admin, id)
	if err != nil {
		t.Fatal(err)
	}
	var obs []json.RawMessage
	_ = json.Unmarshal(orig.Bindings, &obs)
	ob, _ := binding.Parse(obs[0])
	if b.Kind != binding.KindAlternative || b.DerivedFromRef != ob.ID || b.Node != "gbr" {
		t.Fatalf("tearline binding: kind %s derived %s node %s", b.Kind, b.DerivedFromRef, b.Node)
	}
	canon, _ := jcs.Canonicalize(obj.Raw)
	if err := nodetest.Keyring(t, n).Verify(b, canon, nil); err != nil {
		// Labels are looked up from the store by Verify's callers; check the signature at least.
		if !strings.Contains(err.Error(), "label") {
			t.Fatalf("tearline binding does not verify: %v", err)
		}
	}
	if err := binding.CheckDerivation(b, ob); err != nil {
		t.Fatalf("derivation: %v", err)
	}
	// Labelled at what remains: NATO SECRET, not TOP SECRET.
	if len(obj.Labels) != 1 || obj.Labels[0] != nodetest.MustLabel(t, n, okBanner).ID() {
		t.Fatalf("tearline labels %v", obj.Labels)
	}
	// The derived-from relationship.
	page, err := n.List(ctx, f.Admin, node.ListOptions{Types: []string{"relationship"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range page.Objects {
		var r map[string]any
		_ = json.Unmarshal(o.Raw, &r)
		if r["relationship_type"] == "derived-from" && r["source_ref"] == res.Tearline && r["target_ref"] == id {
			found = true
			relValidate(t, relSchema(t, "sros/relationship.json"), "derived-from", o.Raw)
		}
	}
	if !found {
		t.Fatal("no derived-from relationship")
	}
	led, err := n.Releases.Ledger(ctx, f.Auditor, store.LedgerQuery{ObjectID: id})
	if err != nil || len(led) != 2 || led[0].Outcome != store.LedgerTearline || led[0].TearlineID != res.Tearline {
		t.Fatalf("ledger: %+v, %v", led, err)
	}
}

// TestTearlineNothingRemains: a note whose content is cut is no note: the
// release is refused.
func TestTearlineNothingRemains(t *testing.T) {
	f := nodetest.NewRelFixture(t)
	target := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), okBanner, nil)
	note := map[string]any{"type": "note", "spec_version": "2.1", "id": nodetest.NewID("note"), "created": nodetest.T0, "modified": nodetest.T0,
		"content": "the secret part", "object_refs": []any{target}}
	id := f.IngestLabelled(t, note, okBanner, map[string]string{"content": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})
	res := nodetest.MustRelease(t, f.N, f.Ann, id, "usa")
	if res.Outcome != "refuse" || !nodetest.HasReason(res, release.ReasonNothingRemains) || res.Tearline != "" {
		t.Fatalf("release: %+v", res)
	}
}

// TestTwoPersonApproval: two distinct releasers, neither the requester;
// the same person twice does not count.
func TestTwoPersonApproval(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	id := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), okBanner, nil)
	res := nodetest.MustRelease(t, n, f.Rob, id, "fra")
	if res.Outcome != "hold" || res.Approvals != 2 || res.Request == "" || !nodetest.HasReason(res, "two-person") {
		t.Fatalf("request: %+v", res)
	}
	if _, err := n.Releases.ApproveRelease(ctx, f.Rob, res.Request); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("requester approves: %v, want ErrForbidden", err)
	}
	if _, err := n.Releases.ApproveRelease(ctx, f.Ann, res.Request); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("analyst approves: %v, want ErrForbidden", err)
	}
	a1, err := n.Releases.ApproveRelease(ctx, f.Rita, res.Request)
	if err != nil || a1.Outcome != "hold" {
		t.Fatalf("first approval: %+v, %v", a1, err)
	}
	if _, err := n.Releases.ApproveRelease(ctx, f.Rita, res.Request); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("same releaser twice: %v, want ErrInvalid", err)
	}
	q, _ := n.Store().ReleaseRequest(ctx, res.Request)
	if q.State != store.RequestPending || len(q.Approvals) != 1 {
		t.Fatalf("after a repeated approval: %+v", q)
	}
	// A third releaser completes it.
	ray, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "ray", Role: node.RoleReleaser, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	a2, err := n.Releases.ApproveRelease(ctx, ray, res.Request)
	if err != nil || a2.Outcome != "release" || a2.Ledger != 0 {
		t.Fatalf("second approval: %+v, %v (a releaser's answer carries no ledger sequence number)", a2, err)
	}
	q, _ = n.Store().ReleaseRequest(ctx, res.Request)
	if q.State != store.RequestReleased || len(q.Approvals) != 2 {
		t.Fatalf("request after release: %+v", q)
	}
	if _, err := n.Releases.ApproveRelease(ctx, f.Admin, res.Request); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("admin approves: %v", err)
	}
	// Refusal with a reason.
	r2 := nodetest.MustRelease(t, n, f.Ann, id, "fra")
	if _, err := n.Releases.RefuseRelease(ctx, f.Rob, r2.Request, ""); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("refuse without reason: %v", err)
	}
	if rr, err := n.Releases.RefuseRelease(ctx, f.Rob, r2.Request, "source protection"); err != nil || rr.Outcome != "refuse" {
		t.Fatalf("refuse: %+v, %v", rr, err)
	}
	if _, err := n.Releases.ApproveRelease(ctx, f.Rita, r2.Request); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("approve a refused request: %v", err)
	}
	evs := nodetest.AuditLog(t, n.Store())
	for _, a := range []string{audit.ActionReleaseRequest, audit.ActionReleaseApprove, audit.ActionReleaseRefuse, audit.ActionReleaseDecide} {
		if len(nodetest.FindEvents(evs, func(e audit.Event) bool { return e.Action == a })) == 0 {
			t.Errorf("no %s audit entry", a)
		}
	}
}

// TestSuspensionAndExpiryImmediate: a suspension or expiry takes effect at
// the next decision, including between a request and its approval.
func TestSuspensionAndExpiryImmediate(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	id := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), okBanner, nil)
	req := nodetest.MustRelease(t, n, f.Ann, id, "fra")
	if req.Outcome != "hold" {
		t.Fatalf("request: %+v", req)
	}
	if res := nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis"); res.Outcome != "release" {
		t.Fatalf("before suspension: %+v", res)
	}
	for _, a := range []string{"gbr-usa", "gbr-fra"} {
		if _, err := n.Agreements.TransitionAgreement(ctx, f.Admin, a, 1, agreement.StateSuspended, "dispute"); err != nil {
			t.Fatal(err)
		}
	}
	if res := nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis"); res.Outcome != "refuse" || !nodetest.HasReason(res, "agreement-suspended") {
		t.Fatalf("after suspension: %+v", res)
	}
	_, err := n.Releases.ApproveRelease(ctx, f.Rob, req.Request)
	if !errors.Is(err, node.ErrNotReleased) {
		t.Fatalf("approval after suspension: %v, want ErrNotReleased", err)
	}
	q, _ := n.Store().ReleaseRequest(ctx, req.Request)
	if q.State != store.RequestRefused {
		t.Fatalf("request after failed approval: %+v", q)
	}
	if _, err := n.Agreements.TransitionAgreement(ctx, f.Admin, "gbr-usa", 1, agreement.StateActive, "resolved"); err != nil {
		t.Fatal(err)
	}
	if res := nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis"); res.Outcome != "release" {
		t.Fatalf("after resumption: %+v", res)
	}
	// Expiry: nobody records it; the first decision after it refuses.
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Clock.Set(later)
	if res := nodetest.MustExplain(t, n, f.Ann, id, "usa", "analysis"); res.Outcome != "refuse" || !nodetest.HasReason(res, "agreement-expired") {
		t.Fatalf("after expiry: %+v", res)
	}
	if _, err := n.Agreements.TransitionAgreement(ctx, f.Admin, "gbr-usa", 1, agreement.StateExpired, ""); err != nil {
		t.Fatal(err)
	}
}

// TestOriginatorControl: ORCON material from another originator goes only
// with its recorded consent; the third-party rule holds over provenance;
// our own ORCON needs a releaser.
func TestOriginatorControl(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	hop := store.Hop{Agreement: "gbr-usa", Version: 1, From: "usa", To: "gbr"}
	orcon := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER", nil)
	f.Foreign(t, orcon, "usa", hop)
	plain := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO CONFIDENTIAL // DISC SIGINT // TOPIC CYBER", nil)
	f.Foreign(t, plain, "usa", hop)

	res := nodetest.MustRelease(t, n, f.Ann, orcon, "fra")
	if res.Outcome != "refuse" || !nodetest.HasReason(res, "orcon") || !nodetest.HasReason(res, "third-party") {
		t.Fatalf("ORCON without consent: %+v", res)
	}
	if _, err := n.Releases.RecordConsent(ctx, f.Rob, orcon, "fra", "fra"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("consent by a non-originator: %v", err)
	}
	if _, err := n.Releases.RecordConsent(ctx, f.Ann, orcon, "usa", "fra"); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("analyst records consent: %v", err)
	}
	for _, id := range []string{orcon, plain} {
		if _, err := n.Releases.RecordConsent(ctx, f.Rob, id, "usa", "fra"); err != nil {
			t.Fatal(err)
		}
	}
	if res := nodetest.MustRelease(t, n, f.Ann, orcon, "fra"); res.Outcome != "release" {
		t.Fatalf("ORCON with consent: %+v", res)
	}
	if res := nodetest.MustRelease(t, n, f.Ann, plain, "fra"); res.Outcome != "release" {
		t.Fatalf("third party with consent: %+v", res)
	}
	// Our own ORCON: a releaser must approve.
	own := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER", nil)
	if res := nodetest.MustExplain(t, n, f.Ann, own, "usa", "analysis"); res.Outcome != "hold" || !nodetest.HasReason(res, "originator-review") {
		t.Fatalf("own ORCON: %+v", res)
	}
	if len(nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionConsentRecord })) != 2 {
		t.Fatal("consents not audited")
	}
}

// TestLedger: per object every party, agreement and term; the auditor reads
// it without being able to read the object.
func TestLedger(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	n := f.N
	id := f.IngestLabelled(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO CONFIDENTIAL // DISC SIGINT // TOPIC CYBER", nil)
	nodetest.MustRelease(t, n, f.Ann, id, "usa")
	nodetest.MustRelease(t, n, f.Ann, id, "fra")
	nodetest.MustRelease(t, n, f.Ann, id, "deu")
	led, err := n.Releases.Ledger(ctx, f.Auditor, store.LedgerQuery{ObjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range led {
		got = append(got, e.Party+":"+e.Agreement+":"+strconv.Itoa(e.AgreementVersion)+":"+e.Outcome)
		if len(e.Labels) == 0 || e.Term != 0 && e.Outcome != store.LedgerRefuse {
			t.Errorf("entry without labels or term: %+v", e)
		}
	}
	want := []string{"usa:gbr-usa:1:release", "fra:gbr-fra:1:release", "deu::0:refuse"}
	if !slices.Equal(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
	byAgreement, err := n.Releases.Ledger(ctx, f.Auditor, store.LedgerQuery{Agreement: "gbr-usa", From: nodetest.RelNow.Add(-time.Hour), To: nodetest.RelNow.Add(time.Hour)})
	if err != nil || len(byAgreement) != 1 {
		t.Fatalf("by agreement: %+v, %v", byAgreement, err)
	}
	if _, err := n.Get(ctx, f.Auditor, id); !nodetest.IsNotFound(err) {
		t.Fatalf("auditor reads the object: %v", err)
	}
	if _, err := n.Releases.Ledger(ctx, f.Ann, store.LedgerQuery{ObjectID: id}); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("analyst reads the ledger: %v", err)
	}
	if _, err := n.Releases.Release(ctx, f.Auditor, id, "usa", "analysis"); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("auditor releases: %v", err)
	}
	// An object the requester may not read does not exist for them.
	low, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "low", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	if _, err := n.Releases.Explain(ctx, low, id, "usa", "analysis"); !nodetest.IsNotFound(err) {
		t.Fatalf("explain of an unreadable object: %v", err)
	}
	if len(nodetest.FindEvents(nodetest.AuditLog(t, n.Store()), func(e audit.Event) bool { return e.Action == audit.ActionLedgerRead })) != 2 {
		t.Fatal("ledger reads not audited")
	}
}

// TestTearlineNestedRefs: references nested in an extension are filtered
// like top-level ones, so a tearline names no object the party may not
// receive, and markings nested in granular_markings stay.
func TestTearlineNestedRefs(t *testing.T) {
	ctx := context.Background()
	f := nodetest.NewRelFixture(t)
	file := func(name string) map[string]any {
		sum := sha256.Sum256([]byte(name))
		return map[string]any{"type": "file", "spec_version": "2.1", "id": nodetest.NewID("file"), "name": name,
			"hashes": map[string]any{"SHA-256": hex.EncodeToString(sum[:])}}
	}
	okRef := f.IngestLabelled(t, file("ok.bin"), okBanner, nil)
	secretRef := f.IngestLabelled(t, file("secret.bin"), "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER", nil)
	unknownRef := nodetest.NewID("file")
	archive := file("harbour-swift-implant.zip")
	archive["extensions"] = map[string]any{"archive-ext": map[string]any{
		"contains_refs": []any{okRef, secretRef, unknownRef}, "comment": "dropper bundle"}}
	// A foreign marking on one property: TLP:AMBER, by its STIX id.
	const amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	archive["granular_markings"] = []any{map[string]any{"selectors": []any{"hashes"}, "marking_ref": amber}}
	id := f.IngestLabelled(t, archive, okBanner, map[string]string{"name": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})

	res := nodetest.MustRelease(t, f.N, f.Ann, id, "usa")
	if res.Outcome != "tearline" || res.Tearline == "" {
		t.Fatalf("release: %+v", res)
	}
	obj, err := f.N.Get(ctx, f.Admin, res.Tearline)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stix.ValidateObject(obj.Raw); err != nil {
		t.Fatalf("tearline does not validate: %v\n%s", err, obj.Raw)
	}
	s := string(obj.Raw)
	if x := containsAny(s, "harbour-swift-implant", secretRef, unknownRef); x != "" {
		t.Fatalf("tearline carries removed content %q:\n%s", x, s)
	}
	if !strings.Contains(s, okRef) || !strings.Contains(s, "dropper bundle") || !strings.Contains(s, amber) {
		t.Fatalf("tearline lost the releasable ref, the extension's other properties or the TLP marking:\n%s", s)
	}
}

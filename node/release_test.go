package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
)

const okBanner = "NATO SECRET // DISC SIGINT // TOPIC CYBER"

// TestReleaseRefusalReasons checks that each refusal reason reaches the
// caller of Explain and Release, with its words.
func TestReleaseRefusalReasons(t *testing.T) {
	f := newRelFixture(t)
	n := f.n
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
			f.foreign(t, id, "usa", store.Hop{Agreement: "usa-fra", Version: 1, From: "usa", To: "gbr"})
		}, reason: "provenance"},
		{name: "orcon", banner: "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER", party: "fra", setup: func(id string) { f.foreign(t, id, "usa", hop) }, reason: "orcon"},
		{name: "third-party", banner: "NATO CONFIDENTIAL // DISC SIGINT // TOPIC CYBER", party: "fra", setup: func(id string) { f.foreign(t, id, "usa", hop) }, reason: "third-party"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := f.ingestLabelled(t, actor(newID("threat-actor"), c.extra), c.banner, nil)
			if c.setup != nil {
				c.setup(id)
			}
			purpose := c.purpose
			if purpose == "" {
				purpose = "analysis"
			}
			res := mustExplain(t, n, f.ann, id, c.party, purpose)
			if res.Outcome != "refuse" || !hasReason(res, c.reason) {
				t.Fatalf("explain: %s %v, want refuse with %s", res.Outcome, res.Reasons, c.reason)
			}
			if len(res.Words) != len(res.Reasons) || res.Words[0] == res.Reasons[0] {
				t.Fatalf("reasons not in words: %v", res.Words)
			}
			rel, err := n.Release(context.Background(), f.ann, id, c.party, purpose)
			if err != nil {
				t.Fatal(err)
			}
			// The refusal is in the ledger; its sequence number is not in
			// an analyst's answer (it counts releases of every level).
			if rel.Outcome != "refuse" || !hasReason(rel, c.reason) || rel.Ledger != 0 {
				t.Fatalf("release: %+v", rel)
			}
			if led, err := n.st.Ledger(context.Background(), store.LedgerQuery{ObjectID: id}); err != nil || len(led) == 0 || led[len(led)-1].Outcome != store.LedgerRefuse {
				t.Fatalf("ledger after the refusal: %+v %v", led, err)
			}
		})
	}
}

// TestLabelTranslation: a national label is compared through the
// equivalence table: GBR SECRET is NATO SECRET, within the terms; GBR TOP
// SECRET is above them.
func TestLabelTranslation(t *testing.T) {
	f := newRelFixture(t)
	sec := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "GBR SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", nil)
	ts := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "GBR TOP SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", nil)
	if res := mustExplain(t, f.n, f.ann, sec, "usa", "analysis"); res.Outcome != "release" {
		t.Fatalf("GBR SECRET to usa: %+v", res)
	}
	if res := mustExplain(t, f.n, f.ann, ts, "usa", "analysis"); res.Outcome != "refuse" || !hasReason(res, "classification") {
		t.Fatalf("GBR TOP SECRET to usa: %+v", res)
	}
}

// TestTearline: parts above the terms are cut, refs to objects the party
// may not receive are dropped, and the result is a new, valid, bound STIX
// object linked to the original by derived-from.
func TestTearline(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	n := f.n
	okRef := f.ingestLabelled(t, actor(newID("threat-actor"), nil), okBanner, nil)
	secretRef := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER", nil)
	unknownRef := newID("malware")
	rep := map[string]any{"type": "report", "spec_version": "2.1", "id": newID("report"), "created": t0, "modified": t1,
		"name": "Operation Heron", "published": t1, "description": "source HERON-7 reports the implant",
		"object_refs": []any{okRef, secretRef, unknownRef}}
	id := f.ingestLabelled(t, rep, okBanner, map[string]string{"description": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})

	ex := mustExplain(t, n, f.ann, id, "usa", "analysis")
	if ex.Outcome != "tearline" || !hasReason(ex, "parts-cut") || len(ex.Cut) != 1 || ex.Cut[0] != "description" {
		t.Fatalf("explain: %+v", ex)
	}
	res := mustRelease(t, n, f.ann, id, "usa")
	if res.Outcome != "tearline" || res.Tearline == "" || res.Tearline == id {
		t.Fatalf("release: %+v", res)
	}
	again := mustRelease(t, n, f.ann, id, "usa")
	if again.Tearline != res.Tearline {
		t.Fatalf("tearline id not stable: %s then %s", res.Tearline, again.Tearline)
	}

	obj, err := n.Get(ctx, f.admin, res.Tearline)
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
	orig, err := n.Get(ctx, f.admin, id)
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
	if err := testKeyring(t, n).Verify(b, canon, nil); err != nil {
		// Labels are looked up from the store by Verify's callers; check the signature at least.
		if !strings.Contains(err.Error(), "label") {
			t.Fatalf("tearline binding does not verify: %v", err)
		}
	}
	if err := binding.CheckDerivation(b, ob); err != nil {
		t.Fatalf("derivation: %v", err)
	}
	// Labelled at what remains: NATO SECRET, not TOP SECRET.
	if len(obj.Labels) != 1 || obj.Labels[0] != mustLabel(t, n, okBanner).ID() {
		t.Fatalf("tearline labels %v", obj.Labels)
	}
	// The derived-from relationship.
	page, err := n.List(ctx, f.admin, ListOptions{Types: []string{"relationship"}})
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
	led, err := n.Ledger(ctx, f.auditor, store.LedgerQuery{ObjectID: id})
	if err != nil || len(led) != 2 || led[0].Outcome != store.LedgerTearline || led[0].TearlineID != res.Tearline {
		t.Fatalf("ledger: %+v, %v", led, err)
	}
}

// TestTearlineNothingRemains: a note whose content is cut is no note: the
// release is refused.
func TestTearlineNothingRemains(t *testing.T) {
	f := newRelFixture(t)
	target := f.ingestLabelled(t, actor(newID("threat-actor"), nil), okBanner, nil)
	note := map[string]any{"type": "note", "spec_version": "2.1", "id": newID("note"), "created": t0, "modified": t0,
		"content": "the secret part", "object_refs": []any{target}}
	id := f.ingestLabelled(t, note, okBanner, map[string]string{"content": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})
	res := mustRelease(t, f.n, f.ann, id, "usa")
	if res.Outcome != "refuse" || !hasReason(res, reasonNothingRemains) || res.Tearline != "" {
		t.Fatalf("release: %+v", res)
	}
}

// TestTwoPersonApproval: two distinct releasers, neither the requester;
// the same person twice does not count.
func TestTwoPersonApproval(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	n := f.n
	id := f.ingestLabelled(t, actor(newID("threat-actor"), nil), okBanner, nil)
	res := mustRelease(t, n, f.rob, id, "fra")
	if res.Outcome != "hold" || res.Approvals != 2 || res.Request == "" || !hasReason(res, "two-person") {
		t.Fatalf("request: %+v", res)
	}
	if _, err := n.ApproveRelease(ctx, f.rob, res.Request); !errors.Is(err, ErrForbidden) {
		t.Fatalf("requester approves: %v, want ErrForbidden", err)
	}
	if _, err := n.ApproveRelease(ctx, f.ann, res.Request); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst approves: %v, want ErrForbidden", err)
	}
	a1, err := n.ApproveRelease(ctx, f.rita, res.Request)
	if err != nil || a1.Outcome != "hold" {
		t.Fatalf("first approval: %+v, %v", a1, err)
	}
	if _, err := n.ApproveRelease(ctx, f.rita, res.Request); !errors.Is(err, ErrInvalid) {
		t.Fatalf("same releaser twice: %v, want ErrInvalid", err)
	}
	q, _ := n.st.ReleaseRequest(ctx, res.Request)
	if q.State != store.RequestPending || len(q.Approvals) != 1 {
		t.Fatalf("after a repeated approval: %+v", q)
	}
	// A third releaser completes it.
	ray, _ := addUser(t, n, UserSpec{Name: "ray", Role: RoleReleaser, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	a2, err := n.ApproveRelease(ctx, ray, res.Request)
	if err != nil || a2.Outcome != "release" || a2.Ledger != 0 {
		t.Fatalf("second approval: %+v, %v (a releaser's answer carries no ledger sequence number)", a2, err)
	}
	q, _ = n.st.ReleaseRequest(ctx, res.Request)
	if q.State != store.RequestReleased || len(q.Approvals) != 2 {
		t.Fatalf("request after release: %+v", q)
	}
	if _, err := n.ApproveRelease(ctx, f.admin, res.Request); !errors.Is(err, ErrForbidden) {
		t.Fatalf("admin approves: %v", err)
	}
	// Refusal with a reason.
	r2 := mustRelease(t, n, f.ann, id, "fra")
	if _, err := n.RefuseRelease(ctx, f.rob, r2.Request, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("refuse without reason: %v", err)
	}
	if rr, err := n.RefuseRelease(ctx, f.rob, r2.Request, "source protection"); err != nil || rr.Outcome != "refuse" {
		t.Fatalf("refuse: %+v, %v", rr, err)
	}
	if _, err := n.ApproveRelease(ctx, f.rita, r2.Request); !errors.Is(err, ErrInvalid) {
		t.Fatalf("approve a refused request: %v", err)
	}
	evs := auditLog(t, n.st)
	for _, a := range []string{audit.ActionReleaseRequest, audit.ActionReleaseApprove, audit.ActionReleaseRefuse, audit.ActionReleaseDecide} {
		if len(findEvents(evs, func(e audit.Event) bool { return e.Action == a })) == 0 {
			t.Errorf("no %s audit entry", a)
		}
	}
}

// TestSuspensionAndExpiryImmediate: a suspension or expiry takes effect at
// the next decision, including between a request and its approval.
func TestSuspensionAndExpiryImmediate(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	n := f.n
	id := f.ingestLabelled(t, actor(newID("threat-actor"), nil), okBanner, nil)
	req := mustRelease(t, n, f.ann, id, "fra")
	if req.Outcome != "hold" {
		t.Fatalf("request: %+v", req)
	}
	if res := mustExplain(t, n, f.ann, id, "usa", "analysis"); res.Outcome != "release" {
		t.Fatalf("before suspension: %+v", res)
	}
	for _, a := range []string{"gbr-usa", "gbr-fra"} {
		if _, err := n.TransitionAgreement(ctx, f.admin, a, 1, agreement.StateSuspended, "dispute"); err != nil {
			t.Fatal(err)
		}
	}
	if res := mustExplain(t, n, f.ann, id, "usa", "analysis"); res.Outcome != "refuse" || !hasReason(res, "agreement-suspended") {
		t.Fatalf("after suspension: %+v", res)
	}
	_, err := n.ApproveRelease(ctx, f.rob, req.Request)
	if !errors.Is(err, ErrNotReleased) {
		t.Fatalf("approval after suspension: %v, want ErrNotReleased", err)
	}
	q, _ := n.st.ReleaseRequest(ctx, req.Request)
	if q.State != store.RequestRefused {
		t.Fatalf("request after failed approval: %+v", q)
	}
	if _, err := n.TransitionAgreement(ctx, f.admin, "gbr-usa", 1, agreement.StateActive, "resolved"); err != nil {
		t.Fatal(err)
	}
	if res := mustExplain(t, n, f.ann, id, "usa", "analysis"); res.Outcome != "release" {
		t.Fatalf("after resumption: %+v", res)
	}
	// Expiry: nobody records it; the first decision after it refuses.
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	n.now = func() time.Time { return later }
	if res := mustExplain(t, n, f.ann, id, "usa", "analysis"); res.Outcome != "refuse" || !hasReason(res, "agreement-expired") {
		t.Fatalf("after expiry: %+v", res)
	}
	if _, err := n.TransitionAgreement(ctx, f.admin, "gbr-usa", 1, agreement.StateExpired, ""); err != nil {
		t.Fatal(err)
	}
}

// TestOriginatorControl: ORCON material from another originator goes only
// with its recorded consent; the third-party rule holds over provenance;
// our own ORCON needs a releaser.
func TestOriginatorControl(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	n := f.n
	hop := store.Hop{Agreement: "gbr-usa", Version: 1, From: "usa", To: "gbr"}
	orcon := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER", nil)
	f.foreign(t, orcon, "usa", hop)
	plain := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "NATO CONFIDENTIAL // DISC SIGINT // TOPIC CYBER", nil)
	f.foreign(t, plain, "usa", hop)

	res := mustRelease(t, n, f.ann, orcon, "fra")
	if res.Outcome != "refuse" || !hasReason(res, "orcon") || !hasReason(res, "third-party") {
		t.Fatalf("ORCON without consent: %+v", res)
	}
	if _, err := n.RecordConsent(ctx, f.rob, orcon, "fra", "fra"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("consent by a non-originator: %v", err)
	}
	if _, err := n.RecordConsent(ctx, f.ann, orcon, "usa", "fra"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst records consent: %v", err)
	}
	for _, id := range []string{orcon, plain} {
		if _, err := n.RecordConsent(ctx, f.rob, id, "usa", "fra"); err != nil {
			t.Fatal(err)
		}
	}
	if res := mustRelease(t, n, f.ann, orcon, "fra"); res.Outcome != "release" {
		t.Fatalf("ORCON with consent: %+v", res)
	}
	if res := mustRelease(t, n, f.ann, plain, "fra"); res.Outcome != "release" {
		t.Fatalf("third party with consent: %+v", res)
	}
	// Our own ORCON: a releaser must approve.
	own := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "NATO CONFIDENTIAL // ORCON // DISC SIGINT // TOPIC CYBER", nil)
	if res := mustExplain(t, n, f.ann, own, "usa", "analysis"); res.Outcome != "hold" || !hasReason(res, "originator-review") {
		t.Fatalf("own ORCON: %+v", res)
	}
	if len(findEvents(auditLog(t, n.st), func(e audit.Event) bool { return e.Action == audit.ActionConsentRecord })) != 2 {
		t.Fatal("consents not audited")
	}
}

// TestLedger: per object every party, agreement and term; the auditor reads
// it without being able to read the object.
func TestLedger(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	n := f.n
	id := f.ingestLabelled(t, actor(newID("threat-actor"), nil), "NATO CONFIDENTIAL // DISC SIGINT // TOPIC CYBER", nil)
	mustRelease(t, n, f.ann, id, "usa")
	mustRelease(t, n, f.ann, id, "fra")
	mustRelease(t, n, f.ann, id, "deu")
	led, err := n.Ledger(ctx, f.auditor, store.LedgerQuery{ObjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range led {
		got = append(got, e.Party+":"+e.Agreement+":"+itoa(e.AgreementVersion)+":"+e.Outcome)
		if len(e.Labels) == 0 || e.Term != 0 && e.Outcome != store.LedgerRefuse {
			t.Errorf("entry without labels or term: %+v", e)
		}
	}
	want := []string{"usa:gbr-usa:1:release", "fra:gbr-fra:1:release", "deu::0:refuse"}
	if !equalStrings(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
	byAgreement, err := n.Ledger(ctx, f.auditor, store.LedgerQuery{Agreement: "gbr-usa", From: relNow.Add(-time.Hour), To: relNow.Add(time.Hour)})
	if err != nil || len(byAgreement) != 1 {
		t.Fatalf("by agreement: %+v, %v", byAgreement, err)
	}
	if _, err := n.Get(ctx, f.auditor, id); !isNotFound(err) {
		t.Fatalf("auditor reads the object: %v", err)
	}
	if _, err := n.Ledger(ctx, f.ann, store.LedgerQuery{ObjectID: id}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst reads the ledger: %v", err)
	}
	if _, err := n.Release(ctx, f.auditor, id, "usa", "analysis"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("auditor releases: %v", err)
	}
	// An object the requester may not read does not exist for them.
	low, _ := addUser(t, n, UserSpec{Name: "low", Role: RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	if _, err := n.Explain(ctx, low, id, "usa", "analysis"); !isNotFound(err) {
		t.Fatalf("explain of an unreadable object: %v", err)
	}
	if len(findEvents(auditLog(t, n.st), func(e audit.Event) bool { return e.Action == audit.ActionLedgerRead })) != 2 {
		t.Fatal("ledger reads not audited")
	}
}

// TestTearlineNestedRefs: references nested in an extension are filtered
// like top-level ones, so a tearline names no object the party may not
// receive, and markings nested in granular_markings stay.
func TestTearlineNestedRefs(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t)
	file := func(name string) map[string]any {
		sum := sha256.Sum256([]byte(name))
		return map[string]any{"type": "file", "spec_version": "2.1", "id": newID("file"), "name": name,
			"hashes": map[string]any{"SHA-256": hex.EncodeToString(sum[:])}}
	}
	okRef := f.ingestLabelled(t, file("ok.bin"), okBanner, nil)
	secretRef := f.ingestLabelled(t, file("secret.bin"), "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER", nil)
	unknownRef := newID("file")
	archive := file("harbour-swift-implant.zip")
	archive["extensions"] = map[string]any{"archive-ext": map[string]any{
		"contains_refs": []any{okRef, secretRef, unknownRef}, "comment": "dropper bundle"}}
	// A foreign marking on one property: TLP:AMBER, by its STIX id.
	const amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	archive["granular_markings"] = []any{map[string]any{"selectors": []any{"hashes"}, "marking_ref": amber}}
	id := f.ingestLabelled(t, archive, okBanner, map[string]string{"name": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})

	res := mustRelease(t, f.n, f.ann, id, "usa")
	if res.Outcome != "tearline" || res.Tearline == "" {
		t.Fatalf("release: %+v", res)
	}
	obj, err := f.n.Get(ctx, f.admin, res.Tearline)
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

package node

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/store"
)

const secretBanner = "NATO SECRET // REL TO GBR, USA"

// Requirement 1: each refusal the stix package decides is surfaced with the
// object's id and the offending property, and the good objects of the same
// bundle still land.
func TestIngestRefusalNamesIDAndProperty(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	admin, _ := addUser(t, n, adminSpec())
	lbl := mustLabel(t, n, secretBanner)

	cases := []struct {
		name     string
		id       string
		extra    map[string]any
		property string // exact Property of the refusal
		reason   string // substring of the reason
	}{
		{name: "bad type", id: "threat-actor--" + "0a6e9c33-4d3c-4e7b-9f3e-1c2d3e4f5a60", extra: map[string]any{"type": "Threat_Actor"}, property: "type", reason: "not a valid type name"},
		{name: "bad spec_version", id: newID("threat-actor"), extra: map[string]any{"spec_version": "2.0"}, property: "spec_version", reason: "2.1"},
		{name: "missing spec_version", id: newID("threat-actor"), extra: map[string]any{"spec_version": nil}, property: "spec_version", reason: "missing"},
		{name: "bad id", id: "threat-actor--not-a-uuid", property: "id", reason: "not a STIX identifier"},
		{name: "id of other type", id: newID("threat-actor"), extra: map[string]any{"type": "campaign"}, property: "id", reason: "does not match type"},
		{name: "bad created", id: newID("threat-actor"), extra: map[string]any{"created": "2026-01-10"}, property: "created", reason: "RFC 3339"},
		{name: "bad modified", id: newID("threat-actor"), extra: map[string]any{"modified": "2026-01-10T10:00:00+01:00"}, property: "modified", reason: "RFC 3339"},
		{name: "created after modified", id: newID("threat-actor"), extra: map[string]any{"created": t2, "modified": t1}, property: "modified", reason: "earlier than created"},
		{name: "bad created_by_ref", id: newID("threat-actor"), extra: map[string]any{"created_by_ref": newID("indicator")}, property: "created_by_ref"},
		{name: "bad ref", id: newID("threat-actor"), extra: map[string]any{"sample_ref": "not an id"}, property: "sample_ref"},
		{name: "bad refs list", id: newID("threat-actor"), extra: map[string]any{"object_marking_refs": []string{"identity--0a6e9c33-4d3c-4e7b-9f3e-1c2d3e4f5a60"}}, property: "object_marking_refs[0]", reason: "marking-definition"},
		{name: "bad granular selector", id: newID("threat-actor"), extra: map[string]any{"granular_markings": []any{
			map[string]any{"selectors": []string{"no_such_property"}, "marking_ref": lbl.ID()}}}, property: "granular_markings[0].selectors[0]"},
		{name: "granular selector out of range", id: newID("threat-actor"), extra: map[string]any{"aliases": []string{"a"}, "granular_markings": []any{
			map[string]any{"selectors": []string{"name", "aliases.[3]"}, "marking_ref": lbl.ID()}}}, property: "granular_markings[0].selectors[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			good := newID("threat-actor")
			bad := sdo(c.id, t0, t1, c.extra)
			res := mustIngest(t, n, admin, bundle(sdo(good, t0, t0, nil), bad), secretBanner)
			if len(res.Landed) != 1 || res.Landed[0].ID != good || res.Landed[0].Status != "created" {
				t.Errorf("landed = %+v, want only %s created", res.Landed, good)
			}
			if len(res.Refused) != 1 {
				t.Fatalf("refused = %v, want one refusal", fmtRefusals(res.Refused))
			}
			r := res.Refused[0]
			if r.Index != 1 || r.ID != c.id || r.Property != c.property || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("refusal = %+v, want index 1, id %s, property %s, reason containing %q", r, c.id, c.property, c.reason)
			}
			if s := r.String(); !strings.Contains(s, c.id) || !strings.Contains(s, c.property) {
				t.Errorf("refusal message %q does not name id and property", s)
			}
			if _, err := n.Get(ctx, admin, c.id); !isNotFound(err) {
				t.Errorf("refused object is readable: %v", err)
			}
		})
	}
}

func TestIngestRefusesObjectWithoutClassificationLabel(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	spec := adminSpec()
	spec.DefaultLabel = "" // no user default
	p, _ := addUser(t, n, spec)
	tlpGreen := "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	plain, tlp := newID("threat-actor"), newID("threat-actor")
	res := mustIngest(t, n, p, bundle(
		sdo(plain, t0, t0, nil),
		sdo(tlp, t0, t0, map[string]any{"object_marking_refs": []string{tlpGreen}}),
	), "")
	if len(res.Landed) != 0 || len(res.Refused) != 2 {
		t.Fatalf("landed %v refused %v: want both refused", res.Landed, fmtRefusals(res.Refused))
	}
	for i, id := range []string{plain, tlp} {
		r := res.Refused[i]
		if r.ID != id || r.Property != "object_marking_refs" || !strings.Contains(r.Reason, "no classification label") ||
			!strings.Contains(r.Reason, "--label") || !strings.Contains(r.Reason, "default label") {
			t.Errorf("refusal %d = %+v: want id %s, property object_marking_refs and a reason saying why", i, r, id)
		}
		if _, err := n.Get(ctx, p, id); !isNotFound(err) {
			t.Errorf("unlabelled object %s stored: %v", id, err)
		}
	}

	// The same object lands once a label applies: from --label, or from the
	// user's default label.
	mustLand(t, n, p, sdo(plain, t0, t0, nil), "NATO RESTRICTED")
	def := "NATO CONFIDENTIAL // REL TO GBR"
	spec2 := adminSpec()
	spec2.Name, spec2.DefaultLabel = "withdefault", def
	p2, _ := addUser(t, n, spec2)
	mustLand(t, n, p2, sdo(tlp, t0, t0, map[string]any{"object_marking_refs": []string{tlpGreen}}), "")
	o, err := n.Get(ctx, p, tlp)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustLabel(t, n, def).ID(); len(o.Labels) != 1 || o.Labels[0] != want {
		t.Errorf("labels = %v, want the user's default %s", o.Labels, want)
	}
}

func TestIngestRefusesUnknownOrInvalidBanner(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	for _, banner := range []string{
		"NATO SEKRET",                             // no such marking
		"NATO SECRET // REL TO GBR // NOFORN",     // NOFORN and REL TO are exclusive
		"NATO SECRET // COMPARTMENTS A/B",         // not a token
		"NATO SECRET // TOPIC GARDENING",          // not in the vocabulary
		"NATO SECRET // GRADE G9",                 // not an Admiralty code
		"NATO SECRET // REL TO GB",                // not an alpha-3 code
		"NATO SECRET // DISC SIGINT // ZZZ",       // unknown segment
		"NATO SECRET // TLP:PURPLE",               // no such TLP
		"NATO SECRET // REL TO GBR // REL TO USA", // a segment twice
	} {
		id := newID("threat-actor")
		res, err := n.Ingest(ctx, p, sdo(id, t0, t0, nil), IngestOptions{Label: banner})
		if err == nil {
			t.Errorf("banner %q: accepted (%+v)", banner, res)
			continue
		}
		if !strings.Contains(err.Error(), "label") || !strings.Contains(err.Error(), banner) {
			t.Errorf("banner %q: error %q does not name the label", banner, err)
		}
		if _, err := n.Get(ctx, p, id); !isNotFound(err) {
			t.Errorf("banner %q: object stored", banner)
		}
	}

	// A label of ours inside the bundle whose content was changed while its
	// id was kept is refused, and so is the object that relied on it.
	l := mustLabel(t, n, secretBanner)
	md := n.reg.MarkingDefinition(l)
	forged := bytes.Replace(md, []byte(`"SECRET"`), []byte(`"RESTRICTED"`), 1)
	if bytes.Equal(forged, md) {
		t.Fatal("forgery did not change the marking-definition")
	}
	id := newID("threat-actor")
	spec := adminSpec()
	spec.Name, spec.DefaultLabel = "nodefault", ""
	p2, _ := addUser(t, n, spec)
	res := mustIngest(t, n, p2, bundle(forged, sdo(id, t0, t0, map[string]any{"object_marking_refs": []string{l.ID()}})), "")
	if len(res.Landed) != 0 {
		t.Fatalf("landed %v with a forged label", res.Landed)
	}
	var sawLabel, sawObject bool
	for _, r := range res.Refused {
		switch r.ID {
		case l.ID():
			sawLabel = r.Property == "extensions" && strings.Contains(r.Reason, "label")
		case id:
			sawObject = r.Property == "object_marking_refs"
		}
	}
	if !sawLabel || !sawObject {
		t.Errorf("refusals %v: want the forged label (extensions) and the object (object_marking_refs)", fmtRefusals(res.Refused))
	}
}

func TestIngestVersions(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	id := newID("threat-actor")
	v1 := sdo(id, t0, t0, map[string]any{"name": "v1"})

	// A new version lands; the same version re-sent is a no-op.
	res := mustLand(t, n, p, v1, secretBanner)
	if len(res.Landed) != 1 || res.Landed[0].Status != "created" || res.Landed[0].Modified != t0 {
		t.Fatalf("first ingest: %+v", res.Landed)
	}
	res = mustLand(t, n, p, v1, secretBanner)
	if len(res.Landed) != 1 || res.Landed[0].Status != "exists" {
		t.Fatalf("re-sent version: %+v, want status exists", res.Landed)
	}
	// Even with whitespace and member order changed: the same content.
	var m map[string]any
	json.Unmarshal(v1, &m)
	pretty, _ := json.MarshalIndent(m, "", "   ")
	res = mustLand(t, n, p, pretty, secretBanner)
	if res.Landed[0].Status != "exists" {
		t.Errorf("re-sent pretty version: %+v, want exists", res.Landed)
	}

	// Same (id, modified), other content: conflict, nothing changes.
	res = mustIngest(t, n, p, sdo(id, t0, t0, map[string]any{"name": "v1 rewritten"}), secretBanner)
	if len(res.Landed) != 0 || len(res.Refused) != 1 {
		t.Fatalf("conflicting version: landed %v refused %v", res.Landed, fmtRefusals(res.Refused))
	}
	if r := res.Refused[0]; r.ID != id || r.Property != "modified" || !strings.Contains(r.Reason, "different content") {
		t.Errorf("conflict refusal = %+v", r)
	}

	// New modified values are new versions; all are kept, oldest first.
	v2 := sdo(id, t0, t1, map[string]any{"name": "v2"})
	v3 := sdo(id, t0, t2, map[string]any{"name": "v3"})
	mustLand(t, n, p, bundle(v3, v2), secretBanner) // out of order on purpose
	vs, err := n.Versions(ctx, p, id)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{v1, v2, v3}
	if len(vs) != len(want) {
		t.Fatalf("Versions: %d versions, want %d", len(vs), len(want))
	}
	for i := range want {
		if !bytes.Equal(vs[i].Raw, want[i]) {
			t.Errorf("version %d = %s, want %s", i, vs[i].Raw, want[i])
		}
	}
	o, err := n.Get(ctx, p, id)
	if err != nil || !bytes.Equal(o.Raw, v3) {
		t.Errorf("Get = %s, %v; want the newest version %s", o.Raw, err, v3)
	}
	if c, _ := n.Count(ctx, p, ListOptions{}); c != 1 {
		t.Errorf("Count = %d, want 1 (versions are one object)", c)
	}

	// A revoked version ends the object: a later version is refused.
	rev := sdo(id, t0, t3, map[string]any{"name": "v4", "revoked": true})
	mustLand(t, n, p, rev, secretBanner)
	after := sdo(id, t0, "2026-02-01T00:00:00.000Z", map[string]any{"name": "v5"})
	res = mustIngest(t, n, p, after, secretBanner)
	if len(res.Landed) != 0 || len(res.Refused) != 1 {
		t.Fatalf("version after revocation: landed %v refused %v", res.Landed, fmtRefusals(res.Refused))
	}
	if r := res.Refused[0]; r.ID != id || r.Property != "modified" || !strings.Contains(r.Reason, "revoked") {
		t.Errorf("post-revocation refusal = %+v", r)
	}
	vs, _ = n.Versions(ctx, p, id)
	if len(vs) != 4 {
		t.Errorf("after revocation: %d versions, want 4", len(vs))
	}
	// Re-sending the revoked version itself is still a no-op.
	if res := mustLand(t, n, p, rev, secretBanner); res.Landed[0].Status != "exists" {
		t.Errorf("re-sent revoked version: %+v", res.Landed)
	}
}

func TestIngestMixedBundleLandsGoodReportsBad(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	lbl := mustLabel(t, n, "NATO CONFIDENTIAL // REL TO FVEY")
	good := []string{newID("threat-actor"), newID("campaign"), newID("identity")}
	objs := [][]byte{
		sdo(good[0], t0, t0, nil),
		sdo(newID("threat-actor"), t1, t0, nil), // created after modified
		n.reg.MarkingDefinition(lbl),
		sdo(good[1], t0, t0, map[string]any{"object_marking_refs": []string{lbl.ID()}}),
		[]byte(`{"type":"threat-actor","spec_version":"2.1"}`), // no id
		sdo(good[2], t0, t0, nil),
	}
	res := mustIngest(t, n, p, bundle(objs...), secretBanner)
	if len(res.Landed) != 3 {
		t.Errorf("landed %+v, want 3", res.Landed)
	}
	if len(res.Refused) != 2 || res.Refused[0].Index != 1 || res.Refused[1].Index != 4 ||
		res.Refused[0].Property != "modified" || res.Refused[1].Property != "id" {
		t.Errorf("refused %v, want objects 1 (modified) and 4 (id)", fmtRefusals(res.Refused))
	}
	for _, id := range good {
		if _, err := n.Get(ctx, p, id); err != nil {
			t.Errorf("Get %s: %v", id, err)
		}
	}
	if c, _ := n.Count(ctx, p, ListOptions{}); c != 3 {
		t.Errorf("Count = %d, want 3", c)
	}
	// The object that referenced a label of ours got that label, not the
	// fallback banner.
	o, _ := n.Get(ctx, p, good[1])
	if len(o.Labels) != 1 || o.Labels[0] != lbl.ID() {
		t.Errorf("labels of %s = %v, want %s", good[1], o.Labels, lbl.ID())
	}
	// Refusals are audited.
	refusals := findEvents(auditLog(t, n.st), func(e auditEvent) bool { return e.Action == "object.refuse" })
	if len(refusals) != 2 {
		t.Errorf("%d object.refuse audit entries, want 2", len(refusals))
	}
}

// An auditor may not publish at all.
func TestIngestAuditorForbidden(t *testing.T) {
	n := newTestNode(t, "gbr", "GBR")
	spec := adminSpec()
	spec.Name, spec.Role = "aud", RoleAuditor
	p, _ := addUser(t, n, spec)
	if _, err := n.Ingest(context.Background(), p, sdo(newID("threat-actor"), t0, t0, nil), IngestOptions{Label: secretBanner}); err == nil ||
		!strings.Contains(err.Error(), ErrForbidden.Error()) {
		t.Errorf("auditor ingest: %v, want ErrForbidden", err)
	}
}

// A label referenced twice (object_marking_refs repeats it, or a granular
// marking names it again) is one label, not a refusal.
func TestIngestRepeatedLabelReference(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	l := mustLabel(t, n, secretBanner)
	part := mustLabel(t, n, "NATO SECRET // COMPARTMENTS HERON // REL TO GBR, USA")
	id := newID("threat-actor")
	obj := sdo(id, t0, t0, map[string]any{"object_marking_refs": []string{l.ID(), l.ID()}, "aliases": []string{"a", "b"},
		"granular_markings": []any{
			map[string]any{"selectors": []string{"aliases.[0]"}, "marking_ref": part.ID()},
			map[string]any{"selectors": []string{"aliases.[1]"}, "marking_ref": part.ID()},
		}})
	res := mustIngest(t, n, p, bundle(n.reg.MarkingDefinition(l), n.reg.MarkingDefinition(part), obj), "")
	if len(res.Refused) != 0 || len(res.Landed) != 1 {
		t.Fatalf("landed %v refused %s", res.Landed, fmtRefusals(res.Refused))
	}
	o, err := n.Get(ctx, p, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{l.ID(), part.ID()}
	slices.Sort(want)
	if !slices.Equal(o.Labels, want) {
		t.Errorf("labels = %v, want %v", o.Labels, want)
	}
}

// clusterOrder groups a batch by type, then class, and keeps every version
// of one object where its first version falls, in the order given.
func TestClusterOrder(t *testing.T) {
	v := func(id, typ string, class int64) *store.ObjectVersion {
		return &store.ObjectVersion{ID: id, Type: typ, Class: class}
	}
	vs := []*store.ObjectVersion{
		v("b--1", "b", 2), // first version of b--1, class 2
		v("a--2", "a", 1),
		v("b--1", "b", 1), // its second version, relabelled: stays after the first
		v("b--3", "b", 1),
		v("a--4", "a", 1),
	}
	if got, want := clusterOrder(vs), []int{1, 4, 3, 0, 2}; !slices.Equal(got, want) {
		t.Errorf("clusterOrder = %v, want %v", got, want)
	}
}

// A bundle's objects are stored grouped by type and class (consecutive
// seqs, so consecutive database pages), while the ingest result still
// reports them in the bundle's order.
func TestIngestStoresBundleGroupedByType(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	p, _ := addUser(t, n, adminSpec())
	lbl := mustLabel(t, n, "NATO CONFIDENTIAL // REL TO FVEY")
	marked := map[string]any{"object_marking_refs": []string{lbl.ID()}}
	ids := []string{newID("threat-actor"), newID("campaign"), newID("threat-actor"), newID("campaign"), newID("identity"), newID("campaign")}
	objs := [][]byte{n.reg.MarkingDefinition(lbl)}
	for i, id := range ids {
		var extra map[string]any
		if i == 1 {
			extra = marked
		}
		objs = append(objs, sdo(id, t0, t0, extra))
	}
	res := mustIngest(t, n, p, bundle(objs...), secretBanner)
	if len(res.Landed) != len(ids) {
		t.Fatalf("landed %+v, want %d", res.Landed, len(ids))
	}
	for i, l := range res.Landed {
		if l.ID != ids[i] {
			t.Errorf("landed[%d] = %s, want %s (the bundle's order)", i, l.ID, ids[i])
		}
	}
	page, err := n.List(ctx, p, ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range page.Objects {
		got = append(got, o.ID)
	}
	// campaign (secret banner: ids[3], ids[5]; then the marked ids[1]: its
	// class was made later, so its number is higher), identity, threat-actor.
	want := []string{ids[3], ids[5], ids[1], ids[4], ids[0], ids[2]}
	if !slices.Equal(got, want) {
		t.Errorf("listing order %v, want %v", got, want)
	}
}

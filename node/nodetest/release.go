package nodetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// The release fixture: agreements between a node "gbr" and partners "usa"
// and "fra" (deterministic test keys), signed on every side and active,
// with users of each role. The tests of agreements, releases, recalls,
// delivery and the authority table share it.

// RelNow is the fixed time release tests run at: inside every test
// agreement.
var RelNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// OKBanner is a label every test agreement's terms allow.
const OKBanner = "NATO SECRET // DISC SIGINT // TOPIC CYBER"

// PartnerKey is a partner node's deterministic test key.
func PartnerKey(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("node release test key " + name))
	return ed25519.NewKeyFromSeed(s[:])
}

// PartnerCountry is the country of each test partner.
var PartnerCountry = map[string]string{"gbr": "GBR", "usa": "USA", "fra": "FRA"}

// RelLevel is a level of policy (owned by owner, for a national policy).
func RelLevel(policy, owner, level string) agreement.Level {
	return agreement.Level{Policy: policy, Owner: owner, Level: level}
}

// RelTable is the equivalence table between NATO and the national
// policies of owners (GBR, USA, FRA).
func RelTable(owners ...string) []agreement.Equivalence {
	var rows []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		row := agreement.Equivalence{Levels: []agreement.Level{RelLevel("NATO", "", p[0])}}
		for _, o := range owners {
			row.Levels = append(row.Levels, RelLevel("NATIONAL", o, p[1]))
		}
		rows = append(rows, row)
	}
	return rows
}

// RelTerms are automatic terms from and to the named parties: topics CYBER
// and COUNTER-TERRORISM, disciplines SIGINT and OSINT, up to NATO SECRET,
// for analysis, onward with consent, unless the object has x_no_release.
func RelTerms(from, to []string) agreement.Terms {
	return agreement.Terms{
		From: from, To: to,
		Topics:            []string{"CYBER", "COUNTER-TERRORISM"},
		Disciplines:       []string{"SIGINT", "OSINT"},
		Condition:         `!has(object.x_no_release)`,
		MaxClassification: RelLevel("NATO", "", "SECRET"),
		Purposes:          []string{"analysis"},
		RetentionDays:     365,
		Onward:            agreement.OnwardWithConsent,
		Release:           agreement.Release{Mode: agreement.ModeAutomatic},
	}
}

// RelDoc is an agreement between n and partners (under their PartnerKey).
func RelDoc(n *stack.Node, id string, partners []string, table []agreement.Equivalence, terms ...agreement.Terms) *agreement.Document {
	d := &agreement.Document{ID: id, Title: "test " + id, Version: 1, Effective: "2026-01-01T00:00:00Z", Expires: "2027-01-01T00:00:00Z",
		Equivalence: table, Terms: terms}
	cfg := n.Config()
	d.Parties = append(d.Parties, agreement.Party{Name: cfg.Name, PublicKey: binding.MarshalPublicKey(MustSignerKey(n)), Country: cfg.Country, Organisation: "us"})
	for _, p := range partners {
		d.Parties = append(d.Parties, agreement.Party{Name: p, PublicKey: binding.MarshalPublicKey(PartnerKey(p).Public().(ed25519.PublicKey)),
			Country: PartnerCountry[p], Organisation: p + " agency"})
	}
	return d
}

// DocJSON is d as JSON.
func DocJSON(t testing.TB, d *agreement.Document) []byte {
	t.Helper()
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// PartnerSigned returns the stored document of id@version signed by the
// partners, as they would send it back.
func PartnerSigned(t testing.TB, n *stack.Node, admin *node.Principal, id string, version int, partners ...string) []byte {
	t.Helper()
	ai, _, err := n.Agreements.Agreement(context.Background(), admin, id, version)
	if err != nil {
		t.Fatal(err)
	}
	d := *ai.Document
	d.Signatures = nil
	for _, p := range partners {
		s, err := d.Sign(p, PartnerKey(p))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AddSignature(s); err != nil {
			t.Fatal(err)
		}
	}
	return DocJSON(t, &d)
}

// Activate imports d, signs it on every side and activates it.
func Activate(t testing.TB, n *stack.Node, admin *node.Principal, d *agreement.Document) {
	t.Helper()
	ctx := context.Background()
	if _, err := n.Agreements.ImportAgreement(ctx, admin, DocJSON(t, d)); err != nil {
		t.Fatalf("import %s: %v", d.ID, err)
	}
	if _, err := n.Agreements.SignAgreement(ctx, admin, d.ID, d.Version); err != nil {
		t.Fatalf("sign %s: %v", d.ID, err)
	}
	var partners []string
	for _, p := range d.Parties[1:] {
		partners = append(partners, p.Name)
	}
	if _, err := n.Agreements.AddAgreementSignatures(ctx, admin, d.ID, d.Version, PartnerSigned(t, n, admin, d.ID, d.Version, partners...)); err != nil {
		t.Fatalf("add signatures %s: %v", d.ID, err)
	}
	for _, st := range []agreement.State{agreement.StateProposed, agreement.StateActive} {
		if _, err := n.Agreements.TransitionAgreement(ctx, admin, d.ID, d.Version, st, ""); err != nil {
			t.Fatalf("%s %s: %v", st, d.ID, err)
		}
	}
}

// RelFixture is a node "gbr" whose clock stands at RelNow, with an admin,
// an analyst (Ann), two releasers (Rob, Rita), an auditor, and active
// agreements gbr-usa (automatic) and gbr-fra (two-person above NATO
// CONFIDENTIAL).
type RelFixture struct {
	N                     *stack.Node
	Admin, Ann, Rob, Rita *node.Principal
	Auditor               *node.Principal
	Clock                 *Clock // N's clock
}

// NewRelFixture makes the release fixture.
func NewRelFixture(t *testing.T) *RelFixture {
	t.Helper()
	clock := NewClock(RelNow)
	n := NewWith(t, "gbr", "GBR", node.Options{Now: clock.Now})
	f := &RelFixture{N: n, Clock: clock}
	f.Admin, _ = AddUser(t, n, AdminSpec())
	clr := map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}
	f.Ann, _ = AddUser(t, n, users.UserSpec{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: clr, Compartments: []string{"KESTREL"}})
	f.Rob, _ = AddUser(t, n, users.UserSpec{Name: "rob", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr, Compartments: []string{"KESTREL"}})
	f.Rita, _ = AddUser(t, n, users.UserSpec{Name: "rita", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr, Compartments: []string{"KESTREL"}})
	f.Auditor, _ = AddUser(t, n, users.UserSpec{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR"})

	Activate(t, n, f.Admin, RelDoc(n, "gbr-usa", []string{"usa"}, RelTable("GBR", "USA"), RelTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"})))
	fra := RelTerms([]string{"gbr", "fra"}, []string{"gbr", "fra"})
	above := RelLevel("NATO", "", "CONFIDENTIAL")
	fra.Release = agreement.Release{Mode: agreement.ModeTwo, Above: &above}
	// No GBR national row: GBR national labels have no equivalent here.
	Activate(t, n, f.Admin, RelDoc(n, "gbr-fra", []string{"fra"}, RelTable("FRA"), fra))
	return f
}

// IngestLabelled ingests obj (JSON) as the admin, labelled banner, with
// parts: selector -> banner, as granular markings. It returns the
// object's id.
func (f *RelFixture) IngestLabelled(t *testing.T, obj map[string]any, banner string, parts map[string]string) string {
	t.Helper()
	n := f.N
	whole := MustLabel(t, n, banner)
	objs := [][]byte{n.Registry().MarkingDefinition(whole)}
	obj["object_marking_refs"] = []any{whole.ID()}
	var gms []any
	for sel, b := range parts {
		l := MustLabel(t, n, b)
		objs = append(objs, n.Registry().MarkingDefinition(l))
		gms = append(gms, map[string]any{"selectors": []any{sel}, "marking_ref": l.ID()})
	}
	if gms != nil {
		// After any the object brings (a TLP marking on one property, say).
		prior, _ := obj["granular_markings"].([]any)
		obj["granular_markings"] = append(prior, gms...)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, raw)
	MustLand(t, n, f.Admin, Bundle(objs...), "")
	return obj["id"].(string)
}

// Actor is a threat-actor with id, created and modified at T0; extra
// members are added.
func Actor(id string, extra map[string]any) map[string]any {
	m := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": id, "created": T0, "modified": T0, "name": "actor " + id[len(id)-6:]}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Foreign records that id came from originator through hops (agreement,
// from, to).
func (f *RelFixture) Foreign(t *testing.T, id, originator string, hops ...store.Hop) {
	t.Helper()
	if err := f.N.Releases.RecordProvenance(context.Background(), f.Admin, store.Provenance{ObjectID: id, Originator: originator, Hops: hops}); err != nil {
		t.Fatal(err)
	}
}

// HasReason reports whether res gives the reason code.
func HasReason(res release.ReleaseResult, code string) bool {
	for _, r := range res.Reasons {
		if r == code {
			return true
		}
	}
	return false
}

// MustExplain is Explain of id to party for purpose, failing on error.
func MustExplain(t *testing.T, n *stack.Node, p *node.Principal, id, party, purpose string) release.ReleaseResult {
	t.Helper()
	res, err := n.Releases.Explain(context.Background(), p, id, party, purpose)
	if err != nil {
		t.Fatalf("Explain %s to %s: %v", id, party, err)
	}
	return res
}

// MustRelease is Release of id to party for analysis, failing on error.
func MustRelease(t *testing.T, n *stack.Node, p *node.Principal, id, party string) release.ReleaseResult {
	t.Helper()
	res, err := n.Releases.Release(context.Background(), p, id, party, "analysis")
	if err != nil {
		t.Fatalf("Release %s to %s: %v", id, party, err)
	}
	return res
}

// MustSignerKey returns n's current public signing key; it panics on a
// broken keyring, which only a test that broke it would see.
func MustSignerKey(n *stack.Node) ed25519.PublicKey {
	s, err := n.Signer()
	if err != nil {
		panic(err)
	}
	return s.PublicKey()
}

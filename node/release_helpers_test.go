package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/store"
)

// now is the fixed time release tests run at: inside every test agreement.
var relNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// partnerKey is a partner node's deterministic test key.
func partnerKey(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("node release test key " + name))
	return ed25519.NewKeyFromSeed(s[:])
}

var partnerCountry = map[string]string{"gbr": "GBR", "usa": "USA", "fra": "FRA"}

func relLevel(policy, owner, level string) agreement.Level {
	return agreement.Level{Policy: policy, Owner: owner, Level: level}
}

// relTable is the equivalence table between NATO and the GBR, USA and FRA
// national policies.
func relTable(owners ...string) []agreement.Equivalence {
	var rows []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		row := agreement.Equivalence{Levels: []agreement.Level{relLevel("NATO", "", p[0])}}
		for _, o := range owners {
			row.Levels = append(row.Levels, relLevel("NATIONAL", o, p[1]))
		}
		rows = append(rows, row)
	}
	return rows
}

func relTerms(from, to []string) agreement.Terms {
	return agreement.Terms{
		From: from, To: to,
		Topics:            []string{"CYBER", "COUNTER-TERRORISM"},
		Disciplines:       []string{"SIGINT", "OSINT"},
		Condition:         `!has(object.x_no_release)`,
		MaxClassification: relLevel("NATO", "", "SECRET"),
		Purposes:          []string{"analysis"},
		RetentionDays:     365,
		Onward:            agreement.OnwardWithConsent,
		Release:           agreement.Release{Mode: agreement.ModeAutomatic},
	}
}

// relDoc is an agreement between this node and partners.
func relDoc(n *Node, id string, partners []string, table []agreement.Equivalence, terms ...agreement.Terms) *agreement.Document {
	d := &agreement.Document{ID: id, Title: "test " + id, Version: 1, Effective: "2026-01-01T00:00:00Z", Expires: "2027-01-01T00:00:00Z",
		Equivalence: table, Terms: terms}
	d.Parties = append(d.Parties, agreement.Party{Name: n.cfg.Name, PublicKey: binding.MarshalPublicKey(mustSignerKey(n)), Country: n.cfg.Country, Organisation: "us"})
	for _, p := range partners {
		d.Parties = append(d.Parties, agreement.Party{Name: p, PublicKey: binding.MarshalPublicKey(partnerKey(p).Public().(ed25519.PublicKey)),
			Country: partnerCountry[p], Organisation: p + " agency"})
	}
	return d
}

func docJSON(t testing.TB, d *agreement.Document) []byte {
	t.Helper()
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// partnerSigned returns the stored document of id@version signed by the
// partners, as they would send it back.
func partnerSigned(t testing.TB, n *Node, admin *Principal, id string, version int, partners ...string) []byte {
	t.Helper()
	ai, _, err := n.Agreement(context.Background(), admin, id, version)
	if err != nil {
		t.Fatal(err)
	}
	d := *ai.Document
	d.Signatures = nil
	for _, p := range partners {
		s, err := d.Sign(p, partnerKey(p))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AddSignature(s); err != nil {
			t.Fatal(err)
		}
	}
	return docJSON(t, &d)
}

// activate imports d, signs it on every side and activates it.
func activate(t testing.TB, n *Node, admin *Principal, d *agreement.Document) {
	t.Helper()
	ctx := context.Background()
	if _, err := n.ImportAgreement(ctx, admin, docJSON(t, d)); err != nil {
		t.Fatalf("import %s: %v", d.ID, err)
	}
	if _, err := n.SignAgreement(ctx, admin, d.ID, d.Version); err != nil {
		t.Fatalf("sign %s: %v", d.ID, err)
	}
	var partners []string
	for _, p := range d.Parties[1:] {
		partners = append(partners, p.Name)
	}
	if _, err := n.AddAgreementSignatures(ctx, admin, d.ID, d.Version, partnerSigned(t, n, admin, d.ID, d.Version, partners...)); err != nil {
		t.Fatalf("add signatures %s: %v", d.ID, err)
	}
	for _, st := range []agreement.State{agreement.StateProposed, agreement.StateActive} {
		if _, err := n.TransitionAgreement(ctx, admin, d.ID, d.Version, st, ""); err != nil {
			t.Fatalf("%s %s: %v", st, d.ID, err)
		}
	}
}

// relFixture is a node "gbr" with an admin, an analyst, two releasers, an
// auditor, and active agreements gbr-usa (automatic) and gbr-fra
// (two-person above NATO CONFIDENTIAL).
type relFixture struct {
	n                     *Node
	admin, ann, rob, rita *Principal
	auditor               *Principal
}

func newRelFixture(t *testing.T) *relFixture {
	t.Helper()
	n := newTestNode(t, "gbr", "GBR")
	now := relNow
	n.now = func() time.Time { return now }
	f := &relFixture{n: n}
	f.admin, _ = addUser(t, n, adminSpec())
	clr := map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}
	f.ann, _ = addUser(t, n, UserSpec{Name: "ann", Role: RoleAnalyst, Nationality: "GBR", Clearances: clr, Compartments: []string{"KESTREL"}})
	f.rob, _ = addUser(t, n, UserSpec{Name: "rob", Role: RoleReleaser, Nationality: "GBR", Clearances: clr, Compartments: []string{"KESTREL"}})
	f.rita, _ = addUser(t, n, UserSpec{Name: "rita", Role: RoleReleaser, Nationality: "GBR", Clearances: clr, Compartments: []string{"KESTREL"}})
	f.auditor, _ = addUser(t, n, UserSpec{Name: "audrey", Role: RoleAuditor, Nationality: "GBR"})

	activate(t, n, f.admin, relDoc(n, "gbr-usa", []string{"usa"}, relTable("GBR", "USA"), relTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"})))
	fra := relTerms([]string{"gbr", "fra"}, []string{"gbr", "fra"})
	above := relLevel("NATO", "", "CONFIDENTIAL")
	fra.Release = agreement.Release{Mode: agreement.ModeTwo, Above: &above}
	// No GBR national row: GBR national labels have no equivalent here.
	activate(t, n, f.admin, relDoc(n, "gbr-fra", []string{"fra"}, relTable("FRA"), fra))
	return f
}

// ingestLabelled ingests obj (JSON) labelled banner, with parts: selector ->
// banner, as granular markings. It returns the object's id.
func (f *relFixture) ingestLabelled(t *testing.T, obj map[string]any, banner string, parts map[string]string) string {
	t.Helper()
	n := f.n
	whole := mustLabel(t, n, banner)
	objs := [][]byte{n.reg.MarkingDefinition(whole)}
	obj["object_marking_refs"] = []any{whole.ID()}
	var gms []any
	for sel, b := range parts {
		l := mustLabel(t, n, b)
		objs = append(objs, n.reg.MarkingDefinition(l))
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
	mustLand(t, n, f.admin, bundle(objs...), "")
	return obj["id"].(string)
}

func actor(id string, extra map[string]any) map[string]any {
	m := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": id, "created": t0, "modified": t0, "name": "actor " + id[len(id)-6:]}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// foreign records that id came from originator through hops (agreement, from, to).
func (f *relFixture) foreign(t *testing.T, id, originator string, hops ...store.Hop) {
	t.Helper()
	if err := f.n.RecordProvenance(context.Background(), f.admin, store.Provenance{ObjectID: id, Originator: originator, Hops: hops}); err != nil {
		t.Fatal(err)
	}
}

func hasReason(res ReleaseResult, code string) bool {
	for _, r := range res.Reasons {
		if r == code {
			return true
		}
	}
	return false
}

func mustExplain(t *testing.T, n *Node, p *Principal, id, party, purpose string) ReleaseResult {
	t.Helper()
	res, err := n.Explain(context.Background(), p, id, party, purpose)
	if err != nil {
		t.Fatalf("Explain %s to %s: %v", id, party, err)
	}
	return res
}

func mustRelease(t *testing.T, n *Node, p *Principal, id, party string) ReleaseResult {
	t.Helper()
	res, err := n.Release(context.Background(), p, id, party, "analysis")
	if err != nil {
		t.Fatalf("Release %s to %s: %v", id, party, err)
	}
	return res
}

func containsAny(s string, subs ...string) string {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return x
		}
	}
	return ""
}

// relSchema compiles one OASIS STIX 2.1 schema from testdata (as
// schema_test.go does, for this package's internal tests).
func relSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	const base = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
	root := filepath.Join("..", "testdata", "stix", "oasis-schemas")
	c := jsonschema.NewCompiler()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		return c.AddResource(base+filepath.ToSlash(rel), doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(base + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func relValidate(t *testing.T, s *jsonschema.Schema, what string, raw []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not validate against the OASIS STIX 2.1 schema: %v\n%s", what, err, raw)
	}
}

// mustSignerKey returns n's current public signing key; it panics on a
// broken keyring, which only a test that broke it would see.
func mustSignerKey(n *Node) ed25519.PublicKey {
	s, err := n.Signer()
	if err != nil {
		panic(err)
	}
	return s.PublicKey()
}

package taxiiview_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/taxiiview"
	"github.com/tearline/tearline/taxii"
)

// testClock is a node's clock: the system's, moved by Add.
type testClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.shift)
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shift += d
}

// partnerRead reads one page of the partner view as peer, as a partner
// calling the TAXII routes with its client certificate does.
func partnerRead(ctx context.Context, n *stack.Node, peer *node.Peer, q taxii.Query) (taxii.Page, error) {
	return n.TAXII.Objects(ctx, &taxiiview.PartnerCaller{Peer: *peer}, n.TAXII.HoldingsID(), q)
}

// relNow is the fixed time the partner view's tests run at: inside the
// test agreement.
var relNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// okBanner is a label the gbr-usa agreement releases.
const okBanner = "NATO SECRET // DISC SIGINT // TOPIC CYBER"

// relFixture is a node "gbr" with an admin and an active automatic
// agreement gbr-usa (the release tests' fixture, cut to what the partner
// view needs).
type relFixture struct {
	n     *stack.Node
	admin *node.Principal
}

func newRelFixture(t *testing.T) *relFixture {
	t.Helper()
	n := nodetest.NewWith(t, "gbr", "GBR", node.Options{Now: func() time.Time { return relNow }})
	f := &relFixture{n: n}
	f.admin, _ = nodetest.AddUser(t, n, nodetest.AdminSpec())
	f.activate(t, f.usaAgreement(t))
	return f
}

// partnerKey is a partner node's deterministic test key.
func partnerKey(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("node release test key " + name))
	return ed25519.NewKeyFromSeed(s[:])
}

// usaAgreement is gbr-usa: automatic release of CYBER and
// COUNTER-TERRORISM, SIGINT and OSINT, up to NATO SECRET, with NATO and
// the GBR and USA national policies equivalent.
func (f *relFixture) usaAgreement(t *testing.T) *agreement.Document {
	t.Helper()
	lvl := func(policy, owner, level string) agreement.Level {
		return agreement.Level{Policy: policy, Owner: owner, Level: level}
	}
	var table []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		table = append(table, agreement.Equivalence{Levels: []agreement.Level{lvl("NATO", "", p[0]), lvl("NATIONAL", "GBR", p[1]), lvl("NATIONAL", "USA", p[1])}})
	}
	terms := agreement.Terms{
		From: []string{"gbr", "usa"}, To: []string{"gbr", "usa"},
		Topics:            []string{"CYBER", "COUNTER-TERRORISM"},
		Disciplines:       []string{"SIGINT", "OSINT"},
		Condition:         `!has(object.x_no_release)`,
		MaxClassification: lvl("NATO", "", "SECRET"),
		Purposes:          []string{"analysis"},
		RetentionDays:     365,
		Onward:            agreement.OnwardWithConsent,
		Release:           agreement.Release{Mode: agreement.ModeAutomatic},
	}
	d := &agreement.Document{ID: "gbr-usa", Title: "test gbr-usa", Version: 1, Effective: "2026-01-01T00:00:00Z", Expires: "2027-01-01T00:00:00Z",
		Equivalence: table, Terms: []agreement.Terms{terms}}
	cfg := f.n.Config()
	d.Parties = append(d.Parties,
		agreement.Party{Name: cfg.Name, PublicKey: binding.MarshalPublicKey(nodetest.Signer(t, f.n).PublicKey()), Country: cfg.Country, Organisation: "us"},
		agreement.Party{Name: "usa", PublicKey: binding.MarshalPublicKey(partnerKey("usa").Public().(ed25519.PublicKey)), Country: "USA", Organisation: "usa agency"})
	return d
}

// activate imports d, signs it on every side and activates it.
func (f *relFixture) activate(t *testing.T, d *agreement.Document) {
	t.Helper()
	ctx := context.Background()
	ag := f.n.Agreements
	raw, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.ImportAgreement(ctx, f.admin, raw); err != nil {
		t.Fatalf("import %s: %v", d.ID, err)
	}
	if _, err := ag.SignAgreement(ctx, f.admin, d.ID, d.Version); err != nil {
		t.Fatalf("sign %s: %v", d.ID, err)
	}
	ai, _, err := ag.Agreement(ctx, f.admin, d.ID, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	signed := *ai.Document
	signed.Signatures = nil
	for _, p := range d.Parties[1:] {
		s, err := signed.Sign(p.Name, partnerKey(p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if err := signed.AddSignature(s); err != nil {
			t.Fatal(err)
		}
	}
	if raw, err = signed.JSON(); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.AddAgreementSignatures(ctx, f.admin, d.ID, d.Version, raw); err != nil {
		t.Fatalf("add signatures %s: %v", d.ID, err)
	}
	for _, st := range []agreement.State{agreement.StateProposed, agreement.StateActive} {
		if _, err := ag.TransitionAgreement(ctx, f.admin, d.ID, d.Version, st, ""); err != nil {
			t.Fatalf("%s %s: %v", st, d.ID, err)
		}
	}
}

// ingestLabelled ingests obj (JSON) labelled banner, with the label's
// marking-definition in the bundle. It returns the object's id.
func (f *relFixture) ingestLabelled(t *testing.T, obj map[string]any, banner string) string {
	t.Helper()
	whole := nodetest.MustLabel(t, f.n, banner)
	obj["object_marking_refs"] = []any{whole.ID()}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.MustLand(t, f.n, f.admin, nodetest.Bundle(f.n.Registry().MarkingDefinition(whole), raw), "")
	return obj["id"].(string)
}

// actor is a threat-actor with id; extra members are merged in.
func actor(id string, extra map[string]any) map[string]any {
	m := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": id, "created": nodetest.T0, "modified": nodetest.T0, "name": "actor " + id[len(id)-6:]}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

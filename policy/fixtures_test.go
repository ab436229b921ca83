package policy

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/label"
)

var (
	t0      = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	active  = agreement.Status{State: agreement.StateActive, Since: t0.Add(-24 * time.Hour)}
	nodeKey = func(name string) ed25519.PrivateKey {
		s := sha256.Sum256([]byte("policy test key " + name))
		return ed25519.NewKeyFromSeed(s[:])
	}
	countryOf = map[string]string{"gbr": "GBR", "usa": "USA", "fra": "FRA", "deu": "DEU", "aus": "AUS"}
)

func lv(policy, owner, level string) agreement.Level {
	return agreement.Level{Policy: policy, Owner: owner, Level: level}
}

// table is the usual five-row equivalence between NATO and the GBR and USA
// national policies (DefaultConfig level names).
func table() []agreement.Equivalence {
	var rows []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		rows = append(rows, agreement.Equivalence{Levels: []agreement.Level{
			lv("NATO", "", p[0]), lv("NATIONAL", "GBR", p[1]), lv("NATIONAL", "USA", p[1]),
		}})
	}
	return rows
}

func baseTerms(from, to []string) agreement.Terms {
	return agreement.Terms{
		From: from, To: to,
		Topics:            []string{"CYBER", "COUNTER-TERRORISM"},
		Disciplines:       []string{"SIGINT", "OSINT"},
		MaxClassification: lv("NATO", "", "SECRET"),
		Purposes:          []string{"analysis"},
		RetentionDays:     365,
		Onward:            agreement.OnwardParties,
		Release:           agreement.Release{Mode: agreement.ModeAutomatic},
	}
}

func newDoc(id string, names []string, terms ...agreement.Terms) *agreement.Document {
	d := &agreement.Document{
		ID: id, Title: "test agreement " + id, Version: 1,
		Effective:   "2026-01-01T00:00:00Z",
		Expires:     "2027-01-01T00:00:00Z",
		Equivalence: table(),
		Terms:       terms,
	}
	for _, n := range names {
		d.Parties = append(d.Parties, agreement.Party{
			Name: n, PublicKey: binding.MarshalPublicKey(nodeKey(n).Public().(ed25519.PublicKey)),
			Country: countryOf[n], Organisation: n + " agency",
		})
	}
	return d
}

func bilateral() *agreement.Document {
	return newDoc("gbr-usa", []string{"gbr", "usa"}, baseTerms([]string{"gbr", "usa"}, []string{"gbr", "usa"}))
}

func signAll(t testing.TB, d *agreement.Document) {
	t.Helper()
	for _, p := range d.Parties {
		s, err := d.Sign(p.Name, nodeKey(p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AddSignature(s); err != nil {
			t.Fatal(err)
		}
	}
}

func mustCompile(t testing.TB, d *agreement.Document, reg *label.Registry, self string) *Agreement {
	t.Helper()
	signAll(t, d)
	a, err := CompileAgreement(d, reg, self, active)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// typical is an object in scope of bilateral(): what benchmarks decide.
func typical(t testing.TB, reg *label.Registry) ObjectFacts {
	return ObjectFacts{
		Type:   "indicator",
		Labels: []label.Label{banner(t, reg, "NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER")},
		Raw:    []byte(`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","confidence":80,"pattern":"[ipv4-addr:value = '198.51.100.7']"}`),
	}
}

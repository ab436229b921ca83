package api_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/agreements"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/users"
)

func apiPartnerKey(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("api agreement test key " + name))
	return ed25519.NewKeyFromSeed(s[:])
}

// TestAgreementAndReleaseAPI walks an agreement from import to active over
// HTTP, releases under it, and reads the ledger as an auditor.
func TestAgreementAndReleaseAPI(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	clr := map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}
	analyst := tn.user(t, users.UserSpec{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: clr})
	auditor := tn.user(t, users.UserSpec{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR"})

	pem, err := os.ReadFile(filepath.Join(tn.dir, node.SigningKey))
	if err != nil {
		t.Fatal(err)
	}
	key, err := binding.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	lv := func(p, o, l string) agreement.Level { return agreement.Level{Policy: p, Owner: o, Level: l} }
	var table []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		table = append(table, agreement.Equivalence{Levels: []agreement.Level{lv("NATO", "", p[0]), lv("NATIONAL", "GBR", p[1]), lv("NATIONAL", "USA", p[1])}})
	}
	doc := &agreement.Document{ID: "gbr-usa", Title: "api test", Version: 1,
		Effective: now.Add(-24 * time.Hour).Format(time.RFC3339), Expires: now.Add(365 * 24 * time.Hour).Format(time.RFC3339),
		Parties: []agreement.Party{
			{Name: "gbr", PublicKey: binding.MarshalPublicKey(key.Public().(ed25519.PublicKey)), Country: "GBR", Organisation: "gbr"},
			{Name: "usa", PublicKey: binding.MarshalPublicKey(apiPartnerKey("usa").Public().(ed25519.PublicKey)), Country: "USA", Organisation: "usa"},
		},
		Equivalence: table,
		Terms: []agreement.Terms{{From: []string{"gbr", "usa"}, To: []string{"gbr", "usa"}, Topics: []string{"CYBER"}, Disciplines: []string{"SIGINT"},
			MaxClassification: lv("NATO", "", "SECRET"), Purposes: []string{"analysis"}, RetentionDays: 30, Onward: agreement.OnwardParties,
			Release: agreement.Release{Mode: agreement.ModeAutomatic}}},
	}
	raw, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if r := tn.do(t, "POST", "/api/v1/agreements", analyst, raw); r.Status != 403 {
		t.Fatalf("analyst import: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/agreements", admin, raw); r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/agreements", admin, []byte(`{"id":"x","bogus":1}`)); r.Status != 400 {
		t.Fatalf("bad import: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/agreements/gbr-usa/sign", admin, nil); r.Status != 200 {
		t.Fatalf("sign: %d %s", r.Status, r.Body)
	}
	move := func(to string) response {
		return tn.do(t, "POST", "/api/v1/agreements/gbr-usa/transition", admin, []byte(`{"to":"`+to+`"}`))
	}
	if r := move("proposed"); r.Status != 200 {
		t.Fatalf("propose: %d %s", r.Status, r.Body)
	}
	if r := move("active"); r.Status != 400 || !strings.Contains(string(r.Body), "not signed") {
		t.Fatalf("activate half-signed: %d %s", r.Status, r.Body)
	}
	partner := *doc
	s, err := partner.Sign("usa", apiPartnerKey("usa"))
	if err != nil {
		t.Fatal(err)
	}
	partner.Signatures = []agreement.Signature{s}
	praw, _ := partner.JSON()
	if r := tn.do(t, "POST", "/api/v1/agreements/gbr-usa/signatures", admin, praw); r.Status != 200 {
		t.Fatalf("signatures: %d %s", r.Status, r.Body)
	}
	if r := move("active"); r.Status != 200 {
		t.Fatalf("activate: %d %s", r.Status, r.Body)
	}
	r := tn.get(t, "/api/v1/agreements/gbr-usa", analyst)
	var shown struct {
		Agreement agreements.AgreementInfo `json:"agreement"`
		History   []map[string]any         `json:"history"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &shown) != nil || shown.Agreement.State != "active" || len(shown.History) != 2 {
		t.Fatalf("show: %d %s", r.Status, r.Body)
	}

	id := "threat-actor--" + uuid.NewString()
	obj := `{"type":"threat-actor","spec_version":"2.1","id":"` + id + `","created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"Secret Bear"}`
	if st, res := tn.publish(t, admin, []byte(obj), "NATO SECRET // DISC SIGINT // TOPIC CYBER"); st != 200 {
		t.Fatalf("publish: %d %+v", st, res)
	}
	body := []byte(`{"object":"` + id + `","to":"usa","purpose":"analysis"}`)
	r = tn.do(t, "POST", "/api/v1/releases/explain", analyst, body)
	var res release.ReleaseResult
	if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil || res.Outcome != "release" || res.Ledger != 0 {
		t.Fatalf("explain: %d %s", r.Status, r.Body)
	}
	r = tn.do(t, "POST", "/api/v1/releases", analyst, []byte(`{"object":"`+id+`","to":"usa","purpose":"law-enforcement"}`))
	if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil || res.Outcome != "refuse" || res.Reasons[0] != "purpose" {
		t.Fatalf("refused release: %d %s", r.Status, r.Body)
	}
	r = tn.do(t, "POST", "/api/v1/releases", analyst, body)
	// An analyst's answer carries no ledger sequence number: it counts the
	// releases of every level (docs/SECURITY.md).
	if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil || res.Outcome != "release" || res.Ledger != 0 {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/releases", auditor, body); r.Status != 403 {
		t.Fatalf("auditor release: %d", r.Status)
	}
	if r := tn.get(t, "/api/v1/releases", analyst); r.Status != 200 || !strings.Contains(string(r.Body), `"requests":[]`) {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	}

	// The auditor sees the ledger, not the object.
	if r := tn.get(t, "/api/v1/ledger?object="+id, analyst); r.Status != 403 {
		t.Fatalf("analyst ledger: %d", r.Status)
	}
	r = tn.get(t, "/api/v1/ledger?object="+id, auditor)
	var led struct {
		Entries []map[string]any `json:"entries"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &led) != nil || len(led.Entries) != 2 {
		t.Fatalf("ledger: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "Secret Bear") {
		t.Fatal("ledger carries content")
	}
	if led.Entries[1]["party"] != "usa" || led.Entries[1]["agreement"] != "gbr-usa" || led.Entries[1]["outcome"] != "release" {
		t.Fatalf("ledger entry: %v", led.Entries[1])
	}
	from := now.Add(-time.Hour).Format(time.RFC3339)
	if r := tn.get(t, "/api/v1/ledger?agreement=gbr-usa&from="+from, auditor); r.Status != 200 || !strings.Contains(string(r.Body), id) {
		t.Fatalf("ledger by agreement: %d %s", r.Status, r.Body)
	}
	if r := tn.get(t, "/api/v1/objects/"+id, auditor); r.Status != 404 {
		t.Fatalf("auditor reads the object: %d", r.Status)
	}
}

package api_test

import (
	"crypto/ed25519"
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
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// TestRecallAPI recalls a released object over HTTP and reads its state
// per partner as an auditor. (Delivery and acknowledgement across nodes are
// tested in package node.)
func TestRecallAPI(t *testing.T) {
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
	doc := &agreement.Document{ID: "gbr-usa", Title: "api recall test", Version: 1,
		Effective: now.Add(-24 * time.Hour).Format(time.RFC3339), Expires: now.Add(365 * 24 * time.Hour).Format(time.RFC3339),
		Parties: []agreement.Party{
			{Name: "gbr", PublicKey: binding.MarshalPublicKey(key.Public().(ed25519.PublicKey)), Country: "GBR", Organisation: "gbr"},
			{Name: "usa", PublicKey: binding.MarshalPublicKey(apiPartnerKey("usa").Public().(ed25519.PublicKey)), Country: "USA", Organisation: "usa"},
		},
		Equivalence: []agreement.Equivalence{{Levels: []agreement.Level{lv("NATO", "", "SECRET"), lv("NATIONAL", "GBR", "SECRET"), lv("NATIONAL", "USA", "SECRET")}}},
		Terms: []agreement.Terms{{From: []string{"gbr", "usa"}, To: []string{"gbr", "usa"}, Topics: []string{"CYBER"}, Disciplines: []string{"SIGINT"},
			MaxClassification: lv("NATO", "", "SECRET"), Purposes: []string{"analysis"}, RetentionDays: 30, Onward: agreement.OnwardParties,
			Release: agreement.Release{Mode: agreement.ModeAutomatic}}},
	}
	raw, _ := doc.JSON()
	if r := tn.do(t, "POST", "/api/v1/agreements", admin, raw); r.Status != 201 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	tn.do(t, "POST", "/api/v1/agreements/gbr-usa/sign", admin, nil)
	partner := *doc
	s, err := partner.Sign("usa", apiPartnerKey("usa"))
	if err != nil {
		t.Fatal(err)
	}
	partner.Signatures = []agreement.Signature{s}
	praw, _ := partner.JSON()
	tn.do(t, "POST", "/api/v1/agreements/gbr-usa/signatures", admin, praw)
	for _, to := range []string{"proposed", "active"} {
		if r := tn.do(t, "POST", "/api/v1/agreements/gbr-usa/transition", admin, []byte(`{"to":"`+to+`"}`)); r.Status != 200 {
			t.Fatalf("%s: %d %s", to, r.Status, r.Body)
		}
	}
	id := "threat-actor--" + uuid.NewString()
	obj := `{"type":"threat-actor","spec_version":"2.1","id":"` + id + `","created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"Secret Bear"}`
	if st, res := tn.publish(t, admin, []byte(obj), "NATO SECRET // DISC SIGINT // TOPIC CYBER"); st != 200 {
		t.Fatalf("publish: %d %+v", st, res)
	}
	body := []byte(`{"object":"` + id + `","reason":"source compromised"}`)
	if r := tn.do(t, "POST", "/api/v1/recalls", admin, body); r.Status != 400 {
		t.Fatalf("recall of an object never released: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/releases", analyst, []byte(`{"object":"`+id+`","to":"usa","purpose":"analysis"}`)); r.Status != 200 {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/recalls", analyst, body); r.Status != 403 {
		t.Fatalf("analyst recall: %d %s", r.Status, r.Body)
	}
	if r := tn.do(t, "POST", "/api/v1/recalls", admin, []byte(`{"object":"`+id+`"}`)); r.Status != 400 {
		t.Fatalf("recall without a reason: %d %s", r.Status, r.Body)
	}
	r := tn.do(t, "POST", "/api/v1/recalls", admin, body)
	var made struct {
		Recall  string                 `json:"recall"`
		Parties []recalls.RecallStatus `json:"parties"`
	}
	if r.Status != 201 || json.Unmarshal(r.Body, &made) != nil || made.Recall == "" || len(made.Parties) != 1 ||
		made.Parties[0].Party != "usa" || made.Parties[0].State != store.RecallPending {
		t.Fatalf("recall: %d %s", r.Status, r.Body)
	}

	var got struct {
		Recalls []recalls.RecallStatus `json:"recalls"`
	}
	for _, path := range []string{"/api/v1/recalls?object=" + id, "/api/v1/recalls/" + made.Recall} {
		r = tn.get(t, path, auditor)
		if r.Status != 200 || json.Unmarshal(r.Body, &got) != nil || len(got.Recalls) != 1 || got.Recalls[0].State != store.RecallPending {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "Secret Bear") {
			t.Fatal("recall status carries content")
		}
	}
	// The ledger shows the recall's state for the party.
	r = tn.get(t, "/api/v1/ledger?object="+id, auditor)
	var led struct {
		Entries []map[string]any `json:"entries"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &led) != nil || len(led.Entries) != 1 ||
		led.Entries[0]["recall"] != made.Recall || led.Entries[0]["recall_state"] != store.RecallPending {
		t.Fatalf("ledger: %d %s", r.Status, r.Body)
	}
	if r := tn.get(t, "/api/v1/recalls?object="+id, analyst); r.Status != 403 {
		t.Fatalf("analyst reads recalls: %d", r.Status)
	}
	if r := tn.get(t, "/api/v1/recalls", auditor); r.Status != 400 {
		t.Fatalf("recalls of nothing: %d", r.Status)
	}
	if r := tn.get(t, "/api/v1/recalls/recall--"+uuid.NewString(), auditor); r.Status != 404 {
		t.Fatalf("unknown recall: %d", r.Status)
	}
}

package api_test

import (
	"bytes"
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
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/users"
)

// twoPersonAgreement makes agreement gbr-usa active on tn, with every
// release to usa held for two releasers.
func twoPersonAgreement(t *testing.T, tn *testNode, admin string) {
	t.Helper()
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
	doc := &agreement.Document{ID: "gbr-usa", Title: "authority test", Version: 1,
		Effective: now.Add(-24 * time.Hour).Format(time.RFC3339), Expires: now.Add(365 * 24 * time.Hour).Format(time.RFC3339),
		Parties: []agreement.Party{
			{Name: "gbr", PublicKey: binding.MarshalPublicKey(key.Public().(ed25519.PublicKey)), Country: "GBR", Organisation: "gbr"},
			{Name: "usa", PublicKey: binding.MarshalPublicKey(apiPartnerKey("usa").Public().(ed25519.PublicKey)), Country: "USA", Organisation: "usa"},
		},
		Equivalence: table,
		Terms: []agreement.Terms{{From: []string{"gbr", "usa"}, To: []string{"gbr", "usa"}, Topics: []string{"CYBER"}, Disciplines: []string{"SIGINT"},
			MaxClassification: lv("NATO", "", "SECRET"), Purposes: []string{"analysis"}, RetentionDays: 30, Onward: agreement.OnwardParties,
			Release: agreement.Release{Mode: agreement.ModeTwo}}},
	}
	s, err := doc.Sign("usa", apiPartnerKey("usa"))
	if err != nil {
		t.Fatal(err)
	}
	doc.Signatures = []agreement.Signature{s}
	raw, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ path, body string }{
		{"/api/v1/agreements", string(raw)},
		{"/api/v1/agreements/gbr-usa/sign", ""},
		{"/api/v1/agreements/gbr-usa/transition", `{"to":"proposed"}`},
		{"/api/v1/agreements/gbr-usa/transition", `{"to":"active"}`},
	} {
		var body []byte
		if step.body != "" {
			body = []byte(step.body)
		}
		if r := tn.do(t, "POST", step.path, admin, body); r.Status/100 != 2 {
			t.Fatalf("%s: %d %s", step.path, r.Status, r.Body)
		}
	}
}

// TestAuthorityHiddenIsMissingAPI is written from the attacker's side: a
// releaser and an analyst cleared only for NATO UNCLASSIFIED act on a NATO
// SECRET object and its pending release request. Every answer is
// byte-identical to the answer for an id that does not exist, and the
// queue does not show the request.
func TestAuthorityHiddenIsMissingAPI(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	clr := map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}
	rob := tn.user(t, users.UserSpec{Name: "rob", Role: node.RoleReleaser, Nationality: "GBR", Clearances: clr})
	low := map[string]string{"NATO": "UNCLASSIFIED"}
	lou := tn.user(t, users.UserSpec{Name: "lou", Role: node.RoleReleaser, Nationality: "GBR", Clearances: low})
	lee := tn.user(t, users.UserSpec{Name: "lee", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: low})
	twoPersonAgreement(t, tn, admin)

	secret := "threat-actor--" + uuid.NewString()
	obj := `{"type":"threat-actor","spec_version":"2.1","id":"` + secret + `","created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"Secret Bear"}`
	if st, res := tn.publish(t, admin, []byte(obj), "NATO SECRET // DISC SIGINT // TOPIC CYBER"); st != 200 {
		t.Fatalf("publish: %d %+v", st, res)
	}
	r := tn.do(t, "POST", "/api/v1/releases", rob, []byte(`{"object":"`+secret+`","to":"usa","purpose":"analysis"}`))
	var res release.ReleaseResult
	if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil || res.Outcome != "hold" || res.Request == "" {
		t.Fatalf("request: %d %s", r.Status, r.Body)
	}
	missingReq := "release--" + uuid.NewString()
	missingObj := "threat-actor--" + uuid.NewString()

	same := func(what string, hidden, missing response) {
		t.Helper()
		if hidden.Status != 404 || hidden.Status != missing.Status || !bytes.Equal(hidden.Body, missing.Body) {
			t.Errorf("%s: hidden %d %s, missing %d %s; want the same 404", what, hidden.Status, hidden.Body, missing.Status, missing.Body)
		}
	}
	obody := func(id string) []byte { return []byte(`{"object":"` + id + `","to":"usa","purpose":"analysis"}`) }
	same("approve",
		tn.do(t, "POST", "/api/v1/releases/"+res.Request+"/approve", lou, nil),
		tn.do(t, "POST", "/api/v1/releases/"+missingReq+"/approve", lou, nil))
	same("refuse",
		tn.do(t, "POST", "/api/v1/releases/"+res.Request+"/refuse", lou, []byte(`{"reason":"no"}`)),
		tn.do(t, "POST", "/api/v1/releases/"+missingReq+"/refuse", lou, []byte(`{"reason":"no"}`)))
	same("explain",
		tn.do(t, "POST", "/api/v1/releases/explain", lou, obody(secret)),
		tn.do(t, "POST", "/api/v1/releases/explain", lou, obody(missingObj)))
	same("release",
		tn.do(t, "POST", "/api/v1/releases", lee, obody(secret)),
		tn.do(t, "POST", "/api/v1/releases", lee, obody(missingObj)))
	rbody := func(id string) []byte { return []byte(`{"object":"` + id + `","reason":"compromised"}`) }
	same("recall of a never-released object",
		tn.do(t, "POST", "/api/v1/recalls", lou, rbody(secret)),
		tn.do(t, "POST", "/api/v1/recalls", lou, rbody(missingObj)))
	if r := tn.do(t, "POST", "/api/v1/recalls", rob, rbody(secret)); r.Status != 400 {
		t.Errorf("cleared releaser recalls a never-released object: %d %s, want 400", r.Status, r.Body)
	}

	for _, tok := range []string{lee, lou} {
		r := tn.get(t, "/api/v1/releases?state=all", tok)
		if r.Status != 200 || strings.Contains(string(r.Body), res.Request) || strings.Contains(string(r.Body), secret) {
			t.Errorf("queue of a NATO UNCLASSIFIED caller: %d %s", r.Status, r.Body)
		}
	}
	if r := tn.get(t, "/api/v1/releases?state=all", rob); r.Status != 200 || !strings.Contains(string(r.Body), res.Request) {
		t.Errorf("queue of a cleared releaser: %d %s", r.Status, r.Body)
	}
}

// TestUserAdministrationByNode: the API checks no role for user
// administration; node refuses, and the API maps its error to 403.
func TestUserAdministrationByNode(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	tn.user(t, adminSpec())
	ann := tn.user(t, users.UserSpec{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/users", ""},
		{"POST", "/api/v1/users", `{"name":"mallory","role":"admin","nationality":"GBR","clearances":{}}`},
		{"PATCH", "/api/v1/users/ann", `{"role":"admin"}`},
		{"GET", "/api/v1/users/admin/tokens", ""},
		{"POST", "/api/v1/users/admin/tokens", ""},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		if r := tn.do(t, c.method, c.path, ann, body); r.Status != 403 {
			t.Errorf("analyst %s %s: %d %s, want 403", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := tn.get(t, "/api/v1/whoami", ann); r.Status != 200 || !strings.Contains(string(r.Body), `"role":"analyst"`) {
		t.Fatalf("ann after the attempts: %d %s", r.Status, r.Body)
	}
}

package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// sameResponse compares what a client can observe, apart from the Date.
func sameResponse(t testing.TB, what string, a, b response) {
	t.Helper()
	if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
		t.Errorf("%s: %d %q differs from %d %q", what, a.Status, a.Body, b.Status, b.Body)
	}
	for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "X-Content-Type-Options", "WWW-Authenticate", "X-Tearline-Next"} {
		if a.Header.Get(h) != b.Header.Get(h) {
			t.Errorf("%s: header %s %q differs from %q", what, h, a.Header.Get(h), b.Header.Get(h))
		}
	}
	if len(a.Header) != len(b.Header) {
		t.Errorf("%s: headers %v differ from %v", what, a.Header, b.Header)
	}
}

func objPath(id string, rest ...string) string {
	return "/api/v1/objects/" + url.PathEscape(id) + strings.Join(rest, "")
}

// Requirement 4 over HTTP: what a reader may not see answers exactly like
// what does not exist, on every read path.
func TestHTTPRestrictedLooksNonexistent(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	open, heron := newID("threat-actor"), newID("threat-actor")
	tn.publish(t, admin, sdo(open, t0, t0, "open"), "NATO UNCLASSIFIED")
	tn.publish(t, admin, sdo(heron, t0, t0, "heron"), "NATO SECRET // COMPARTMENTS HERON // REL TO FVEY")
	heronLabel := ""
	{
		var bs []map[string]any
		json.Unmarshal(tn.get(t, objPath(heron, "/bindings"), admin).Body, &bs)
		heronLabel = bs[0]["object_labels"].([]any)[0].(map[string]any)["marking_ref"].(string)
	}
	readers := map[string]users.UserSpec{
		"clearance":   {Name: "low", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "CONFIDENTIAL"}, Compartments: []string{"HERON"}},
		"compartment": {Name: "nocomp", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}},
		"nationality": {Name: "fra", Role: node.RoleAnalyst, Nationality: "FRA", Clearances: map[string]string{"NATO": "TOP-SECRET"}, Compartments: []string{"HERON"}},
	}
	missing := newID("threat-actor")
	missingLabel := "marking-definition--00000000-0000-5000-8000-000000000000"
	for why, spec := range readers {
		t.Run(why, func(t *testing.T) {
			tok := tn.user(t, spec)
			for _, p := range [][2]string{
				{objPath(heron), objPath(missing)},
				{objPath(heron, "/versions"), objPath(missing, "/versions")},
				{objPath(heron, "/bindings"), objPath(missing, "/bindings")},
				{"/api/v1/labels/" + heronLabel, "/api/v1/labels/" + missingLabel},
			} {
				denied, none := tn.get(t, p[0], tok), tn.get(t, p[1], tok)
				if denied.Status != http.StatusNotFound {
					t.Errorf("%s: status %d %s", p[0], denied.Status, denied.Body)
				}
				sameResponse(t, p[0], denied, none)
			}
			// The open object is there, so the reader is not simply locked out.
			if r := tn.get(t, objPath(open), tok); r.Status != 200 {
				t.Errorf("open object: %d", r.Status)
			}
			// List (every page), count and export hold only the open object.
			var ids []string
			next := ""
			for {
				r := tn.get(t, "/api/v1/objects?limit=1&next="+next, tok)
				var page struct {
					Objects []json.RawMessage
					More    bool
					Next    string
				}
				if err := json.Unmarshal(r.Body, &page); err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Objects {
					id, _ := objectID(t, o)
					ids = append(ids, id)
				}
				if !page.More {
					break
				}
				next = page.Next
			}
			if len(ids) != 1 || ids[0] != open {
				t.Errorf("List = %v, want only %s", ids, open)
			}
			if r := tn.get(t, "/api/v1/count", tok); string(bytes.TrimSpace(r.Body)) != `{"count":1}` {
				t.Errorf("count = %s", r.Body)
			}
			ex := tn.get(t, "/api/v1/export", tok)
			if ex.Status != 200 || bytes.Contains(ex.Body, []byte(heron)) || bytes.Contains(ex.Body, []byte(heronLabel)) ||
				bytes.Contains(ex.Body, []byte("HERON")) || !bytes.Contains(ex.Body, []byte(open)) {
				t.Errorf("export leaks or misses: %s", ex.Body)
			}
		})
	}
	// The admin, cleared for everything, sees it all.
	if r := tn.get(t, "/api/v1/labels/"+heronLabel, admin); r.Status != 200 {
		t.Errorf("admin label: %d", r.Status)
	}
	if r := tn.get(t, "/api/v1/count", admin); string(bytes.TrimSpace(r.Body)) != `{"count":2}` {
		t.Errorf("admin count = %s", r.Body)
	}
}

// An older version stands in for a newer one the reader may not see, and a
// clearance change through the API takes effect at the next request.
func TestHTTPVersionsAndClearanceChange(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	tok := tn.user(t, users.UserSpec{Name: "ann", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	id := newID("threat-actor")
	v1, v2 := sdo(id, t0, t0, "v1"), sdo(id, t0, t1, "v2")
	tn.publish(t, admin, v1, "NATO RESTRICTED")
	tn.publish(t, admin, v2, "NATO SECRET // REL TO GBR")

	if r := tn.get(t, objPath(id), tok); r.Status != 200 || !bytes.Equal(r.Body, v1) {
		t.Errorf("Get = %d %s; want v1", r.Status, r.Body)
	}
	if r := tn.get(t, objPath(id, "/versions"), tok); string(r.Body) != `{"versions":[`+string(v1)+"]}\n" {
		t.Errorf("versions = %s", r.Body)
	}
	patch := func(body string) {
		t.Helper()
		if r := tn.do(t, http.MethodPatch, "/api/v1/users/ann", admin, []byte(body)); r.Status != 200 {
			t.Fatalf("PATCH: %d %s", r.Status, r.Body)
		}
	}
	patch(`{"clearances":{"NATO":"SECRET"}}`)
	if r := tn.get(t, objPath(id), tok); !bytes.Equal(r.Body, v2) {
		t.Errorf("after raise: %s; want v2", r.Body)
	}
	if r := tn.get(t, objPath(id, "/versions"), tok); string(r.Body) != `{"versions":[`+string(v1)+","+string(v2)+"]}\n" {
		t.Errorf("versions after raise = %s", r.Body)
	}
	patch(`{"clearances":{"NATO":"UNCLASSIFIED"}}`)
	if r := tn.get(t, objPath(id), tok); r.Status != 404 {
		t.Errorf("after lowering: %d %s", r.Status, r.Body)
	}
}

// Revoked, expired and disabled credentials are refused at the next request.
func TestHTTPTokenRefusals(t *testing.T) {
	ctx := context.Background()
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	tok := tn.user(t, users.UserSpec{Name: "bea", Role: node.RoleAnalyst, Nationality: "GBR"})
	unauthorized := func(what, tok string) {
		t.Helper()
		r := tn.get(t, "/api/v1/whoami", tok)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %s", what, r.Status, r.Body)
		}
	}
	if r := tn.get(t, "/api/v1/whoami", tok); r.Status != 200 {
		t.Fatalf("whoami: %d", r.Status)
	}
	unauthorized("no token", "")
	unauthorized("garbage token", "tl_nope")

	// Disabled, then enabled again.
	tn.do(t, http.MethodPatch, "/api/v1/users/bea", admin, []byte(`{"disabled":true}`))
	unauthorized("disabled user", tok)
	tn.do(t, http.MethodPatch, "/api/v1/users/bea", admin, []byte(`{"disabled":false}`))
	if r := tn.get(t, "/api/v1/whoami", tok); r.Status != 200 {
		t.Fatalf("re-enabled: %d", r.Status)
	}

	// Revoked through the API.
	var toks struct {
		Tokens []struct{ ID string }
	}
	json.Unmarshal(tn.get(t, "/api/v1/users/bea/tokens", admin).Body, &toks)
	if len(toks.Tokens) != 1 {
		t.Fatalf("tokens: %+v", toks)
	}
	if r := tn.do(t, http.MethodDelete, "/api/v1/tokens/"+toks.Tokens[0].ID, admin, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	unauthorized("revoked token", tok)

	// Expired: a token whose expiry has passed, written to the store as
	// IssueToken would have written it an hour ago.
	u, err := tn.n.Store().UserByName(ctx, "bea")
	if err != nil {
		t.Fatal(err)
	}
	secret := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	h := sha256.Sum256([]byte(secret))
	past := time.Now().Add(-time.Hour)
	live := store.Token{ID: "00000000000000aa", UserID: u.ID, Hash: h[:], Created: past, Expires: past.Add(48 * time.Hour)}
	dead := store.Token{ID: "00000000000000bb", UserID: u.ID, Hash: h[:], Created: past, Expires: past.Add(time.Minute)}
	if err := tn.n.Store().Update(ctx, func(tx store.Tx) error {
		if err := tx.PutToken(ctx, live); err != nil {
			return err
		}
		return tx.PutToken(ctx, dead)
	}); err != nil {
		t.Fatal(err)
	}
	if r := tn.get(t, "/api/v1/whoami", "tl_"+live.ID+"_"+secret); r.Status != 200 {
		t.Fatalf("live hand-made token: %d %s", r.Status, r.Body)
	}
	unauthorized("expired token", "tl_"+dead.ID+"_"+secret)

	// Every failure has its auth.refuse entry.
	evs := auditEvents(t, tn.n.Store())
	reasons := map[string]int{}
	for _, e := range evs {
		if e.Action == "auth.refuse" {
			reasons[e.Reasons[0]]++
		}
	}
	for _, why := range []string{"malformed", "user-disabled", "revoked", "expired"} {
		if reasons[why] == 0 {
			t.Errorf("no auth.refuse with reason %s: %v", why, reasons)
		}
	}
}

// Requirement 8: roles.
func TestHTTPRoles(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	spec := func(name, role string) users.UserSpec {
		return users.UserSpec{Name: name, Role: role, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}}
	}
	auditor := tn.user(t, spec("aud", node.RoleAuditor))
	analyst := tn.user(t, spec("ana", node.RoleAnalyst))
	releaser := tn.user(t, spec("rel", node.RoleReleaser))

	obj := sdo(newID("threat-actor"), t0, t0, "x")
	if status, _ := tn.publish(t, auditor, obj, "NATO RESTRICTED"); status != http.StatusForbidden {
		t.Errorf("auditor publish: %d, want 403", status)
	}
	if r := tn.get(t, "/api/v1/count", admin); string(bytes.TrimSpace(r.Body)) != `{"count":0}` {
		t.Errorf("auditor's object stored: %s", r.Body)
	}
	for _, tok := range []string{analyst, releaser, admin} {
		if status, _ := tn.publish(t, tok, sdo(newID("threat-actor"), t0, t0, "y"), "NATO RESTRICTED"); status != 200 {
			t.Errorf("publish: %d", status)
		}
	}
	newUser := []byte(`{"name":"zed","role":"analyst","nationality":"GBR"}`)
	userCalls := []struct{ method, path string }{
		{http.MethodGet, "/api/v1/users"},
		{http.MethodPost, "/api/v1/users"},
		{http.MethodPatch, "/api/v1/users/ana"},
		{http.MethodGet, "/api/v1/users/ana/tokens"},
		{http.MethodPost, "/api/v1/users/ana/tokens"},
		{http.MethodDelete, "/api/v1/tokens/ana"},
	}
	for _, tok := range []string{auditor, analyst, releaser} {
		for _, c := range userCalls {
			var body []byte
			if c.method == http.MethodPost || c.method == http.MethodPatch {
				body = []byte(`{"role":"admin"}`)
				if c.path == "/api/v1/users" {
					body = newUser
				}
			}
			if r := tn.do(t, c.method, c.path, tok, body); r.Status != http.StatusForbidden {
				t.Errorf("non-admin %s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
	}
	// Nothing changed: ana is still an analyst with one token, zed does not exist.
	if r := tn.get(t, "/api/v1/whoami", analyst); !bytes.Contains(r.Body, []byte(`"role":"analyst"`)) {
		t.Errorf("ana changed: %s", r.Body)
	}
	if r := tn.get(t, "/api/v1/users", admin); bytes.Contains(r.Body, []byte("zed")) || r.Status != 200 {
		t.Errorf("users: %d %s", r.Status, r.Body)
	}
	// The admin may.
	created, err := tn.client(admin).AddUser(context.Background(), map[string]any{"name": "zed", "role": "analyst", "nationality": "gbr"})
	if err != nil || created.Token == "" || created.Nationality != "GBR" {
		t.Fatalf("admin AddUser: %+v %v", created, err)
	}
	if r := tn.get(t, "/api/v1/whoami", created.Token); r.Status != 200 {
		t.Errorf("new user's token: %d", r.Status)
	}
	if r := tn.do(t, http.MethodPost, "/api/v1/users/zed/tokens?ttl=1h", admin, nil); r.Status != http.StatusCreated {
		t.Errorf("issue token: %d %s", r.Status, r.Body)
	}
}

// Requirement 9: API limits.
func TestHTTPLimits(t *testing.T) {
	dir := initNode(t, "gbr", "GBR")
	cfgPath := filepath.Join(dir, node.ConfigFile)
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^max_body_bytes: \d+$`)
	if !re.Match(cfg) {
		t.Fatalf("no max_body_bytes in %s", cfg)
	}
	os.WriteFile(cfgPath, re.ReplaceAll(cfg, []byte("max_body_bytes: 4096")), 0o600)
	tn := openNode(t, dir)
	if tn.n.Config().MaxBodyBytes != 4096 {
		t.Fatalf("MaxBodyBytes = %d", tn.n.Config().MaxBodyBytes)
	}
	admin := tn.user(t, adminSpec())

	small := sdo(newID("threat-actor"), t0, t0, "small")
	if status, _ := tn.publish(t, admin, small, "NATO RESTRICTED"); status != 200 {
		t.Fatalf("small publish: %d", status)
	}
	big := sdo(newID("threat-actor"), t0, t0, strings.Repeat("x", 5000))
	r := tn.do(t, http.MethodPost, "/api/v1/objects?label=NATO+RESTRICTED", admin, big)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("big publish: %d %s", r.Status, r.Body)
	}
	if r := tn.get(t, "/api/v1/count", admin); string(bytes.TrimSpace(r.Body)) != `{"count":1}` {
		t.Errorf("count after 413 = %s", r.Body)
	}

	badRequest := func(method, path string, body []byte, msg string) {
		t.Helper()
		r := tn.do(t, method, path, admin, body)
		var eb struct{ Error string }
		if r.Status != http.StatusBadRequest || json.Unmarshal(r.Body, &eb) != nil || !strings.Contains(eb.Error, msg) {
			t.Errorf("%s %s: %d %s; want 400 with %q", method, path, r.Status, r.Body, msg)
		}
	}
	for _, l := range []string{"0", "-1", "1001", "abc", "1e3"} {
		badRequest(http.MethodGet, "/api/v1/objects?limit="+l, nil, "limit")
		badRequest(http.MethodGet, "/api/v1/export?limit="+l, nil, "limit")
	}
	for _, l := range []string{"1", "1000"} {
		if r := tn.get(t, "/api/v1/objects?limit="+l, admin); r.Status != 200 {
			t.Errorf("limit %s: %d", l, r.Status)
		}
	}
	for _, next := range []string{"garbage!", "-5", "zzzzzzzzzzzzzzzzzzzz", "%00"} {
		badRequest(http.MethodGet, "/api/v1/objects?next="+next, nil, "next")
		badRequest(http.MethodGet, "/api/v1/export?next="+next, nil, "next")
	}
	badRequest(http.MethodPost, "/api/v1/objects?label=NATO+RESTRICTED", []byte(`{"type":"bundle",`), "JSON")
	badRequest(http.MethodPost, "/api/v1/objects?label=NATO+RESTRICTED", []byte(`not json`), "JSON")
	badRequest(http.MethodPost, "/api/v1/objects?label=NATO+SEKRET", small, "label")
	badRequest(http.MethodPost, "/api/v1/users", []byte(`{"name":"x",`), "user")
	badRequest(http.MethodPost, "/api/v1/users", []byte(`{"name":"x","role":"analyst","nationality":"GBR","colour":"red"}`), "colour")
	badRequest(http.MethodPost, "/api/v1/users", []byte(`{"name":"x","role":"wizard","nationality":"GBR"}`), "role")
	badRequest(http.MethodPatch, "/api/v1/users/admin", []byte(`[1,2]`), "user")
	badRequest(http.MethodPatch, "/api/v1/users/admin", []byte(`{"clearances":{"NATO":"ULTRA"}}`), "clearance")
}

// TestMetrics: the public listener has no /metrics (with or without a
// token, it is a path that does not exist); ServeMetrics, on the
// operator's own listener, serves the request, ingest and SQLite id-index
// metrics an operator watches.
func TestMetrics(t *testing.T) {
	dir := initNode(t, "gbr", "GBR")
	n, err := stack.Open(context.Background(), dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewTLSServer(api.New(n, nil, reg))
	t.Cleanup(func() {
		srv.Close()
		n.Close()
	})
	tn := &testNode{n: n, dir: dir, srv: srv, url: srv.URL, hc: srv.Client()}
	admin := tn.user(t, adminSpec())
	if code, _ := tn.publish(t, admin, sdo(newID("threat-actor"), t0, t0, "open"), "NATO UNCLASSIFIED"); code != http.StatusOK {
		t.Fatalf("publish: %d", code)
	}
	missing := tn.get(t, "/no-such-path", "")
	for _, tok := range []string{"", admin} {
		r := tn.get(t, "/metrics", tok)
		if r.Status != http.StatusNotFound || !bytes.Equal(r.Body, missing.Body) {
			t.Errorf("public /metrics (token %t): %d %s; want the answer for a missing path", tok != "", r.Status, r.Body)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.ServeMetrics(ctx, reg, ln, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeMetrics: %v", err)
		}
	})
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`tearline_http_requests_total{code="200",route="POST /api/v1/objects"} 1`,
		`tearline_ingest_objects_total{outcome="created"} 1`,
		"tearline_sqlite_id_tail_entries 1",
		"tearline_sqlite_id_merges_total 0",
		"tearline_sqlite_id_merge_failures_total 0",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

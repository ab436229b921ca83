package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// The authorization matrix (issue 16, item 1; docs/SECURITY.md): every
// route the node serves, called by every role cleared and not (by level,
// by nationality), by a partner's certificate and by nobody, on a live
// node over HTTPS with mutual TLS. It is written from the attacker's side:
//
//   - whatever a caller may not read answers byte for byte as an id that
//     does not exist (status, headers but Date, body, with the id asked
//     for written in the same place), on every route that takes an id;
//   - no answer to a caller carries an id, a name or a label of what it
//     may not read (lists, counts, error messages), except that auditors
//     and admins see the metadata of every level on the metadata routes
//     (ledger, release queue, recalls, consents, audit log), as
//     docs/AUDIT.md says; and there they do see it;
//   - no route answers 5xx.
//
// The rows are keyed by the router's own list of routes (Server.Routes):
// a route added without a row fails the test, and so does a row for a
// route that is gone.

// matrixCaller is one identity the matrix calls with.
type matrixCaller struct {
	name    string
	role    string // node.Role*; "" for the partner and for nobody
	cleared bool   // may read the fixture's SECRET objects
	partner bool   // usa's certificate, no token
	token   string
	url     string
	hc      *http.Client
}

// matrixIDs are the ids a call is made with: the fixture's (hidden from
// every caller not cleared) or fresh ones that do not exist.
type matrixIDs struct {
	Obj   string // SECRET, released to usa, recalled
	Pend  string // SECRET, its release request pending (never released)
	Cons  string // SECRET, from another originator (provenance), with a consent
	Req   string // the pending release request of Pend
	Rec   string // the recall of Obj
	Label string // the SECRET label's marking-definition id
	Seq   string // the ledger entry (and delivery) of Obj's release to usa
	// ReqV and SeqV are a pending release request for Multi's SECRET
	// version and the ledger entry of its release: hidden by version, of
	// an object the uncleared may read.
	ReqV, SeqV string
	// Multi has two versions: the first NATO UNCLASSIFIED, readable by
	// every caller, the second SECRET, released to usa and recalled.
	// Twin is an object like Multi's first version alone (a caller who may
	// read only that version must not tell Multi from Twin).
	Multi, Twin string
	Del         string // SECRET, originated here, for the TAXII DELETE row alone (it deletes it)
	// Published over by every caller (the publish-over-existing calls of
	// POST /api/v1/objects; docs/SECURITY.md "Versions belong to their
	// owner"): SECRET objects, Over of one version (at t0), Newer too,
	// Rev revoked, Purg purged.
	Over, Newer, Rev, Purg string
}

func (x matrixIDs) list() []string {
	return []string{x.Obj, x.Pend, x.Cons, x.Req, x.Rec, x.Label, x.ReqV, x.Over, x.Newer, x.Rev, x.Purg}
}

type matrixReq struct {
	method, path string
	body         []byte
}

type matrixCall struct {
	name string
	f    func(x matrixIDs) matrixReq
	// byID: the call asks about an id; a caller who may not read it must
	// get what a missing id gets.
	byID bool
	// shows, on a metadata row, is what auditors and admins, whatever
	// their clearance, must see in the answer (docs/AUDIT.md).
	shows func(x matrixIDs) string
	// twin: the call names Multi; a caller who may read only its first
	// version must get what it gets for Twin, after project (when set)
	// drops what differs between any two calls (fresh ids).
	twin    bool
	project func([]byte) []byte
}

type matrixRow struct {
	calls []matrixCall
	// meta: a metadata route, where auditors and admins see every level.
	meta bool
	// same: every caller gets the same answer for every id, so no caller
	// tells the fixture's id from a missing one (documented per row).
	same string
	// check, when set, is run on every answer to a caller.
	check func(t *testing.T, c matrixCaller, x matrixIDs, r response)
}

const (
	multiV2     = "2026-02-03T04:05:06.789Z" // Multi's SECRET version
	secretLabel = "NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER"
	lowLabel    = "NATO UNCLASSIFIED"
)

// TestMain stops the throwaway PostgreSQL server the matrix's PostgreSQL
// run starts (internal/pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestAuthorizationMatrix runs the matrix on each backend: the filters
// that hide are partly the store's queries.
func TestAuthorizationMatrix(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testAuthorizationMatrix(t, "") })
	t.Run("postgres", func(t *testing.T) { testAuthorizationMatrix(t, pgtest.DSN(t)) })
}

func testAuthorizationMatrix(t *testing.T, storeURL string) {
	ctx := context.Background()
	al := newAlliance(t, "Matrix CA")
	gbrDir := initFedNodeOn(t, "gbr", "GBR", al.ca, storeURL)
	usaDir := initFedNode(t, "usa", "USA", al.ca)
	addPeer(t, gbrDir, usaDir) // no URL: deliveries to usa wait, queued
	n, url := serveNodeOn(t, gbrDir, storeURL)
	tn := &testNode{n: n, dir: gbrDir, url: url, hc: client(t, gbrDir)}

	// Callers: every role, cleared and not, then usa and nobody.
	hi := map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}
	lo := map[string]string{"NATO": "UNCLASSIFIED"}
	admin := tn.user(t, users.UserSpec{Name: "admin", Role: node.RoleAdmin, Nationality: "GBR", Clearances: hi, DefaultLabel: lowLabel})
	var callers []matrixCaller
	// Not cleared by level (lo), not cleared by nationality (fra: the
	// level, but the SECRET label is REL TO GBR, USA), cleared (hi); the
	// uncleared call first in each row, before the cleared change state.
	for _, tier := range []struct {
		suffix, nationality string
		clearances          map[string]string
	}{{"lo", "GBR", lo}, {"fra", "FRA", hi}, {"hi", "GBR", hi}} {
		for _, role := range node.Roles { // every role there is
			name := role + "-" + tier.suffix
			tok := tn.user(t, users.UserSpec{Name: name, Role: role, Nationality: tier.nationality, Clearances: tier.clearances, DefaultLabel: lowLabel})
			callers = append(callers, matrixCaller{name: name, role: role, cleared: tier.suffix == "hi", token: tok, url: url, hc: tn.hc})
		}
	}
	callers = append(callers,
		matrixCaller{name: "partner usa", partner: true, url: url, hc: client(t, gbrDir, keyPair(t, usaDir))},
		matrixCaller{name: "nobody", url: url, hc: tn.hc})
	tokenOf := func(name string) string {
		for _, c := range callers {
			if c.name == name {
				return c.token
			}
		}
		t.Fatalf("no caller %s", name)
		return ""
	}
	approvers := []string{
		tn.user(t, users.UserSpec{Name: "approver1", Role: node.RoleReleaser, Nationality: "GBR", Clearances: hi}),
		tn.user(t, users.UserSpec{Name: "approver2", Role: node.RoleReleaser, Nationality: "GBR", Clearances: hi}),
	}
	tn.user(t, users.UserSpec{Name: "victim", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: lo})
	twoPersonAgreement(t, tn, admin)

	// The fixture: three SECRET objects and what the node did with them.
	publish := func(name, banner string) string {
		t.Helper()
		id := newID("threat-actor")
		if st, res := tn.publish(t, admin, sdo(id, t0, t0, name), banner); st != 200 {
			t.Fatalf("publish %s: %d %+v", name, st, res)
		}
		return id
	}
	var x matrixIDs
	x.Obj, x.Pend, x.Cons = publish("Released Bear", secretLabel), publish("Pending Bear", secretLabel), publish("Consented Bear", secretLabel)
	publish("Open Fox", lowLabel)
	x.Twin = publish("Layered Fox", lowLabel)
	x.Multi = publish("Layered Fox", lowLabel)
	if st, res := tn.publish(t, admin, sdo(x.Multi, t0, multiV2, "Upgraded Bear"), secretLabel); st != 200 {
		t.Fatalf("publish Multi's second version: %d %+v", st, res)
	}
	x.Del = publish("Doomed Bear", secretLabel)
	x.Over, x.Newer, x.Rev, x.Purg = publish("Overwritten Bear", secretLabel), publish("Superseded Bear", secretLabel),
		publish("Revoked Bear", secretLabel), publish("Purged Bear", secretLabel)
	revoked := strings.TrimSuffix(string(sdo(x.Rev, t0, overRevokedAt, "Revoked Bear")), "}") + `,"revoked":true}`
	if st, res := tn.publish(t, admin, []byte(revoked), secretLabel); st != 200 {
		t.Fatalf("revoke %s: %d %+v", x.Rev, st, res)
	}
	if _, err := n.Purge(ctx, node.ConsoleAdmin(), node.PurgeTarget{ID: x.Purg, Reason: node.PurgeAdmin}); err != nil {
		t.Fatal(err)
	}
	releaser := tokenOf("releaser-hi")
	request := func(id string) release.ReleaseResult {
		t.Helper()
		r := tn.do(t, "POST", "/api/v1/releases", releaser, []byte(`{"object":"`+id+`","to":"usa","purpose":"analysis"}`))
		var res release.ReleaseResult
		if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil || res.Outcome != "hold" || res.Request == "" {
			t.Fatalf("release request for %s: %d %s", id, r.Status, r.Body)
		}
		return res
	}
	release := func(id string) int64 {
		t.Helper()
		held := request(id)
		for _, tok := range approvers { // releasers other than the requester
			r := tn.do(t, "POST", "/api/v1/releases/"+held.Request+"/approve", tok, nil)
			var res release.ReleaseResult
			if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil {
				t.Fatalf("approve: %d %s", r.Status, r.Body)
			}
			if res.Outcome == "release" {
				var led struct {
					Entries []struct {
						Seq int64 `json:"seq"`
					} `json:"entries"`
				}
				r := tn.get(t, "/api/v1/ledger?object="+id, admin)
				if r.Status != 200 || json.Unmarshal(r.Body, &led) != nil || len(led.Entries) != 1 {
					t.Fatalf("ledger of %s: %d %s", id, r.Status, r.Body)
				}
				return led.Entries[0].Seq
			}
		}
		t.Fatalf("%s not released after two approvals", id)
		return 0
	}
	recall := func(id string) string {
		t.Helper()
		r := tn.do(t, "POST", "/api/v1/recalls", releaser, []byte(`{"object":"`+id+`","reason":"source compromised"}`))
		var rec struct {
			Recall string `json:"recall"`
		}
		if r.Status != 201 || json.Unmarshal(r.Body, &rec) != nil || rec.Recall == "" {
			t.Fatalf("recall: %d %s", r.Status, r.Body)
		}
		return rec.Recall
	}
	x.Seq = fmt.Sprint(release(x.Obj))
	x.Rec = recall(x.Obj)
	x.Req = request(x.Pend).Request
	x.SeqV = fmt.Sprint(release(x.Multi))
	recall(x.Multi)
	x.ReqV = request(x.Multi).Request
	ap, err := n.Authenticate(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Releases.RecordProvenance(ctx, ap, store.Provenance{ObjectID: x.Cons, Originator: "fra"}); err != nil {
		t.Fatal(err)
	}
	if r := tn.do(t, "POST", "/api/v1/consents", releaser, []byte(`{"object":"`+x.Cons+`","originator":"fra","to":"usa"}`)); r.Status != 201 {
		t.Fatalf("consent: %d %s", r.Status, r.Body)
	}
	r := tn.get(t, "/api/v1/objects/"+x.Obj+"/bindings", admin)
	x.Label = regexp.MustCompile(`marking-definition--[0-9a-f-]{36}`).FindString(string(r.Body))
	if r.Status != 200 || x.Label == "" {
		t.Fatalf("bindings: %d %s", r.Status, r.Body)
	}
	missing := matrixIDs{Over: newID("threat-actor"), Newer: newID("threat-actor"), Rev: newID("threat-actor"), Purg: newID("threat-actor"),
		Obj: newID("threat-actor"), Pend: newID("threat-actor"), Cons: newID("threat-actor"),
		Req: "release--" + uuid.NewString(), Rec: "recall--" + uuid.NewString(), Label: "marking-definition--" + uuid.NewString(), Seq: "987654", ReqV: "release--" + uuid.NewString(), SeqV: "987655",
		Del: newID("threat-actor")}
	// What each caller may not learn: for the partner, what was not
	// released to it (Obj and its label were).
	secrets := append(x.list(), x.Del, "Released Bear", "Pending Bear", "Consented Bear", multiV2, "Upgraded Bear", "Doomed Bear",
		"Overwritten Bear", "Superseded Bear", "Revoked Bear", "Purged Bear", overRevokedAt)
	partnerSecrets := []string{x.Pend, x.Cons, x.Req, x.ReqV, "Pending Bear", "Consented Bear"}

	rows := matrixRows(n.TAXII.HoldingsID())
	publishOverRows(t, n, x, rows)
	routes := api.New(n, nil, nil).Routes()
	for _, rt := range routes {
		if _, ok := rows[rt]; !ok {
			t.Errorf("route %q has no row in the authorization matrix: add one (matrixRows)", rt)
		}
	}
	for rt := range rows {
		if !slices.Contains(routes, rt) {
			t.Errorf("the matrix has a row for %q, which the server does not serve", rt)
		}
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for rt := range rows {
			if !yield(rt) {
				return
			}
		}
	})

	for _, rt := range sorted {
		row := rows[rt]
		for _, call := range row.calls {
			what := rt
			if call.name != "" {
				what += " (" + call.name + ")"
			}
			told := false // some caller tells the fixture's id from a missing one
			for _, c := range callers {
				entitled := c.cleared || row.meta && (c.role == node.RoleAuditor || c.role == node.RoleAdmin)
				req := call.f(x)
				got := matrixDo(t, c, req)
				if got.Status >= 500 {
					t.Errorf("%s as %s: %d %s", what, c.name, got.Status, got.Body)
				}
				if !entitled {
					hidden := secrets
					if c.partner {
						hidden = partnerSecrets
					}
					for _, s := range hidden {
						// Repeating what the caller sent tells it nothing.
						asked := strings.Contains(req.path, s) || bytes.Contains(req.body, []byte(s))
						if !asked && leaks(got, s) {
							t.Errorf("%s as %s: the answer carries %q, which %s may not read: %d %s", what, c.name, s, c.name, got.Status, got.Body)
						}
					}
				}
				// The node's counters (ledger sequence numbers, outbox ids)
				// count every level's releases: only those who read the
				// ledger see them.
				if c.role != node.RoleAuditor && c.role != node.RoleAdmin && !strings.HasPrefix(req.path, taxii.Prefix) {
					for _, k := range []string{`"ledger":`, `"outbox":`} {
						if bytes.Contains(got.Body, []byte(k)) {
							t.Errorf("%s as %s: the answer carries a counter %s: %s", what, c.name, k, got.Body)
						}
					}
				}
				if call.shows != nil && row.meta && (c.role == node.RoleAuditor || c.role == node.RoleAdmin) {
					if s := call.shows(x); !bytes.Contains(got.Body, []byte(s)) {
						t.Errorf("%s as %s: auditors and admins see the metadata of every level, but the answer lacks %s: %d %s", what, c.name, s, got.Status, got.Body)
					}
				}
				if row.check != nil {
					row.check(t, c, x, got)
				}
				if call.twin && !c.partner {
					x2 := x
					x2.Multi = x.Twin
					tw := matrixDo(t, c, call.f(x2))
					a, b := normalizeTwin(normalize(got, x), x.Multi), normalizeTwin(normalize(tw, x), x.Twin)
					if call.project != nil {
						a.Body, b.Body = call.project(a.Body), call.project(b.Body)
					}
					same := sameAnswer(a, b)
					switch {
					case !entitled && !same:
						t.Errorf("%s as %s: an object whose later version it may not read answers otherwise than one without it:\n  multi %d %v %s\n  twin  %d %v %s",
							what, c.name, got.Status, got.Header, got.Body, tw.Status, tw.Header, tw.Body)
					case entitled && !same:
						told = true
					}
				}
				if !call.byID {
					continue
				}
				miss := matrixDo(t, c, call.f(missing))
				same := sameAnswer(normalize(got, x), normalize(miss, missing))
				switch {
				case !entitled && !c.partner && !same, c.partner && !same && !matrixPartnerReads(call, x):
					t.Errorf("%s as %s: what it may not read answers otherwise than a missing id:\n  hidden  %d %v %s\n  missing %d %v %s",
						what, c.name, got.Status, got.Header, got.Body, miss.Status, miss.Header, miss.Body)
				case entitled && !same:
					told = true
				}
			}
			if (call.byID || call.twin) && !told && row.same == "" {
				t.Errorf("%s: no caller, cleared or not, tells the fixture's id from a missing one: the row proves nothing", what)
			}
		}
	}

	// A count counts what its caller may read, and nothing else: it is the
	// length of the caller's own listing (which holds nothing hidden, as
	// checked above), and the cleared count more.
	counts := map[bool]int{}
	for _, c := range callers {
		if c.role == "" || c.role == node.RoleAuditor {
			continue
		}
		var cnt struct {
			Count int `json:"count"`
		}
		var list struct {
			Objects []json.RawMessage `json:"objects"`
			More    bool              `json:"more"`
		}
		rc, rl := matrixDo(t, c, matrixReq{method: "GET", path: "/api/v1/count"}), matrixDo(t, c, matrixReq{method: "GET", path: "/api/v1/objects?limit=1000"})
		if rc.Status != 200 || json.Unmarshal(rc.Body, &cnt) != nil || rl.Status != 200 || json.Unmarshal(rl.Body, &list) != nil || list.More {
			t.Fatalf("count and list as %s: %d %s; %d %.200s", c.name, rc.Status, rc.Body, rl.Status, rl.Body)
		}
		if cnt.Count != len(list.Objects) {
			t.Errorf("count as %s: %d, but it lists %d objects", c.name, cnt.Count, len(list.Objects))
		}
		counts[c.cleared] = cnt.Count
	}
	if counts[true] <= counts[false] {
		t.Errorf("the cleared count %d objects, the uncleared %d: the fixture hides nothing", counts[true], counts[false])
	}
}

// matrixPartnerReads reports whether the partner may read what the call
// names: Obj was released to it, nothing else.
func matrixPartnerReads(call matrixCall, x matrixIDs) bool {
	r := call.f(x)
	return strings.Contains(r.path, x.Obj) || bytes.Contains(r.body, []byte(x.Obj))
}

// leaks reports whether s is in the answer's body or headers.
func leaks(r response, s string) bool {
	if bytes.Contains(r.Body, []byte(s)) {
		return true
	}
	for _, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return false
}

// normalize writes the ids the call was made with as their names, so that
// an answer that only repeats the id asked for compares equal, and drops
// Date and Content-Length (the bodies are compared whole).
func normalize(r response, x matrixIDs) response {
	out := response{Status: r.Status, Header: r.Header.Clone(), Body: r.Body}
	out.Header.Del("Date")
	out.Header.Del("Content-Length")
	out.Body = bytes.ReplaceAll(out.Body, []byte("delivery "+x.Seq), []byte("delivery SEQ"))
	out.Body = bytes.ReplaceAll(out.Body, []byte("delivery "+x.SeqV), []byte("delivery SEQ"))
	for i, id := range x.list() {
		name := []string{"OBJ", "PEND", "CONS", "REQ", "REC", "LABEL", "REQV", "OVER", "NEWER", "REV", "PURG"}[i]
		out.Body = bytes.ReplaceAll(out.Body, []byte(id), []byte(name))
		for k, vs := range out.Header {
			for j := range vs {
				out.Header[k][j] = strings.ReplaceAll(vs[j], id, name)
			}
		}
	}
	return out
}

// normalizeTwin writes Multi's or Twin's id as MULTI.
func normalizeTwin(r response, id string) response {
	r.Body = bytes.ReplaceAll(r.Body, []byte(id), []byte("MULTI"))
	return r
}

func sameAnswer(a, b response) bool {
	if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) || len(a.Header) != len(b.Header) {
		return false
	}
	for k, v := range a.Header {
		if !slices.Equal(v, b.Header[k]) {
			return false
		}
	}
	return true
}

func matrixDo(t *testing.T, c matrixCaller, mr matrixReq) response {
	t.Helper()
	var rd io.Reader
	if mr.body != nil {
		rd = bytes.NewReader(mr.body)
	}
	req, err := http.NewRequest(mr.method, c.url+mr.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if strings.HasPrefix(mr.path, taxii.Prefix) {
		req.Header.Set("Accept", taxii.MediaTypeTAXII)
		if mr.body != nil {
			req.Header.Set("Content-Type", taxii.MediaTypeTAXII)
		}
	} else if mr.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", mr.method, mr.path, c.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func matrixRows(holdings string) map[string]matrixRow {
	get := func(path string) func(matrixIDs) matrixReq {
		return func(matrixIDs) matrixReq { return matrixReq{method: "GET", path: path} }
	}
	one := func(f func(matrixIDs) matrixReq) []matrixCall { return []matrixCall{{f: f}} }
	byID := func(f func(matrixIDs) matrixReq) []matrixCall { return []matrixCall{{f: f, byID: true}} }
	post := func(path string, body string) func(matrixIDs) matrixReq {
		return func(matrixIDs) matrixReq { return matrixReq{method: "POST", path: path, body: []byte(body)} }
	}
	fresh := func() []byte {
		return bundle(sdo(newID("indicator"), t0, t0, "fresh "+uuid.NewString()))
	}
	coll := taxii.Prefix + taxii.DefaultRoot + "/collections/" + holdings + "/"
	obody := func(id string) []byte { return []byte(`{"object":"` + id + `","to":"usa","purpose":"analysis"}`) }

	rows := map[string]matrixRow{
		"GET /healthz":       {calls: one(get("/healthz"))},
		"GET /api/v1/whoami": {calls: one(get("/api/v1/whoami"))},
		// Publishing a fresh object; publishing over an existing id is
		// added by publishOverRows.
		"POST /api/v1/objects": {calls: one(func(matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/objects?label=NATO+UNCLASSIFIED", body: fresh()}
		})},
		"GET /api/v1/objects": {calls: one(get("/api/v1/objects?limit=1000&include_revoked=true"))},
		"GET /api/v1/objects/{id}": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: "/api/v1/objects/" + x.Pend}
		})},
		"GET /api/v1/objects/{id}/versions": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: "/api/v1/objects/" + x.Pend + "/versions"}
		})},
		"GET /api/v1/objects/{id}/bindings": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: "/api/v1/objects/" + x.Pend + "/bindings"}
		})},
		"GET /api/v1/count":  {calls: one(get("/api/v1/count"))},
		"GET /api/v1/export": {calls: one(get("/api/v1/export"))},
		"GET /api/v1/labels/{id}": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: "/api/v1/labels/" + x.Label}
		})},
		"GET /api/v1/users": {calls: one(get("/api/v1/users"))},
		"POST /api/v1/users": {calls: one(func(matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/users",
				body: []byte(`{"name":"u` + uuid.NewString()[:8] + `","role":"analyst","nationality":"GBR","clearances":{"NATO":"UNCLASSIFIED"}}`)}
		})},
		"PATCH /api/v1/users/{name}": {calls: one(func(matrixIDs) matrixReq {
			return matrixReq{method: "PATCH", path: "/api/v1/users/victim", body: []byte(`{"compartments":[]}`)}
		})},
		"GET /api/v1/users/{name}/tokens":  {calls: one(get("/api/v1/users/victim/tokens"))},
		"POST /api/v1/users/{name}/tokens": {calls: one(post("/api/v1/users/victim/tokens", ""))},
		"DELETE /api/v1/tokens/{id}": {calls: one(func(matrixIDs) matrixReq {
			return matrixReq{method: "DELETE", path: "/api/v1/tokens/" + uuid.NewString()}
		})},
		"GET /api/v1/audit/checkpoint": {calls: one(get("/api/v1/audit/checkpoint")), meta: true},
		"GET /api/v1/audit/entries": {meta: true, calls: []matrixCall{
			{name: "range", f: get("/api/v1/audit/entries?start=0&end=5")},
			{name: "object", byID: true, shows: func(x matrixIDs) string { return `"entries":[{` },
				f: func(x matrixIDs) matrixReq {
					return matrixReq{method: "GET", path: "/api/v1/audit/entries?object=" + x.Obj}
				}},
		}},
		"GET /api/v1/audit/proof/inclusion":       {calls: one(get("/api/v1/audit/proof/inclusion?index=1&size=3")), meta: true},
		"GET /api/v1/audit/proof/consistency":     {calls: one(get("/api/v1/audit/proof/consistency?from=2&to=4")), meta: true},
		"GET /api/v1/agreements":                  {calls: one(get("/api/v1/agreements"))},
		"POST /api/v1/agreements":                 {calls: one(post("/api/v1/agreements", "{}"))},
		"GET /api/v1/agreements/{id}":             {calls: one(get("/api/v1/agreements/gbr-usa"))},
		"POST /api/v1/agreements/{id}/sign":       {calls: one(post("/api/v1/agreements/no-such/sign", ""))},
		"POST /api/v1/agreements/{id}/signatures": {calls: one(post("/api/v1/agreements/no-such/signatures", "{}"))},
		"POST /api/v1/agreements/{id}/transition": {calls: one(post("/api/v1/agreements/no-such/transition", `{"to":"suspended"}`))},
		"POST /api/v1/releases": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/releases", body: obody(x.Pend)}
		})},
		"GET /api/v1/releases": {meta: true, calls: []matrixCall{
			{name: "all", f: get("/api/v1/releases?state=all"), shows: func(x matrixIDs) string { return x.Req }},
			{name: "pending", f: get("/api/v1/releases"), shows: func(x matrixIDs) string { return x.Pend }},
		}},
		"POST /api/v1/releases/explain": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/releases/explain", body: obody(x.Pend)}
		})},
		"POST /api/v1/releases/{id}/approve": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/releases/" + x.Req + "/approve"}
		})},
		"POST /api/v1/releases/{id}/refuse": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/releases/" + x.Req + "/refuse", body: []byte(`{"reason":"no"}`)}
		})},
		"POST /api/v1/deliveries/{seq}/retry": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/deliveries/" + x.Seq + "/retry"}
		})},
		"GET /api/v1/consents": {meta: true, calls: []matrixCall{{byID: true, shows: func(x matrixIDs) string { return `"originator":"fra"` },
			f: func(x matrixIDs) matrixReq {
				return matrixReq{method: "GET", path: "/api/v1/consents?object=" + x.Cons}
			}}}},
		"POST /api/v1/consents": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/consents", body: []byte(`{"object":"` + x.Cons + `","originator":"fra","to":"usa"}`)}
		})},
		"GET /api/v1/ledger": {meta: true, calls: []matrixCall{
			{name: "object", byID: true, shows: func(x matrixIDs) string { return x.Rec },
				f: func(x matrixIDs) matrixReq { return matrixReq{method: "GET", path: "/api/v1/ledger?object=" + x.Obj} }},
			{name: "agreement", f: get("/api/v1/ledger?agreement=gbr-usa"), shows: func(x matrixIDs) string { return x.Obj }},
		}},
		"POST /api/v1/recalls": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/recalls", body: []byte(`{"object":"` + x.Obj + `","reason":"compromised"}`)}
		})},
		"GET /api/v1/recalls": {meta: true, calls: []matrixCall{{byID: true, shows: func(x matrixIDs) string { return x.Rec },
			f: func(x matrixIDs) matrixReq { return matrixReq{method: "GET", path: "/api/v1/recalls?object=" + x.Obj} }}}},
		"GET /api/v1/recalls/{id}": {meta: true, calls: []matrixCall{{byID: true, shows: func(x matrixIDs) string { return x.Obj },
			f: func(x matrixIDs) matrixReq { return matrixReq{method: "GET", path: "/api/v1/recalls/" + x.Rec} }}}},
		"GET /api/v1/audit/split-views":       {meta: true, calls: one(get("/api/v1/audit/split-views"))},
		"POST /api/v1/peers/{name}/ack-split": {calls: one(post("/api/v1/peers/usa/ack-split", ""))},
		// Partner routes: mutual TLS with a partner's certificate.
		"GET /federation/v1/hello":               {calls: one(get("/federation/v1/hello"))},
		"POST /federation/v1/inbox":              {calls: one(post("/federation/v1/inbox", "{}"))},
		"/federation/v1/witness/":                {calls: one(get("/federation/v1/witness/checkpoints"))},
		"GET /federation/v1/witness/consistency": {calls: one(get("/federation/v1/witness/consistency?old=1&new=2"))},
		// TAXII: a user's token or a partner's certificate.
		"/taxii2/":                                        {calls: one(get("/taxii2/no/such/endpoint/"))},
		"GET /taxii2/{$}":                                 {calls: one(get(taxii.Prefix))},
		"GET /taxii2/{root}/{$}":                          {calls: one(get(taxii.Prefix + taxii.DefaultRoot + "/"))},
		"GET /taxii2/{root}/status/{status}/{$}":          {calls: one(get(taxii.Prefix + taxii.DefaultRoot + "/status/" + uuid.NewString() + "/"))},
		"GET /taxii2/{root}/collections/{$}":              {calls: one(get(taxii.Prefix + taxii.DefaultRoot + "/collections/"))},
		"GET /taxii2/{root}/collections/{collection}/{$}": {calls: one(get(coll))},
		"GET /taxii2/{root}/collections/{collection}/manifest/{$}": {calls: []matrixCall{
			{name: "all", f: get(coll + "manifest/")},
			{name: "match[id]", byID: true, f: func(x matrixIDs) matrixReq {
				return matrixReq{method: "GET", path: coll + "manifest/?match[id]=" + x.Pend}
			}},
		}},
		"GET /taxii2/{root}/collections/{collection}/objects/{$}": {calls: []matrixCall{
			{name: "all", f: get(coll + "objects/")},
			{name: "match[id]", byID: true, f: func(x matrixIDs) matrixReq {
				return matrixReq{method: "GET", path: coll + "objects/?match[id]=" + x.Pend}
			}},
		}},
		"POST /taxii2/{root}/collections/{collection}/objects/{$}": {calls: one(func(matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: coll + "objects/", body: []byte(`{"objects":[` + string(sdo(newID("indicator"), t0, t0, "fresh "+uuid.NewString())) + `]}`)}
		})},
		// The cleared releaser deletes it (this node originated it); the
		// callers after it see a missing id.
		"DELETE /taxii2/{root}/collections/{collection}/objects/{object}/{$}": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "DELETE", path: coll + "objects/" + x.Del + "/"}
		})},
		"GET /taxii2/{root}/collections/{collection}/objects/{object}/{$}": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: coll + "objects/" + x.Pend + "/"}
		})},
		"GET /taxii2/{root}/collections/{collection}/objects/{object}/versions/{$}": {calls: byID(func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: coll + "objects/" + x.Pend + "/versions/"}
		})},
	}

	// Multi, whose later version only the cleared may read. multi names it
	// (in the path or body, at %s); twin also compares the answer with
	// Twin's.
	multi := func(method, path, body string) matrixCall {
		return matrixCall{name: "multi", f: func(x matrixIDs) matrixReq {
			r := matrixReq{method: method, path: strings.Replace(path, "%s", x.Multi, 1)}
			if body != "" {
				r.body = []byte(strings.Replace(body, "%s", x.Multi, 1))
			}
			return r
		}}
	}
	twin := func(method, path, body string) matrixCall {
		c := multi(method, path, body)
		c.name, c.twin = "multi as twin", true
		return c
	}
	add := func(route string, cs ...matrixCall) {
		r := rows[route]
		r.calls = append(r.calls, cs...)
		rows[route] = r
	}
	add("GET /api/v1/objects/{id}", twin("GET", "/api/v1/objects/%s", ""))
	add("GET /api/v1/objects/{id}/versions", twin("GET", "/api/v1/objects/%s/versions", ""))
	add("GET /api/v1/objects/{id}/bindings", multi("GET", "/api/v1/objects/%s/bindings", ""))
	release := twin("POST", "/api/v1/releases", `{"object":"%s","to":"usa","purpose":"analysis"}`)
	release.project = func(b []byte) []byte { // each request and ledger entry is a new one (admins see the entry's number)
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			return b
		}
		delete(m, "request")
		delete(m, "ledger")
		out, _ := json.Marshal(m)
		return out
	}
	add("POST /api/v1/releases", release)
	add("POST /api/v1/releases/explain", twin("POST", "/api/v1/releases/explain", `{"object":"%s","to":"usa","purpose":"analysis"}`))
	add("GET /api/v1/consents", multi("GET", "/api/v1/consents?object=%s", ""))
	add("POST /api/v1/consents", multi("POST", "/api/v1/consents", `{"object":"%s","originator":"fra","to":"usa"}`))
	ledger := multi("GET", "/api/v1/ledger?object=%s", "")
	ledger.shows = func(matrixIDs) string { return multiV2 }
	add("GET /api/v1/ledger", ledger)
	add("POST /api/v1/recalls", twin("POST", "/api/v1/recalls", `{"object":"%s","reason":"compromised"}`))
	add("POST /api/v1/releases/{id}/approve", matrixCall{name: "request for a hidden version", byID: true,
		f: func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/releases/" + x.ReqV + "/approve"}
		}})
	add("POST /api/v1/releases/{id}/refuse", matrixCall{name: "request for a hidden version", byID: true,
		f: func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/releases/" + x.ReqV + "/refuse", body: []byte(`{"reason":"no"}`)}
		}})
	add("POST /api/v1/deliveries/{seq}/retry", matrixCall{name: "delivery of a hidden version", byID: true,
		f: func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/deliveries/" + x.SeqV + "/retry"}
		}})
	add("GET /api/v1/recalls", twin("GET", "/api/v1/recalls?object=%s", ""))
	add("GET /taxii2/{root}/collections/{collection}/manifest/{$}", multi("GET", coll+"manifest/?match[id]=%s&match[version]=all", ""))
	add("GET /taxii2/{root}/collections/{collection}/objects/{$}", multi("GET", coll+"objects/?match[id]=%s&match[version]=all", ""),
		twin("GET", coll+"objects/?match[id]=%s&match[version]="+multiV2, ""))
	add("GET /taxii2/{root}/collections/{collection}/objects/{object}/{$}", multi("GET", coll+"objects/%s/?match[version]=all", ""),
		twin("GET", coll+"objects/%s/?match[version]="+multiV2, ""))
	add("GET /taxii2/{root}/collections/{collection}/objects/{object}/versions/{$}", multi("GET", coll+"objects/%s/versions/", ""))
	// Labels are items of users' collections (docs/TAXII.md): the SECRET
	// label only to those who may read an object bearing it.
	label := func(path string) matrixCall {
		return matrixCall{name: "label", byID: true, f: func(x matrixIDs) matrixReq {
			return matrixReq{method: "GET", path: strings.Replace(path, "%s", x.Label, 1)}
		}}
	}
	add("GET /taxii2/{root}/collections/{collection}/objects/{object}/{$}", label(coll+"objects/%s/"))
	add("GET /taxii2/{root}/collections/{collection}/objects/{object}/versions/{$}", label(coll+"objects/%s/versions/"))
	add("GET /taxii2/{root}/collections/{collection}/objects/{$}", label(coll+"objects/?match[id]=%s"))
	add("GET /taxii2/{root}/collections/{collection}/manifest/{$}", label(coll+"manifest/?match[id]=%s"))
	return rows
}

// overRevokedAt is the modified of Rev's revoked version, and overNewer the
// newer modified the publish-over calls submit.
const (
	overRevokedAt = "2026-02-01T00:00:00.000Z"
	overNewer     = "2026-03-01T00:00:00.000Z"
)

// publishOverRows adds to POST /api/v1/objects the calls that publish, at
// NATO UNCLASSIFIED, ids held at SECRET (issue 16, item 2; docs/SECURITY.md
// "Versions belong to their owner"): with the same modified, with a newer
// one, over a revoked object and over a purged one. Whoever may not read
// the SECRET object must get, byte for byte, the answer for an id that does
// not exist (created, then exists for the callers after the first, who join
// the instance it started), and the SECRET object must be untouched after
// each of their calls; a cleared caller acts on the object itself (a
// conflict, a revoked or purged object refused, a newer version joining
// it), so it tells the two apart.
func publishOverRows(t *testing.T, n interface {
	Store() store.Store
}, x matrixIDs, rows map[string]matrixRow) {
	t.Helper()
	ctx := context.Background()
	type version struct {
		modified, digest string
		revoked          bool
	}
	// The versions of id's default instance, and whether any other
	// instance holds one (false for a purged id).
	high := func(id string) []version {
		t.Helper()
		vs, err := n.Store().Versions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []version
		for _, v := range vs {
			if v.Instance == 0 {
				out = append(out, version{v.Modified, v.Digest, v.Revoked})
			}
		}
		return out
	}
	baseline := map[string][]version{}
	for _, id := range []string{x.Over, x.Newer, x.Rev, x.Purg} {
		baseline[id] = high(id)
	}
	if len(baseline[x.Purg]) != 0 || len(baseline[x.Rev]) != 2 || !baseline[x.Rev][1].revoked {
		t.Fatalf("publish-over fixture: purged %+v, revoked %+v", baseline[x.Purg], baseline[x.Rev])
	}
	over := func(name, modified string, id func(matrixIDs) string) matrixCall {
		return matrixCall{name: name, byID: true, f: func(x matrixIDs) matrixReq {
			return matrixReq{method: "POST", path: "/api/v1/objects?label=NATO+UNCLASSIFIED", body: bundle(sdo(id(x), t0, modified, "Overwriting Fox"))}
		}}
	}
	row := rows["POST /api/v1/objects"]
	row.calls = append(row.calls,
		over("over SECRET, same modified", t0, func(x matrixIDs) string { return x.Over }),
		over("over SECRET revoked", overNewer, func(x matrixIDs) string { return x.Rev }),
		over("over SECRET purged", t0, func(x matrixIDs) string { return x.Purg }),
		over("over SECRET, newer modified", overNewer, func(x matrixIDs) string { return x.Newer }))
	row.check = func(t *testing.T, c matrixCaller, x matrixIDs, r response) {
		t.Helper()
		if c.cleared {
			// A cleared caller acts on the object itself (a newer
			// version joins it): what no uncleared caller may change is
			// the object as it stands after that.
			for id := range baseline {
				baseline[id] = high(id)
			}
			return
		}
		for id, want := range baseline {
			if got := high(id); !slices.Equal(got, want) {
				t.Errorf("POST /api/v1/objects as %s: the SECRET object %s changed: %+v, was %+v (answer %d %s)", c.name, id, got, want, r.Status, r.Body)
			}
		}
	}
	rows["POST /api/v1/objects"] = row
}

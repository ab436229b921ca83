package taxii_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/taxii"
)

func TestDiscoveryAndAPIRoot(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "alice", "/taxii2/")
	wantTAXII(t, r, http.StatusOK)
	d := decode[taxii.Discovery](t, r)
	root := e.srv.URL + "/taxii2/tearline/"
	if d.Title == "" || d.Default != root || !slices.Equal(d.APIRoots, []string{root}) {
		t.Fatalf("discovery %+v, want api root %s", d, root)
	}
	r = e.get(t, "alice", "/taxii2/tearline/")
	wantTAXII(t, r, http.StatusOK)
	a := decode[taxii.APIRoot](t, r)
	if a.Title == "" || !slices.Contains(a.Versions, taxii.MediaTypeTAXII) || a.MaxContentLength != e.n.Config().MaxBodyBytes {
		t.Fatalf("api root %+v", a)
	}
	// Without the trailing slash it is the same resource.
	wantTAXII(t, e.get(t, "alice", "/taxii2/tearline"), http.StatusOK)
	wantError(t, e.get(t, "alice", "/taxii2/nosuchroot/"), http.StatusNotFound, "API root")
	wantError(t, e.get(t, "alice", "/taxii2/tearline/nosuch/thing/"), http.StatusNotFound, "")
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	tok := e.tokens["alice"]
	for _, c := range []struct {
		name string
		r    req
		want int
	}{
		{"basic", req{user: "alice", token: tok}, 200},
		{"bearer", req{token: tok}, 200},
		{"none", req{}, 401},
		{"wrong token", req{token: tok + "x"}, 401},
		{"basic wrong token", req{user: "alice", token: "tl_nope_nope"}, 401},
		{"basic other user's name", req{user: "bob", token: tok}, 401},
	} {
		c.r.method, c.r.path = http.MethodGet, "/taxii2/"
		r := e.do(t, c.r)
		if c.want == 200 {
			wantTAXII(t, r, 200)
			continue
		}
		wantError(t, r, c.want, "token")
		if ch := r.Header.Values("WWW-Authenticate"); !slices.ContainsFunc(ch, func(s string) bool { return strings.HasPrefix(s, "Basic ") }) {
			t.Errorf("%s: WWW-Authenticate %q offers no Basic", c.name, ch)
		}
	}
	// taxii2-client's TokenAuth sends "Authorization: Token ...".
	hr, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/taxii2/", nil)
	hr.Header.Set("Authorization", "Token "+tok)
	resp, err := e.srv.Client().Do(hr)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Token scheme: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestMediaTypes(t *testing.T) {
	e := newEnv(t)
	tok := e.tokens["admin"]
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		accept *string
		want   int
	}{
		{s(taxii.MediaTypeTAXII), 200},
		{s("application/taxii+json"), 200},
		{s("application/taxii+json; version=2.1"), 200},
		{s("*/*"), 200},
		{s(""), 200}, // no Accept header at all
		{s("application/json, application/taxii+json;version=2.1;q=0.5"), 200},
		{s("application/taxii+json;version=2.0"), 406},
		{s("application/json"), 406},
		{s("application/stix+json;version=2.1"), 406},
		{s("application/taxii+json;version=2.1;q=0"), 406},
	} {
		r := e.do(t, req{method: http.MethodGet, path: e.coll + "objects/", user: "admin", token: tok, accept: c.accept})
		if c.want == 200 {
			wantTAXII(t, r, 200)
		} else {
			wantError(t, r, c.want, "Accept")
		}
	}
	empty := []byte(`{"objects":[]}`)
	for _, ct := range []string{"application/json", "application/taxii+json;version=2.0", "application/stix+json;version=2.1", ""} {
		r := e.do(t, req{method: http.MethodPost, path: e.coll + "objects/", user: "admin", token: tok, contentType: ct, body: empty})
		wantError(t, r, http.StatusUnsupportedMediaType, "taxii+json")
	}
	r := e.do(t, req{method: http.MethodPut, path: e.coll + "objects/", user: "admin", token: tok, body: empty})
	wantError(t, r, http.StatusMethodNotAllowed, "PUT")
	if a := r.Header.Get("Allow"); a != "GET, POST" {
		t.Errorf("Allow %q", a)
	}

	// max_content_length: a handler over the same node with a small limit.
	small := taxii.New(e.n.TAXII, taxii.Options{MaxContentLength: 256})
	e2 := &env{n: e.n, tokens: e.tokens, coll: e.coll}
	e2.srv = newTLS(t, small)
	big := []byte(`{"objects":[` + strings.Repeat(" ", 300) + `]}`)
	wantError(t, e2.post(t, "admin", e.coll+"objects/", big), http.StatusRequestEntityTooLarge, "max_content_length")
	r = e2.get(t, "admin", "/taxii2/tearline/")
	if a := decode[taxii.APIRoot](t, r); a.MaxContentLength != 256 {
		t.Errorf("max_content_length %d", a.MaxContentLength)
	}
}

func TestCollections(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "alice", "/taxii2/tearline/collections/")
	wantTAXII(t, r, http.StatusOK)
	cs := decode[taxii.Collections](t, r).Collections
	if len(cs) != 2 || cs[1].ID != e.n.TAXII.MarkedID() || cs[1].Alias != "holdings-marked" || !cs[1].CanRead || !cs[1].CanWrite {
		t.Fatalf("collections %+v", cs)
	}
	c := cs[0]
	if c.ID != e.n.TAXII.HoldingsID() || c.Alias != "holdings" || !c.CanRead || !c.CanWrite || c.Title == "" ||
		!slices.Equal(c.MediaTypes, []string{taxii.MediaTypeSTIX}) {
		t.Fatalf("holdings %+v", c)
	}
	if got := decode[taxii.Collection](t, e.get(t, "alice", e.coll)); got.ID != c.ID || got.Alias != c.Alias || got.CanRead != c.CanRead {
		t.Fatalf("collection %+v", got)
	}
	byAlias := decode[taxii.Collection](t, e.get(t, "alice", "/taxii2/tearline/collections/holdings/"))
	if byAlias.ID != c.ID {
		t.Fatalf("by alias: %+v", byAlias)
	}
	wantError(t, e.get(t, "alice", "/taxii2/tearline/collections/8a6c3f2e-0000-4000-8000-000000000000/"), 404, "collection")
	wantError(t, e.get(t, "alice", "/taxii2/tearline/collections/8a6c3f2e-0000-4000-8000-000000000000/objects/"), 404, "collection")

	// The auditor sees the collection but may neither read nor write it.
	a := decode[taxii.Collection](t, e.get(t, "audrey", e.coll))
	if a.CanRead || a.CanWrite {
		t.Fatalf("auditor's view %+v", a)
	}
	wantError(t, e.get(t, "audrey", e.coll+"objects/"), 403, "reading")
	wantError(t, e.get(t, "audrey", e.coll+"manifest/"), 403, "reading")
	wantError(t, e.post(t, "audrey", e.coll+"objects/", []byte(`{"objects":[]}`)), 403, "writing")
}

// The same collection is a different view for each clearance, and an object
// a reader may not see is a 404 indistinguishable from a missing id.
func TestClearanceFiltering(t *testing.T) {
	e := newEnv(t)
	count := map[string]int{}
	var adminIDs []string
	for _, u := range []string{"admin", "alice", "bob", "carol"} {
		r := e.get(t, u, e.coll+"objects/")
		wantTAXII(t, r, http.StatusOK)
		env := decode[taxii.Envelope](t, r)
		_, ids, _, labels := split(t, env.Objects)
		if labels == 0 && len(ids) > 0 {
			t.Fatalf("%s: no labels in the envelope", u)
		}
		count[u] = len(ids)
		if u == "admin" {
			adminIDs = ids
		}
		m := decode[taxii.Manifest](t, e.get(t, u, e.coll+"manifest/"))
		if len(m.Objects) != len(ids)+labels {
			t.Fatalf("%s: manifest has %d, objects %d and labels %d", u, len(m.Objects), len(ids), labels)
		}
	}
	if count["admin"] != 10 || count["alice"] != 8 || count["bob"] != 4 || count["carol"] != 9 {
		t.Fatalf("objects per reader %v", count)
	}
	bobSees := map[string]bool{}
	for _, rec := range decode[taxii.Manifest](t, e.get(t, "bob", e.coll+"manifest/")).Objects {
		bobSees[rec.ID] = true
	}
	missing := e.get(t, "bob", e.coll+"objects/indicator--00000000-0000-4000-8000-000000000000/")
	wantError(t, missing, 404, "not found")
	hidden := 0
	for _, id := range adminIDs {
		if bobSees[id] {
			continue
		}
		hidden++
		for _, p := range []string{"objects/" + id + "/", "objects/" + id + "/versions/"} {
			r := e.get(t, "bob", e.coll+p)
			wantError(t, r, 404, "not found")
			if string(r.Body) != string(missing.Body) {
				t.Fatalf("hidden %s answers %s, a missing id %s", id, r.Body, missing.Body)
			}
		}
		// Nor does match[id] reveal it.
		env := decode[taxii.Envelope](t, e.get(t, "bob", e.coll+"objects/?match[id]="+id))
		if len(env.Objects) != 0 {
			t.Fatalf("match[id]=%s shows bob %d objects", id, len(env.Objects))
		}
	}
	if hidden != 6 {
		t.Fatalf("%d objects hidden from bob, want 6", hidden)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	all, _ := e.walk(t, "admin", e.coll+"objects/", 1000)
	for _, limit := range []int{1, 3, 4, 9} {
		ids, pages := e.walk(t, "admin", e.coll+"objects/", limit)
		if !slices.Equal(ids, all) {
			t.Fatalf("limit %d: %v, want %v", limit, ids, all)
		}
		if want := (len(all) + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
	}
	// The manifest pages the same way.
	var manifest []string
	next := ""
	for {
		p := e.coll + "manifest/?limit=3"
		if next != "" {
			p += "&next=" + next
		}
		r := e.get(t, "admin", p)
		wantTAXII(t, r, 200)
		m := decode[taxii.Manifest](t, r)
		for _, rec := range m.Objects {
			if rec.MediaType != taxii.MediaTypeSTIX || rec.Version == "" {
				t.Fatalf("manifest record %+v", rec)
			}
			if _, err := time.Parse(time.RFC3339Nano, rec.DateAdded); err != nil {
				t.Fatalf("date_added %q: %v", rec.DateAdded, err)
			}
			manifest = append(manifest, rec.ID)
		}
		if !m.More {
			break
		}
		next = m.Next
	}
	if !slices.Equal(manifest, all) {
		t.Fatalf("manifest %v, objects %v", manifest, all)
	}
	for _, bad := range []string{"limit=0", "limit=-1", "limit=x", "next=%21%21", "next=" + strings.Repeat("A", 300),
		"added_after=yesterday", "match[version]=newest", "match[spec_version]=two", "match[type]=A", "match[id]=nope"} {
		wantError(t, e.get(t, "admin", e.coll+"objects/?"+bad), 400, "")
	}
	// A limit over the maximum is lowered, not refused.
	wantTAXII(t, e.get(t, "admin", e.coll+"objects/?limit=100000"), 200)
}

// publish posts objects as user through TAXII and returns the status.
func (e *env) publish(t testing.TB, user string, objects ...string) taxii.Status {
	t.Helper()
	r := e.post(t, user, e.coll+"objects/", []byte(`{"objects":[`+strings.Join(objects, ",")+`]}`))
	wantTAXII(t, r, http.StatusAccepted)
	st := decode[taxii.Status](t, r)
	if st.Status != "complete" || st.TotalCount != len(objects) || st.SuccessCount+st.FailureCount+st.PendingCount != st.TotalCount ||
		len(st.Successes) != st.SuccessCount || len(st.Failures) != st.FailureCount {
		t.Fatalf("status %+v", st)
	}
	return st
}

func indicator(id, modified string) string {
	return `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2026-01-01T00:00:00.000Z","modified":"` + modified +
		`","name":"test","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`
}

func TestAddObjectsAndStatus(t *testing.T) {
	e := newEnv(t)
	const id1 = "indicator--3f0b6f61-3c8e-4b6e-9d4a-111111111111"
	const id2 = "indicator--3f0b6f61-3c8e-4b6e-9d4a-222222222222"
	// admin has a default label: both valid objects land, the bad one fails.
	st := e.publish(t, "admin", indicator(id1, "2026-01-01T00:00:00.000Z"), indicator(id2, "2026-01-01T00:00:00.000Z"),
		`{"type":"indicator","spec_version":"2.1","id":"indicator--3f0b6f61-3c8e-4b6e-9d4a-333333333333"}`)
	if st.SuccessCount != 2 || st.FailureCount != 1 || st.Failures[0].ID != "indicator--3f0b6f61-3c8e-4b6e-9d4a-333333333333" ||
		st.Successes[0].ID != id1 || st.Successes[0].Version != "2026-01-01T00:00:00.000Z" || st.Successes[0].Message != "created" {
		t.Fatalf("status %+v", st)
	}
	// The status is kept, for its owner only.
	r := e.get(t, "admin", "/taxii2/tearline/status/"+st.ID+"/")
	wantTAXII(t, r, 200)
	if got := decode[taxii.Status](t, r); got.ID != st.ID || got.SuccessCount != 2 {
		t.Fatalf("GET status %+v", got)
	}
	wantError(t, e.get(t, "alice", "/taxii2/tearline/status/"+st.ID+"/"), 404, "status")
	wantError(t, e.get(t, "admin", "/taxii2/tearline/status/"+"00000000-0000-4000-8000-000000000000/"), 404, "status")

	// Resending is idempotent.
	st = e.publish(t, "admin", indicator(id1, "2026-01-01T00:00:00.000Z"))
	if st.SuccessCount != 1 || st.Successes[0].Message != "exists" {
		t.Fatalf("resend %+v", st)
	}

	// alice has no default label and a stock client cannot attach ours.
	st = e.publish(t, "alice", indicator("indicator--3f0b6f61-3c8e-4b6e-9d4a-444444444444", "2026-01-01T00:00:00.000Z"))
	if st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "no default label") || !strings.Contains(st.Failures[0].Message, `"alice"`) {
		t.Fatalf("no-label status %+v", st)
	}

	// An envelope as the node serves it (objects and labels) goes back in
	// whole: the objects are resends, the labels are accounted for.
	r = e.get(t, "admin", e.coll+"objects/")
	env := decode[taxii.Envelope](t, r)
	raw := make([]string, len(env.Objects))
	for i, o := range env.Objects {
		raw[i] = string(o)
	}
	st = e.publish(t, "admin", raw...)
	if st.FailureCount != 0 || st.SuccessCount != len(raw) {
		t.Fatalf("re-posting a served envelope: %+v", st.Failures)
	}

	// Malformed envelopes are TAXII errors.
	for _, body := range []string{`not json`, `[1,2]`, `{"objects":[1]}`, `{"objects":[]} {}`} {
		wantError(t, e.post(t, "admin", e.coll+"objects/", []byte(body)), 400, "envelope")
	}
}

func TestVersionFilters(t *testing.T) {
	e := newEnv(t)
	const id = "indicator--7d1e0c55-9a37-4c39-8f1e-555555555555"
	v1, v2, v3 := "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"
	e.publish(t, "admin", indicator(id, v1))
	e.publish(t, "admin", indicator(id, v3), indicator(id, v2))

	versionsOf := func(query string) []string {
		t.Helper()
		r := e.get(t, "admin", e.coll+"objects/"+id+"/"+query)
		wantTAXII(t, r, 200)
		var out []string
		for _, o := range decode[taxii.Envelope](t, r).Objects {
			var s stixObject
			_ = json.Unmarshal(o, &s)
			if s.Type == "indicator" {
				out = append(out, s.Modified)
			}
		}
		return out
	}
	for q, want := range map[string][]string{
		"":                                     {v3},
		"?match[version]=last":                 {v3},
		"?match[version]=first":                {v1},
		"?match[version]=all":                  {v1, v2, v3},
		"?match[version]=first,last":           {v1, v3},
		"?match[version]=" + v2:                {v2},
		"?match[version]=2026-02-01T00:00:00Z": {v2},
		"?match[version]=2025-01-01T00:00:00Z": nil,
		"?match[spec_version]=2.0":             nil,
		"?match[spec_version]=2.0,2.1":         {v3},
	} {
		if got := versionsOf(q); !slices.Equal(got, want) {
			t.Errorf("object %s: %v, want %v", q, got, want)
		}
	}
	// Paging through the versions of one object.
	r := e.get(t, "admin", e.coll+"objects/"+id+"/?match[version]=all&limit=2")
	env := decode[taxii.Envelope](t, r)
	if !env.More || env.Next == "" {
		t.Fatalf("page 1 of versions: more=%v next=%q", env.More, env.Next)
	}
	r = e.get(t, "admin", e.coll+"objects/"+id+"/?match[version]=all&limit=2&next="+env.Next)
	if env = decode[taxii.Envelope](t, r); env.More {
		t.Fatal("page 2 of versions says more")
	}

	// The versions endpoint.
	r = e.get(t, "admin", e.coll+"objects/"+id+"/versions/")
	wantTAXII(t, r, 200)
	if vs := decode[taxii.Versions](t, r); !slices.Equal(vs.Versions, []string{v1, v2, v3}) || vs.More {
		t.Fatalf("versions %+v", vs)
	}
	if r.Header.Get("X-TAXII-Date-Added-First") == "" || r.Header.Get("X-TAXII-Date-Added-Last") == "" {
		t.Fatal("versions without date headers")
	}
	vs := decode[taxii.Versions](t, e.get(t, "admin", e.coll+"objects/"+id+"/versions/?limit=1"))
	if len(vs.Versions) != 1 || !vs.More {
		t.Fatalf("versions limit=1: %+v", vs)
	}
	vs = decode[taxii.Versions](t, e.get(t, "admin", e.coll+"objects/"+id+"/versions/?limit=1&next="+vs.Next))
	if !slices.Equal(vs.Versions, []string{v2}) {
		t.Fatalf("versions page 2: %+v", vs)
	}
	// In the collection listing: all versions, or only the type asked for.
	r = e.get(t, "admin", e.coll+"objects/?match[id]="+id+"&match[version]=all")
	if _, ids, _, _ := split(t, decode[taxii.Envelope](t, r).Objects); len(ids) != 3 {
		t.Fatalf("match[id]&version=all: %v", ids)
	}
	r = e.get(t, "admin", e.coll+"objects/?match[id]="+id+"&match[type]=malware")
	if env := decode[taxii.Envelope](t, r); len(env.Objects) != 0 {
		t.Fatalf("match[id] of an indicator with match[type]=malware: %d objects", len(env.Objects))
	}
	r = e.get(t, "admin", e.coll+"objects/?match[type]=indicator,malware")
	_, ids, _, _ := split(t, decode[taxii.Envelope](t, r).Objects)
	for _, got := range ids {
		if !strings.HasPrefix(got, "indicator--") && !strings.HasPrefix(got, "malware--") {
			t.Fatalf("match[type]=indicator,malware returned %s", got)
		}
	}
	if !slices.Contains(ids, id) {
		t.Fatalf("match[type]=indicator misses %s", id)
	}
}

// added_after returns exactly what was added after the given time, across
// many ingests, and a poller that sends X-TAXII-Date-Added-Last back gets
// only what is new.
func TestAddedAfter(t *testing.T) {
	e := newEnv(t)
	for i := range 40 {
		e.publish(t, "admin", indicator("indicator--aaaaaaaa-0000-4000-8000-"+strings.Repeat("0", 10)+itoa(10+i), "2026-01-01T00:00:00.000Z"))
	}
	m := decode[taxii.Manifest](t, e.get(t, "admin", e.coll+"manifest/?limit=1000"))
	if len(m.Objects) != 55 {
		t.Fatalf("%d items, want 55: 50 objects and the 5 labels they bear", len(m.Objects))
	}
	for i := 0; i < len(m.Objects); i += 3 {
		after := m.Objects[i].DateAdded
		var want []string
		for _, rec := range m.Objects {
			if rec.DateAdded > after {
				want = append(want, rec.ID)
			}
		}
		got, _ := e.walk(t, "admin", e.coll+"objects/?added_after="+url.QueryEscape(after), 7)
		if !slices.Equal(got, want) {
			t.Fatalf("added_after=%s: %d objects, want %d", after, len(got), len(want))
		}
	}
	// Polling.
	r := e.get(t, "admin", e.coll+"objects/")
	last := r.Header.Get("X-TAXII-Date-Added-Last")
	r = e.get(t, "admin", e.coll+"objects/?added_after="+url.QueryEscape(last))
	if env := decode[taxii.Envelope](t, r); len(env.Objects) != 0 || env.More {
		t.Fatalf("poll with nothing new: %d objects", len(env.Objects))
	}
	const fresh = "indicator--bbbbbbbb-0000-4000-8000-000000000001"
	e.publish(t, "admin", indicator(fresh, "2026-01-01T00:00:00.000Z"))
	r = e.get(t, "admin", e.coll+"objects/?added_after="+url.QueryEscape(last))
	if _, ids, _, _ := split(t, decode[taxii.Envelope](t, r).Objects); !slices.Equal(ids, []string{fresh}) {
		t.Fatalf("poll: %v, want only %s", ids, fresh)
	}
	if r.Header.Get("X-TAXII-Date-Added-Last") <= last {
		t.Fatalf("Date-Added-Last %s not after %s", r.Header.Get("X-TAXII-Date-Added-Last"), last)
	}
}

// A delete that may not be done answers as TAXII 2.1 §5.7 says, and is
// audited: 403 for what the caller may read (a label, another poster's
// object), 404 for a collection the caller may neither read nor write.
// TestStockClientWorkflow deletes.
func TestDeleteRefused(t *testing.T) {
	e := newEnv(t)
	var label, object string
	for _, rec := range decode[taxii.Manifest](t, e.get(t, "alice", e.coll+"manifest/")).Objects {
		if strings.HasPrefix(rec.ID, "marking-definition--") && label == "" {
			label = rec.ID
		} else if strings.HasPrefix(rec.ID, "indicator--") && object == "" {
			object = rec.ID
		}
	}
	del := func(u, id string) response {
		return e.do(t, req{method: http.MethodDelete, path: e.coll + "objects/" + id + "/", user: u, token: e.tokens[u]})
	}
	wantError(t, del("admin", label), http.StatusForbidden, "not delete")
	wantError(t, del("alice", object), http.StatusForbidden, "not delete") // admin posted the demo's objects
	wantError(t, del("audrey", object), http.StatusNotFound, "not found")
	// Still there, and the refusals are in the audit log.
	wantTAXII(t, e.get(t, "admin", e.coll+"objects/"+object+"/"), 200)
	wantTAXII(t, e.get(t, "admin", e.coll+"objects/"+label+"/"), 200)
	if n := countAudit(t, e, func(ev audit.Event) bool {
		return ev.Action == "object.delete" && (ev.Object == object || ev.Object == label) && ev.Decision == audit.Refuse
	}); n != 2 {
		t.Fatalf("%d refused deletes audited, want 2", n)
	}
}

// Every TAXII read is audited like the JSON API's: object reads with the
// labels, the listing, the labels served, and denials.
func TestReadsAudited(t *testing.T) {
	e := newEnv(t)
	before := auditSize(t, e)
	r := e.get(t, "bob", e.coll+"objects/")
	_, ids, _, labels := split(t, decode[taxii.Envelope](t, r).Objects)
	hidden := "note--0f1c3b7e-6b7d-4c4a-9a39-5d5f0e8b2a77" // the national sample
	wantError(t, e.get(t, "bob", e.coll+"objects/"+hidden+"/"), 404, "not found")
	var reads, lists, labelReads, denials int
	forAudit(t, e, before, func(ev audit.Event) {
		if ev.Actor != "user:bob" {
			return
		}
		switch {
		case ev.Action == audit.ActionRead && ev.Decision == audit.Allow && ev.Detail == "taxii" && len(ev.Labels) > 0:
			reads++
		case ev.Action == audit.ActionList && ev.Count == len(ids)+labels:
			lists++
		case ev.Action == audit.ActionLabelRead && ev.Decision == audit.Allow:
			labelReads++
		case ev.Action == audit.ActionRead && ev.Decision == audit.Deny && ev.Object == hidden && len(ev.Reasons) > 0:
			denials++
		}
	})
	if reads != len(ids) || lists != 1 || labelReads != labels || denials != 1 {
		t.Fatalf("audit: %d reads (want %d), %d lists, %d label reads (want %d), %d denials", reads, len(ids), lists, labelReads, labels, denials)
	}
}

func auditSize(t testing.TB, e *env) int64 {
	t.Helper()
	n, err := e.n.Store().AuditSize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func forAudit(t testing.TB, e *env, from int64, fn func(audit.Event)) {
	t.Helper()
	entries, err := e.n.Store().AuditEntries(context.Background(), from, auditSize(t, e))
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		ev, err := audit.Parse(en.Data)
		if err != nil {
			t.Fatal(err)
		}
		fn(ev)
	}
}

func countAudit(t testing.TB, e *env, match func(audit.Event) bool) int {
	n := 0
	forAudit(t, e, 0, func(ev audit.Event) {
		if match(ev) {
			n++
		}
	})
	return n
}

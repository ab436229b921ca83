package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
)

// TestStockClientWorkflow replays the whole workflow of a stock TAXII 2.1
// client, oasis-open/cti-taxii-client (taxii2client.v21), against a live
// node over HTTPS: the requests it makes, with its headers and URL joins,
// for Server, ApiRoot, Collection (get_objects under every filter,
// as_pages, add_objects and its Status, get_object, object_versions,
// get_manifest, delete_object) and the errors it meets. Every answer is
// checked against the TAXII 2.1 specification (OASIS Standard, 10 June
// 2021), section by section, not against what Tearline happens to send:
// status codes, media types, the envelope, manifest, versions and status
// resources, "more" and "next", X-TAXII-Date-Added-First/Last, sorting by
// date_added, and the filters' semantics (§3.4).
func TestStockClientWorkflow(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { stockClientWorkflow(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { stockClientWorkflow(t, newEnvOn(t, pgtest.DSN(t))) })
}

func stockClientWorkflow(t *testing.T, e *env) {
	ctx := context.Background()
	// dave and erin are analysts with a default label (a stock client
	// cannot attach ours): dave posts, erin reads what dave posts but may
	// not delete it. bob (FRA) may not read it (REL TO GBR).
	for _, u := range []users.UserSpec{
		{Name: "dave", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}, DefaultLabel: "NATO RESTRICTED // REL TO GBR"},
		{Name: "erin", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}, DefaultLabel: "NATO RESTRICTED // REL TO GBR"},
	} {
		_, tok, err := e.n.Users.AddUser(ctx, node.ConsoleAdmin(), u)
		if err != nil {
			t.Fatalf("AddUser %s: %v", u.Name, err)
		}
		e.tokens[u.Name] = tok
	}
	admin := e.stock(t, "admin")

	// §4.1 Server discovery (Server.refresh): title required; api_roots
	// resolved against the discovery URL; default is one of them.
	discoveryURL := e.srv.URL + "/taxii2/"
	d := admin.getOK(discoveryURL, nil)
	if s, _ := d.json["title"].(string); s == "" {
		t.Fatalf("discovery: no title: %s", d.body)
	}
	roots, _ := d.json["api_roots"].([]any)
	if len(roots) == 0 {
		t.Fatalf("discovery: no api_roots: %s", d.body)
	}
	if def, ok := d.json["default"]; ok && !slices.Contains(roots, def) {
		t.Fatalf("discovery: default %v is not in api_roots %v", def, roots)
	}
	root := urljoin(discoveryURL, roots[0].(string))
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}

	// §4.2 API root (ApiRoot.refresh_information): title, versions with
	// TAXII 2.1, max_content_length.
	a := admin.getOK(root, nil)
	if s, _ := a.json["title"].(string); s == "" {
		t.Fatalf("api root: no title")
	}
	if vs, _ := a.json["versions"].([]any); !slices.Contains(vs, any("application/taxii+json;version=2.1")) {
		t.Fatalf("api root versions %v", a.json["versions"])
	}
	if n, ok := a.json["max_content_length"].(float64); !ok || n <= 0 {
		t.Fatalf("api root max_content_length %v", a.json["max_content_length"])
	}

	// §5.1, §5.2 Collections (ApiRoot.refresh_collections, Collection
	// refresh): id, title, can_read, can_write required; the collection
	// URL is collections/{id}/; media_types.
	cs, _ := admin.getOK(root+"collections/", nil).json["collections"].([]any)
	var plain, marked string // collection URLs
	for _, it := range cs {
		m := it.(map[string]any)
		for _, k := range []string{"id", "title", "can_read", "can_write"} {
			if m[k] == nil {
				t.Fatalf("collection without %s: %v", k, m)
			}
		}
		u := root + "collections/" + m["id"].(string) + "/"
		if got := admin.getOK(u, nil).json; got["id"] != m["id"] || got["can_read"] != true || got["can_write"] != true {
			t.Fatalf("GET %s: %v, listed as %v", u, got, m)
		}
		if m["id"] == e.n.TAXII.HoldingsID() {
			plain = u
		} else {
			marked = u
		}
	}
	if len(cs) != 2 || plain == "" || marked == "" {
		t.Fatalf("collections %v: want holdings and its marked copy", cs)
	}
	for _, u := range []string{"erin", "bob"} {
		if n := len(e.stock(t, u).getOK(root+"collections/", nil).json["collections"].([]any)); n != 2 {
			t.Fatalf("%s sees %d collections", u, n)
		}
	}

	// §5.5 Add Objects (Collection.add_objects): 202 and a status; then
	// the status URL the client derives (urljoin(collection,
	// "../../status/ID")), polled until complete (§4.3).
	const (
		idA = "indicator--6f2c1a7e-0b1d-4c1e-9a55-0000000000a1"
		idB = "indicator--6f2c1a7e-0b1d-4c1e-9a55-0000000000b2"
		idM = "malware--6f2c1a7e-0b1d-4c1e-9a55-0000000000c3"
		idD = "indicator--6f2c1a7e-0b1d-4c1e-9a55-0000000000d4"
		v1  = "2026-01-01T00:00:00.000Z"
		v2  = "2026-02-01T00:00:00.000Z"
	)
	malware := `{"type":"malware","spec_version":"2.1","id":"` + idM + `","created":"` + v1 + `","modified":"` + v1 + `","name":"m","is_family":false}`
	admin.addObjects(plain, []string{indicator(idA, v1), indicator(idB, v1), malware}, 3)
	admin.addObjects(plain, []string{indicator(idA, v2)}, 1)
	e.stock(t, "dave").addObjects(plain, []string{indicator(idD, v1)}, 1)

	// The labels of what admin reads: from the JSON API's bindings.
	labelsOf := func(id string) []string {
		t.Helper()
		r := e.do(t, req{method: http.MethodGet, path: "/api/v1/objects/" + id + "/bindings", token: e.tokens["admin"], accept: new(string)})
		if r.Status != http.StatusOK {
			t.Fatalf("bindings of %s: %d %s", id, r.Status, r.Body)
		}
		var bs []stixObject
		if err := json.Unmarshal(r.Body, &bs); err != nil || len(bs) == 0 {
			t.Fatalf("bindings of %s: %v %s", id, err, r.Body)
		}
		var out []string
		for _, b := range bs {
			for _, l := range b.ObjectLabels {
				out = append(out, l.MarkingRef)
			}
			for _, l := range b.PartLabels {
				out = append(out, l.MarkingRef)
			}
		}
		return out
	}

	// §5.4 Get Objects, every page of as_pages(get_objects), at several
	// page sizes: the same items whatever the limit, each counted in it.
	all := admin.walk(plain+"objects/", nil, 1000)
	if len(all) < 14 {
		t.Fatalf("%d items", len(all))
	}
	for _, per := range []int{1, 4} {
		got := admin.walk(plain+"objects/", nil, per)
		if !slices.EqualFunc(got, all, sameItem) {
			t.Fatalf("as_pages(per_request=%d): %d items, want the %d of one page", per, len(got), len(all))
		}
	}
	byID := map[string]item{}
	for _, it := range all {
		if _, dup := byID[it.ID]; dup {
			t.Fatalf("%s listed twice without match[version]", it.ID)
		}
		byID[it.ID] = it
	}
	// Our labels are items: every label of every readable object, once,
	// as a marking-definition, fetchable by id (§5.6).
	labels := map[string]bool{}
	for _, it := range all {
		if it.Type != "marking-definition" && !strings.HasPrefix(it.ID, "marking-definition--") {
			for _, l := range labelsOf(it.ID) {
				labels[l] = true
			}
		}
	}
	if len(labels) == 0 {
		t.Fatal("no labels")
	}
	for l := range labels {
		it, ok := byID[l]
		if !ok || it.Type != "marking-definition" {
			t.Fatalf("label %s is not an item of the collection", l)
		}
		if got := admin.envelope(plain+"objects/"+l+"/", nil, 0); len(got) != 1 || got[0].ID != l || !bytes.Equal(got[0].raw, it.raw) {
			t.Fatalf("get_object(%s): %v", l, got)
		}
		if vs := admin.versions(plain+"objects/"+l+"/versions/", nil); !slices.Equal(vs, []string{it.Version}) {
			t.Fatalf("object_versions(%s) = %v, want [%s] (created)", l, vs, it.Version)
		}
	}
	// A version is the latest one (§3.4.1 version, default last).
	if byID[idA].Version != v2 {
		t.Fatalf("%s listed at %s, want the latest %s", idA, byID[idA].Version, v2)
	}

	// match[id] (§3.4.1): exactly those ids, labels among them.
	var someLabel string
	for l := range labels {
		someLabel = l
		break
	}
	for _, ids := range [][]string{{idA}, {idA, idM}, {someLabel}, {idB, someLabel}, {"indicator--00000000-0000-4000-8000-000000000000"}} {
		got := admin.walk(plain+"objects/", url.Values{"match[id]": {strings.Join(ids, ",")}}, 1)
		if want := filterItems(all, func(it item) bool { return slices.Contains(ids, it.ID) }); !slices.EqualFunc(got, want, sameItem) {
			t.Fatalf("match[id]=%v: %v, want %v", ids, got, want)
		}
	}
	// match[type]: only those types, all of them.
	for _, types := range [][]string{{"indicator"}, {"marking-definition"}, {"indicator", "malware"}, {"x-nothing"}} {
		got := admin.walk(plain+"objects/", url.Values{"match[type]": {strings.Join(types, ",")}}, 2)
		if want := filterItems(all, func(it item) bool { return slices.Contains(types, it.Type) }); !slices.EqualFunc(got, want, sameItem) {
			t.Fatalf("match[type]=%v: %d items, want %d", types, len(got), len(want))
		}
	}
	// match[version] on the objects and object endpoints.
	for q, want := range map[string][]string{
		"":                         {v2},
		"last":                     {v2},
		"first":                    {v1},
		"all":                      {v1, v2},
		"first,last":               {v1, v2},
		v1:                         {v1},
		"2026-02-01T00:00:00Z":     {v2},
		"2025-06-01T00:00:00.000Z": nil,
	} {
		p := url.Values{}
		if q != "" {
			p.Set("match[version]", q)
		}
		for _, u := range []string{plain + "objects/" + idA + "/", plain + "objects/"} {
			pp := maps.Clone(p)
			if strings.HasSuffix(u, "objects/") {
				pp.Set("match[id]", idA)
			}
			var got []string
			for _, it := range admin.walk(u, pp, 1) {
				got = append(got, it.Version)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s match[version]=%q: %v, want %v", u, q, got, want)
			}
		}
	}
	// match[spec_version] (§3.4.1): 2.0 selects nothing, and says so
	// (more false); 2.1 is what no filter gives.
	for _, u := range []string{plain + "objects/", plain + "manifest/", plain + "objects/" + idA + "/"} {
		r := admin.get(u, url.Values{"match[spec_version]": {"2.0"}})
		if r.status != http.StatusOK || r.json["more"] == true || r.json["objects"] != nil || r.json["next"] != nil {
			t.Fatalf("%s match[spec_version]=2.0: %d %s", u, r.status, r.body)
		}
		dateHeadersOfEmpty(t, r, "")
	}
	if r := admin.get(plain+"objects/"+idA+"/versions/", url.Values{"match[spec_version]": {"2.0"}}); r.status != http.StatusOK || r.json["versions"] != nil || r.json["more"] == true {
		t.Fatalf("versions match[spec_version]=2.0: %d %s", r.status, r.body)
	} else {
		dateHeadersOfEmpty(t, r, "")
	}
	if got := admin.walk(plain+"objects/", url.Values{"match[spec_version]": {"2.0,2.1"}}, 1000); !slices.EqualFunc(got, all, sameItem) {
		t.Fatalf("match[spec_version]=2.0,2.1: %d items, want %d", len(got), len(all))
	}
	// added_after: strictly after; polling with X-TAXII-Date-Added-Last
	// (§3.5) reaches the end with nothing twice.
	for i := 0; i < len(all); i += 5 {
		after := all[i].DateAdded
		got := admin.walk(plain+"objects/", url.Values{"added_after": {after}}, 3)
		if want := filterItems(all, func(it item) bool { return it.DateAdded > after }); !slices.EqualFunc(got, want, sameItem) {
			t.Fatalf("added_after=%s: %d items, want %d", after, len(got), len(want))
		}
	}
	var polled []item
	after := ""
	for range len(all) + 1 {
		p := url.Values{"limit": {"3"}}
		if after != "" {
			p.Set("added_after", after)
		}
		r := admin.getOK(plain+"objects/", p)
		page := admin.items(r, 3)
		if len(page) == 0 {
			// The poller's last page: empty, and its headers keep it
			// where it is.
			dateHeadersOfEmpty(t, r, after)
			for _, u := range []string{plain + "manifest/", plain + "objects/" + idA + "/", plain + "objects/" + idA + "/versions/"} {
				dateHeadersOfEmpty(t, admin.getOK(u, url.Values{"added_after": {after}}), after)
			}
			break
		}
		polled = append(polled, page...)
		after = r.header.Get("X-TAXII-Date-Added-Last")
	}
	if !slices.EqualFunc(polled, all, func(a, b item) bool { return a.ID == b.ID && a.Version == b.Version && bytes.Equal(a.raw, b.raw) }) {
		t.Fatalf("polling by X-TAXII-Date-Added-Last: %d items, want %d", len(polled), len(all))
	}

	// §5.3 Manifest: one record per item with the same filters, in the
	// same order; media_type one of the collection's.
	for _, p := range []url.Values{nil, {"match[type]": {"marking-definition,malware"}}, {"match[id]": {idA}, "match[version]": {"all"}}} {
		objs := admin.walk(plain+"objects/", p, 1000)
		recs := admin.manifest(plain+"manifest/", p, 2)
		if len(recs) != len(objs) {
			t.Fatalf("manifest %v: %d records, %d objects", p, len(recs), len(objs))
		}
		for i, rec := range recs {
			if rec.ID != objs[i].ID || rec.Version != objs[i].Version || rec.DateAdded != objs[i].DateAdded {
				t.Fatalf("manifest %v record %d: %+v, object %+v", p, i, rec, objs[i])
			}
			if rec.MediaType != "application/stix+json;version=2.1" {
				t.Fatalf("manifest media_type %q", rec.MediaType)
			}
		}
	}

	// §5.8 versions: oldest first, with the date headers.
	if vs := admin.versions(plain+"objects/"+idA+"/versions/", nil); !slices.Equal(vs, []string{v1, v2}) {
		t.Fatalf("object_versions: %v", vs)
	}

	// The marked collection: the same items in the same order, each
	// object with its labels' ids added to object_marking_refs and
	// otherwise the same.
	markedAll := admin.walk(marked+"objects/", nil, 3)
	if len(markedAll) != len(all) {
		t.Fatalf("marked collection: %d items, holdings %d", len(markedAll), len(all))
	}
	for i, m := range markedAll {
		p := all[i]
		if m.ID != p.ID || m.Version != p.Version || m.DateAdded != p.DateAdded {
			t.Fatalf("marked item %d %+v, holdings %+v", i, m, p)
		}
		if m.Type == "marking-definition" {
			if !bytes.Equal(m.raw, p.raw) {
				t.Fatalf("marked label %s differs", m.ID)
			}
			continue
		}
		var mo, po map[string]any
		_ = json.Unmarshal(m.raw, &mo)
		_ = json.Unmarshal(p.raw, &po)
		want := map[string]bool{}
		for _, r := range anyStrings(po["object_marking_refs"]) {
			want[r] = true
		}
		for _, l := range labelsOf(m.ID) {
			want[l] = true
		}
		got := map[string]bool{}
		for _, r := range anyStrings(mo["object_marking_refs"]) {
			got[r] = true
		}
		if !maps.Equal(got, want) {
			t.Fatalf("marked %s: object_marking_refs %v, want %v", m.ID, got, want)
		}
		delete(mo, "object_marking_refs")
		delete(po, "object_marking_refs")
		if mb, _ := json.Marshal(mo); !bytes.Equal(mb, must(json.Marshal(po))) {
			t.Fatalf("marked %s differs beyond object_marking_refs:\n%s\n%s", m.ID, m.raw, p.raw)
		}
	}

	// §5.7 Delete an Object. erin reads dave's object but may not delete
	// it: 403. bob may not read it: 404, as for an id never stored. The
	// auditor's collection has can_read and can_write false: 404.
	missing := e.stock(t, "bob").delete(plain+"objects/indicator--00000000-0000-4000-8000-00000000dead/", nil)
	wantStockError(t, missing, http.StatusNotFound)
	if r := e.stock(t, "bob").delete(plain+"objects/"+idD+"/", nil); r.status != http.StatusNotFound || !bytes.Equal(r.body, missing.body) {
		t.Fatalf("bob deleting an object he may not read: %d %s, a missing id: %s", r.status, r.body, missing.body)
	}
	wantStockError(t, e.stock(t, "audrey").delete(plain+"objects/"+idD+"/", nil), http.StatusNotFound)
	wantStockError(t, e.stock(t, "erin").delete(plain+"objects/"+idD+"/", nil), http.StatusForbidden)
	wantStockError(t, e.stock(t, "dave").delete(plain+"objects/"+idA+"/", nil), http.StatusForbidden) // not his
	// dave posted idD and it was never released: he may delete it.
	e.stock(t, "dave").deleteOK(plain + "objects/" + idD + "/")
	// admin deletes idB, which this node originated; then idA's first
	// version only (§5.7: match[version] selects the versions deleted):
	// its versions resource holds v2 alone, get_object returns v2 (the
	// latest, §5.6), and a client sending v1 again is refused as purged
	// while v2 stays; then the rest of idA by naming every version.
	admin.deleteOK(plain + "objects/" + idB + "/")
	if r := admin.delete(plain+"objects/"+idA+"/", url.Values{"match[version]": {v1}}); r.status != http.StatusOK ||
		!validContentType(r.header.Get("Content-Type"), "application/taxii+json;version=2.1") {
		t.Fatalf("delete %s match[version]=%s: %d %s", idA, v1, r.status, r.body)
	}
	if vs := admin.versions(plain+"objects/"+idA+"/versions/", nil); !slices.Equal(vs, []string{v2}) {
		t.Fatalf("versions of %s after deleting %s: %v, want [%s]", idA, v1, vs, v2)
	}
	if got := admin.walk(plain+"objects/"+idA+"/", url.Values{"match[version]": {"all"}}, 10); len(got) != 1 || got[0].Version != v2 {
		t.Fatalf("get_object %s (all versions) after deleting %s: %v, want %s alone", idA, v1, got, v2)
	}
	wantStockError(t, admin.delete(plain+"objects/"+idA+"/", url.Values{"match[version]": {v1}}), http.StatusNotFound)
	admin.addObjects(plain, []string{indicator(idA, v1)}, 0)
	if vs := admin.versions(plain+"objects/"+idA+"/versions/", nil); !slices.Equal(vs, []string{v2}) {
		t.Fatalf("versions of %s after sending %s again: %v, want [%s]", idA, v1, vs, v2)
	}
	if r := admin.delete(plain+"objects/"+idA+"/", url.Values{"match[version]": {"all"}}); r.status != http.StatusOK {
		t.Fatalf("delete %s match[version]=all: %d %s", idA, r.status, r.body)
	}
	for _, id := range []string{idA, idB, idD} {
		for _, u := range []string{plain + "objects/" + id + "/", plain + "objects/" + id + "/versions/", marked + "objects/" + id + "/"} {
			wantStockError(t, admin.get(u, nil), http.StatusNotFound)
		}
		if got := admin.walk(plain+"objects/", url.Values{"match[id]": {id}}, 10); len(got) != 0 {
			t.Fatalf("deleted %s still listed", id)
		}
		if got := admin.manifest(plain+"manifest/", url.Values{"match[id]": {id}}, 10); len(got) != 0 {
			t.Fatalf("deleted %s still in the manifest", id)
		}
		wantStockError(t, admin.delete(plain+"objects/"+id+"/", nil), http.StatusNotFound)
	}
	deletedBy := map[string]string{}
	forAudit(t, e, 0, func(ev audit.Event) {
		if ev.Action == audit.ActionDelete && ev.Decision == audit.Accept {
			deletedBy[ev.Object] = strings.Join(ev.Reasons, " ")
		}
	})
	if deletedBy[idD] != "deleted over TAXII by dave" || deletedBy[idB] != "deleted over TAXII by admin" {
		t.Fatalf("audited deletes %v", deletedBy)
	}

	// Errors (§3.6): TAXII error messages with the status as http_status.
	noAuth := &stockClient{t: t, http: e.srv.Client()}
	r := noAuth.raw(http.MethodGet, plain+"objects/", nil, map[string]string{"Accept": "application/taxii+json;version=2.1"}, nil)
	wantStockError(t, r, http.StatusUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	wantStockError(t, admin.raw(http.MethodGet, plain+"objects/", nil, map[string]string{"Accept": "application/json"}, nil), http.StatusNotAcceptable)
	wantStockError(t, admin.raw(http.MethodPost, plain+"objects/", nil, map[string]string{"Accept": "application/taxii+json;version=2.1",
		"Content-Type": "application/json"}, []byte(`{"objects":[]}`)), http.StatusUnsupportedMediaType)
	wantStockError(t, admin.get(root+"collections/00000000-0000-4000-8000-000000000000/objects/", nil), http.StatusNotFound)
	for _, bad := range []url.Values{{"limit": {"0"}}, {"added_after": {"yesterday"}}, {"match[version]": {"newest"}}, {"next": {"forged"}}} {
		for _, u := range []string{plain + "objects/", plain + "manifest/", plain + "objects/" + idM + "/", plain + "objects/" + idM + "/versions/"} {
			if _, ok := bad["match[version]"]; ok && strings.HasSuffix(u, "versions/") {
				continue // versions takes no match[version] (§5.8)
			}
			wantStockError(t, admin.get(u, bad), http.StatusBadRequest)
		}
	}
}

// stockResponse is one answer as taxii2client's _HTTPConnection sees it.
type stockResponse struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

type stockConn struct {
	*stockClient
	t *testing.T
}

func (e *env) stock(t *testing.T, user string) *stockConn {
	return &stockConn{stockClient: &stockClient{t: t, http: e.srv.Client(), user: user, pass: e.tokens[user]}, t: t}
}

// raw makes one request as the library does: preemptive Basic (when it
// has credentials), the headers given.
func (c *stockClient) raw(method, u string, params url.Values, headers map[string]string, body []byte) stockResponse {
	c.t.Helper()
	var resp *http.Response
	if c.user == "" {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
		hr, _ := http.NewRequest(method, u, bytes.NewReader(body))
		for k, v := range headers {
			hr.Header.Set(k, v)
		}
		var err error
		if resp, err = c.http.Do(hr); err != nil {
			c.t.Fatal(err)
		}
	} else {
		resp = c.send(method, u, params, headers, body)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := stockResponse{status: resp.StatusCode, header: resp.Header, body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &r.json); err != nil {
			c.t.Fatalf("%s %s: InvalidJSONError: %v: %s", method, u, err, b)
		}
	}
	return r
}

// get is _HTTPConnection.get with the library's headers; it checks the
// Content-Type as the library does on success (§1.6.8).
func (c *stockConn) get(u string, params url.Values) stockResponse {
	c.t.Helper()
	r := c.raw(http.MethodGet, u, params, map[string]string{"User-Agent": stockUA, "Accept": "application/taxii+json;version=2.1"}, nil)
	if r.status < 300 && !validContentType(r.header.Get("Content-Type"), "application/taxii+json;version=2.1") {
		c.t.Fatalf("GET %s: Unexpected Response. Got Content-Type: %q", u, r.header.Get("Content-Type"))
	}
	return r
}

func (c *stockConn) getOK(u string, params url.Values) stockResponse {
	c.t.Helper()
	r := c.get(u, params)
	if r.status != http.StatusOK {
		c.t.Fatalf("GET %s?%s: HTTPError %d %s", u, params.Encode(), r.status, r.body)
	}
	return r
}

// delete is Collection.delete_object.
func (c *stockConn) delete(u string, params url.Values) stockResponse {
	c.t.Helper()
	return c.raw(http.MethodDelete, u, params, map[string]string{"Accept": "application/taxii+json;version=2.1"}, nil)
}

// deleteOK checks §5.7's success: 200 with the TAXII Content-Type.
func (c *stockConn) deleteOK(u string) {
	c.t.Helper()
	r := c.delete(u, nil)
	if r.status != http.StatusOK || !validContentType(r.header.Get("Content-Type"), "application/taxii+json;version=2.1") {
		c.t.Fatalf("DELETE %s: %d %q %s", u, r.status, r.header.Get("Content-Type"), r.body)
	}
}

// addObjects is Collection.add_objects with wait_for_completion: the POST,
// then the status it derives, until complete (§4.3.1).
func (c *stockConn) addObjects(coll string, objects []string, succeed int) {
	c.t.Helper()
	r := c.raw(http.MethodPost, coll+"objects/", nil, map[string]string{"Accept": "application/taxii+json;version=2.1",
		"Content-Type": "application/taxii+json;version=2.1"}, []byte(`{"objects":[`+strings.Join(objects, ",")+`]}`))
	if r.status != http.StatusAccepted || !validContentType(r.header.Get("Content-Type"), "application/taxii+json;version=2.1") {
		c.t.Fatalf("add_objects: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	checkStatus(c.t, r.json)
	statusURL := urljoin(coll, "../../status/"+r.json["id"].(string))
	st := r.json
	for range 60 {
		if st["status"] == "complete" {
			break
		}
		st = c.getOK(statusURL, nil).json
		checkStatus(c.t, st)
	}
	again := c.getOK(statusURL, nil).json
	checkStatus(c.t, again)
	if st["status"] != "complete" || int(st["success_count"].(float64)) != succeed || int(st["total_count"].(float64)) != len(objects) ||
		again["id"] != r.json["id"] {
		c.t.Fatalf("status %v (GET: %v)", st, again)
	}
}

// item is one object of an envelope, as a client reads it.
type item struct {
	Type, ID, Version, DateAdded string
	raw                          json.RawMessage
}

func sameItem(a, b item) bool {
	return a.ID == b.ID && a.Version == b.Version && a.DateAdded == b.DateAdded && bytes.Equal(a.raw, b.raw)
}

func filterItems(all []item, keep func(item) bool) []item {
	var out []item
	for _, it := range all {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

var taxiiTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

// items checks an envelope (§3.7) and the headers of its response (§3.2)
// and returns its objects. A page holds at most limit objects (§3.4);
// "objects" is absent when there are none; "next" only with "more"; the
// date headers are the first and last object's date_added, which the
// manifest of the same request reports. Bindings are not items.
func (c *stockConn) items(r stockResponse, limit int) []item {
	c.t.Helper()
	for k := range r.json {
		if k != "more" && k != "next" && k != "objects" {
			c.t.Fatalf("envelope with %q: %s", k, r.body)
		}
	}
	if more, ok := r.json["more"]; ok && more != true && more != false {
		c.t.Fatalf("more %v", more)
	}
	if r.json["more"] != true && r.json["next"] != nil {
		c.t.Fatalf("next without more: %s", r.body)
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	_ = json.Unmarshal(r.body, &env)
	if _, ok := r.json["objects"]; ok && len(env.Objects) == 0 {
		c.t.Fatalf("an empty envelope with objects: %s", r.body)
	}
	if limit > 0 && len(env.Objects) > limit {
		c.t.Fatalf("%d objects for limit %d", len(env.Objects), limit)
	}
	// §3.2: every 200 answer carries both headers, as timestamps (an
	// empty page too: dateHeadersOfEmpty).
	first, last := r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last")
	if !taxiiTimestamp.MatchString(first) || !taxiiTimestamp.MatchString(last) || first > last {
		c.t.Fatalf("X-TAXII-Date-Added-First %q, -Last %q", first, last)
	}
	out := make([]item, len(env.Objects))
	for i, o := range env.Objects {
		var s struct {
			Type, ID, Modified, Created string
		}
		if err := json.Unmarshal(o, &s); err != nil || s.Type == "" || s.ID == "" {
			c.t.Fatalf("object %d: %v %s", i, err, o)
		}
		if s.Type == "tearline-binding" {
			c.t.Fatalf("a binding is an item: %s", o)
		}
		v := s.Modified
		if v == "" {
			v = s.Created
		}
		out[i] = item{Type: s.Type, ID: s.ID, Version: v, raw: o}
	}
	if len(out) == 1 && first != last {
		c.t.Fatalf("one object, X-TAXII-Date-Added-First %q and -Last %q", first, last)
	}
	if len(out) > 0 {
		out[0].DateAdded, out[len(out)-1].DateAdded = first, last
	}
	return out
}

// walk reads every page as as_pages does: limit=per_request, then next
// with the same filters, until more is false (§3.5). date_added of each
// item comes from the manifest of the same query (each item's own, where
// the headers give only the first and last of a page), checked against
// the headers.
func (c *stockConn) walk(u string, params url.Values, per int) []item {
	c.t.Helper()
	manifestURL := u
	if strings.HasSuffix(u, "/objects/") {
		manifestURL = strings.TrimSuffix(u, "objects/") + "manifest/"
	}
	var out []item
	next := ""
	for pages := 0; ; pages++ {
		p := maps.Clone(params)
		if p == nil {
			p = url.Values{}
		}
		p.Set("limit", strconv.Itoa(per))
		if next != "" {
			p.Set("next", next)
		}
		r := c.getOK(u, p)
		page := c.items(r, per)
		if r.json["more"] == true && len(page) != per && per > 1 {
			c.t.Logf("TAXII Server Response with different amount of objects (%d for %d)", len(page), per)
		}
		out = append(out, page...)
		if r.json["more"] != true {
			break
		}
		if next, _ = r.json["next"].(string); next == "" {
			c.t.Fatalf("more without next: %s", r.body)
		}
		if pages > 1000 {
			c.t.Fatal("pagination does not end")
		}
	}
	// The manifest of the same query (for the object endpoint, the
	// collection's with match[id]) names the same versions in the same
	// order, with each one's date_added.
	mp := maps.Clone(params)
	if mp == nil {
		mp = url.Values{}
	}
	if !strings.HasSuffix(u, "/objects/") {
		parts := strings.Split(strings.TrimSuffix(u, "/"), "/")
		mp.Set("match[id]", parts[len(parts)-1])
		manifestURL = strings.Join(parts[:len(parts)-2], "/") + "/manifest/"
	}
	recs := c.manifest(manifestURL, mp, 1000)
	if len(recs) != len(out) {
		c.t.Fatalf("%s %v: %d objects, the manifest %d", u, params, len(out), len(recs))
	}
	for i := range out {
		if recs[i].ID != out[i].ID || recs[i].Version != out[i].Version || out[i].DateAdded != "" && out[i].DateAdded != recs[i].DateAdded {
			c.t.Fatalf("%s item %d %+v, manifest %+v", u, i, out[i], recs[i])
		}
		out[i].DateAdded = recs[i].DateAdded
	}
	// §3.3: ascending date_added.
	for i := 1; i < len(out); i++ {
		if out[i].DateAdded < out[i-1].DateAdded {
			c.t.Fatalf("%s: item %d added %s before item %d %s", u, i, out[i].DateAdded, i-1, out[i-1].DateAdded)
		}
	}
	return out
}

type record struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

// manifest reads every page of get_manifest (§5.3.1): each record with
// its required fields and the date headers of each page.
func (c *stockConn) manifest(u string, params url.Values, per int) []record {
	c.t.Helper()
	var out []record
	next := ""
	for range 1000 {
		p := maps.Clone(params)
		if p == nil {
			p = url.Values{}
		}
		p.Set("limit", strconv.Itoa(per))
		if next != "" {
			p.Set("next", next)
		}
		r := c.getOK(u, p)
		var m struct {
			More    *bool    `json:"more"`
			Next    string   `json:"next"`
			Objects []record `json:"objects"`
		}
		if err := json.Unmarshal(r.body, &m); err != nil {
			c.t.Fatal(err)
		}
		if _, ok := r.json["objects"]; ok && len(m.Objects) == 0 || len(m.Objects) > per {
			c.t.Fatalf("manifest page %s", r.body)
		}
		for _, rec := range m.Objects {
			if rec.ID == "" || rec.Version == "" || !taxiiTimestamp.MatchString(rec.DateAdded) {
				c.t.Fatalf("manifest record %+v", rec)
			}
		}
		if !taxiiTimestamp.MatchString(r.header.Get("X-TAXII-Date-Added-First")) || !taxiiTimestamp.MatchString(r.header.Get("X-TAXII-Date-Added-Last")) ||
			len(m.Objects) > 0 && (r.header.Get("X-TAXII-Date-Added-First") != m.Objects[0].DateAdded ||
				r.header.Get("X-TAXII-Date-Added-Last") != m.Objects[len(m.Objects)-1].DateAdded) {
			c.t.Fatalf("manifest headers %q %q for %+v", r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last"), m.Objects)
		}
		out = append(out, m.Objects...)
		if m.More == nil || !*m.More {
			if m.Next != "" {
				c.t.Fatalf("manifest next without more")
			}
			return out
		}
		next = m.Next
	}
	c.t.Fatal("manifest pagination does not end")
	return nil
}

// envelope is get_object: one page.
func (c *stockConn) envelope(u string, params url.Values, limit int) []item {
	c.t.Helper()
	return c.items(c.getOK(u, params), limit)
}

// versions is object_versions (§5.8): every page, with the headers.
func (c *stockConn) versions(u string, params url.Values) []string {
	c.t.Helper()
	r := c.getOK(u, params)
	for k := range r.json {
		if k != "more" && k != "next" && k != "versions" {
			c.t.Fatalf("versions resource with %q", k)
		}
	}
	vs := anyStrings(r.json["versions"])
	if !taxiiTimestamp.MatchString(r.header.Get("X-TAXII-Date-Added-First")) || !taxiiTimestamp.MatchString(r.header.Get("X-TAXII-Date-Added-Last")) {
		c.t.Fatalf("versions without date headers")
	}
	if r.json["more"] == true {
		c.t.Fatalf("versions: more on a short list")
	}
	return vs
}

// dateHeadersOfEmpty checks the headers of a 200 answer with no items:
// TAXII 2.1 §3.2 requires both on every 200 answer of the objects,
// manifest, object and versions endpoints, as timestamps, and says
// nothing more of an empty one (oasis-tcs/cti-taxii2#117). Tearline sends
// the request's added_after in both, so a poller that sends Last back
// stays where it is, else the epoch.
func dateHeadersOfEmpty(t *testing.T, r stockResponse, addedAfter string) {
	t.Helper()
	want := "1970-01-01T00:00:00.000000Z"
	if addedAfter != "" {
		want = addedAfter
	}
	if first, last := r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last"); first != want || last != want {
		t.Fatalf("an empty page's X-TAXII-Date-Added-First %q, -Last %q; want %s in both", first, last, want)
	}
}

// wantStockError checks a TAXII error (§3.6.1): the status, the TAXII
// Content-Type, a title, and http_status equal to the status.
func wantStockError(t *testing.T, r stockResponse, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !validContentType(ct, "application/taxii+json;version=2.1") {
		t.Fatalf("error Content-Type %q", ct)
	}
	if s, _ := r.json["title"].(string); s == "" {
		t.Fatalf("error without title: %s", r.body)
	}
	if hs, ok := r.json["http_status"]; ok && hs != strconv.Itoa(status) {
		t.Fatalf("http_status %v for %d", hs, status)
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

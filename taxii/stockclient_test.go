package taxii_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// No stock TAXII 2.1 client can be installed here (taxii2-client is on PyPI
// only; npm has none), so this test makes exactly the requests
// oasis-open/cti-taxii-client (taxii2client.v21, 2.3.0) makes, with its
// headers, URL handling and response checks. OpenCTI's TAXII connector and
// MISP's taxii2 tooling drive that same library. Where the library would
// raise, the test fails.

const stockUA = "taxii2-client/2.3.0"

// stockClient is taxii2client's _HTTPConnection: a requests.Session with
// preemptive HTTP Basic and the library's headers.
type stockClient struct {
	t          *testing.T
	http       *http.Client
	user, pass string
}

// validContentType is _HTTPConnection.valid_content_type for version 2.1.
func validContentType(contentType, accept string) bool {
	ct := strings.Split(strings.ReplaceAll(contentType, " ", ""), ";")
	for _, a := range strings.Split(strings.ReplaceAll(accept, " ", ""), ";") {
		found := false
		for _, c := range ct {
			found = found || c == a
		}
		if !found {
			return false
		}
	}
	return ct[0] == "application/taxii+json"
}

func (c *stockClient) send(method, u string, params url.Values, headers map[string]string, body []byte) *http.Response {
	c.t.Helper()
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	r.Header.Set("Accept-Encoding", "gzip, deflate")
	r.Header.Set("Connection", "keep-alive")
	r.SetBasicAuth(c.user, c.pass)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	resp, err := c.http.Do(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp
}

// get is _HTTPConnection.get: User-Agent and Accept, raise_for_status, then
// the Content-Type check.
func (c *stockClient) get(u string, params url.Values) map[string]any {
	c.t.Helper()
	const accept = "application/taxii+json;version=2.1"
	resp := c.send(http.MethodGet, u, params, map[string]string{"User-Agent": stockUA, "Accept": accept}, nil)
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("GET %s: HTTPError %d %s", u, resp.StatusCode, b)
	}
	if !validContentType(resp.Header.Get("Content-Type"), accept) {
		c.t.Fatalf("GET %s: Unexpected Response. Got Content-Type: %q", u, resp.Header.Get("Content-Type"))
	}
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		c.t.Fatalf("GET %s: InvalidJSONError: %v", u, err)
	}
	return v
}

func urljoin(base, ref string) string {
	b, _ := url.Parse(base)
	r, _ := url.Parse(ref)
	return b.ResolveReference(r).String()
}

// checkStatus is Status._validate_status.
func checkStatus(t *testing.T, s map[string]any) {
	t.Helper()
	for _, k := range []string{"id", "status", "total_count", "success_count", "failure_count", "pending_count"} {
		if s[k] == nil {
			t.Fatalf("No '%s' in Status", k)
		}
	}
	n := func(k string) int { return int(s[k].(float64)) }
	for _, k := range []string{"successes", "failures", "pendings"} {
		if l, ok := s[k].([]any); ok && len(l) != n(strings.TrimSuffix(k, "es")+"_count") && len(l) != n(strings.TrimSuffix(k, "s")+"_count") {
			t.Fatalf("Found %s=%d, but count differs", k, len(l))
		}
	}
	if n("success_count")+n("pending_count")+n("failure_count") != n("total_count") {
		t.Fatalf("counts do not add up: %v", s)
	}
}

func TestStockClientSequence(t *testing.T) {
	e := newEnv(t)
	c := &stockClient{t: t, http: e.srv.Client(), user: "admin", pass: e.tokens["admin"]}

	// Server(url).refresh(): discovery; ApiRoot(urljoin(url, root)).
	discoveryURL := e.srv.URL + "/taxii2/"
	d := c.get(discoveryURL, nil)
	if d["title"] == nil {
		t.Fatal("No 'title' in Server Discovery")
	}
	roots := d["api_roots"].([]any)
	root := urljoin(discoveryURL, roots[0].(string))
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	if d["default"] != roots[0] {
		t.Fatalf("default %v is not an api root", d["default"])
	}
	// ApiRoot.refresh_information() and refresh_collections().
	a := c.get(root, nil)
	if a["title"] == nil || len(a["versions"].([]any)) == 0 || a["max_content_length"] == nil {
		t.Fatalf("API root %v", a)
	}
	var coll string
	for _, it := range c.get(root+"collections/", nil)["collections"].([]any) {
		m := it.(map[string]any)
		for _, k := range []string{"id", "title", "can_read", "can_write"} {
			if m[k] == nil {
				t.Fatalf("No '%s' in Collection", k)
			}
		}
		coll = root + "collections/" + m["id"].(string) + "/"
		if m["can_read"] != true || m["can_write"] != true {
			t.Fatalf("collection %v", m)
		}
	}

	// as_pages(collection.get_objects, per_request=3).
	perRequest := 3
	params := url.Values{"limit": {strconv.Itoa(perRequest)}}
	env := c.get(coll+"objects/", params)
	total := len(env["objects"].([]any))
	if env["more"] == true && total != perRequest {
		perRequest = total // the library's own adjustment, with a warning
	}
	pages := 1
	for env["more"] == true {
		env = c.get(coll+"objects/", url.Values{"limit": {strconv.Itoa(perRequest)}, "next": {env["next"].(string)}})
		total += len(env["objects"].([]any))
		pages++
	}
	if pages < 2 || total < 10 {
		t.Fatalf("as_pages: %d pages, %d objects", pages, total)
	}
	// get_objects with filters as the library spells them.
	env = c.get(coll+"objects/", url.Values{"added_after": {"2000-01-01T00:00:00Z"}, "match[type]": {"indicator,malware"}, "match[version]": {"last"}})
	if len(env["objects"].([]any)) == 0 {
		t.Fatal("filtered get_objects is empty")
	}

	// add_objects(envelope): POST with Accept and Content-Type (no
	// User-Agent: the library's post does not merge it), then the status
	// URL it derives.
	envelope := `{"objects":[` + indicator("indicator--c0ffee00-0000-4000-8000-000000000001", "2026-01-01T00:00:00.000Z") + `]}`
	resp := c.send(http.MethodPost, coll+"objects/", nil, map[string]string{
		"Accept": "application/taxii+json;version=2.1", "Content-Type": "application/taxii+json;version=2.1"}, []byte(envelope))
	if resp.StatusCode >= 400 {
		t.Fatalf("add_objects: HTTPError %d", resp.StatusCode)
	}
	var status map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checkStatus(t, status)
	if status["success_count"].(float64) != 1 {
		t.Fatalf("status %v", status)
	}
	statusURL := urljoin(coll, "../../status/"+status["id"].(string)) // no trailing slash
	checkStatus(t, c.get(statusURL, nil))
	checkStatus(t, c.get(root+"status/"+status["id"].(string)+"/", nil)) // ApiRoot.get_status

	// get_object, object_versions, get_manifest.
	id := "indicator--c0ffee00-0000-4000-8000-000000000001"
	if objs := c.get(coll+"objects/"+id+"/", nil)["objects"].([]any); len(objs) < 1 || objs[len(objs)-1].(map[string]any)["type"] != "tearline-binding" {
		t.Fatalf("get_object: %v", objs)
	}
	if vs := c.get(coll+"objects/"+id+"/versions/", nil)["versions"].([]any); len(vs) != 1 {
		t.Fatalf("object_versions: %v", vs)
	}
	if m := c.get(coll+"manifest/", url.Values{"limit": {"100"}})["objects"].([]any); len(m) != 11 {
		t.Fatalf("get_manifest: %d records", len(m))
	}

	// delete_object: raise_for_status raises on the 405.
	resp = c.send(http.MethodDelete, coll+"objects/"+id+"/", nil, map[string]string{"Accept": "application/taxii+json;version=2.1"}, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("delete_object: %d", resp.StatusCode)
	}
}

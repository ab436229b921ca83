package taxii_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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
	for k, count := range map[string]string{"successes": "success_count", "failures": "failure_count", "pendings": "pending_count"} {
		if l, ok := s[k].([]any); ok && len(l) != n(count) {
			t.Fatalf("Found %s=%d, but count differs", k, len(l))
		}
	}
	if n("success_count")+n("pending_count")+n("failure_count") != n("total_count") {
		t.Fatalf("counts do not add up: %v", s)
	}
}

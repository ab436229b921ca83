package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
)

// env is a real demo node (SQLite in a temporary directory, the demo users
// and their labelled samples) served over real HTTPS by the API server,
// which mounts TAXII at /taxii2/.
// TestMain stops the throwaway PostgreSQL server, if a test started one.
func TestMain(m *testing.M) { pgtest.Main(m) }

type env struct {
	n      *stack.Node
	srv    *httptest.Server
	tokens map[string]string // user name -> API token
	coll   string            // the holdings collection's path
}

func newEnv(t testing.TB) *env { return newEnvOn(t, "") }

// newEnvOn is newEnv with the node's store at storeURL ("" for SQLite, or
// a postgres:// URL).
func newEnvOn(t testing.TB, storeURL string) *env {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	demoUsers, err := demo.SetupOn(ctx, dir, storeURL)
	if err != nil {
		t.Fatalf("demo.Setup: %v", err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener(storeURL)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	srv := httptest.NewTLSServer(api.New(n, nil, nil))
	t.Cleanup(func() {
		srv.Close()
		n.Close()
	})
	e := &env{n: n, srv: srv, tokens: map[string]string{}}
	for _, u := range demoUsers {
		e.tokens[u.Spec.Name] = u.Token
	}
	_, tok, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), users.UserSpec{Name: "audrey", Role: node.RoleAuditor, Nationality: "GBR"})
	if err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	e.tokens["audrey"] = tok
	e.coll = "/taxii2/tearline/collections/" + n.TAXII.HoldingsID() + "/"
	return e
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// req is one request; auth is applied to it (basic, bearer or nothing).
type req struct {
	method, path string
	user         string // Basic user name; "" with token means Bearer
	token        string
	accept       *string // nil: the TAXII 2.1 media type
	contentType  string
	body         []byte
}

func (e *env) do(t testing.TB, r req) response {
	t.Helper()
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case r.user != "":
		hr.SetBasicAuth(r.user, r.token)
	case r.token != "":
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.accept == nil {
		hr.Header.Set("Accept", taxii.MediaTypeTAXII)
	} else if *r.accept != "" {
		hr.Header.Set("Accept", *r.accept)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	resp, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// get is a GET as user, with HTTP Basic (the name and the token).
func (e *env) get(t testing.TB, user, path string) response {
	t.Helper()
	return e.do(t, req{method: http.MethodGet, path: path, user: user, token: e.tokens[user]})
}

func (e *env) post(t testing.TB, user, path string, body []byte) response {
	t.Helper()
	return e.do(t, req{method: http.MethodPost, path: path, user: user, token: e.tokens[user], contentType: taxii.MediaTypeTAXII, body: body})
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v in %s", v, err, r.Body)
	}
	return v
}

// wantTAXII checks status and that the answer is TAXII JSON.
func wantTAXII(t testing.TB, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != taxii.MediaTypeTAXII {
		t.Fatalf("Content-Type %q, want %q", ct, taxii.MediaTypeTAXII)
	}
}

// wantError checks a TAXII error message (TAXII 2.1 §3.6.1).
func wantError(t testing.TB, r response, status int, contains string) taxii.Error {
	t.Helper()
	wantTAXII(t, r, status)
	var e taxii.Error
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.Body, err)
	}
	if e.Title == "" || e.HTTPStatus != http.StatusText(status) && e.HTTPStatus != itoa(status) {
		t.Fatalf("error body %+v: want a title and http_status %d", e, status)
	}
	if !strings.Contains(e.Description, contains) {
		t.Fatalf("error description %q does not say %q", e.Description, contains)
	}
	return e
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// stixObject is what the tests read of an object in an envelope.
type stixObject struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Modified       string `json:"modified"`
	ObjectRef      string `json:"object_ref"`
	ObjectModified string `json:"object_modified"`
	ObjectLabels   []struct {
		MarkingRef string `json:"marking_ref"`
	} `json:"object_labels"`
	PartLabels []struct {
		MarkingRef string `json:"marking_ref"`
	} `json:"part_labels"`
}

// split sorts a user's envelope into the objects it holds and our labels
// (marking-definitions with the Tearline label extension), and checks
// what docs/TAXII.md promises for users' collections: no bindings (they
// are not items), each label at most once.
func split(t testing.TB, objs []json.RawMessage) (items []json.RawMessage, ids []string, bindings, labels int) {
	t.Helper()
	seen := map[string]bool{}
	for i, o := range objs {
		var p stixObject
		if err := json.Unmarshal(o, &p); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		switch {
		case p.Type == "tearline-binding":
			t.Fatalf("binding %s in a user's envelope", p.ID)
		case p.Type == "marking-definition" && bytes.Contains(o, []byte(label.ExtensionID)):
			if seen[p.ID] {
				t.Fatalf("label %s twice in one envelope", p.ID)
			}
			seen[p.ID] = true
			labels++
		default:
			items = append(items, objs[i])
			ids = append(ids, p.ID)
		}
	}
	return items, ids, 0, labels
}

// walk reads every page of path (which has its own query, or none) as
// user, following next until more is false; it fails on a duplicate.
func (e *env) walk(t testing.TB, user, path string, limit int) (ids []string, pages int) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := ""
	for {
		p := path + sep + "limit=" + itoa(limit)
		if next != "" {
			p += "&next=" + next
		}
		r := e.get(t, user, p)
		wantTAXII(t, r, http.StatusOK)
		env := decode[taxii.Envelope](t, r)
		split(t, env.Objects)
		var got []string
		for _, o := range env.Objects {
			var s stixObject
			_ = json.Unmarshal(o, &s)
			got = append(got, s.ID)
		}
		if len(got) > limit {
			t.Fatalf("page of %d items for limit %d", len(got), limit)
		}
		if len(got) > 0 && (r.Header.Get("X-TAXII-Date-Added-First") == "" || r.Header.Get("X-TAXII-Date-Added-Last") == "") {
			t.Fatalf("page without X-TAXII-Date-Added-First/Last headers")
		}
		for _, id := range got {
			if slices.Contains(ids, id) {
				t.Fatalf("%s on two pages", id)
			}
		}
		ids = append(ids, got...)
		pages++
		if !env.More {
			if env.Next != "" {
				t.Fatalf("next %q with more=false", env.Next)
			}
			return ids, pages
		}
		if env.Next == "" {
			t.Fatal("more=true without next")
		}
		next = env.Next
		if pages > 10_000 {
			t.Fatal("pagination does not end")
		}
	}
}

func newTLS(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// testNode is a real node (files in a temporary directory) served over real
// HTTPS by httptest.
type testNode struct {
	n   *stack.Node
	dir string
	srv *httptest.Server // nil for a node served by api.Serve (serveNode)
	url string           // where it serves
	hc  *http.Client     // a client that trusts it
}

// initNode makes a node directory without opening it, so a test can edit
// its files (keyring.yaml) first.
func initNode(t testing.TB, name, country string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := node.Init(context.Background(), dir, node.InitOptions{Name: name, Country: country, CreateStore: backend.Creator("")}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return dir
}

func openNode(t testing.TB, dir string) *testNode {
	t.Helper()
	n, err := stack.Open(context.Background(), dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	srv := httptest.NewTLSServer(api.New(n, nil, nil))
	t.Cleanup(func() {
		srv.Close()
		n.Close()
	})
	return &testNode{n: n, dir: dir, srv: srv, url: srv.URL, hc: srv.Client()}
}

func newNode(t testing.TB, name, country string) *testNode {
	t.Helper()
	return openNode(t, initNode(t, name, country))
}

func (tn *testNode) user(t testing.TB, s users.UserSpec) string {
	t.Helper()
	_, tok, err := tn.n.Users.AddUser(context.Background(), node.ConsoleAdmin(), s)
	if err != nil {
		t.Fatalf("AddUser %s: %v", s.Name, err)
	}
	return tok
}

func adminSpec() users.UserSpec {
	return users.UserSpec{Name: "admin", Role: node.RoleAdmin, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}, Compartments: []string{"HERON"}}
}

// response is a whole HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (tn *testNode) do(t testing.TB, method, path, token string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, tn.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := tn.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (tn *testNode) get(t testing.TB, path, token string) response {
	t.Helper()
	return tn.do(t, http.MethodGet, path, token, nil)
}

func (tn *testNode) client(token string) *api.Client {
	c := api.NewClient(tn.url, token, nil)
	c.HTTP = tn.hc
	return c
}

// publish posts a bundle and decodes the ingest result.
func (tn *testNode) publish(t testing.TB, token string, data []byte, banner string) (int, node.IngestResult) {
	t.Helper()
	path := "/api/v1/objects"
	if banner != "" {
		path += "?label=" + strings.ReplaceAll(strings.ReplaceAll(banner, " ", "+"), "/", "%2F")
	}
	r := tn.do(t, http.MethodPost, path, token, data)
	var res node.IngestResult
	if r.Status == http.StatusOK || r.Status == http.StatusUnprocessableEntity {
		if err := json.Unmarshal(r.Body, &res); err != nil {
			t.Fatalf("publish answer: %v: %s", err, r.Body)
		}
	}
	return r.Status, res
}

func newID(typ string) string { return typ + "--" + uuid.NewString() }

const (
	t0 = "2026-01-10T10:00:00.000Z"
	t1 = "2026-01-11T10:00:00.000Z"
)

func sdo(id, created, modified, name string) []byte {
	b, _ := json.Marshal(map[string]any{"type": strings.SplitN(id, "--", 2)[0], "spec_version": "2.1", "id": id,
		"created": created, "modified": modified, "name": name, "description": "about " + name})
	return b
}

func bundle(objs ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("compact: %v: %.200s", err, b)
	}
	return out.Bytes()
}

// bundleObjects splits a bundle with encoding/json, independently of the
// stix package.
func bundleObjects(t testing.TB, data []byte) []json.RawMessage {
	t.Helper()
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	return b.Objects
}

func objectID(t testing.TB, raw []byte) (id, typ string) {
	t.Helper()
	var o struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	return o.ID, o.Type
}

// auditEvents reads the whole audit log, checking that its indexes are
// dense and every entry parses.
func auditEvents(t testing.TB, st store.Store) []audit.Event {
	t.Helper()
	ctx := context.Background()
	size, err := st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.AuditEntries(ctx, 0, size)
	if err != nil || int64(len(entries)) != size {
		t.Fatalf("audit: %d entries of %d: %v", len(entries), size, err)
	}
	out := make([]audit.Event, len(entries))
	for i, e := range entries {
		if e.Index != int64(i) {
			t.Fatalf("audit index %d at %d", e.Index, i)
		}
		if out[i], err = audit.Parse(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

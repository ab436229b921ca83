package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
)

func auditGet(t *testing.T, srv *httptest.Server, tok, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch out := v.(type) {
	case nil:
	case *[]byte:
		*out = b
	default:
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v: %s", path, err, b)
			}
		}
	}
	return resp.StatusCode
}

type proofResp struct {
	Hashes []string `json:"hashes"`
}

func decode(t *testing.T, hs []string) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// auditFixture is a node with an auditor and an analyst (their tokens),
// served over the API.
type auditFixture struct {
	n              *stack.Node
	srv            *httptest.Server
	audTok, anaTok string
}

func auditUser(name, role string) users.UserSpec {
	return users.UserSpec{Name: name, Role: role, Nationality: "GBR", Clearances: map[string]string{"NATIONAL": "SECRET"}}
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "n")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "alpha", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	f := &auditFixture{n: n}
	if _, f.audTok, err = n.Users.AddUser(ctx, node.ConsoleAdmin(), auditUser("oversight", node.RoleAuditor)); err != nil {
		t.Fatal(err)
	}
	if _, f.anaTok, err = n.Users.AddUser(ctx, node.ConsoleAdmin(), auditUser("ana", node.RoleAnalyst)); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(api.New(n, nil, nil))
	t.Cleanup(f.srv.Close)
	return f
}

// addAnalysts adds analysts u0 .. u(k-1).
func (f *auditFixture) addAnalysts(t *testing.T, k int) {
	t.Helper()
	for i := range k {
		if _, _, err := f.n.Users.AddUser(t.Context(), node.ConsoleAdmin(), auditUser(fmt.Sprintf("u%d", i), node.RoleAnalyst)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditAPI(t *testing.T) {
	f := newAuditFixture(t)
	n, srv, audTok, anaTok := f.n, f.srv, f.audTok, f.anaTok

	if code := auditGet(t, srv, anaTok, "/api/v1/audit/checkpoint", nil); code != http.StatusForbidden {
		t.Errorf("analyst checkpoint = %d, want 403", code)
	}
	if code := auditGet(t, srv, anaTok, "/api/v1/audit/entries?start=0&end=5", nil); code != http.StatusForbidden {
		t.Errorf("analyst entries = %d, want 403", code)
	}
	var first []byte
	if code := auditGet(t, srv, audTok, "/api/v1/audit/checkpoint", &first); code != 200 {
		t.Fatalf("checkpoint = %d %s", code, first)
	}
	v, _ := note.NewVerifier(n.AuditLogKey())
	cp1, err := audit.OpenCheckpoint(first, v)
	if err != nil {
		t.Fatal(err)
	}
	f.addAnalysts(t, 5)
	var second []byte
	auditGet(t, srv, audTok, "/api/v1/audit/checkpoint", &second)
	cp2, err := audit.OpenCheckpoint(second, v)
	if err != nil || cp2.Size <= cp1.Size {
		t.Fatalf("second checkpoint %d, %v; first %d", cp2.Size, err, cp1.Size)
	}
	var ents struct {
		Entries []struct {
			Index int64  `json:"index"`
			Leaf  []byte `json:"leaf"`
		} `json:"entries"`
	}
	if code := auditGet(t, srv, audTok, fmt.Sprintf("/api/v1/audit/entries?start=0&end=%d", cp2.Size), &ents); code != 200 || uint64(len(ents.Entries)) != cp2.Size {
		t.Fatalf("entries = %d, %d entries", code, len(ents.Entries))
	}
	for i, e := range ents.Entries {
		var p proofResp
		if code := auditGet(t, srv, audTok, fmt.Sprintf("/api/v1/audit/proof/inclusion?index=%d&size=%d", i, cp2.Size), &p); code != 200 {
			t.Fatalf("inclusion %d = %d", i, code)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), cp2.Size, rfc6962.DefaultHasher.HashLeaf(e.Leaf), decode(t, p.Hashes), cp2.Hash); err != nil {
			t.Errorf("VerifyInclusion(%d): %v", i, err)
		}
	}
	var p proofResp
	if code := auditGet(t, srv, audTok, fmt.Sprintf("/api/v1/audit/proof/consistency?from=%d&to=%d", cp1.Size, cp2.Size), &p); code != 200 {
		t.Fatalf("consistency = %d", code)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cp1.Size, cp2.Size, decode(t, p.Hashes), cp1.Hash, cp2.Hash); err != nil {
		t.Errorf("VerifyConsistency: %v", err)
	}
	if code := auditGet(t, srv, audTok, fmt.Sprintf("/api/v1/audit/proof/inclusion?index=0&size=%d", cp2.Size+100), nil); code != http.StatusBadRequest {
		t.Errorf("inclusion beyond the log = %d, want 400", code)
	}
	if code := auditGet(t, srv, audTok, "/api/v1/audit/proof/consistency?from=x&to=2", nil); code != http.StatusBadRequest {
		t.Errorf("bad parameter = %d, want 400", code)
	}
}

// TestAuditAPIFilter: without start, entries are found by their metadata,
// newest first, a page at a time; bad filters answer 400 and analysts 403.
func TestAuditAPIFilter(t *testing.T) {
	f := newAuditFixture(t)
	f.addAnalysts(t, 7)
	srv, audTok, anaTok := f.srv, f.audTok, f.anaTok
	type page struct {
		Entries []struct {
			Index int64  `json:"index"`
			Leaf  []byte `json:"leaf"`
		} `json:"entries"`
		Before int64 `json:"before"`
	}
	if code := auditGet(t, srv, anaTok, "/api/v1/audit/entries?action=user.add", nil); code != http.StatusForbidden {
		t.Errorf("analyst filter = %d, want 403", code)
	}
	for _, bad := range []string{"since=yesterday", "limit=0", "before=-1"} {
		if code := auditGet(t, srv, audTok, "/api/v1/audit/entries?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("filter %s = %d, want 400", bad, code)
		}
	}
	// Nine users were added (an auditor, an analyst, u0..u6), each with a
	// user.add entry; pages of four, newest first, follow "before".
	var got []string
	path := "/api/v1/audit/entries?action=user.add&limit=4"
	for pages := 0; ; pages++ {
		var p page
		if code := auditGet(t, srv, audTok, path, &p); code != 200 {
			t.Fatalf("%s = %d", path, code)
		}
		for _, e := range p.Entries {
			ev, err := audit.Parse(e.Leaf)
			if err != nil || ev.Action != audit.ActionUserAdd {
				t.Fatalf("entry %d: %v %+v", e.Index, err, ev)
			}
			got = append(got, ev.Subject)
		}
		if p.Before == 0 {
			break
		}
		if pages > 5 {
			t.Fatal("pages never end")
		}
		path = fmt.Sprintf("/api/v1/audit/entries?action=user.add&limit=4&before=%d", p.Before)
	}
	want := []string{"u6", "u5", "u4", "u3", "u2", "u1", "u0", "ana", "oversight"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("user.add entries newest first = %v, want %v", got, want)
	}
	var p page
	if code := auditGet(t, srv, audTok, "/api/v1/audit/entries?object=u3&action=user.add", &p); code != 200 || len(p.Entries) != 1 {
		t.Errorf("entries about u3 = %d, %d entries", code, len(p.Entries))
	}
	if code := auditGet(t, srv, audTok, "/api/v1/audit/entries?actor=user:nobody", &p); code != 200 || len(p.Entries) != 0 {
		t.Errorf("entries of nobody = %d, %d entries", code, len(p.Entries))
	}
}

package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// newTestNode makes a real node (config, keys, SQLite file) in a temporary
// directory and opens it; it is closed when the test ends.
func newTestNode(t testing.TB, name, country string) *Node {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	if err := Init(ctx, dir, InitOptions{Name: name, Country: country, CreateStore: backend.Creator("")}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	n, err := Open(ctx, dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// UserSpec describes a user of the core's tests. Adding users is the
// users service's (node/users, above this package), so these tests write
// the user and a token straight into the store.
type UserSpec struct {
	Name         string
	Role         string
	Nationality  string
	Clearances   map[string]string // policy -> level
	Compartments []string
	DefaultLabel string // banner
}

// addUser writes a user and a token for it into the store, as
// users.AddUser makes them (a tl_<id>_<secret> token of which only the
// secret's SHA-256 is kept), and authenticates the token.
func addUser(t testing.TB, n *Node, s UserSpec) (*Principal, string) {
	t.Helper()
	ctx := context.Background()
	if s.DefaultLabel != "" {
		s.DefaultLabel = n.reg.Banner(mustLabel(t, n, s.DefaultLabel))
	}
	u := store.User{ID: "user--" + uuid.NewString(), Name: s.Name, Role: s.Role, Nationality: s.Nationality,
		Clearances: s.Clearances, Compartments: slices.Sorted(slices.Values(s.Compartments)), DefaultLabel: s.DefaultLabel, Created: n.now()}
	secret := make([]byte, 32)
	rand.Read(secret)
	sec := base64.RawURLEncoding.EncodeToString(secret)
	h := sha256.Sum256([]byte(sec))
	tok := store.Token{ID: strings.ReplaceAll(uuid.NewString(), "-", "")[:16], UserID: u.ID, Hash: h[:], Created: n.now(), Expires: n.now().Add(n.cfg.TokenTTL)}
	err := n.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		return tx.PutToken(ctx, tok)
	})
	if err != nil {
		t.Fatalf("add user %s: %v", s.Name, err)
	}
	token := TokenPrefix + tok.ID + "_" + sec
	p, err := n.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("Authenticate %s: %v", s.Name, err)
	}
	return p, token
}

func adminSpec() UserSpec {
	return UserSpec{Name: "admin", Role: RoleAdmin, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}, Compartments: []string{"HERON", "KESTREL"}}
}

// mustLabel parses a banner the way ingest does.
func mustLabel(t testing.TB, n *Node, banner string) label.Label {
	t.Helper()
	l, err := n.reg.ParseBanner(banner)
	if err != nil {
		t.Fatalf("banner %q: %v", banner, err)
	}
	l = n.CompleteLabel(l)
	if err := n.reg.Validate(l); err != nil {
		t.Fatalf("banner %q: %v", banner, err)
	}
	return l
}

func newID(typ string) string { return typ + "--" + uuid.NewString() }

// sdo returns a threat-actor (a type whose only extra requirement is name)
// with the given id and timestamps; extra members are merged in.
func sdo(id, created, modified string, extra map[string]any) []byte {
	m := map[string]any{"type": strings.SplitN(id, "--", 2)[0], "spec_version": "2.1", "id": id,
		"created": created, "modified": modified, "name": "actor " + id[len(id)-6:]}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

const (
	t0 = "2026-01-10T10:00:00.000Z"
	t1 = "2026-01-11T10:00:00.000Z"
	t2 = "2026-01-12T10:00:00.000Z"
	t3 = "2026-01-13T10:00:00.000Z"
)

func bundle(objs ...[]byte) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// auditLog reads the whole audit log, checking that indexes are dense from 0
// and that every entry parses.
func auditLog(t testing.TB, st store.Store) []audit.Event {
	t.Helper()
	ctx := context.Background()
	size, err := st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.AuditEntries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(entries)) != size {
		t.Fatalf("audit: %d entries for size %d", len(entries), size)
	}
	out := make([]audit.Event, len(entries))
	for i, e := range entries {
		if e.Index != int64(i) {
			t.Fatalf("audit: entry %d has index %d: indexes are not dense", i, e.Index)
		}
		ev, err := audit.Parse(e.Data)
		if err != nil {
			t.Fatalf("audit entry %d: %v", i, err)
		}
		out[i] = ev
	}
	return out
}

func findEvents(evs []audit.Event, match func(audit.Event) bool) []audit.Event {
	var out []audit.Event
	for _, e := range evs {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

func mustIngest(t testing.TB, n *Node, p *Principal, data []byte, banner string) *IngestResult {
	t.Helper()
	res, err := n.Ingest(context.Background(), p, data, IngestOptions{Label: banner})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res
}

func mustLand(t testing.TB, n *Node, p *Principal, data []byte, banner string) *IngestResult {
	t.Helper()
	res := mustIngest(t, n, p, data, banner)
	if len(res.Refused) > 0 {
		t.Fatalf("Ingest refused %v", res.Refused)
	}
	return res
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func fmtRefusals(rs []Refusal) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s", r)
	}
	return b.String()
}

type auditEvent = audit.Event

// testSigner returns n's signer as its key files are now.
func testSigner(t testing.TB, n *Node) *binding.Signer {
	t.Helper()
	s, err := n.Signer()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testKeyring returns n's keyring as keyring.yaml is now.
func testKeyring(t testing.TB, n *Node) *binding.Keyring {
	t.Helper()
	r, err := n.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

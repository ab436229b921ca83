// Package nodetest is the fixture the tests of the node's packages share:
// real nodes (config, keys, SQLite file) in temporary directories, users,
// labels, STIX objects and bundles, and the audit log read back. It is
// imported by tests only.
package nodetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// New makes a real node (config, keys, SQLite file) in a temporary
// directory and opens it; it is closed when the test ends.
func New(t testing.TB, name, country string) *stack.Node {
	t.Helper()
	return NewWith(t, name, country, node.Options{})
}

// NewWith is New opened with o (its clock, say); the store is the default
// one unless o names another.
func NewWith(t testing.TB, name, country string, o node.Options) *stack.Node {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	if err := node.Init(ctx, dir, node.InitOptions{Name: name, Country: country, CreateStore: backend.Creator("")}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if o.Store == nil && o.OpenStore == nil {
		o.OpenStore = backend.Opener("")
	}
	n, err := stack.Open(ctx, dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// AddUser adds a user through AddUser and authenticates its first token.
func AddUser(t testing.TB, n *stack.Node, s users.UserSpec) (*node.Principal, string) {
	t.Helper()
	ctx := context.Background()
	_, tok, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), s)
	if err != nil {
		t.Fatalf("AddUser %s: %v", s.Name, err)
	}
	p, err := n.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate %s: %v", s.Name, err)
	}
	return p, tok
}

// AdminSpec is an admin cleared to every level and compartment.
func AdminSpec() users.UserSpec {
	return users.UserSpec{Name: "admin", Role: node.RoleAdmin, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}, Compartments: []string{"HERON", "KESTREL"}}
}

// MustLabel parses a banner the way ingest does.
func MustLabel(t testing.TB, n *stack.Node, banner string) label.Label {
	t.Helper()
	l, err := n.Registry().ParseBanner(banner)
	if err != nil {
		t.Fatalf("banner %q: %v", banner, err)
	}
	l = n.CompleteLabel(l)
	if err := n.Registry().Validate(l); err != nil {
		t.Fatalf("banner %q: %v", banner, err)
	}
	return l
}

// NewID returns a fresh STIX id of type typ.
func NewID(typ string) string { return typ + "--" + uuid.NewString() }

// SDO returns a threat-actor (a type whose only extra requirement is name)
// with the given id and timestamps; extra members are merged in.
func SDO(id, created, modified string, extra map[string]any) []byte {
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

// Timestamps for object versions, one day apart.
const (
	T0 = "2026-01-10T10:00:00.000Z"
	T1 = "2026-01-11T10:00:00.000Z"
	T2 = "2026-01-12T10:00:00.000Z"
	T3 = "2026-01-13T10:00:00.000Z"
)

// Bundle wraps objs in a STIX bundle.
func Bundle(objs ...[]byte) []byte {
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

// AuditLog reads the whole audit log, checking that indexes are dense from 0
// and that every entry parses.
func AuditLog(t testing.TB, st store.Store) []audit.Event {
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

// FindEvents returns the events of evs that match.
func FindEvents(evs []audit.Event, match func(audit.Event) bool) []audit.Event {
	var out []audit.Event
	for _, e := range evs {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// MustIngest ingests data as p under banner, failing the test on error.
func MustIngest(t testing.TB, n *stack.Node, p *node.Principal, data []byte, banner string) *node.IngestResult {
	t.Helper()
	res, err := n.Ingest(context.Background(), p, data, node.IngestOptions{Label: banner})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res
}

// MustLand is MustIngest that also fails on any refused object.
func MustLand(t testing.TB, n *stack.Node, p *node.Principal, data []byte, banner string) *node.IngestResult {
	t.Helper()
	res := MustIngest(t, n, p, data, banner)
	if len(res.Refused) > 0 {
		t.Fatalf("Ingest refused %v", res.Refused)
	}
	return res
}

// IsNotFound reports the answer for a missing (or hidden) id.
func IsNotFound(err error) bool { return errors.Is(err, node.ErrNotFound) }

// FmtRefusals lists refusals one per line, for failure messages.
func FmtRefusals(rs []node.Refusal) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s", r)
	}
	return b.String()
}

// Signer returns n's signer as its key files are now.
func Signer(t testing.TB, n *stack.Node) *binding.Signer {
	t.Helper()
	s, err := n.Signer()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Keyring returns n's keyring as keyring.yaml is now.
func Keyring(t testing.TB, n *stack.Node) *binding.Keyring {
	t.Helper()
	r, err := n.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

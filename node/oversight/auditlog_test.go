package oversight_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
)

// addAuditable records n audit entries on node nd by adding users.
func addAuditable(t *testing.T, nd *stack.Node, prefix string, n int) {
	t.Helper()
	for i := range n {
		s := nodetest.AdminSpec()
		s.Name = prefix + string(rune('a'+i))
		if _, _, err := nd.Users.AddUser(t.Context(), node.ConsoleAdmin(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// followLog is the log a test witness follows: nd's.
type followLog struct{ nd *stack.Node }

func (f followLog) Log(_ context.Context, origin string) (witness.Log, error) {
	v, err := note.NewVerifier(f.nd.AuditLogKey())
	if err != nil || v.Name() != origin {
		return witness.Log{}, fmt.Errorf("%q: %w", origin, witness.ErrUnknownLog)
	}
	return witness.Log{Verifier: v, Node: f.nd.Config().Name}, nil
}

// splits counts the split views a test witness raises.
type splits struct{ n int }

func (s *splits) SplitView(context.Context, store.Tx, store.SplitView) error { s.n++; return nil }
func (s *splits) Rollback(context.Context, store.Tx, store.WitnessRollback, string) error {
	return nil
}

// cosign hands nd's latest checkpoint to w with a consistency proof from
// the size the witness last cosigned (its store says).
func cosign(t *testing.T, nd *stack.Node, w *witness.Witness, st store.Store) ([]byte, []byte, error) {
	t.Helper()
	ctx := t.Context()
	c, err := nd.Oversight.SignAuditCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(nd.AuditLogKey())
	var old int64
	if h, err := st.WitnessedLog(ctx, v.Name()); err == nil {
		old = h.Size
	}
	var p [][]byte
	if old > 0 && old <= c.Size {
		if p, err = audit.ConsistencyProof(ctx, nd.Store(), old, c.Size); err != nil {
			t.Fatal(err)
		}
	}
	sigs, err := w.AddCheckpoint(ctx, witness.AddCheckpointRequest{OldSize: old, Proof: p, Checkpoint: c.Note})
	return c.Note, sigs, err
}

func TestAuditWitnessBetweenNodes(t *testing.T) {
	a := nodetest.New(t, "alpha", "GBR")
	b := nodetest.New(t, "bravo", "USA") // the witness's node
	var logs bytes.Buffer
	wkey, wvkey, err := audit.GenerateWitnessKey(b.Config().Name + "/witness")
	if err != nil {
		t.Fatal(err)
	}
	sv := &splits{}
	w, err := witness.New(b.Store(), wkey, followLog{a}, sv, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		addAuditable(t, a, "u"+string(rune('a'+round)), 3)
		msg, sigs, err := cosign(t, a, w, b.Store())
		if err != nil {
			t.Fatalf("round %d: AddCheckpoint: %v", round, err)
		}
		// The cosigned note opens with both the log's and the witness's key.
		lv, _ := note.NewVerifier(a.AuditLogKey())
		wv := w.Verifier()
		cosigned := append(append([]byte{}, msg...), sigs...)
		n, err := note.Open(cosigned, note.VerifierList(lv, wv))
		if err != nil || len(n.Sigs) != 2 {
			t.Fatalf("round %d: cosigned note: %v, %d sigs", round, err, len(n.Sigs))
		}
	}
	if !strings.HasPrefix(wvkey, b.Config().Name+"/witness+") {
		t.Errorf("witness vkey %q", wvkey)
	}
	// A checkpoint signed by another key for alpha's origin is refused.
	skey, _, _ := audit.GenerateLogKey("alpha/audit")
	imp, _ := note.NewSigner(skey)
	forged, _ := audit.SignCheckpoint(imp, 100, make([]byte, 32))
	h, _ := b.Store().WitnessedLog(t.Context(), "alpha/audit")
	for _, old := range []int64{h.Size, h.Size - 1} {
		if _, err := w.AddCheckpoint(t.Context(), witness.AddCheckpointRequest{OldSize: old, Checkpoint: forged}); !errors.Is(err, audit.ErrBadSignature) {
			t.Errorf("AddCheckpoint(forged, old %d) = %v, want ErrBadSignature", old, err)
		}
	}
	if logs.Len() != 0 || sv.n != 0 {
		t.Errorf("witness logged or raised without a split view: %s", logs.String())
	}
}

func TestAuditWitnessSplitView(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dirA := filepath.Join(root, "alpha")
	if err := node.Init(ctx, dirA, node.InitOptions{Name: "alpha", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	// A second copy of the same node, keys and all: a log operator
	// keeping two histories.
	dirFork := filepath.Join(root, "fork")
	if err := os.CopyFS(dirFork, os.DirFS(dirA)); err != nil {
		t.Fatal(err)
	}
	open := func(dir string) *stack.Node {
		n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a, fork := open(dirA), open(dirFork)
	if a.AuditLogKey() != fork.AuditLogKey() {
		t.Fatal("fork has another log key")
	}
	b := nodetest.New(t, "bravo", "USA")
	var logs bytes.Buffer
	wkey, _, _ := audit.GenerateWitnessKey("bravo/witness")
	sv := &splits{}
	w, err := witness.New(b.Store(), wkey, followLog{a}, sv, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addAuditable(t, a, "alice", 2)
	addAuditable(t, fork, "mallory", 2)
	if _, _, err := cosign(t, a, w, b.Store()); err != nil {
		t.Fatalf("first view: %v", err)
	}
	// The fork's checkpoint of the same size: 409, recorded as a split
	// view (both are signed by the log).
	_, _, err = cosign(t, fork, w, b.Store())
	var ce *witness.ConflictError
	if !errors.As(err, &ce) || sv.n != 1 {
		t.Fatalf("second view = %v (%d split views), want a conflict and a split view", err, sv.n)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("split view not logged at Error: %s", logs.String())
	}
	// The same checkpoint again is not a split view.
	if _, _, err := cosign(t, a, w, b.Store()); err != nil || sv.n != 1 {
		t.Errorf("resubmitting the cosigned view: %v (%d split views)", err, sv.n)
	}
	// Both copies still verify on their own: only a witness sees the fork.
	for _, n := range []*stack.Node{a, fork} {
		v, _ := note.NewVerifier(n.AuditLogKey())
		if _, err := audit.Verify(ctx, n.Store(), v); err != nil {
			t.Errorf("Verify %s: %v", n.Dir(), err)
		}
	}
}

func TestAuditLogKeyCreatedOnOpen(t *testing.T) {
	n := nodetest.New(t, "charlie", "GBR")
	dir := n.Dir()
	n.Close()
	before := n.AuditLogKey()
	// A node made before the log was signed has no log key.
	if err := os.Remove(filepath.Join(dir, datadir.LogKey)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, datadir.LogPubKey)); err != nil {
		t.Fatal(err)
	}
	n2, err := stack.Open(t.Context(), dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if n2.AuditLogKey() == "" || n2.AuditLogKey() == before {
		t.Errorf("log key after reopen = %q", n2.AuditLogKey())
	}
	if !strings.HasPrefix(n2.AuditLogKey(), "charlie/audit+") {
		t.Errorf("log key name: %q", n2.AuditLogKey())
	}
	if _, err := n2.Oversight.SignAuditCheckpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
}

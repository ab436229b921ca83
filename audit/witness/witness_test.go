package witness_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/internal/pgtest"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/postgres"
	"github.com/tearline/tearline/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backends runs fn on a fresh store of each backend.
func backends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), t.TempDir()+"/w.db")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

// memLog is a log outside any store: leaves in memory, a tree of them,
// checkpoints signed with its key. Two memLogs with one key are a forked
// log.
type memLog struct {
	signer note.Signer
	hashes []tlog.Hash
	leaves int64
}

func newLog(t *testing.T, skey string) *memLog {
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &memLog{signer: s}
}

func (l *memLog) add(t *testing.T, data string) {
	hs, err := tlog.StoredHashes(l.leaves, []byte(data), l)
	if err != nil {
		t.Fatal(err)
	}
	l.hashes = append(l.hashes, hs...)
	l.leaves++
}

func (l *memLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *memLog) grow(t *testing.T, n int, tag string) {
	for i := range n {
		l.add(t, fmt.Sprintf("%s-%d-%d", tag, l.leaves, i))
	}
}

func (l *memLog) root(t *testing.T, size int64) []byte {
	h, err := tlog.TreeHash(size, l)
	if err != nil {
		t.Fatal(err)
	}
	return h[:]
}

func (l *memLog) checkpoint(t *testing.T) []byte {
	msg, err := audit.SignCheckpoint(l.signer, l.leaves, l.root(t, l.leaves))
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func (l *memLog) proof(t *testing.T, from int64) [][]byte {
	p, err := tlog.ProveTree(l.leaves, from, l)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// logs follows the log keys it holds.
type logs map[string]witness.Log

func (m logs) Log(_ context.Context, origin string) (witness.Log, error) {
	if l, ok := m[origin]; ok {
		return l, nil
	}
	return witness.Log{}, fmt.Errorf("%q: %w", origin, witness.ErrUnknownLog)
}

// events records what the witness raised.
type events struct {
	splits    []store.SplitView
	rollbacks []store.WitnessRollback
}

func (e *events) SplitView(_ context.Context, _ store.Tx, s store.SplitView) error {
	e.splits = append(e.splits, s)
	return nil
}

func (e *events) Rollback(_ context.Context, _ store.Tx, r store.WitnessRollback, _ string) error {
	e.rollbacks = append(e.rollbacks, r)
	return nil
}

type fixture struct {
	log     *memLog
	logKey  string // signer key
	srv     *httptest.Server
	w       *witness.Witness
	wvkey   string
	ev      *events
	st      store.Store
	unknown *memLog
}

func newFixture(t *testing.T, st store.Store, name string) *fixture {
	lskey, lvkey, err := audit.GenerateLogKey("usa/audit")
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureWithKey(t, st, name, lskey, lvkey)
}

func newFixtureWithKey(t *testing.T, st store.Store, name, lskey, lvkey string) *fixture {
	v, err := note.NewVerifier(lvkey)
	if err != nil {
		t.Fatal(err)
	}
	wskey, wvkey, err := audit.GenerateWitnessKey(name + "/witness")
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	w, err := witness.New(st, wskey, logs{v.Name(): {Verifier: v, Node: "usa"}}, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	uskey, _, _ := audit.GenerateLogKey("nobody/audit")
	return &fixture{log: newLog(t, lskey), logKey: lskey, srv: srv, w: w, wvkey: wvkey, ev: ev, st: st, unknown: newLog(t, uskey)}
}

// post sends an add-checkpoint body as the spec writes it and returns the
// status, content type and body.
func (f *fixture) post(t *testing.T, body []byte) (int, string, string) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+witness.AddCheckpointPath, "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func body(old int64, proof [][]byte, cp []byte) []byte {
	return witness.AddCheckpointRequest{OldSize: old, Proof: proof, Checkpoint: cp}.Marshal()
}

// cosigned checks a 200 body is a cosignature/v1 of cp by the witness.
func (f *fixture) cosigned(t *testing.T, cp []byte, resp string) {
	t.Helper()
	cv, err := fnote.NewVerifierForCosignatureV1(f.wvkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(append(bytes.Clone(cp), resp...), note.VerifierList(cv))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("the 200 body does not verify as the witness's cosignature of the checkpoint: %v (%q)", err, resp)
	}
}

// TestAddCheckpointConformance follows C2SP tlog-witness, add-checkpoint,
// requirement by requirement.
func TestAddCheckpointConformance(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st, "fra")
		f.log.grow(t, 5, "a")
		cp5 := f.log.checkpoint(t)

		// "If the checkpoint origin is unknown, the witness MUST respond with 404."
		f.unknown.grow(t, 2, "u")
		if code, _, _ := f.post(t, body(0, nil, f.unknown.checkpoint(t))); code != http.StatusNotFound {
			t.Fatalf("unknown origin: %d, want 404", code)
		}
		// "If none of the signatures verify against a trusted public key, 403."
		other := newLog(t, mustKey(t, "usa/audit")) // same origin, another key
		other.grow(t, 5, "a")
		if code, _, _ := f.post(t, body(0, nil, other.checkpoint(t))); code != http.StatusForbidden {
			t.Fatalf("checkpoint signed by another key: %d, want 403", code)
		}
		tampered := bytes.Replace(cp5, []byte("\n5\n"), []byte("\n6\n"), 1)
		if code, _, _ := f.post(t, body(0, nil, tampered)); code != http.StatusForbidden {
			t.Fatalf("tampered checkpoint: %d, want 403", code)
		}
		// "The old size MUST be equal to or lower than the checkpoint size.
		// Otherwise ... 400."
		if code, _, _ := f.post(t, body(6, nil, cp5)); code != http.StatusBadRequest {
			t.Fatalf("old size above the checkpoint's: %d, want 400", code)
		}
		// Malformed bodies: 400.
		for name, b := range map[string][]byte{
			"no old line":      cp5,
			"leading zero":     append([]byte("old 05\n\n"), cp5...),
			"no empty line":    []byte("old 0\n"),
			"proof not base64": append([]byte("old 0\n!!!!\n\n"), cp5...),
			"proof not a hash": append([]byte("old 0\nAAAA\n\n"), cp5...),
			"64 proof lines":   body(0, hashes(64), cp5),
			"no checkpoint":    []byte("old 0\n\n"),
		} {
			if code, _, _ := f.post(t, b); code != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", name, code)
			}
		}

		// "The proof MUST be empty if the old size is zero": a proof that
		// is not does not verify (422), and nothing is cosigned.
		if code, _, _ := f.post(t, body(0, hashes(1), cp5)); code != http.StatusUnprocessableEntity {
			t.Fatalf("a proof from size 0: %d, want 422", code)
		}
		// A first checkpoint from old size 0: 200 with the cosignature.
		code, ctype, resp := f.post(t, body(0, nil, cp5))
		if code != http.StatusOK {
			t.Fatalf("first checkpoint: %d %s, want 200", code, resp)
		}
		if ctype != witness.SignatureType {
			t.Errorf("200 Content-Type %q, want %q", ctype, witness.SignatureType)
		}
		if !strings.HasPrefix(resp, "— fra/witness ") || !strings.HasSuffix(resp, "\n") {
			t.Fatalf("200 body %q is not a note signature line of the witness", resp)
		}
		f.cosigned(t, cp5, resp)

		// "The witness MUST check that the old size matches the size of the
		// latest checkpoint it cosigned ... 409 ... body the tree size of
		// the latest cosigned checkpoint in decimal, followed by a newline
		// ... Content-Type of text/x.tlog.size."
		f.log.grow(t, 4, "b")
		cp9 := f.log.checkpoint(t)
		for _, old := range []int64{0, 3} {
			var pf [][]byte
			if old > 0 {
				pf = f.log.proof(t, old)
			}
			code, ctype, resp = f.post(t, body(old, pf, cp9))
			if code != http.StatusConflict || ctype != witness.SizeType || resp != "5\n" {
				t.Fatalf("old size %d when the witness has 5: %d %q %q, want 409 %q \"5\\n\"", old, code, ctype, resp, witness.SizeType)
			}
		}
		// "If the Merkle Consistency Proof doesn't verify ... 422."
		bad := f.log.proof(t, 5)
		bad[0] = make([]byte, 32)
		if code, _, _ := f.post(t, body(5, bad, cp9)); code != http.StatusUnprocessableEntity {
			t.Fatalf("bad proof: %d, want 422", code)
		}
		if code, _, _ := f.post(t, body(5, nil, cp9)); code != http.StatusUnprocessableEntity {
			t.Fatalf("missing proof: %d, want 422", code)
		}
		// A good proof: 200, and the witness now holds 9.
		code, _, resp = f.post(t, body(5, f.log.proof(t, 5), cp9))
		if code != http.StatusOK {
			t.Fatalf("consistent checkpoint: %d %s, want 200", code, resp)
		}
		f.cosigned(t, cp9, resp)
		if h, err := st.WitnessedLog(t.Context(), "usa/audit"); err != nil || h.Size != 9 || !bytes.Equal(h.Root, f.log.root(t, 9)) {
			t.Fatalf("stored state after 200: %+v, %v; want size 9", h, err)
		}
		// Resubmitting the same checkpoint (old = size, same root) is
		// cosigned again: nothing changed.
		if code, _, resp = f.post(t, body(9, nil, cp9)); code != http.StatusOK {
			t.Fatalf("same checkpoint again: %d %s", code, resp)
		}
		// It never cosigns a smaller size: old 9 with a checkpoint of 5 is
		// old > size (400), and old 5 is a 409 saying 9.
		if code, _, _ := f.post(t, body(9, nil, cp5)); code != http.StatusBadRequest {
			t.Fatalf("smaller checkpoint with old 9: %d, want 400", code)
		}
		if code, _, resp = f.post(t, body(5, nil, cp5)); code != http.StatusConflict || resp != "9\n" {
			t.Fatalf("smaller checkpoint with old 5: %d %q, want 409 9", code, resp)
		}
		// "If the old size matches the checkpoint size, the witness MUST
		// check that the root hashes are also identical ... 409." The fork
		// is recorded as a split view.
		fork := newLog(t, f.logKey)
		fork.grow(t, 9, "z")
		if code, ctype, resp = f.post(t, body(9, nil, fork.checkpoint(t))); code != http.StatusConflict || ctype != witness.SizeType || resp != "9\n" {
			t.Fatalf("another root at the same size: %d %q %q, want 409", code, ctype, resp)
		}
		if len(f.ev.splits) != 1 || f.ev.splits[0].Size != 9 || f.ev.splits[0].Peer != "usa" {
			t.Fatalf("split views raised: %+v, want one at size 9", f.ev.splits)
		}
		if h, _ := st.WitnessedLog(t.Context(), "usa/audit"); !bytes.Equal(h.Root, f.log.root(t, 9)) {
			t.Fatal("a refused checkpoint changed the witness's state")
		}
	})
}

func mustKey(t *testing.T, origin string) string {
	s, _, err := audit.GenerateLogKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCosignClient checks the log side against the witness: a witness
// ahead of the log's idea of it answers 409 and the client retries from
// its size.
func TestCosignClient(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st, "fra")
		f.log.grow(t, 3, "a")
		sub := func(known int64) ([]byte, error) {
			return witness.Cosign(t.Context(), witness.Submission{Client: http.DefaultClient, Base: f.srv.URL, Timeout: timeout,
				Size: f.log.leaves, Checkpoint: f.log.checkpoint(t), Known: known,
				Proof: func(_ context.Context, from int64) ([][]byte, error) { return f.log.proof(t, from), nil }})
		}
		if _, err := sub(0); err != nil {
			t.Fatal(err)
		}
		f.log.grow(t, 6, "b")
		if _, err := sub(0); err != nil { // knows nothing: learns 3 from the 409
			t.Fatalf("after a 409: %v", err)
		}
		if h, _ := st.WitnessedLog(t.Context(), "usa/audit"); h.Size != 9 {
			t.Fatalf("witness holds %d, want 9", h.Size)
		}
	})
}

// TestRollbackAcknowledged: a log restored from a backup goes back from 9
// to 4 entries and grows on another branch. Its signed rollback statement
// makes the witness record an acknowledged rollback and follow the new
// branch; without it, the witness would refuse the new branch.
func TestRollbackAcknowledged(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st, "fra")
		f.log.grow(t, 4, "a")
		restored := newLog(t, f.logKey) // the backup: the same 4 leaves
		for i := range int64(4) {
			restored.add(t, fmt.Sprintf("a-%d-%d", i, i))
		}
		f.log.grow(t, 5, "lost")
		if !bytes.Equal(restored.root(t, 4), f.log.root(t, 4)) {
			t.Fatal("fixture: the backup is not a prefix of the log")
		}
		cosign := func(l *memLog, known int64, rbs []store.AuditRollback) error {
			_, err := witness.Cosign(t.Context(), witness.Submission{Client: http.DefaultClient, Base: f.srv.URL, Timeout: timeout,
				Size: l.leaves, Checkpoint: l.checkpoint(t), Known: known, Rollbacks: rbs,
				Proof: func(_ context.Context, from int64) ([][]byte, error) { return l.proof(t, from), nil }})
			return err
		}
		if err := cosign(f.log, 0, nil); err != nil {
			t.Fatal(err)
		}
		restored.grow(t, 7, "new") // size 11 on another branch

		// Without a statement: refused, and the witness stays at 9.
		if err := cosign(restored, 4, nil); !errors.Is(err, witness.ErrBadProof) {
			t.Fatalf("new branch without a rollback statement: %v, want a refused proof", err)
		}
		s, err := note.NewSigner(f.logKey)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := witness.SignRollback(s, witness.Rollback{Origin: "usa/audit", OldSize: 9, OldRoot: f.log.root(t, 9),
			NewSize: 4, NewRoot: restored.root(t, 4), Reason: "restore from backup"})
		if err != nil {
			t.Fatal(err)
		}
		// A statement signed by another key is 403.
		forged, _ := witness.SignRollback(mustSigner(t, "usa/audit"), witness.Rollback{Origin: "usa/audit", OldSize: 9,
			OldRoot: f.log.root(t, 9), NewSize: 4, NewRoot: restored.root(t, 4)})
		if err := witness.SendRollback(t.Context(), http.DefaultClient, f.srv.URL, forged, timeout); !errors.Is(err, audit.ErrBadSignature) {
			t.Fatalf("forged statement: %v, want a bad signature", err)
		}
		if len(f.ev.rollbacks) != 0 {
			t.Fatal("a forged statement was acknowledged")
		}
		if err := cosign(restored, 4, []store.AuditRollback{{OldSize: 9, NewSize: 4, Statement: msg}}); err != nil {
			t.Fatalf("new branch after the rollback statement: %v", err)
		}
		if len(f.ev.rollbacks) != 1 || f.ev.rollbacks[0].OldSize != 9 || f.ev.rollbacks[0].NewSize != 4 {
			t.Fatalf("rollbacks acknowledged: %+v, want 9 -> 4", f.ev.rollbacks)
		}
		if len(f.ev.splits) != 0 {
			t.Fatalf("a declared rollback raised split views: %+v", f.ev.splits)
		}
		if h, _ := st.WitnessedLog(t.Context(), "usa/audit"); h.Size != 11 || !bytes.Equal(h.Root, restored.root(t, 11)) {
			t.Fatalf("witness holds %d, want the new branch's 11", h.Size)
		}
		// Sending the statement again changes nothing.
		if err := witness.SendRollback(t.Context(), http.DefaultClient, f.srv.URL, msg, timeout); err != nil {
			t.Fatal(err)
		}
		if h, _ := st.WitnessedLog(t.Context(), "usa/audit"); h.Size != 11 || len(f.ev.rollbacks) != 1 {
			t.Fatalf("a repeated statement changed the state: size %d, %d rollbacks", h.Size, len(f.ev.rollbacks))
		}
	})
}

func mustSigner(t *testing.T, origin string) note.Signer {
	s, err := note.NewSigner(mustKey(t, origin))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCompareNotesSplitView signs two different trees of one size with ONE
// log key and shows one to each of two witnesses; comparing notes catches
// it on both sides, once.
func TestCompareNotesSplitView(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		lskey, lvkey, err := audit.GenerateLogKey("usa/audit")
		if err != nil {
			t.Fatal(err)
		}
		a := newFixtureWithKey(t, st, "fra", lskey, lvkey)
		// The second witness has its own store.
		st2, err := sqlite.Open(t.Context(), t.TempDir()+"/b.db")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st2.Close() })
		b := newFixtureWithKey(t, st2, "deu", lskey, lvkey)
		a.log.grow(t, 6, "honest")
		b.log.grow(t, 6, "forked") // same key, another tree of 6
		for _, f := range []*fixture{a, b} {
			if code, _, resp := f.post(t, body(0, nil, f.log.checkpoint(t))); code != http.StatusOK {
				t.Fatalf("cosign: %d %s", code, resp)
			}
		}
		ca, err := witness.Fetch(t.Context(), http.DefaultClient, a.srv.URL, timeout)
		if err != nil || len(ca.Logs) != 1 {
			t.Fatalf("fetch a: %+v, %v", ca, err)
		}
		cb, err := witness.Fetch(t.Context(), http.DefaultClient, b.srv.URL, timeout)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 { // twice: one fork, one alert
			if found, err := a.w.Compare(t.Context(), "deu", cb.Logs[0], nil); err != nil || found != (i == 0) {
				t.Fatalf("a compares with b (round %d): %v, %v", i, found, err)
			}
		}
		if found, err := b.w.Compare(t.Context(), "fra", ca.Logs[0], nil); err != nil || !found {
			t.Fatalf("b compares with a: %v, %v", found, err)
		}
		if len(a.ev.splits) != 1 || len(b.ev.splits) != 1 {
			t.Fatalf("split views raised: a %d, b %d; want 1 each", len(a.ev.splits), len(b.ev.splits))
		}
		sv, err := st.SplitViews(t.Context(), "usa/audit", true)
		if err != nil || len(sv) != 1 || sv[0].Reporter != "deu" || sv[0].Peer != "usa" || sv[0].Size != 6 {
			t.Fatalf("recorded split views: %+v, %v", sv, err)
		}
		// Both checkpoints in the record open with the log's key: the
		// record is proof, not hearsay.
		v, _ := note.NewVerifier(lvkey)
		for _, m := range [][]byte{sv[0].Ours, sv[0].Theirs} {
			if _, err := audit.OpenCheckpoint(m, v); err != nil {
				t.Fatalf("recorded checkpoint does not verify: %v", err)
			}
		}
		// The same tree at both: nothing.
		if found, err := a.w.Compare(t.Context(), "fra", ca.Logs[0], nil); err != nil || found {
			t.Fatalf("comparing with itself: %v, %v", found, err)
		}
	})
}

const timeout = 10 * time.Second

// hashes returns n distinct 32-byte hashes.
func hashes(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		out[i] = h[:]
	}
	return out
}

// TestCompareNotesDifferentSizes: checkpoints of two sizes are compared
// with the log's own consistency proof between them. A log that showed a
// forked tree of another size cannot prove it consistent: a split view. An
// honest log's larger tree proves consistent: nothing.
func TestCompareNotesDifferentSizes(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		lskey, lvkey, err := audit.GenerateLogKey("usa/audit")
		if err != nil {
			t.Fatal(err)
		}
		a := newFixtureWithKey(t, st, "fra", lskey, lvkey)
		a.log.grow(t, 6, "honest")
		if code, _, resp := a.post(t, body(0, nil, a.log.checkpoint(t))); code != http.StatusOK {
			t.Fatalf("cosign: %d %s", code, resp)
		}
		// What another witness holds, as it would serve it: the honest
		// log grown to 9, and a fork of 9.
		honest := newLog(t, lskey)
		honest.grow(t, 6, "honest")
		honest.grow(t, 3, "more")
		fork := newLog(t, lskey)
		fork.grow(t, 9, "forked")
		// The log answers proofs from its honest tree (it cannot do
		// otherwise for a tree it does not have).
		prove := func(_ context.Context, node string, old, new int64) ([][]byte, error) {
			if node != "usa" {
				t.Errorf("proof asked of %q, want the log's node usa", node)
			}
			p, err := tlog.ProveTree(new, old, honest)
			if err != nil {
				return nil, err
			}
			out := make([][]byte, len(p))
			for i := range p {
				out[i] = p[i][:]
			}
			return out, nil
		}
		if found, err := a.w.Compare(t.Context(), "deu", witness.CosignedLog{Origin: "usa/audit", Checkpoint: string(honest.checkpoint(t))}, prove); err != nil || found {
			t.Fatalf("an honest larger tree: split %v, %v", found, err)
		}
		if found, err := a.w.Compare(t.Context(), "deu", witness.CosignedLog{Origin: "usa/audit", Checkpoint: string(fork.checkpoint(t))}, nil); err != nil || found {
			t.Fatalf("without a prover, sizes that differ are not compared: %v, %v", found, err)
		}
		found, err := a.w.Compare(t.Context(), "deu", witness.CosignedLog{Origin: "usa/audit", Checkpoint: string(fork.checkpoint(t))}, prove)
		if err != nil || !found {
			t.Fatalf("a forked tree of another size: split %v, %v; want a split view", found, err)
		}
		if len(a.ev.splits) != 1 || a.ev.splits[0].Size != 6 {
			t.Fatalf("split views raised: %+v", a.ev.splits)
		}
		// A log that will not prove is not evidence.
		refuse := func(context.Context, string, int64, int64) ([][]byte, error) { return nil, errors.New("down") }
		other := newLog(t, lskey)
		other.grow(t, 12, "other")
		if found, err := a.w.Compare(t.Context(), "deu", witness.CosignedLog{Origin: "usa/audit", Checkpoint: string(other.checkpoint(t))}, refuse); err != nil || found {
			t.Fatalf("no proof available: split %v, %v", found, err)
		}
	})
}

// TestPartnerWithoutWitnessRoutes: a partner of an older version answers
// 404 on the path; the client reports ErrNotSupported, which the log skips.
func TestPartnerWithoutWitnessRoutes(t *testing.T) {
	old := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(old.Close)
	_, err := witness.Cosign(t.Context(), witness.Submission{Client: http.DefaultClient, Base: old.URL, Timeout: timeout,
		Size: 1, Checkpoint: []byte("x\n1\nAAAA\n\n— x sig\n")})
	if !errors.Is(err, witness.ErrNotSupported) {
		t.Fatalf("add-checkpoint to a partner without the route: %v, want ErrNotSupported", err)
	}
	if _, err := witness.Fetch(t.Context(), http.DefaultClient, old.URL, timeout); !errors.Is(err, witness.ErrNotSupported) {
		t.Fatalf("checkpoints of a partner without the route: %v, want ErrNotSupported", err)
	}
}

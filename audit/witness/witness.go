package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Log is a log a witness follows: the verifier of its checkpoints (whose
// name is the origin) and the partner node that runs it.
type Log struct {
	Verifier note.Verifier
	Node     string
}

// Logs finds the logs a witness follows. The node implements it over its
// peers, so a peer added or removed is followed or dropped at once.
type Logs interface {
	// Log returns the log with origin; an error wrapping ErrUnknownLog if
	// the witness does not follow it.
	Log(ctx context.Context, origin string) (Log, error)
}

// Events records what the witness finds, in the transaction that stores
// it (the node appends its audit entry there, so finding and record are
// one).
type Events interface {
	SplitView(ctx context.Context, tx store.Tx, s store.SplitView) error
	Rollback(ctx context.Context, tx store.Tx, r store.WitnessRollback, node string) error
}

// Witness cosigns partner logs' checkpoints (C2SP tlog-cosignature/v1),
// each only after checking it against the latest it cosigned for that log,
// which it keeps in the store: check and record are one transaction, so
// replicas and concurrent requests never cosign a smaller tree.
type Witness struct {
	st     store.Store
	signer *fnote.Signer
	logs   Logs
	events Events
	log    *slog.Logger
	now    func() time.Time
}

// New returns a witness over st cosigning with skey (a note signer key; the
// cosignature/v1 verifier is Verifier()).
func New(st store.Store, skey string, logs Logs, ev Events, lg *slog.Logger) (*Witness, error) {
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, fmt.Errorf("witness key: %w", err)
	}
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Witness{st: st, signer: s, logs: logs, events: ev, log: lg, now: time.Now}, nil
}

// Verifier returns the verifier of this witness's cosignatures.
func (w *Witness) Verifier() note.Verifier { return w.signer.Verifier() }

// errBadSignature wraps audit.ErrBadSignature (403).
func errBadSignature(err error) error {
	if err == nil {
		return audit.ErrBadSignature
	}
	return fmt.Errorf("%w: %v", audit.ErrBadSignature, err)
}

// open finds the log of msg's origin and checks msg's signature by it.
func (w *Witness) open(ctx context.Context, msg []byte) (Log, int64, []byte, error) {
	origin, _, _ := strings.Cut(string(msg), "\n")
	lg, err := w.logs.Log(ctx, origin)
	if err != nil {
		return Log{}, 0, nil, err
	}
	cp, err := audit.OpenCheckpoint(msg, lg.Verifier)
	if err != nil {
		if errors.Is(err, audit.ErrBadSignature) {
			return Log{}, 0, nil, err
		}
		return Log{}, 0, nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return lg, int64(cp.Size), cp.Hash, nil
}

// held returns the latest cosigned state of origin in tx; the zero state
// (size 0) when there is none.
func held(ctx context.Context, tx store.Reader, origin string) (store.WitnessedLog, error) {
	h, err := tx.WitnessedLog(ctx, origin)
	if errors.Is(err, store.ErrNotFound) {
		return store.WitnessedLog{Origin: origin}, nil
	}
	return h, err
}

// AddCheckpoint is C2SP tlog-witness add-checkpoint. It returns the
// cosignature line(s), or an error that Status maps to the spec's status:
// ErrUnknownLog 404, audit.ErrBadSignature 403, ErrBadRequest 400,
// *ConflictError 409, ErrBadProof 422. Two different trees of one size
// signed by the log are also recorded as a split view.
func (w *Witness) AddCheckpoint(ctx context.Context, req AddCheckpointRequest) ([]byte, error) {
	lg, size, root, err := w.open(ctx, req.Checkpoint)
	if err != nil {
		return nil, err
	}
	origin := lg.Verifier.Name()
	if req.OldSize > size {
		return nil, fmt.Errorf("%w: old size %d is above the checkpoint's %d", ErrBadRequest, req.OldSize, size)
	}
	if req.OldSize == 0 && len(req.Proof) > 0 {
		return nil, fmt.Errorf("%w: a proof from size 0 must be empty", ErrBadProof)
	}
	var cosig []byte
	var conflict error
	err = w.st.Update(ctx, func(tx store.Tx) error {
		h, err := held(ctx, tx, origin)
		if err != nil {
			return err
		}
		if req.OldSize != h.Size {
			conflict = &ConflictError{Latest: h.Size, Reason: fmt.Sprintf("old size %d", req.OldSize)}
			return nil
		}
		switch {
		case req.OldSize == size && h.Size > 0:
			if !bytes.Equal(h.Root, root) {
				// Both signed by the log: it forked.
				conflict = &ConflictError{Latest: h.Size, Reason: "a different root hash at the same size"}
				w.log.ErrorContext(ctx, "witness: log signed two trees of one size", "origin", origin, "size", size)
				_, err := w.split(ctx, tx, store.SplitView{Origin: origin, Peer: lg.Node, Size: size, Ours: h.Note,
					Theirs: req.Checkpoint, OursRoot: h.Root, TheirRoot: root, Reporter: lg.Node, Detected: w.now()})
				return err
			}
		case req.OldSize > 0:
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(req.OldSize), uint64(size), req.Proof, h.Root, root); err != nil {
				w.log.WarnContext(ctx, "witness: consistency proof refused", "origin", origin, "from", req.OldSize, "to", size, "err", err)
				return fmt.Errorf("%s from %d to %d: %w: %v", origin, req.OldSize, size, ErrBadProof, err)
			}
		}
		body, _, _ := strings.Cut(string(req.Checkpoint), "\n\n")
		signed, err := note.Sign(&note.Note{Text: body + "\n"}, w.signer)
		if err != nil {
			return fmt.Errorf("cosign: %w", err)
		}
		_, cosig, _ = bytes.Cut(signed, []byte("\n\n"))
		return tx.PutWitnessedLog(ctx, store.WitnessedLog{Origin: origin, Size: size, Root: root,
			Note: append(bytes.Clone(req.Checkpoint), cosig...), Updated: w.now()})
	})
	if err != nil {
		return nil, fmt.Errorf("add-checkpoint: %w", err)
	}
	if conflict != nil {
		return nil, conflict
	}
	return cosig, nil
}

// split records s and raises its event when it is new.
func (w *Witness) split(ctx context.Context, tx store.Tx, s store.SplitView) (bool, error) {
	fresh, err := tx.PutSplitView(ctx, s)
	if err != nil || !fresh || w.events == nil {
		return fresh, err
	}
	return true, w.events.SplitView(ctx, tx, s)
}

// AddRollback takes a log's signed rollback statement. When the witness
// holds a tree the statement abandons (a size above its new size, up to
// its old size, with the old root if it is that size), it records an
// acknowledged rollback and from then on follows the log from the new
// tree; a statement that abandons nothing it holds changes nothing. A
// statement that does not reach the witness's tree is a *ConflictError.
func (w *Witness) AddRollback(ctx context.Context, msg []byte) error {
	origin, err := RollbackOrigin(msg)
	if err != nil {
		return err
	}
	lg, err := w.logs.Log(ctx, origin)
	if err != nil {
		return err
	}
	r, err := OpenRollback(msg, lg.Verifier)
	if err != nil {
		return err
	}
	var conflict error
	err = w.st.Update(ctx, func(tx store.Tx) error {
		h, err := held(ctx, tx, origin)
		if err != nil {
			return err
		}
		done, err := tx.WitnessRollbacks(ctx, origin)
		if err != nil {
			return err
		}
		for _, d := range done {
			if bytes.Equal(d.Statement, msg) {
				// Acknowledged before: the witness may have cosigned the
				// new tree past its new size since; going back would undo
				// that.
				return nil
			}
		}
		switch {
		case h.Size <= r.NewSize:
			return nil // nothing it holds is abandoned
		case h.Size > r.OldSize:
			conflict = &ConflictError{Latest: h.Size, Reason: fmt.Sprintf("the rollback from %d does not cover it", r.OldSize)}
			return nil
		case h.Size == r.OldSize && !bytes.Equal(h.Root, r.OldRoot):
			return fmt.Errorf("%w: the rollback names another tree of size %d than the one cosigned", ErrBadProof, h.Size)
		}
		wr := store.WitnessRollback{Origin: origin, OldSize: r.OldSize, OldRoot: r.OldRoot, NewSize: r.NewSize,
			NewRoot: r.NewRoot, Statement: msg, At: w.now()}
		fresh, err := tx.PutWitnessRollback(ctx, wr)
		if err != nil || !fresh {
			return err
		}
		if w.events != nil {
			if err := w.events.Rollback(ctx, tx, wr, lg.Node); err != nil {
				return err
			}
		}
		return tx.PutWitnessedLog(ctx, store.WitnessedLog{Origin: origin, Size: r.NewSize, Root: r.NewRoot, Note: msg, Updated: w.now()})
	})
	if err != nil {
		return fmt.Errorf("rollback of %s: %w", origin, err)
	}
	return conflict
}

// Cosigned is what a witness serves for comparing notes: per log, the
// latest checkpoint it cosigned (with its cosignature), and the rollback
// statements it acknowledged.
type Cosigned struct {
	Logs []CosignedLog `json:"logs"`
}

// CosignedLog is one log's part of Cosigned.
type CosignedLog struct {
	Origin     string   `json:"origin"`
	Checkpoint string   `json:"checkpoint,omitempty"` // signed note; empty after a rollback until the next cosignature
	Rollbacks  []string `json:"rollbacks,omitempty"`  // signed statements
}

// Cosigned returns what this witness cosigned.
func (w *Witness) Cosigned(ctx context.Context) (Cosigned, error) {
	ls, err := w.st.WitnessedLogs(ctx)
	if err != nil {
		return Cosigned{}, err
	}
	out := Cosigned{Logs: make([]CosignedLog, 0, len(ls))}
	for _, l := range ls {
		c := CosignedLog{Origin: l.Origin}
		if first, _, _ := strings.Cut(string(l.Note), "\n"); first == l.Origin {
			c.Checkpoint = string(l.Note)
		}
		rs, err := w.st.WitnessRollbacks(ctx, l.Origin)
		if err != nil {
			return Cosigned{}, err
		}
		for _, r := range rs {
			c.Rollbacks = append(c.Rollbacks, string(r.Statement))
		}
		out.Logs = append(out.Logs, c)
	}
	return out, nil
}

// Prover fetches, from the node that runs a log, a consistency proof
// between two sizes of its tree.
type Prover func(ctx context.Context, node string, old, new int64) ([][]byte, error)

// Compare compares what the partner reporter cosigned for a log with what
// this witness cosigned. Both checkpoints are signed by the log; it forked
// (a split view, recorded once and returned true) when they have the same
// size and different roots, or different sizes and the log's own
// consistency proof between them (fetched with prove; nil skips this)
// does not verify. A checkpoint inside a rollback the log declared
// (acknowledged here, or signed and shown by the partner) is not compared.
// Logs this witness does not follow or never cosigned are skipped. No
// network call is made inside a transaction: the proof is fetched first,
// and the state is checked again before a split view is recorded.
func (w *Witness) Compare(ctx context.Context, reporter string, theirs CosignedLog, prove Prover) (bool, error) {
	if theirs.Checkpoint == "" {
		return false, nil
	}
	lg, size, root, err := w.open(ctx, []byte(theirs.Checkpoint))
	if errors.Is(err, ErrUnknownLog) {
		return false, nil
	}
	fail := func(err error) (bool, error) {
		return false, fmt.Errorf("compare notes with %s on %s: %w", reporter, theirs.Origin, err)
	}
	if err != nil {
		return fail(err)
	}
	origin := lg.Verifier.Name()
	rollbacks, err := w.st.WitnessRollbacks(ctx, origin)
	if err != nil {
		return fail(err)
	}
	for _, s := range theirs.Rollbacks {
		if r, err := OpenRollback([]byte(s), lg.Verifier); err == nil {
			rollbacks = append(rollbacks, store.WitnessRollback{OldSize: r.OldSize, NewSize: r.NewSize})
		}
	}
	abandoned := func(n int64) bool {
		for _, r := range rollbacks {
			if r.NewSize < n && n <= r.OldSize {
				return true
			}
		}
		return false
	}
	h, err := w.st.WitnessedLog(ctx, origin)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return fail(err)
	}
	if abandoned(size) || abandoned(h.Size) {
		return false, nil
	}
	switch {
	case h.Size == size && bytes.Equal(h.Root, root):
		return false, nil
	case h.Size != size:
		if prove == nil || h.Size == 0 {
			return false, nil
		}
		lo, hi, loRoot, hiRoot := h.Size, size, h.Root, root
		if lo > hi {
			lo, hi, loRoot, hiRoot = size, h.Size, root, h.Root
		}
		pf, err := prove(ctx, lg.Node, lo, hi)
		if err != nil {
			// Not evidence: the log may be down, or older.
			w.log.WarnContext(ctx, "witness: no consistency proof from the log to compare notes", "origin", origin, "from", lo, "to", hi, "err", err)
			return false, nil
		}
		if proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(lo), uint64(hi), pf, loRoot, hiRoot) == nil {
			return false, nil
		}
	}
	found := false
	err = w.st.Update(ctx, func(tx store.Tx) error {
		now, err := tx.WitnessedLog(ctx, origin)
		if err != nil || now.Size != h.Size || !bytes.Equal(now.Root, h.Root) {
			return err // it moved on meanwhile: compare again next time
		}
		found, err = w.split(ctx, tx, store.SplitView{Origin: origin, Peer: lg.Node, Size: h.Size, Ours: h.Note,
			Theirs: []byte(theirs.Checkpoint), OursRoot: h.Root, TheirRoot: root, Reporter: reporter, Detected: w.now()})
		if found {
			w.log.ErrorContext(ctx, "witness: split view: partners hold inconsistent trees of one log", "origin", origin,
				"size", h.Size, "their_size", size, "reporter", reporter)
		}
		return err
	})
	if err != nil {
		return fail(err)
	}
	return found, nil
}

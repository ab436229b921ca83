package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Witness errors map onto C2SP tlog-witness responses: unknown log 404, bad
// signature 403 (ErrBadSignature), old size 409, bad proof 422.
var (
	ErrUnknownLog = errors.New("unknown log origin")
	ErrOldSize    = errors.New("old size is not the witness's latest for this log")
	ErrBadProof   = errors.New("consistency proof does not verify")
	// ErrSplitView: the log signed two different trees of one size, so it
	// is showing different histories to different parties.
	ErrSplitView = errors.New("split view: log signed two different checkpoints for one size")
)

// OldSizeError is ErrOldSize with the size the witness has, which the
// caller needs to retry with the right proof.
type OldSizeError struct{ Latest int64 }

func (e *OldSizeError) Error() string {
	return fmt.Sprintf("%v (witness has %d)", ErrOldSize, e.Latest)
}
func (e *OldSizeError) Unwrap() error { return ErrOldSize }

// Witness cosigns checkpoints of the logs it follows (C2SP
// tlog-cosignature/v1), each only after checking it is consistent with the
// last it cosigned for that log. It is safe for concurrent use.
type Witness struct {
	signer *fnote.Signer
	log    *slog.Logger

	mu   sync.Mutex
	logs map[string]*followed
}

type followed struct {
	v    note.Verifier
	size int64
	root []byte
	note []byte // the latest checkpoint, as received
}

// GenerateWitnessKey returns a key pair for a witness named name; the
// verifier key is the cosignature/v1 (type 0x04) form.
func GenerateWitnessKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate witness key %q: %w", name, err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		return "", "", fmt.Errorf("generate witness key %q: %w", name, err)
	}
	return skey, vkey, nil
}

// NewWitness returns a witness signing with skey. Split views are logged
// at Error level to lg.
func NewWitness(skey string, lg *slog.Logger) (*Witness, error) {
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, fmt.Errorf("witness key: %w", err)
	}
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Witness{signer: s, log: lg, logs: make(map[string]*followed)}, nil
}

// Verifier returns the verifier for this witness's cosignatures.
func (w *Witness) Verifier() note.Verifier { return w.signer.Verifier() }

// Follow adds the log whose checkpoints vkey verifies; its origin is the
// key's name.
func (w *Witness) Follow(vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("follow log: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.logs[v.Name()]; !ok {
		w.logs[v.Name()] = &followed{v: v}
	}
	return nil
}

// Latest returns the size and checkpoint the witness last cosigned for
// origin.
func (w *Witness) Latest(origin string) (int64, []byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l, ok := w.logs[origin]
	if !ok {
		return 0, nil, fmt.Errorf("%q: %w", origin, ErrUnknownLog)
	}
	return l.size, l.note, nil
}

// AddCheckpoint is C2SP tlog-witness add-checkpoint: msg is the log's signed
// checkpoint, oldSize the size the caller believes the witness has, and
// consistency proves the tree of oldSize is a prefix of msg's. It returns
// the cosignature line(s) to append to the note's signatures.
func (w *Witness) AddCheckpoint(ctx context.Context, oldSize int64, consistency [][]byte, msg []byte) ([]byte, error) {
	origin, _, _ := strings.Cut(string(msg), "\n")
	w.mu.Lock()
	defer w.mu.Unlock()
	l, ok := w.logs[origin]
	if !ok {
		return nil, fmt.Errorf("%q: %w", origin, ErrUnknownLog)
	}
	cp, err := OpenCheckpoint(msg, l.v)
	if err != nil {
		return nil, err
	}
	size := int64(cp.Size)
	switch {
	case l.note != nil && size == l.size:
		if !bytes.Equal(cp.Hash, l.root) {
			w.log.ErrorContext(ctx, "audit log split view", "origin", origin, "size", size,
				"cosigned_root", base64.StdEncoding.EncodeToString(l.root), "new_root", base64.StdEncoding.EncodeToString(cp.Hash))
			return nil, fmt.Errorf("%s at size %d: %w", origin, size, ErrSplitView)
		}
	case oldSize != l.size:
		return nil, &OldSizeError{Latest: l.size}
	case size < oldSize:
		return nil, fmt.Errorf("checkpoint size %d is below old size %d: %w", size, oldSize, ErrBadProof)
	case l.note == nil:
		// The first checkpoint seen is trusted on first use.
	default:
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(oldSize), uint64(size), consistency, l.root, cp.Hash); err != nil {
			return nil, fmt.Errorf("%s from %d to %d: %w: %v", origin, oldSize, size, ErrBadProof, err)
		}
	}
	body, _, _ := strings.Cut(string(msg), "\n\n")
	signed, err := note.Sign(&note.Note{Text: body + "\n"}, w.signer)
	if err != nil {
		return nil, fmt.Errorf("cosign: %w", err)
	}
	l.size, l.root, l.note = size, cp.Hash, msg
	_, sigs, _ := bytes.Cut(signed, []byte("\n\n"))
	return sigs, nil
}

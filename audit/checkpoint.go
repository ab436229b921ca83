package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/store"
)

var (
	// ErrRange: an index or tree size outside the log.
	ErrRange = errors.New("outside the log")
	// ErrBadSignature: a checkpoint whose log signature is missing or wrong.
	ErrBadSignature = errors.New("checkpoint not signed by the log's key")
)

// GenerateLogKey returns a new Ed25519 note key pair for a log whose origin
// (the checkpoint's first line, and the key's name) is origin.
func GenerateLogKey(origin string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", "", fmt.Errorf("generate log key %q: %w", origin, err)
	}
	return skey, vkey, nil
}

// SignCheckpoint returns the signed note of a C2SP tlog-checkpoint. The
// origin is the signer's name: a verifier key then names its log.
func SignCheckpoint(s note.Signer, size int64, root []byte) ([]byte, error) {
	body := log.Checkpoint{Origin: s.Name(), Size: uint64(size), Hash: root}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, s)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint at %d: %w", size, err)
	}
	return msg, nil
}

// OpenCheckpoint checks msg's signature by v and parses its body, whose
// origin must be v's name. Other signatures (witnesses') are ignored.
func OpenCheckpoint(msg []byte, v note.Verifier) (log.Checkpoint, error) {
	var cp log.Checkpoint
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return cp, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if len(n.Sigs) == 0 {
		return cp, ErrBadSignature
	}
	if _, err := cp.Unmarshal([]byte(n.Text)); err != nil {
		return cp, fmt.Errorf("checkpoint body: %w", err)
	}
	if cp.Origin != v.Name() {
		return cp, fmt.Errorf("checkpoint origin %q, want %q: %w", cp.Origin, v.Name(), ErrBadSignature)
	}
	return cp, nil
}

// Checkpoint returns a signed checkpoint at the log's current size, signing
// one if the log has grown since the latest. It runs in a write
// transaction, and the store keeps at most one checkpoint per size, so the
// log never signs two different trees of one size.
func Checkpoint(ctx context.Context, st store.Store, s note.Signer, now time.Time) (store.AuditCheckpoint, error) {
	var out store.AuditCheckpoint
	err := st.Update(ctx, func(tx store.Tx) error {
		size, err := tx.AuditSize(ctx)
		if err != nil {
			return err
		}
		latest, err := tx.LatestAuditCheckpoint(ctx)
		switch {
		case err == nil && latest.Size == size:
			out = latest
			return nil
		case err == nil && latest.Size > size:
			return fmt.Errorf("log has %d entries but a checkpoint was signed at %d: entries were removed", size, latest.Size)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		if size == 0 {
			return fmt.Errorf("empty log: %w", store.ErrNotFound)
		}
		root, err := TreeHash(ctx, tx, size)
		if err != nil {
			return err
		}
		msg, err := SignCheckpoint(s, size, root)
		if err != nil {
			return err
		}
		out = store.AuditCheckpoint{Size: size, Note: msg, Created: now}
		return tx.PutAuditCheckpoint(ctx, out)
	})
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	return out, nil
}

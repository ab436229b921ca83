package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/store"
)

// ErrTooFewCosignatures: no checkpoint carries the cosignatures required.
var ErrTooFewCosignatures = errors.New("too few witness cosignatures")

// NamedWitness is a witness an auditor trusts: the name its cosignatures
// are stored under (the peer's name) and its cosignature/v1 verifier.
type NamedWitness struct {
	Name     string
	Verifier note.Verifier
}

// Cosigners returns the names of the witnesses whose cosignature of msg (a
// checkpoint note carrying cosignature lines) verifies. Unknown keys are
// ignored, as C2SP signed notes require.
func Cosigners(msg []byte, ws []NamedWitness) []string {
	body, sigs, ok := bytes.Cut(msg, []byte("\n\n"))
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.SplitAfter(string(sigs), "\n") {
		if line == "" {
			continue
		}
		for _, w := range ws {
			if slices.Contains(out, w.Name) {
				continue
			}
			one := append(append(bytes.Clone(body), "\n\n"...), line...)
			if n, err := note.Open(one, note.VerifierList(w.Verifier)); err == nil && len(n.Sigs) == 1 {
				out = append(out, w.Name)
			}
		}
	}
	return out
}

// CosignedCheckpoint returns the largest stored checkpoint that at least
// min of the witnesses ws cosigned (stored cosignatures that verify), with
// their names, checking its log signature with v. ErrTooFewCosignatures
// when there is none.
func CosignedCheckpoint(ctx context.Context, r store.Reader, v note.Verifier, ws []NamedWitness, min int) (store.AuditCheckpoint, []string, error) {
	var sizes []int64
	for _, w := range ws {
		c, err := r.LatestAuditCosignature(ctx, w.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.AuditCheckpoint{}, nil, err
		}
		if !slices.Contains(sizes, c.Size) {
			sizes = append(sizes, c.Size)
		}
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	best := 0
	for _, size := range sizes {
		cps, err := r.AuditCheckpoints(ctx, size-1, 1)
		if err != nil {
			return store.AuditCheckpoint{}, nil, err
		}
		if len(cps) == 0 || cps[0].Size != size {
			continue
		}
		cp := cps[0]
		if _, err := OpenCheckpoint(cp.Note, v); err != nil {
			return store.AuditCheckpoint{}, nil, fmt.Errorf("checkpoint at %d: %w", size, err)
		}
		cs, err := r.AuditCosignatures(ctx, size)
		if err != nil {
			return store.AuditCheckpoint{}, nil, err
		}
		msg := bytes.Clone(cp.Note)
		for _, c := range cs {
			msg = append(msg, c.Line...)
		}
		names := Cosigners(msg, ws)
		if len(names) >= min {
			cp.Note = msg
			return cp, names, nil
		}
		best = max(best, len(names))
	}
	return store.AuditCheckpoint{}, nil, fmt.Errorf("%w: need %d of %d named witnesses on one checkpoint, found at most %d", ErrTooFewCosignatures, min, len(ws), best)
}

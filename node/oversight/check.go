package oversight

import (
	"context"
	"errors"
	"fmt"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// What an auditor's screen shows is checked here, by the same proofs an
// offline verifier runs (docs/AUDIT.md), against checkpoints whose
// signatures verify with the node's log key: a screen that only displayed
// the hashes would prove nothing.

// CheckedCheckpoint is one signed checkpoint, checked.
type CheckedCheckpoint struct {
	Size    int64
	Root    []byte
	Created time.Time
	Note    []byte // with the cosignature lines stored for its size
	// SignatureErr is why the log's signature does not verify; nil when
	// it does.
	SignatureErr error
	Cosignatures []CheckedCosignature
}

// CheckedCosignature is a witness's cosignature of a checkpoint.
type CheckedCosignature struct {
	Witness  string
	Created  time.Time
	Verified bool // by the witness key this node has for that peer
	Known    bool // this node has a witness key for that peer
}

// CheckedEntry is one audit entry with its inclusion proof in the latest
// checkpoint, checked.
type CheckedEntry struct {
	store.AuditEntry
	Event      audit.Event
	ParseErr   error
	LeafHash   []byte
	Checkpoint CheckedCheckpoint
	Proof      [][]byte
	// ProofErr is why the proof does not verify; nil when it does.
	ProofErr error
}

// CheckedConsistency is a consistency proof between two checkpoints,
// checked.
type CheckedConsistency struct {
	From, To CheckedCheckpoint
	Proof    [][]byte
	ProofErr error // nil: the tree of To extends the tree of From
}

func (ov *Service) logVerifier() (note.Verifier, error) {
	v, err := note.NewVerifier(ov.n.AuditLogKey())
	if err != nil {
		return nil, fmt.Errorf("the node's log key: %w", err)
	}
	return v, nil
}

// witnesses are the peers this node has a witness key for.
func (ov *Service) witnesses() map[string]note.Verifier {
	out := map[string]note.Verifier{}
	ps, err := ov.n.Peers()
	if err != nil {
		return out
	}
	for _, p := range ps {
		if p.WitnessKey == "" {
			continue
		}
		if v, err := fnote.NewVerifierForCosignatureV1(p.WitnessKey); err == nil {
			out[p.Name] = v
		}
	}
	return out
}

// check opens c's signature and its stored cosignatures.
func (ov *Service) check(ctx context.Context, c store.AuditCheckpoint, ws map[string]note.Verifier) (CheckedCheckpoint, error) {
	out := CheckedCheckpoint{Size: c.Size, Created: c.Created, Note: c.Note}
	v, err := ov.logVerifier()
	if err != nil {
		return out, err
	}
	if cp, err := audit.OpenCheckpoint(c.Note, v); err != nil {
		out.SignatureErr = err
	} else if int64(cp.Size) != c.Size {
		out.SignatureErr = fmt.Errorf("the note says size %d, stored as %d", cp.Size, c.Size)
	} else {
		out.Root = cp.Hash
	}
	cs, err := ov.n.Store().AuditCosignatures(ctx, c.Size)
	if err != nil {
		return out, fmt.Errorf("cosignatures of checkpoint %d: %w", c.Size, err)
	}
	for _, s := range cs {
		out.Note = append(out.Note, s.Line...)
		cc := CheckedCosignature{Witness: s.Witness, Created: s.Created}
		if w, ok := ws[s.Witness]; ok {
			cc.Known = true
			cc.Verified = len(audit.Cosigners(append(append([]byte{}, c.Note...), s.Line...), []audit.NamedWitness{{Name: s.Witness, Verifier: w}})) == 1
		}
		out.Cosignatures = append(out.Cosignatures, cc)
	}
	return out, nil
}

// Checkpoints returns up to limit signed checkpoints with size > after,
// smallest first, each checked.
func (ov *Service) Checkpoints(ctx context.Context, p *node.Principal, after int64, limit int) ([]CheckedCheckpoint, error) {
	if err := canAudit(p); err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), 500)
	cps, err := ov.n.Store().AuditCheckpoints(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	ws := ov.witnesses()
	out := make([]CheckedCheckpoint, 0, len(cps))
	for _, c := range cps {
		cc, err := ov.check(ctx, c, ws)
		if err != nil {
			return nil, err
		}
		out = append(out, cc)
	}
	return out, nil
}

// checkpointAt returns the stored checkpoint of exactly size.
func (ov *Service) checkpointAt(ctx context.Context, size int64) (store.AuditCheckpoint, error) {
	cps, err := ov.n.Store().AuditCheckpoints(ctx, size-1, 1)
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("audit checkpoint %d: %w", size, err)
	}
	if len(cps) == 0 || cps[0].Size != size {
		return store.AuditCheckpoint{}, fmt.Errorf("no signed checkpoint of size %d: %w", size, node.ErrInvalid)
	}
	return cps[0], nil
}

// CheckEntry returns entry index with its inclusion proof in the latest
// checkpoint (signed first if the log grew), and whether it verifies.
func (ov *Service) CheckEntry(ctx context.Context, p *node.Principal, index int64) (CheckedEntry, error) {
	var out CheckedEntry
	c, err := ov.AuditCheckpoint(ctx, p) // checks the role
	if err != nil {
		return out, err
	}
	if index < 0 || index >= c.Size {
		return out, fmt.Errorf("audit entry %d: %w", index, node.ErrNotFound)
	}
	es, err := ov.n.Store().AuditEntries(ctx, index, index+1)
	if err != nil || len(es) != 1 {
		return out, fmt.Errorf("audit entry %d: %w", index, errors.Join(err, node.ErrNotFound))
	}
	out.AuditEntry = es[0]
	out.Event, out.ParseErr = audit.Parse(es[0].Data)
	out.LeafHash = rfc6962.DefaultHasher.HashLeaf(es[0].Data)
	stored, err := ov.checkpointAt(ctx, c.Size)
	if err != nil {
		return out, err
	}
	if out.Checkpoint, err = ov.check(ctx, stored, ov.witnesses()); err != nil {
		return out, err
	}
	if out.Proof, err = audit.InclusionProof(ctx, ov.n.Store(), index, c.Size); err != nil {
		return out, fmt.Errorf("inclusion proof of %d: %w", index, err)
	}
	switch {
	case out.Checkpoint.SignatureErr != nil:
		out.ProofErr = fmt.Errorf("the checkpoint's signature does not verify: %w", out.Checkpoint.SignatureErr)
	default:
		out.ProofErr = proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(index), uint64(c.Size), out.LeafHash, out.Proof, out.Checkpoint.Root)
	}
	return out, nil
}

// CheckConsistency proves that the signed checkpoint of size to extends
// the one of size from, and checks the proof against both signed roots.
func (ov *Service) CheckConsistency(ctx context.Context, p *node.Principal, from, to int64) (CheckedConsistency, error) {
	var out CheckedConsistency
	if err := canAudit(p); err != nil {
		return out, err
	}
	if from < 1 || to < from {
		return out, fmt.Errorf("consistency of %d and %d: want 1 <= from <= to: %w", from, to, node.ErrInvalid)
	}
	ws := ov.witnesses()
	for _, x := range []struct {
		size int64
		into *CheckedCheckpoint
	}{{from, &out.From}, {to, &out.To}} {
		c, err := ov.checkpointAt(ctx, x.size)
		if err != nil {
			return out, err
		}
		if *x.into, err = ov.check(ctx, c, ws); err != nil {
			return out, err
		}
	}
	var err error
	if out.Proof, err = audit.ConsistencyProof(ctx, ov.n.Store(), from, to); err != nil {
		return out, fmt.Errorf("consistency proof %d..%d: %w", from, to, err)
	}
	switch {
	case out.From.SignatureErr != nil || out.To.SignatureErr != nil:
		out.ProofErr = errors.New("a checkpoint's signature does not verify")
	default:
		out.ProofErr = proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(from), uint64(to), out.Proof, out.From.Root, out.To.Root)
	}
	return out, nil
}

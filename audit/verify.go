package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tearline/tearline/store"
)

// TamperError names the first entry at which the log disagrees with its
// stored tree or a signed checkpoint.
type TamperError struct {
	Index  int64 // the first bad entry
	Reason string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit log tampered at entry %d: %s", e.Index, e.Reason)
}

// Report is what a verification found intact.
type Report struct {
	Size        int64  // entries checked
	Root        []byte // root of the whole log
	Checkpoints int    // signed checkpoints matched
}

// verifyChunk is how many leaves are read at a time.
const verifyChunk = 16384

// checkpoint is a signature-checked checkpoint waiting for its size.
type checkpoint struct {
	size int64
	root []byte
}

// walker recomputes the tree one leaf at a time with a compact range and
// checks it against stored hashes (when it has them) and checkpoints.
type walker struct {
	rng  *compact.Range
	n    int64 // leaves seen
	cps  []checkpoint
	good int64 // size of the last checkpoint matched
	seen int

	stored []store.AuditHash // stored hashes for the current chunk, in id order
	pos    int
	check  bool // compare with stored hashes
	err    error
}

func newWalker(cps []checkpoint, checkStored bool) *walker {
	slices.SortFunc(cps, func(a, b checkpoint) int { return int(a.size - b.size) })
	f := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	return &walker{rng: f.NewEmptyRange(0), cps: cps, check: checkStored}
}

// visit compares each node the compact range completes with the stored hash
// of that node. tlog stores a record's leaf hash and then the parents it
// completes, lowest first: the order compact.Range reports them in.
func (w *walker) visit(id compact.NodeID, hash []byte) {
	if w.err != nil || !w.check {
		return
	}
	want := tlog.StoredHashIndex(int(id.Level), int64(id.Index))
	first := int64(id.Index) << id.Level
	if w.pos >= len(w.stored) || w.stored[w.pos].ID != want {
		w.err = &TamperError{Index: first, Reason: "not in the stored Merkle tree (inserted, or tree rows removed)"}
		return
	}
	got := w.stored[w.pos].Hash
	w.pos++
	if bytes.Equal(got, hash) {
		return
	}
	if id.Level == 0 {
		w.err = &TamperError{Index: first, Reason: "content differs from the hash stored when it was appended (changed, reordered or inserted)"}
		return
	}
	last := int64(id.Index+1)<<id.Level - 1
	w.err = &TamperError{Index: first, Reason: fmt.Sprintf("stored tree hash over entries %d..%d was altered", first, last)}
}

// leaf adds the leaf at index idx.
func (w *walker) leaf(idx int64, data []byte) error {
	if idx != w.n {
		return &TamperError{Index: w.n, Reason: fmt.Sprintf("missing (deleted): next stored entry is %d", idx)}
	}
	if err := w.rng.Append(rfc6962.DefaultHasher.HashLeaf(data), w.visit); err != nil {
		return fmt.Errorf("tree at %d: %w", w.n, err)
	}
	if w.err != nil {
		return w.err
	}
	w.n++
	for len(w.cps) > 0 && w.cps[0].size == w.n {
		root, err := w.rng.GetRootHash(nil)
		if err != nil {
			return err
		}
		if !bytes.Equal(root, w.cps[0].root) {
			return &TamperError{Index: w.good, Reason: fmt.Sprintf("entries %d..%d do not match the checkpoint signed at size %d", w.good, w.n-1, w.n)}
		}
		w.good = w.n
		w.seen++
		w.cps = w.cps[1:]
	}
	return nil
}

// finish checks nothing was signed beyond the end of the log.
func (w *walker) finish() (Report, error) {
	if len(w.cps) > 0 {
		return Report{}, &TamperError{Index: w.n, Reason: fmt.Sprintf("missing (deleted): the log ends at %d entries but a checkpoint was signed at size %d", w.n, w.cps[len(w.cps)-1].size)}
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if w.n > 0 {
		var err error
		if root, err = w.rng.GetRootHash(nil); err != nil {
			return Report{}, err
		}
	}
	return Report{Size: w.n, Root: root, Checkpoints: w.seen}, nil
}

// parseCheckpoints checks each note's signature and body.
func parseCheckpoints(notes [][]byte, v note.Verifier) ([]checkpoint, error) {
	out := make([]checkpoint, 0, len(notes))
	for i, msg := range notes {
		cp, err := OpenCheckpoint(msg, v)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %d: %w", i+1, err)
		}
		out = append(out, checkpoint{size: int64(cp.Size), root: cp.Hash})
	}
	return out, nil
}

// Verify recomputes the whole tree from the stored leaves and checks it
// against the stored hashes and against every stored checkpoint, whose
// signatures are checked with v. It returns a *TamperError naming the
// first bad entry, or an error wrapping ErrBadSignature for a checkpoint
// the log's key did not sign.
func Verify(ctx context.Context, r store.Reader, v note.Verifier) (Report, error) {
	var notes [][]byte
	var sizes []int64
	for after := int64(-1); ; {
		cs, err := r.AuditCheckpoints(ctx, after, 1000)
		if err != nil {
			return Report{}, err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			notes = append(notes, c.Note)
			sizes = append(sizes, c.Size)
		}
		after = cs[len(cs)-1].Size
	}
	cps, err := parseCheckpoints(notes, v)
	if err != nil {
		return Report{}, err
	}
	for i, c := range cps {
		if c.size != sizes[i] {
			return Report{}, fmt.Errorf("checkpoint stored for size %d says size %d", sizes[i], c.size)
		}
	}
	w := newWalker(cps, true)
	for {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		start := w.n
		es, err := r.AuditEntries(ctx, start, start+verifyChunk)
		if err != nil {
			return Report{}, err
		}
		if len(es) == 0 {
			// An entry stored past a gap of a whole chunk or more.
			if more, err := r.AuditEntries(ctx, start, 1<<62); err != nil {
				return Report{}, err
			} else if len(more) > 0 {
				return Report{}, &TamperError{Index: start, Reason: fmt.Sprintf("missing (deleted): next stored entry is %d", more[0].Index)}
			}
			break
		}
		end := es[len(es)-1].Index + 1
		if w.stored, err = r.AuditHashes(ctx, tlog.StoredHashIndex(0, start), tlog.StoredHashCount(end)); err != nil {
			return Report{}, err
		}
		w.pos = 0
		for _, e := range es {
			if err := w.leaf(e.Index, e.Data); err != nil {
				return Report{}, err
			}
		}
	}
	// Tree rows past the last leaf: entries were removed from the end.
	extra, err := r.AuditHashes(ctx, tlog.StoredHashCount(w.n), tlog.StoredHashCount(w.n)+1)
	if err != nil {
		return Report{}, err
	}
	if len(extra) > 0 {
		return Report{}, &TamperError{Index: w.n, Reason: "missing (deleted): the stored tree covers it but the log ends before it"}
	}
	return w.finish()
}

// IsTamper reports whether err is a *TamperError, and returns it.
func IsTamper(err error) (*TamperError, bool) {
	var te *TamperError
	ok := errors.As(err, &te)
	return te, ok
}

package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/store"
)

// ExportLine is one line of an exported log: JSON lines, one leaf each, in
// index order. Leaf is the exact leaf bytes (base64 in JSON), so the
// export can be re-hashed without the database.
type ExportLine struct {
	Index int64  `json:"index"`
	Leaf  []byte `json:"leaf"`
}

// Export writes the first size entries of the log to w (all when size < 0).
func Export(ctx context.Context, r store.Reader, w io.Writer, size int64) error {
	if size < 0 {
		n, err := r.AuditSize(ctx)
		if err != nil {
			return fmt.Errorf("export audit log: %w", err)
		}
		size = n
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	for start := int64(0); start < size; start += verifyChunk {
		es, err := r.AuditEntries(ctx, start, min(start+verifyChunk, size))
		if err != nil {
			return fmt.Errorf("export audit log: %w", err)
		}
		for _, e := range es {
			if err := enc.Encode(ExportLine{Index: e.Index, Leaf: e.Data}); err != nil {
				return fmt.Errorf("export audit log: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	return nil
}

// VerifyExport recomputes the tree over an exported log with no database
// and checks it against each signed checkpoint (verified with v). Because
// every checkpoint must match a prefix of the one sequence of leaves, the
// checkpoints are also shown consistent with each other. A mismatch is a
// *TamperError naming the first entry after the last checkpoint that held.
func VerifyExport(ctx context.Context, rd io.Reader, checkpoints [][]byte, v note.Verifier) (Report, error) {
	cps, err := parseCheckpoints(checkpoints, v)
	if err != nil {
		return Report{}, err
	}
	w := newWalker(cps, false)
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if line%verifyChunk == 0 {
			if err := ctx.Err(); err != nil {
				return Report{}, err
			}
		}
		var l ExportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return Report{}, &TamperError{Index: w.n, Reason: fmt.Sprintf("line %d: not an export line: %v", line, err)}
		}
		if l.Index < w.n {
			return Report{}, &TamperError{Index: l.Index, Reason: fmt.Sprintf("line %d: index repeated or out of order", line)}
		}
		if err := w.leaf(l.Index, l.Leaf); err != nil {
			return Report{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("read export: %w", err)
	}
	return w.finish()
}

// Package witness is the C2SP tlog-witness protocol between Tearline nodes
// (https://c2sp.org/tlog-witness, docs/AUDIT.md "Witnesses"): a witness
// that cosigns partner logs' checkpoints over a store, an HTTP handler for
// its routes, and the client a log uses to ask for cosignatures. Beside
// add-checkpoint it serves two routes of ours: the checkpoints it cosigned
// (partners compare notes with them to catch split views) and signed
// rollback statements (a restored log declares that it went back).
package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Routes, under the partner prefix. AddCheckpointPath is the C2SP
// submission prefix + "/add-checkpoint".
const (
	Prefix            = "/federation/v1/witness"
	AddCheckpointPath = Prefix + "/add-checkpoint"
	CheckpointsPath   = Prefix + "/checkpoints" // GET: what this witness cosigned, per log
	RollbackPath      = Prefix + "/rollback"    // POST: a log's signed rollback statement
	// ConsistencyPath is served by a log for its own tree: GET
	// ?old=&new= answers the consistency proof, one base64 hash a line.
	// Partners comparing notes ask it about checkpoints of two sizes.
	ConsistencyPath = Prefix + "/consistency"
)

// Content types of C2SP tlog-witness responses.
const (
	SizeType      = "text/x.tlog.size"
	SignatureType = "text/x.tlog.signature"
)

// MaxProofLines is C2SP's limit on consistency proof lines.
const MaxProofLines = 63

// maxBody bounds a request body: a checkpoint with many cosignatures and
// 63 proof lines is a few KiB.
const maxBody = 256 << 10

var (
	// ErrUnknownLog: the witness does not follow the checkpoint's origin (404).
	ErrUnknownLog = errors.New("unknown log origin")
	// ErrBadRequest: a malformed request (400).
	ErrBadRequest = errors.New("bad request")
	// ErrBadProof: the consistency proof does not verify (422).
	ErrBadProof = errors.New("consistency proof does not verify")
	// ErrConflict: old size or root does not match what the witness holds
	// (409); see ConflictError.
	ErrConflict = errors.New("conflict with the witness's latest cosigned checkpoint")
	// ErrNotSupported: the partner has no witness routes (an older
	// version): 404 on the path itself.
	ErrNotSupported = errors.New("partner serves no witness protocol")
)

// ConflictError is a 409: the witness's latest cosigned size for the log.
type ConflictError struct {
	Latest int64
	Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: witness has size %d (%s)", ErrConflict, e.Latest, e.Reason)
}
func (e *ConflictError) Unwrap() error { return ErrConflict }

// AddCheckpointRequest is the body of add-checkpoint.
type AddCheckpointRequest struct {
	OldSize    int64
	Proof      [][]byte
	Checkpoint []byte // a signed note
}

// Marshal returns the request body.
func (r AddCheckpointRequest) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", r.OldSize)
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ParseAddCheckpoint parses an add-checkpoint body; errors wrap
// ErrBadRequest.
func ParseAddCheckpoint(body []byte) (AddCheckpointRequest, error) {
	var r AddCheckpointRequest
	bad := func(f string, a ...any) (AddCheckpointRequest, error) {
		return AddCheckpointRequest{}, fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(f, a...))
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return bad("no old size line")
	}
	sz, ok := strings.CutPrefix(string(line), "old ")
	if !ok {
		return bad("first line is not \"old <size>\"")
	}
	n, err := parseSize(sz)
	if err != nil {
		return bad("old size: %v", err)
	}
	r.OldSize = n
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return bad("no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == MaxProofLines {
			return bad("more than %d consistency proof lines", MaxProofLines)
		}
		h, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(h) != 32 {
			return bad("consistency proof line %d is not a base64 SHA-256 hash", len(r.Proof)+1)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return bad("no checkpoint")
	}
	r.Checkpoint = rest
	return r, nil
}

// parseSize parses a decimal size with no leading zeroes.
func parseSize(s string) (int64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal size without leading zeroes", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// Rollback is the body of a rollback statement: the log with origin went
// back from its tree of OldSize (OldRoot) to that of NewSize (NewRoot), by
// a restore, and goes on from there. It is a signed note by the log's key;
// its first line (rollbackHeader) cannot open as a checkpoint, whose first
// line is the origin.
type Rollback struct {
	Origin  string
	OldSize int64
	OldRoot []byte
	NewSize int64
	NewRoot []byte
	Time    time.Time
	Reason  string
}

const rollbackHeader = "tearline.rollback/v1"

// Text is the note text of r.
func (r Rollback) Text() string {
	reason := strings.Join(strings.FieldsFunc(r.Reason, func(c rune) bool { return c < ' ' || c == 0x7f }), " ")
	if reason == "" {
		reason = "-"
	}
	return fmt.Sprintf("%s\norigin %s\nold %d %s\nnew %d %s\ntime %d\nreason %s\n", rollbackHeader, r.Origin,
		r.OldSize, base64.StdEncoding.EncodeToString(r.OldRoot), r.NewSize, base64.StdEncoding.EncodeToString(r.NewRoot),
		r.Time.Unix(), reason)
}

// SignRollback signs r with the log's note key, whose name must be
// r.Origin.
func SignRollback(s note.Signer, r Rollback) ([]byte, error) {
	if s.Name() != r.Origin {
		return nil, fmt.Errorf("rollback statement of %q signed by %q", r.Origin, s.Name())
	}
	if r.NewSize >= r.OldSize {
		return nil, fmt.Errorf("rollback statement from %d to %d: not a rollback", r.OldSize, r.NewSize)
	}
	msg, err := note.Sign(&note.Note{Text: r.Text()}, s)
	if err != nil {
		return nil, fmt.Errorf("sign rollback statement: %w", err)
	}
	return msg, nil
}

// RollbackOrigin returns the origin a statement names, unverified, to find
// the key that must have signed it.
func RollbackOrigin(msg []byte) (string, error) {
	head, rest, _ := strings.Cut(string(msg), "\n")
	line, _, _ := strings.Cut(rest, "\n")
	o, ok := strings.CutPrefix(line, "origin ")
	if head != rollbackHeader || !ok || o == "" {
		return "", fmt.Errorf("%w: not a rollback statement", ErrBadRequest)
	}
	return o, nil
}

// OpenRollback checks msg's signature by v (the log's key) and parses it.
func OpenRollback(msg []byte, v note.Verifier) (Rollback, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil || len(n.Sigs) == 0 {
		return Rollback{}, fmt.Errorf("rollback statement: %w", errBadSignature(err))
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 6 || lines[0] != rollbackHeader {
		return Rollback{}, fmt.Errorf("%w: rollback statement has %d lines", ErrBadRequest, len(lines))
	}
	var r Rollback
	var ok bool
	if r.Origin, ok = strings.CutPrefix(lines[1], "origin "); !ok || r.Origin != v.Name() {
		return Rollback{}, fmt.Errorf("%w: rollback statement origin %q, want %q", ErrBadRequest, lines[1], v.Name())
	}
	tree := func(line, word string) (int64, []byte, error) {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != word {
			return 0, nil, fmt.Errorf("%w: rollback statement line %q", ErrBadRequest, line)
		}
		n, err := parseSize(f[1])
		if err != nil {
			return 0, nil, fmt.Errorf("%w: rollback statement: %v", ErrBadRequest, err)
		}
		h, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil || len(h) != 32 {
			return 0, nil, fmt.Errorf("%w: rollback statement: bad root hash", ErrBadRequest)
		}
		return n, h, nil
	}
	if r.OldSize, r.OldRoot, err = tree(lines[2], "old"); err != nil {
		return Rollback{}, err
	}
	if r.NewSize, r.NewRoot, err = tree(lines[3], "new"); err != nil {
		return Rollback{}, err
	}
	ts, ok := strings.CutPrefix(lines[4], "time ")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return Rollback{}, fmt.Errorf("%w: rollback statement time %q", ErrBadRequest, lines[4])
	}
	r.Time = time.Unix(sec, 0).UTC()
	if r.Reason, ok = strings.CutPrefix(lines[5], "reason "); !ok {
		return Rollback{}, fmt.Errorf("%w: rollback statement reason %q", ErrBadRequest, lines[5])
	}
	if r.NewSize >= r.OldSize {
		return Rollback{}, fmt.Errorf("%w: rollback statement from %d to %d", ErrBadRequest, r.OldSize, r.NewSize)
	}
	return r, nil
}

package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
)

// Status is the HTTP status C2SP tlog-witness gives err.
func Status(err error) int {
	var ce *ConflictError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ce):
		return http.StatusConflict
	case errors.Is(err, ErrUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, audit.ErrBadSignature):
		return http.StatusForbidden
	case errors.Is(err, ErrBadProof):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// Handler serves the witness routes (AddCheckpointPath, RollbackPath,
// CheckpointsPath). Mount it under Prefix+"/" behind the partner
// authentication: only partners reach it, and a log is followed only if it
// is a partner's.
func (w *Witness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+AddCheckpointPath, w.serveAddCheckpoint)
	mux.HandleFunc("POST "+RollbackPath, w.serveRollback)
	mux.HandleFunc("GET "+CheckpointsPath, w.serveCheckpoints)
	return mux
}

func readBody(rw http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxBody))
	if err != nil {
		http.Error(rw, "request body: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return b, true
}

func (w *Witness) fail(rw http.ResponseWriter, r *http.Request, err error) {
	code := Status(err)
	var ce *ConflictError
	if errors.As(err, &ce) {
		rw.Header().Set("Content-Type", SizeType)
		rw.WriteHeader(code)
		fmt.Fprintf(rw, "%d\n", ce.Latest)
		return
	}
	if code == http.StatusInternalServerError {
		w.log.ErrorContext(r.Context(), "witness", "path", r.URL.Path, "err", err)
		http.Error(rw, "internal error", code)
		return
	}
	http.Error(rw, err.Error(), code)
}

func (w *Witness) serveAddCheckpoint(rw http.ResponseWriter, r *http.Request) {
	b, ok := readBody(rw, r)
	if !ok {
		return
	}
	req, err := ParseAddCheckpoint(b)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	cosig, err := w.AddCheckpoint(r.Context(), req)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", SignatureType)
	_, _ = rw.Write(cosig)
}

func (w *Witness) serveRollback(rw http.ResponseWriter, r *http.Request) {
	b, ok := readBody(rw, r)
	if !ok {
		return
	}
	if err := w.AddRollback(r.Context(), b); err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Witness) serveCheckpoints(rw http.ResponseWriter, r *http.Request) {
	c, err := w.Cosigned(r.Context())
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(c)
}

// The client side: a log asks a partner for cosignatures.

// post sends body to base+path and returns the response body, or the error
// its status stands for.
func post(ctx context.Context, c *http.Client, base, path string, body []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	return b, statusError(resp, b)
}

// statusError turns a witness response into the error its status means.
func statusError(resp *http.Response, b []byte) error {
	msg := strings.TrimSpace(string(b))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return nil
	case http.StatusConflict:
		if strings.HasPrefix(resp.Header.Get("Content-Type"), SizeType) {
			n, err := parseSize(strings.TrimSuffix(string(b), "\n"))
			if err == nil {
				return &ConflictError{Latest: n, Reason: "witness's answer"}
			}
		}
		return fmt.Errorf("%w: 409 without a size: %q", ErrConflict, msg)
	case http.StatusNotFound:
		return fmt.Errorf("%w (404: %s)", ErrNotSupported, msg)
	case http.StatusForbidden:
		return fmt.Errorf("%w (403: %s)", audit.ErrBadSignature, msg)
	case http.StatusUnprocessableEntity:
		return fmt.Errorf("%w (422: %s)", ErrBadProof, msg)
	case http.StatusBadRequest:
		return fmt.Errorf("%w (400: %s)", ErrBadRequest, msg)
	default:
		return fmt.Errorf("witness answered %s: %s", resp.Status, msg)
	}
}

// Submit posts add-checkpoint to the witness at base and returns its
// cosignature lines. A 409 is a *ConflictError with the witness's size; a
// 404 (no such route, or a log the partner does not witness) wraps
// ErrNotSupported.
func Submit(ctx context.Context, c *http.Client, base string, req AddCheckpointRequest, timeout time.Duration) ([]byte, error) {
	b, err := post(ctx, c, base, AddCheckpointPath, req.Marshal(), timeout)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" && (!strings.HasPrefix(line, "— ") || !strings.HasSuffix(line, "\n")) {
			return nil, fmt.Errorf("witness answered 200 with a line that is not a note signature: %q", line)
		}
	}
	if len(b) == 0 {
		return nil, errors.New("witness answered 200 with no cosignature")
	}
	return b, nil
}

// SendRollback posts a signed rollback statement to the witness at base.
func SendRollback(ctx context.Context, c *http.Client, base string, statement []byte, timeout time.Duration) error {
	_, err := post(ctx, c, base, RollbackPath, statement, timeout)
	return err
}

// Fetch reads what the witness at base cosigned.
func Fetch(ctx context.Context, c *http.Client, base string, timeout time.Duration) (Cosigned, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+CheckpointsPath, nil)
	if err != nil {
		return Cosigned{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return Cosigned{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return Cosigned{}, err
	}
	if err := statusError(resp, b); err != nil {
		return Cosigned{}, err
	}
	var out Cosigned
	if err := json.Unmarshal(b, &out); err != nil {
		return Cosigned{}, fmt.Errorf("witness checkpoints: %w", err)
	}
	return out, nil
}

// ConsistencyHandler serves ConsistencyPath for a log whose proofs prove
// returns.
func ConsistencyHandler(prove func(ctx context.Context, old, new int64) ([][]byte, error)) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		old, err1 := parseSize(r.URL.Query().Get("old"))
		nw, err2 := parseSize(r.URL.Query().Get("new"))
		if err := errors.Join(err1, err2); err != nil || old < 1 || nw < old {
			http.Error(rw, "want 1 <= old <= new", http.StatusBadRequest)
			return
		}
		pf, err := prove(r.Context(), old, nw)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusNotFound)
			return
		}
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, h := range pf {
			fmt.Fprintf(rw, "%s\n", base64.StdEncoding.EncodeToString(h))
		}
	})
}

// FetchProof asks the log at base for its consistency proof from old to
// new.
func FetchProof(ctx context.Context, c *http.Client, base string, old, new int64, timeout time.Duration) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := fmt.Sprintf("%s%s?old=%d&new=%d", strings.TrimRight(base, "/"), ConsistencyPath, old, new)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("consistency proof %d to %d: %s: %s", old, new, resp.Status, strings.TrimSpace(string(b)))
	}
	var out [][]byte
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		h, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("consistency proof %d to %d: a line is not a base64 hash", old, new)
		}
		out = append(out, h)
	}
	return out, nil
}

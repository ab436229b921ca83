// Package admin is the operator's way into a running node: a small HTTP
// API on a Unix socket in the data directory (DIR/run/admin-HOST-PID.sock,
// mode 0600 in a 0700 directory), never on the public listener. Only the
// account that runs the node can connect, and that account already holds
// every key in DIR: the socket grants nothing the files do not.
//
// Commands that must be carried out by the running node (purge: it shreds
// keys the node may be reading, and scrubs files it holds open) reach it
// here; see docs/STORAGE.md for the table of commands.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Node is what the admin socket needs of a node.
type Node interface {
	Purge(ctx context.Context, req PurgeRequest) ([]string, error)
}

// PurgeRequest asks the node to purge object ID: the versions named of the
// instances named (none named: all).
type PurgeRequest struct {
	ID        string   `json:"id"`
	Reason    string   `json:"reason"`
	Actor     string   `json:"actor"`
	Instances []int64  `json:"instances,omitempty"`
	Versions  []string `json:"versions,omitempty"`
}

// PurgeResult is what a purge removed.
type PurgeResult struct {
	Versions []string `json:"versions"`
}

// errorBody is every error answer.
type errorBody struct {
	Error    string `json:"error"`
	NotFound bool   `json:"not_found,omitempty"`
}

// ErrNotFound is returned by the client when the node holds nothing of the
// object.
var ErrNotFound = errors.New("not found")

// notFoundError is ErrNotFound with the node's own words.
type notFoundError string

func (e notFoundError) Error() string        { return string(e) }
func (e notFoundError) Is(target error) bool { return target == ErrNotFound }

// Handler returns the admin API over n. notFound reports whether an error
// of n means "no such object".
func Handler(n Node, notFound func(error) bool, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/purge", func(w http.ResponseWriter, r *http.Request) {
		var req PurgeRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "purge: " + err.Error()})
			return
		}
		versions, err := n.Purge(r.Context(), req)
		switch {
		case err != nil && notFound(err):
			writeJSON(w, http.StatusNotFound, errorBody{Error: err.Error(), NotFound: true})
		case err != nil:
			log.Error("admin purge", "id", req.ID, "err", err)
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: err.Error()})
		default:
			log.Info("admin purge", "id", req.ID, "actor", req.Actor, "versions", len(versions))
			writeJSON(w, http.StatusOK, PurgeResult{Versions: versions})
		}
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"pid": os.Getpid()})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Listen makes the socket file: its directory 0700, the socket 0600. A
// file left at that path by a dead process (same host and pid) is
// replaced.
func Listen(file string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	_ = os.Remove(file) // our own name: only a dead process of our pid left it
	ln, err := net.Listen("unix", file)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx ends, then removes the socket file.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shut)
	<-errc
	return err
}

// Client calls the admin API of the node serving on socket.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client of the admin socket file.
func NewClient(socket string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &Client{socket: socket, hc: &http.Client{Transport: tr}}
}

// Purge asks the node to purge req.ID.
func (c *Client) Purge(ctx context.Context, req PurgeRequest) (PurgeResult, error) {
	var res PurgeResult
	err := c.call(ctx, http.MethodPost, "/v1/purge", req, &res)
	return res, err
}

func (c *Client) call(ctx context.Context, method, route string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://admin"+route, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return fmt.Errorf("admin socket %s: %s", c.socket, resp.Status)
		}
		if e.NotFound {
			return notFoundError(e.Error)
		}
		return errors.New(e.Error)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

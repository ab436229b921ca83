package store

import (
	"context"
	"fmt"
	"time"
)

// Server is one process registered as working on a node's store: a
// `tearline serve` replica, or a command that needs the node to itself
// (Command says which). See docs/STORAGE.md, "Serving registry".
type Server struct {
	ID      string // random, per process
	Command string // "serve", or the command holding the node, e.g. "key rotate-kek"
	Host    string
	PID     int
	Listen  string // the HTTPS address, for serve
	Admin   string // the admin socket's path, for serve
	Version string // the binary's version
	// Schema is the store schema version the process runs with: a
	// migration waits for no registered server of an older one.
	Schema    int
	Started   time.Time
	Heartbeat time.Time
}

// String names the process for people: what an operator needs to find it.
func (s Server) String() string {
	out := fmt.Sprintf("%s pid %d on %s", s.Command, s.PID, s.Host)
	if s.Listen != "" {
		out += " listening on " + s.Listen
	}
	if !s.Started.IsZero() {
		out += " since " + s.Started.UTC().Format(time.RFC3339)
	}
	return out
}

// ServerRegistry is the registry of processes working on a store shared by
// several hosts (PostgreSQL). A row whose heartbeat is older than
// ServerStaleAfter is stale: its process is gone, or cut off.
type ServerRegistry interface {
	// RegisterServer records s (its ID chosen by the caller).
	RegisterServer(ctx context.Context, s Server) error
	// HeartbeatServer records that the server id is alive at at.
	HeartbeatServer(ctx context.Context, id string, at time.Time) error
	// UnregisterServer removes the server id.
	UnregisterServer(ctx context.Context, id string) error
	// Servers returns the servers whose heartbeat is at or after since,
	// oldest first.
	Servers(ctx context.Context, since time.Time) ([]Server, error)
}

// Heartbeats of a registered server come every ServerHeartbeat; a row is
// stale when its last heartbeat is older than ServerStaleAfter (several
// missed heartbeats, so a busy database does not make a live server look
// dead).
const (
	ServerHeartbeat  = 5 * time.Second
	ServerStaleAfter = 30 * time.Second
)

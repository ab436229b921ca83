package datadir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/tearline/tearline/store"
)

// The serving registry says which processes work on a node: every
// `tearline serve`, and the commands that need the node to themselves
// (`key rotate-kek`, `restore`). Commands consult it to refuse, or to reach
// the running node through its admin socket.
//
//   - SQLite (one host, one serving process): the flock of DIR/serve.lock
//     (Lock). A second serve, or a refusing command, fails to take it and
//     names its holder.
//   - PostgreSQL (replicas on several hosts sharing DIR and the database):
//     the store's servers table (store.ServerRegistry), one row per process,
//     kept alive by heartbeats; rows older than store.ServerStaleAfter are
//     stale. A serving replica is refused while a command holds the node; a
//     command that needs the node alone registers, then looks, and is
//     refused if anything else is registered. Each registers before it
//     looks, so of two that start at once at least one sees the other.

// Registration is one process's entry in the serving registry. Close
// removes it.
type Registration struct {
	self store.Server
	lock *Lock                // SQLite
	reg  store.ServerRegistry // PostgreSQL
	log  *slog.Logger

	mu     sync.Mutex
	stop   context.CancelFunc
	beaten chan struct{}
}

// NewServer describes this process for the registry: command ("serve",
// "key rotate-kek", ...), with a fresh random id.
func NewServer(command, version string, schema int) store.Server {
	host, _ := os.Hostname()
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := time.Now().UTC()
	return store.Server{ID: hex.EncodeToString(b[:]), Command: command, Host: host, PID: os.Getpid(),
		Version: version, Schema: schema, Started: now, Heartbeat: now}
}

// Register records who as working on the node in dir whose store is st. A
// store that is a store.ServerRegistry (PostgreSQL) registers there; any
// other (SQLite, or nil for a command that has not opened it) takes DIR's
// serving lock. With alone, anything else registered is refused (a
// *BusyError naming it); without, only a command holding the node alone is.
func Register(ctx context.Context, dir string, st store.Store, who store.Server, alone bool, log *slog.Logger) (*Registration, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg, ok := st.(store.ServerRegistry)
	if !ok {
		l, err := TryLock(dir, who)
		if err != nil {
			return nil, err
		}
		return &Registration{self: who, lock: l, log: log}, nil
	}
	if err := reg.RegisterServer(ctx, who); err != nil {
		return nil, err
	}
	r := &Registration{self: who, reg: reg, log: log}
	others, err := r.others(ctx)
	if err == nil {
		var busy []store.Server
		for _, o := range others {
			if alone || o.Command != "serve" {
				busy = append(busy, o)
			}
		}
		if len(busy) > 0 {
			err = &BusyError{Dir: dir, Holders: busy}
		}
	}
	if err != nil {
		_ = reg.UnregisterServer(context.WithoutCancel(ctx), who.ID)
		return nil, err
	}
	r.startHeartbeat()
	return r, nil
}

func (r *Registration) others(ctx context.Context) ([]store.Server, error) {
	all, err := r.reg.Servers(ctx, time.Now().Add(-store.ServerStaleAfter))
	if err != nil {
		return nil, err
	}
	var out []store.Server
	for _, s := range all {
		if s.ID != r.self.ID {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *Registration) startHeartbeat() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.beaten = cancel, make(chan struct{})
	go func() {
		defer close(r.beaten)
		t := time.NewTicker(store.ServerHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r.mu.Lock()
			self := r.self
			r.mu.Unlock()
			self.Heartbeat = time.Now().UTC()
			// An upsert, so a row removed by hand comes back.
			if err := r.reg.RegisterServer(ctx, self); err != nil && ctx.Err() == nil {
				r.log.Error("serving registry heartbeat", "err", err)
			}
		}
	}()
}

// Self returns this process's entry.
func (r *Registration) Self() store.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.self
}

// Update records the listen address and admin socket of a serving process.
func (r *Registration) Update(ctx context.Context, listen, admin string) error {
	r.mu.Lock()
	r.self.Listen, r.self.Admin = listen, admin
	self := r.self
	r.mu.Unlock()
	if r.lock != nil {
		return r.lock.Update(self)
	}
	self.Heartbeat = time.Now().UTC()
	return r.reg.RegisterServer(ctx, self)
}

// Close removes the registration.
func (r *Registration) Close() {
	if r.lock != nil {
		r.lock.Release()
		return
	}
	r.stop()
	<-r.beaten
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.reg.UnregisterServer(ctx, r.self.ID); err != nil {
		r.log.Warn("serving registry: unregister (the row goes stale)", "err", err)
	}
}

// Serving returns the processes working on the node in dir whose store is
// st (nil: SQLite, read from DIR's lock): every serve replica and command
// registered and not stale.
func Serving(ctx context.Context, dir string, st store.Store) ([]store.Server, error) {
	if reg, ok := st.(store.ServerRegistry); ok {
		return reg.Servers(ctx, time.Now().Add(-store.ServerStaleAfter))
	}
	h, err := Holder(dir)
	if err != nil || h == nil {
		return nil, err
	}
	return []store.Server{*h}, nil
}

// AdminSocket returns the path of the admin socket of process who serving
// dir: DIR/run/admin-HOST-PID.sock, one per process, since replicas on
// several hosts may share DIR.
func AdminSocket(dir string, who store.Server) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // the registry is read by commands run from anywhere
	}
	return filepath.Join(Path(dir, RunDir), "admin-"+who.Host+"-"+strconv.Itoa(who.PID)+".sock")
}

// Refuse returns a *BusyError for a command that cannot run while anything
// in servers works on the node, or nil when servers is empty.
func Refuse(dir, command string, servers []store.Server) error {
	if len(servers) == 0 {
		return nil
	}
	return fmt.Errorf("%s refused, nothing changed: %w; stop it first", command, &BusyError{Dir: dir, Holders: servers})
}

// IsBusy reports whether err says the node is in use.
func IsBusy(err error) bool { return errors.Is(err, ErrBusy) }

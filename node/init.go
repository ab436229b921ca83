package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// InitOptions name a new node.
type InitOptions struct {
	Name    string // default "tearline"
	Country string // default "GBR"
	Org     string
	// CreateStore makes the new node's store (required): backend.Creator
	// of the --store URL, "" for a new SQLite file in dir. It is called on
	// the directory being built, before it is renamed to dir. A PostgreSQL
	// database must hold no node yet (an empty audit log). The URL is not
	// written into dir: it may hold a password, so every command that
	// opens the node is given it again.
	CreateStore StoreOpener
	// CA, when set, issues the node's TLS certificate and becomes its trust
	// bundle (trust/ca.pem); otherwise the certificate is self-signed.
	// Hosts are extra DNS names or addresses for that certificate.
	CA    *pki.CA
	Hosts []string
}

// Init makes a node in dir, which must be absent or empty: config, signing
// key, TLS key and certificate, and the database. It changes nothing if dir
// already holds anything.
func Init(ctx context.Context, dir string, o InitOptions) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(path(dir, ConfigFile)); err == nil {
			return fmt.Errorf("init %s: %w", dir, ErrExists)
		}
		return fmt.Errorf("init %s: directory is not empty", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	if o.CreateStore == nil {
		return fmt.Errorf("init %s: no store (InitOptions.CreateStore)", dir)
	}
	if o.Name == "" {
		o.Name = "tearline"
	}
	if o.Country == "" {
		o.Country = "GBR"
	}
	if o.Org == "" {
		o.Org = strings.ToUpper(o.Country) + " " + o.Name
	}
	cfg := Config{
		Name:     strings.ToLower(o.Name),
		Country:  strings.ToUpper(o.Country),
		Org:      o.Org,
		Identity: "identity--" + uuid.NewString(),
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	// Build in a sibling temporary directory and rename it into place, so a
	// failed init leaves nothing behind.
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, ".tearline-init-*")
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	if err := build(ctx, tmp, cfg, o.CreateStore); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	if o.CA != nil {
		if err := trust.IssueFromCA(tmp, cfg, o.CA, o.Hosts, time.Now()); err != nil {
			return fmt.Errorf("init %s: tls certificate from CA: %w", dir, err)
		}
	}
	_ = os.Remove(dir) // an empty directory may stand in the way
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	return nil
}

func build(ctx context.Context, dir string, cfg Config, createStore StoreOpener) error {
	key, err := datadir.Create(dir, cfg)
	if err != nil {
		return err
	}
	if err := datadir.EnsureLogKey(dir, cfg.Name); err != nil {
		return err
	}
	if err := trust.MakeSelfSigned(dir, cfg); err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	st, err := createStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	// A shared database may already serve a node; a second node's log
	// must not continue the first's.
	if n, err := st.AuditSize(ctx); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("the store already holds a node's audit log (%d entries); a new node needs an empty database", n)
	}
	ev := audit.Event{Time: time.Now(), Node: cfg.Name, Actor: "node:" + cfg.Name, Action: audit.ActionNodeInit,
		Subject: binding.KeyIDOf(key.Public().(ed25519.PublicKey)), Detail: "country=" + cfg.Country}
	entry, err := ev.Marshal()
	if err != nil {
		return err
	}
	return st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AppendAudit(ctx, entry)
		return err
	})
}

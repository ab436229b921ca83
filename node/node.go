// Package node is the core of a Tearline node, the floor every service
// stands on: opening a data directory (config, keys, store, KEK), ingest,
// reads and listings, access classes, sealed page cursors, the audit log's
// one writer, follow-up rows, the outbox, compiled agreements, purge, KEK
// rotation and the serving registry. One Node serves one data directory.
//
// The services are packages of their own under node/ (release, recalls,
// inbox, delivery, oversight, taxiiview, agreements, users, retention),
// each holding a *Node; node/stack composes them into a whole node. They
// decide only through package policy and this core, and record only
// through AppendAudit, in the same store transaction as the action.
//
// Authority is checked here and only here: every action of every service
// goes through Authorize (authority.go), with one table of which roles may
// do what, and an action on an object id (approving, refusing, recalling,
// explaining, recording a consent) first requires that the caller may read
// it, by the rule of a read (Node.AuthorizeObject); when not, the answer is
// exactly a missing id's. Package api maps the errors (errors.go) to
// statuses and checks no role itself. Operator changes to the node's files
// are recorded with RecordOperatorChange.
//
// Files are named by one scheme: one file per concern, named for it
// (ingest.go, read.go), a second file of a concern named
// concern_aspect.go (audit_record.go, agreements_compiled.go). Tests sit
// beside the file they test. Sentinel errors are in errors.go.
package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tearline/tearline/accessclass"
	"github.com/tearline/tearline/accessmac"
	"github.com/tearline/tearline/accessmac/checks"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/seal"
	"github.com/tearline/tearline/searchindex"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// Node is a running Tearline node.
type Node struct {
	peerCache *datadir.Watched[[]Peer] // peers.yaml as it is now (peers.go)
	dir       string
	cfg       Config
	st        store.Store
	reg       *label.Registry
	keys      *datadir.Keys // signing key and keyring, reloaded when their files change (keyring.go)
	log       *slog.Logger
	now       func() time.Time
	logKeys   logKeys // audit checkpoints' note key (auditlog.go)
	// sealed is st as the sealing layer (kek.go), over the access MAC
	// checks (package accessmac/checks) over the backend: a row is checked
	// before its content is opened.
	sealed *seal.Store
	// index is sealed wrapped in the search index (searchindex.go); st is
	// index.
	index *searchindex.Store

	classes *accessclass.Classes // access classes, parsed

	agreements agreementCache // compiled agreements (agreements.go); zero value ready

	out Outbox // what goes to partners, and the delivery loop's wake-up (outbox.go)

	followups Followups // follow-up rows and who carries out each kind (followup.go)

	cur cursorState // the page-cursor codec (cursors.go); zero value ready
}

// StoreOpener opens the store of the node in a data directory. Package
// store/backend makes them from the --store URL (backend.Opener for an
// existing node, backend.Creator for Init), so node never names a backend.
type StoreOpener func(ctx context.Context, dir string) (store.Store, error)

// Options adjust Open.
type Options struct {
	// ConfigPath overrides the data directory's own tearline.yaml.
	ConfigPath string
	Logger     *slog.Logger
	// Store is the node's store, ready to use; Open takes ownership.
	Store store.Store
	// OpenStore, when Store is nil, opens the store once Open has checked
	// that dir holds a node (backend.Opener(url)). One of the two is needed.
	OpenStore StoreOpener
	// Now, when set, is the node's clock in place of the system's (UTC):
	// tests of the services fix it, and move it (an agreement expiring).
	Now func() time.Time
}

// Open opens the node in dir.
func Open(ctx context.Context, dir string, o Options) (*Node, error) {
	cfgPath := o.ConfigPath
	if cfgPath == "" {
		cfgPath = path(dir, ConfigFile)
	}
	if _, err := os.Stat(path(dir, ConfigFile)); err != nil {
		return nil, fmt.Errorf("open node %s: no node here (run `tearline init --data %s`)", dir, dir)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	reg, err := label.NewRegistry(cfg.Labels)
	if err != nil {
		return nil, fmt.Errorf("open node %s: labels: %w", dir, err)
	}
	keys := datadir.NewKeys(dir, cfg.Name, cfg.Identity)
	if _, err := keys.Current(); err != nil {
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	lk, err := loadLogKeys(dir, cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	st := o.Store
	if st == nil {
		if o.OpenStore == nil {
			return nil, fmt.Errorf("open node %s: no store (Options.Store or Options.OpenStore)", dir)
		}
		st, err = o.OpenStore(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("open node %s: %w", dir, err)
		}
	}
	// Content is sealed at rest under the node's KEK (kek.go, package seal).
	kek, err := loadKeys(ctx, dir, st)
	if err == nil {
		err = checkKEK(ctx, st, kek)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	n := &Node{
		dir: dir, cfg: cfg, reg: reg,
		keys:      keys,
		peerCache: datadir.NewWatched(func() ([]Peer, error) { return trust.LoadPeers(dir) }, path(dir, PeersFile)),
		logKeys:   lk,
		log:       lg,
		now:       func() time.Time { return time.Now().UTC() },
		classes:   accessclass.New(reg),
	}
	n.followups.n, n.out.n = n, n
	if o.Now != nil {
		n.now = o.Now
	}
	// The access rule from signed data (docs/SECURITY.md, "Stored access
	// rules"): the backend wrapped in the access MAC checks, which compute
	// the MACs older rows lack first; content sealing on top of them.
	key, err := seal.NodeKey(ctx, st, kek, n.now(), accessmac.KeyName)
	var checked *checks.Store
	if err == nil {
		checked, err = checks.Open(ctx, st, checks.Options{Key: key, Classes: n.classes, Audit: n, Actor: "node:" + cfg.Name, Log: lg})
		clear(key)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	n.sealed = seal.Wrap(checked, kek)
	n.st = n.sealed
	// The search index (docs/SEARCH.md), outermost, so every version
	// stored is indexed and every purge prunes it, in the same transaction.
	if key, err = seal.NodeKey(ctx, n.sealed, kek, n.now(), searchindex.KeyName); err == nil {
		n.index, err = searchindex.Open(ctx, n.sealed, searchindex.Options{Key: key, Keys: kek, Audit: n, Actor: "node:" + cfg.Name, Log: lg})
		clear(key)
	}
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	n.st = n.index
	if _, err := capTokens(ctx, n); err != nil { // principal.go: lifetimes bounded from the upgrade on
		n.Close()
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	return n, nil
}

// Close closes the node's store, once the audit entries of access MAC
// mismatches met so far are written (checks.Store.Close).
func (n *Node) Close() error { return n.st.Close() }

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Registry returns the node's label registry.
func (n *Node) Registry() *label.Registry { return n.reg }

// Store returns the node's store, for tools (benchmarks, audit) that need it.
func (n *Node) Store() store.Store { return n.st }

// Dir returns the node's data directory.
func (n *Node) Dir() string { return n.dir }

// Now is the node's clock (UTC), the one every service stamps with.
func (n *Node) Now() time.Time { return n.now() }

// Logger is the node's logger.
func (n *Node) Logger() *slog.Logger { return n.log }

// Sealed is the node's store as the sealing layer: Store is the same store
// as a store.Store. Services that read content still sealed (to open only
// what they send) or name the KEK use it.
func (n *Node) Sealed() *seal.Store { return n.sealed }

// Classes returns the node's access classes.
func (n *Node) Classes() *accessclass.Classes { return n.classes }

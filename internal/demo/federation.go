package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/pki"
	storebackend "github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/trust"
)

// A Cluster is several nodes on loopback that federate over mutual TLS
// under one alliance CA: each has the others as peers (with their URLs),
// an admin, an analyst and two releasers. The multi-node demo runs one, and
// so do the end-to-end, fault and benchmark tests.
type Cluster struct {
	Dir     string
	Members []*Member
	Log     *slog.Logger
	Outbox  delivery.OutboxOptions
	// FollowupPoll is how often a started member looks for follow-up rows
	// left behind (0: node.DefaultFollowupPoll).
	FollowupPoll time.Duration
	CA           *pki.CA // the alliance CA that issued every member's certificate
	// ServeOptions, if set, gives the options each member's listener is
	// served with (the demo mounts the web interface with it).
	ServeOptions func(m *Member) ([]api.Option, error)
}

// MemberSpec names one node of a cluster.
type MemberSpec struct {
	Name    string // node and party name
	Country string
	Org     string
	// AutoRelease turns on automatic release on ingest (the node's
	// auto_release). Off in clusters unless asked for, so that what a
	// scenario releases is what it asks Release for.
	AutoRelease bool
	// StoreURL names the member's database as store/backend.Open takes it: ""
	// for SQLite in the member's directory, or a postgres:// URL (an empty
	// database, one per member). Keys, certificates and configuration stay
	// in the member's directory either way.
	StoreURL string
}

// Member is one node of a cluster and the people on it.
type Member struct {
	MemberSpec
	Dir  string
	Addr string // 127.0.0.1:port, fixed for the member's life
	URL  string

	Node                     *stack.Node
	Admin, Analyst           *node.Principal
	Releaser1, Releaser2     *node.Principal
	AdminToken, AnalystToken string

	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	// held is the listener that reserved Addr when the cluster was made;
	// the first start serves on it, so nothing else can take the port in
	// between. Later starts listen on Addr again.
	held net.Listener
	wg   sync.WaitGroup
}

// NewCluster makes the nodes under base (one directory each), a CA, and
// the peer relations between all of them, and opens each node. Nothing
// serves until Start.
func NewCluster(ctx context.Context, base string, specs []MemberSpec, log *slog.Logger) (*Cluster, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ca, err := pki.NewCA(pki.Subject{Name: "Demo Alliance CA", Country: "NATO", Org: "Tearline demo"}, 24*time.Hour, time.Now().Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: base, Log: log, CA: ca}
	for _, s := range specs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr := ln.Addr().String()
		m := &Member{MemberSpec: s, Dir: filepath.Join(base, s.Name), Addr: addr, URL: "https://" + addr, held: ln}
		c.Members = append(c.Members, m)
		if err := node.Init(ctx, m.Dir, node.InitOptions{Name: s.Name, Country: s.Country, Org: s.Org, CA: ca, CreateStore: storebackend.Creator(s.StoreURL)}); err != nil {
			c.releasePorts()
			return nil, fmt.Errorf("cluster: %w", err)
		}
		if err := node.SetAutoRelease(m.Dir, s.AutoRelease); err != nil {
			c.releasePorts()
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	for _, m := range c.Members {
		for _, o := range c.Members {
			if o == m {
				continue
			}
			id, err := node.ReadIdentity(o.Dir)
			if err != nil {
				return nil, err
			}
			// Every member witnesses every other's audit log.
			if _, err := trust.AddPeer(m.Dir, trust.PeerSpec{Name: o.Name, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey, URL: o.URL,
				LogKey: id.LogKey, WitnessKey: id.WitnessKey, Witness: true}, time.Now()); err != nil {
				return nil, fmt.Errorf("cluster: %s adds %s: %w", m.Name, o.Name, err)
			}
		}
	}
	for _, m := range c.Members {
		if err := m.open(ctx); err != nil {
			return nil, err
		}
		if err := m.addPeople(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (m *Member) open(ctx context.Context) error {
	n, err := stack.Open(ctx, m.Dir, node.Options{OpenStore: storebackend.Opener(m.StoreURL)})
	if err != nil {
		return err
	}
	m.Node = n
	return nil
}

func (m *Member) addPeople(ctx context.Context) error {
	clr := map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}
	for _, u := range []struct {
		spec  users.UserSpec
		p     **node.Principal
		token *string
	}{
		{users.UserSpec{Name: "admin", Role: node.RoleAdmin, Nationality: m.Country, Clearances: clr}, &m.Admin, &m.AdminToken},
		{users.UserSpec{Name: "analyst", Role: node.RoleAnalyst, Nationality: m.Country, Clearances: clr}, &m.Analyst, &m.AnalystToken},
		{users.UserSpec{Name: "releaser1", Role: node.RoleReleaser, Nationality: m.Country, Clearances: clr}, &m.Releaser1, nil},
		{users.UserSpec{Name: "releaser2", Role: node.RoleReleaser, Nationality: m.Country, Clearances: clr}, &m.Releaser2, nil},
	} {
		_, tok, err := m.Node.Users.AddUser(ctx, node.ConsoleAdmin(), u.spec)
		if err != nil {
			return fmt.Errorf("%s: user %s: %w", m.Name, u.spec.Name, err)
		}
		if *u.p, err = m.Node.Authenticate(ctx, tok); err != nil {
			return err
		}
		if u.token != nil {
			*u.token = tok
		}
	}
	return nil
}

// Member returns the member called name, or nil.
func (c *Cluster) Member(name string) *Member {
	for _, m := range c.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Agree makes d an active agreement on every party's node: each imports
// it and signs it, the signatures are exchanged, and each proposes and
// activates it. d's parties must carry each member's current public key
// (PartyOf gives them).
func (c *Cluster) Agree(ctx context.Context, d *agreement.Document) error {
	raw, err := d.JSON()
	if err != nil {
		return err
	}
	var ms []*Member
	for _, p := range d.Parties {
		m := c.Member(p.Name)
		if m == nil {
			return fmt.Errorf("agreement %s: %s is not in the cluster", d.ID, p.Name)
		}
		ms = append(ms, m)
	}
	var signed [][]byte
	for _, m := range ms {
		if _, err := m.Node.Agreements.ImportAgreement(ctx, m.Admin, raw); err != nil {
			return fmt.Errorf("%s imports %s: %w", m.Name, d.ID, err)
		}
		ai, err := m.Node.Agreements.SignAgreement(ctx, m.Admin, d.ID, d.Version)
		if err != nil {
			return fmt.Errorf("%s signs %s: %w", m.Name, d.ID, err)
		}
		b, err := ai.Document.JSON()
		if err != nil {
			return err
		}
		signed = append(signed, b)
	}
	for i, m := range ms {
		for j, b := range signed {
			if i == j {
				continue
			}
			if _, err := m.Node.Agreements.AddAgreementSignatures(ctx, m.Admin, d.ID, d.Version, b); err != nil {
				return fmt.Errorf("%s adds signatures to %s: %w", m.Name, d.ID, err)
			}
		}
		for _, st := range []agreement.State{agreement.StateProposed, agreement.StateActive} {
			if _, err := m.Node.Agreements.TransitionAgreement(ctx, m.Admin, d.ID, d.Version, st, "cluster"); err != nil {
				return fmt.Errorf("%s: %s %s: %w", m.Name, st, d.ID, err)
			}
		}
	}
	return nil
}

// PartyOf returns m as an agreement party.
func (c *Cluster) PartyOf(name string) (agreement.Party, error) {
	m := c.Member(name)
	if m == nil {
		return agreement.Party{}, fmt.Errorf("%s is not in the cluster", name)
	}
	id, err := node.ReadIdentity(m.Dir)
	if err != nil {
		return agreement.Party{}, err
	}
	return agreement.Party{Name: m.Name, PublicKey: id.SigningKey, Country: m.Country, Organisation: m.Org}, nil
}

// Start serves m on its address and runs its outbox, until Stop.
func (c *Cluster) Start(m *Member) error { return c.start(m, true) }

// Serve serves m without running its outbox: what m releases waits in the
// outbox until StartOutbox (benchmarks time the delivery of a backlog).
func (c *Cluster) Serve(m *Member) error { return c.start(m, false) }

// StartOutbox runs the outbox of m, which Serve started.
func (c *Cluster) StartOutbox(m *Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		_ = m.Node.Deliveries.RunOutbox(m.ctx, c.Outbox)
	}()
}

func (c *Cluster) start(m *Member, outbox bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return nil
	}
	if m.Node == nil {
		if err := m.open(context.Background()); err != nil {
			return err
		}
	}
	ln, err := m.held, error(nil)
	m.held = nil
	for try := 0; ln == nil && try < 50; try++ { // a port just closed may take a moment to be free again
		if ln, err = net.Listen("tcp", m.Addr); err != nil {
			ln = nil
			time.Sleep(20 * time.Millisecond)
		}
	}
	if ln == nil {
		return err
	}
	var opts []api.Option
	if c.ServeOptions != nil {
		if opts, err = c.ServeOptions(m); err != nil {
			ln.Close()
			return fmt.Errorf("cluster: serve options of %s: %w", m.Name, err)
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	ctx := m.ctx
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := api.Serve(ctx, m.Node, ln, c.Log, opts...); err != nil && !errors.Is(err, context.Canceled) {
			c.Log.Warn("serve", "node", m.Name, "err", err)
		}
	}()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.Node.Followups().Run(ctx, c.FollowupPoll) // what a stop between a commit and its follow-up work left
	}()
	if outbox {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			_ = m.Node.Deliveries.RunOutbox(ctx, c.Outbox)
		}()
	}
	return nil
}

// Stop stops serving m and closes its node, as a killed process would
// leave it (its store is durable; its outbox resumes on Start).
func (c *Cluster) Stop(m *Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel == nil {
		return nil
	}
	m.cancel()
	m.wg.Wait()
	m.cancel = nil
	err := m.Node.Close()
	m.Node = nil
	return err
}

// Close stops every member.
func (c *Cluster) Close() error {
	c.releasePorts()
	var errs []error
	for _, m := range c.Members {
		errs = append(errs, c.Stop(m))
		if m.Node != nil {
			errs = append(errs, m.Node.Close())
			m.Node = nil
		}
	}
	return errors.Join(errs...)
}

// RemoveAll removes the cluster's directories.
func (c *Cluster) RemoveAll() error { return os.RemoveAll(c.Dir) }

// releasePorts closes the listeners that reserve members' ports and were
// never served on.
func (c *Cluster) releasePorts() {
	for _, m := range c.Members {
		m.mu.Lock()
		if m.held != nil {
			m.held.Close()
			m.held = nil
		}
		m.mu.Unlock()
	}
}

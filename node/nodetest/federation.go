package nodetest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/trust"
	"go.yaml.in/yaml/v3"
)

// FedNode is a real node serving its inbox over mutual TLS on a loopback
// listener, with its outbox delivery loop running.
type FedNode struct {
	N     *stack.Node
	Dir   string
	Addr  string
	Admin *node.Principal

	mu  sync.Mutex
	srv *http.Server
}

// NewFedPair makes nodes gbr and fra, peers of each other (pinned
// self-signed certificates, each other's signing key), with an active
// agreement gbr-fra signed by both under terms (RelTerms) that allow
// purposes both ways, and serves and delivers for both until the test
// ends.
func NewFedPair(t *testing.T, purposes ...string) (*FedNode, *FedNode) {
	t.Helper()
	return NewFedPairWith(t, delivery.OutboxOptions{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: 5 * time.Second}, purposes...)
}

// NewFedPairWith is NewFedPair with the delivery loops run with o.
func NewFedPairWith(t *testing.T, o delivery.OutboxOptions, purposes ...string) (*FedNode, *FedNode) {
	t.Helper()
	return newFedPair(t, o, [2]string{}, nil, purposes...)
}

// NewFedPairTerms is NewFedPair with the agreement's terms changed by edit
// first (a release mode that needs approvals, say).
func NewFedPairTerms(t *testing.T, edit func(*agreement.Terms), purposes ...string) (*FedNode, *FedNode) {
	t.Helper()
	return newFedPair(t, delivery.OutboxOptions{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: 5 * time.Second}, [2]string{}, edit, purposes...)
}

// NewFedPairOn is NewFedPair with gbr's and fra's stores at stores[0] and
// stores[1] ("" SQLite in the data directory, else a PostgreSQL URL, such
// as pgtest.DSN gives).
func NewFedPairOn(t *testing.T, stores [2]string, purposes ...string) (*FedNode, *FedNode) {
	t.Helper()
	return newFedPair(t, delivery.OutboxOptions{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: 5 * time.Second}, stores, nil, purposes...)
}

func newFedPair(t *testing.T, o delivery.OutboxOptions, stores [2]string, edit func(*agreement.Terms), purposes ...string) (*FedNode, *FedNode) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	nodes := []*FedNode{{Dir: filepath.Join(root, "gbr")}, {Dir: filepath.Join(root, "fra")}}
	names, countries := []string{"gbr", "fra"}, []string{"GBR", "FRA"}
	for i, f := range nodes {
		if err := node.Init(ctx, f.Dir, node.InitOptions{Name: names[i], Country: countries[i], CreateStore: backend.Creator(stores[i])}); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f.Addr = ln.Addr().String()
		ln.Close()
	}
	for i, f := range nodes {
		other := nodes[1-i]
		id, err := node.ReadIdentity(other.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trust.AddPeer(f.Dir, trust.PeerSpec{Name: id.Name, Country: id.Country, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey,
			URL: "https://" + other.Addr}, time.Now().Add(-time.Hour)); err != nil {
			t.Fatalf("peer add: %v", err)
		}
	}
	for i, f := range nodes {
		n, err := stack.Open(ctx, f.Dir, node.Options{OpenStore: backend.Opener(stores[i])})
		if err != nil {
			t.Fatal(err)
		}
		f.N = n
		t.Cleanup(func() { n.Close() })
		spec := AdminSpec()
		spec.Nationality = countries[i]
		f.Admin, _ = AddUser(t, n, spec)
	}

	terms := RelTerms([]string{"gbr", "fra"}, []string{"gbr", "fra"})
	terms.Purposes = purposes
	if edit != nil {
		edit(&terms)
	}
	d := &agreement.Document{ID: "gbr-fra", Title: "test gbr-fra", Version: 1, Effective: "2026-01-01T00:00:00Z", Expires: "2036-01-01T00:00:00Z",
		Equivalence: RelTable("GBR", "FRA"), Terms: []agreement.Terms{terms}}
	for i, f := range nodes {
		d.Parties = append(d.Parties, agreement.Party{Name: names[i], PublicKey: binding.MarshalPublicKey(Signer(t, f.N).PublicKey()),
			Country: countries[i], Organisation: names[i] + " agency"})
	}
	for i, f := range nodes {
		other := nodes[1-i]
		if _, err := f.N.Agreements.ImportAgreement(ctx, f.Admin, DocJSON(t, d)); err != nil {
			t.Fatalf("import: %v", err)
		}
		if _, err := f.N.Agreements.SignAgreement(ctx, f.Admin, d.ID, 1); err != nil {
			t.Fatalf("sign: %v", err)
		}
		key, err := datadir.ReadSigningKey(other.Dir)
		if err != nil {
			t.Fatal(err)
		}
		signed := *d
		signed.Signatures = nil
		s, err := signed.Sign(other.N.Config().Name, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := signed.AddSignature(s); err != nil {
			t.Fatal(err)
		}
		if _, err := f.N.Agreements.AddAgreementSignatures(ctx, f.Admin, d.ID, 1, DocJSON(t, &signed)); err != nil {
			t.Fatalf("add signatures: %v", err)
		}
		for _, st := range []agreement.State{agreement.StateProposed, agreement.StateActive} {
			if _, err := f.N.Agreements.TransitionAgreement(ctx, f.Admin, d.ID, 1, st, ""); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
	}
	for _, f := range nodes {
		f.Start(t)
		octx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			f.N.Deliveries.RunOutbox(octx, o)
		}()
		t.Cleanup(func() { cancel(); <-done; f.Stop() })
	}
	return nodes[0], nodes[1]
}

// Start serves POST /federation/v1/inbox over mutual TLS, as the API does:
// the peer is the one the client certificate names.
func (f *FedNode) Start(t *testing.T) {
	t.Helper()
	cert, err := trust.LoadTLSCertificate(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := trust.NewStore(f.Dir)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+federation.InboxPath, func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		peer, err := ts.Identify(r.TLS.PeerCertificates)
		if err != nil || peer == nil {
			http.Error(w, "not a peer", http.StatusForbidden)
			return
		}
		var req federation.InboxRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, federation.MaxInboxBody)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(federation.InboxResponse{Results: f.N.Inbox.HandleInboxBatch(r.Context(), peer, req.Messages)})
	})
	var ln net.Listener
	for range 50 { // the port may linger briefly after a stop
		if ln, err = net.Listen("tcp", f.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(tls.NewListener(ln, ts.ServerConfig(cert)))
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
}

// Stop takes the node's listener down: the partner's deliveries fail.
func (f *FedNode) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// Peer returns f's record of its peer name.
func (f *FedNode) Peer(t *testing.T, name string) *node.Peer {
	t.Helper()
	ps, err := trust.LoadPeers(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	t.Fatalf("no peer %s", name)
	return nil
}

// IngestAs ingests obj at f as its admin, labelled banner, and returns its
// id.
func (f *FedNode) IngestAs(t *testing.T, obj map[string]any, banner string) string {
	t.Helper()
	l := MustLabel(t, f.N, banner)
	obj["object_marking_refs"] = []any{l.ID()}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	MustLand(t, f.N, f.Admin, Bundle(f.N.Registry().MarkingDefinition(l), raw), "")
	return obj["id"].(string)
}

// Eventually polls cond until it holds or 15 seconds pass.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Held reports whether n's store holds a version of id.
func Held(n *stack.Node, id string) bool {
	vs, err := n.Store().Versions(context.Background(), id)
	return err == nil && len(vs) > 0
}

// AddPeerNode makes a node called name (its data directory only: it is
// never opened or served) and adds it to n's peers as `tearline peer add
// --identity` does, so that releases to name are queued in n's outbox. It
// returns the new node's data directory.
func AddPeerNode(t testing.TB, n *stack.Node, name, country string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := node.Init(context.Background(), dir, node.InitOptions{Name: name, Country: country, CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	id, err := node.ReadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.AddPeer(n.Dir(), trust.PeerSpec{Name: id.Name, Country: id.Country, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey,
		URL: "https://127.0.0.1:1"}, time.Now()); err != nil {
		t.Fatalf("peer add %s: %v", name, err)
	}
	return dir
}

// PartnerIdentity makes a node called name (its data directory only) and
// returns its `tearline identity` output, as an administrator would paste
// it into `peer add`.
func PartnerIdentity(t testing.TB, name, country string) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := node.Init(context.Background(), dir, node.InitOptions{Name: name, Country: country, CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	id, err := node.ReadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

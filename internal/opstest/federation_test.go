package opstest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/internal/pgtest"
	tlnode "github.com/tearline/tearline/node"
	"github.com/tearline/tearline/trust"
)

// fedNode is one member of a federation running as `tearline serve`.
type fedNode struct {
	*node
	addr           string
	admin, analyst string // tokens
	srv            *server
}

// newFederation builds gbr, usa and fra with the in-process cluster builder
// (alliance CA, certificates, users, the scenario's agreements active),
// then undoes gbr's and fra's knowledge of each other (peers.yaml and
// keyring.yaml), so that a test can make them peers while they serve. From
// here on the nodes only run as `tearline serve` processes.
func newFederation(t *testing.T, bin string, storeURL func(*testing.T) string) map[string]*fedNode {
	t.Helper()
	ctx := context.Background()
	var specs []demo.MemberSpec
	for _, s := range demo.ScenarioMembers() {
		if s.Name == "gbr" || s.Name == "usa" || s.Name == "fra" {
			s.StoreURL = storeURL(t)
			specs = append(specs, s) // AutoRelease off: the tests release explicitly
		}
	}
	c, err := demo.NewCluster(ctx, t.TempDir(), specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := demo.ScenarioAgreements(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := c.Agree(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*fedNode{}
	for _, m := range c.Members {
		n := &node{t: t, bin: bin, name: m.Name, dir: m.Dir, store: m.StoreURL, ca: filepath.Join(m.Dir, datadir.TrustCAFile)}
		out[m.Name] = &fedNode{node: n, addr: m.Addr, admin: m.AdminToken, analyst: m.AnalystToken}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	forget := func(dir, other string) {
		if err := trust.RemovePeer(dir, other); err != nil {
			t.Fatal(err)
		}
		entries, err := datadir.ReadKeyringEntries(dir)
		if err != nil {
			t.Fatal(err)
		}
		entries = slices.DeleteFunc(entries, func(e datadir.KeyringEntry) bool { return e.Node == other })
		if err := datadir.WriteKeyringEntries(dir, entries); err != nil {
			t.Fatal(err)
		}
	}
	forget(out["gbr"].dir, "fra")
	forget(out["fra"].dir, "gbr")
	return out
}

const fedBanner = "NATO RESTRICTED // DISC OSINT // TOPIC CYBER"

// release asks gbr's analyst to release id to party; the answer must be
// "release" (the outbox then delivers it).
func (f *fedNode) release(id, party string) {
	f.t.Helper()
	body, _ := json.Marshal(map[string]string{"object": id, "to": party, "purpose": "analysis"})
	b := f.srv.want(http.StatusOK, http.MethodPost, "/api/v1/releases", f.analyst, body)
	var rr struct {
		Outcome string   `json:"outcome"`
		Reasons []string `json:"reasons"`
	}
	if err := json.Unmarshal(b, &rr); err != nil || rr.Outcome != "release" {
		f.t.Fatalf("release %s to %s: %s", id, party, b)
	}
}

// holds reports whether f's admin can read id.
func (f *fedNode) holds(id string) bool {
	st, _, err := f.srv.call(http.MethodGet, "/api/v1/objects/"+id, f.admin, nil)
	return err == nil && st == http.StatusOK
}

// audited reports whether an entry of f's audit log holds every one of
// the strings.
func (f *fedNode) audited(strs ...string) bool {
	for start := int64(0); ; {
		st, b, err := f.srv.call(http.MethodGet, fmt.Sprintf("/api/v1/audit/entries?start=%d&end=%d", start, start+tlnode.MaxAuditEntries), f.admin, nil)
		if err != nil || st != http.StatusOK {
			return false
		}
		var page struct {
			Entries []struct {
				Leaf []byte `json:"leaf"`
			} `json:"entries"`
		}
		if json.Unmarshal(b, &page) != nil || len(page.Entries) == 0 {
			return false
		}
		for _, e := range page.Entries {
			if !slices.ContainsFunc(strs, func(s string) bool { return !bytes.Contains(e.Leaf, []byte(s)) }) {
				return true
			}
		}
		start += int64(len(page.Entries))
	}
}

// TestTrustChangesOnServingNodes: a partner's key revoked at a serving
// receiver refuses the very next delivery; a peer added to two serving
// nodes (each side's `peer add`) receives the very next release, its key
// known at once. On SQLite and on PostgreSQL.
func TestTrustChangesOnServingNodes(t *testing.T) {
	bin := buildTearline(t)
	t.Run("sqlite", func(t *testing.T) { runTrustChanges(t, bin, func(*testing.T) string { return "" }) })
	t.Run("postgres", func(t *testing.T) { runTrustChanges(t, bin, func(t *testing.T) string { return pgtest.DSN(t) }) })
}

func runTrustChanges(t *testing.T, bin string, storeURL func(*testing.T) string) {
	fed := newFederation(t, bin, storeURL)
	gbr, usa, fra := fed["gbr"], fed["usa"], fed["fra"]
	for _, f := range []*fedNode{gbr, usa, fra} {
		f.srv = f.start(f.addr)
	}

	// Before: a release to usa arrives.
	first := gbr.srv.publish(gbr.analyst, fedBanner)
	gbr.release(first, "usa")
	waitFor(t, "usa holds the release made before the revocation", func() bool { return usa.holds(first) })

	// agreement suspend at the serving sender: the next release decision
	// has no agreement to release under; resume, and it has again.
	gbr.run("agreement", "suspend", "gbr-usa", "--data", gbr.dir, "--note", "test")
	held := gbr.srv.publish(gbr.analyst, fedBanner)
	body, _ := json.Marshal(map[string]string{"object": held, "to": "usa", "purpose": "analysis"})
	if st, b, err := gbr.srv.call(http.MethodPost, "/api/v1/releases", gbr.analyst, body); err != nil || (st == http.StatusOK && bytes.Contains(b, []byte(`"outcome":"release"`))) {
		t.Fatalf("release under a suspended agreement: %d %s %v", st, b, err)
	}
	gbr.run("agreement", "resume", "gbr-usa", "--data", gbr.dir, "--note", "test")
	gbr.release(held, "usa")
	waitFor(t, "usa holds the release made after the agreement resumed", func() bool { return usa.holds(held) })

	// key revoke at the serving receiver: the next delivery is refused.
	id, err := tlnode.ReadIdentity(gbr.dir)
	if err != nil {
		t.Fatal(err)
	}
	usa.run("key", "revoke", "--data", usa.dir, "--key-id", id.KeyID)
	next := gbr.srv.publish(gbr.analyst, fedBanner)
	gbr.release(next, "usa")
	waitFor(t, "usa audits its refusal of the delivery after the revocation", func() bool { return usa.audited(next, "refuse") })
	if usa.holds(next) {
		t.Fatalf("usa stored %s, signed by gbr's key after usa revoked it", next)
	}
	if !usa.holds(first) {
		t.Fatalf("usa lost %s, received before the revocation", first)
	}

	// peer add on both serving nodes: the next release to fra arrives.
	for _, p := range [][2]*fedNode{{gbr, fra}, {fra, gbr}} {
		at, other := p[0], p[1]
		file := filepath.Join(t.TempDir(), other.name+".identity")
		if err := os.WriteFile(file, []byte(other.run("identity", "--data", other.dir, "--url", "https://"+other.addr)), 0o600); err != nil {
			t.Fatal(err)
		}
		at.run("peer", "add", "--data", at.dir, "--identity", file)
	}
	toFra := gbr.srv.publish(gbr.analyst, fedBanner)
	gbr.release(toFra, "fra")
	waitFor(t, "fra holds the first release after peer add", func() bool { return fra.holds(toFra) })
	if fra.audited(toFra, "refuse") {
		t.Fatalf("fra refused %s before accepting it (its keyring was stale)", toFra)
	}

	// cert revoke at a serving node: the partner's next handshake fails.
	hello := func() error {
		cert, err := tls.LoadX509KeyPair(datadir.Path(fra.dir, datadir.TLSCert), datadir.Path(fra.dir, datadir.TLSKey))
		if err != nil {
			t.Fatal(err)
		}
		tc := tlsConfigFor(t, gbr.ca)
		tc.Certificates = []tls.Certificate{cert}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
		resp, err := c.Get(gbr.srv.base + "/federation/v1/hello")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("hello: %s", resp.Status)
		}
		return nil
	}
	if err := hello(); err != nil {
		t.Fatalf("fra's hello to gbr before the revocation: %v", err)
	}
	gbr.run("cert", "revoke", "--data", gbr.dir, "--cert", datadir.Path(fra.dir, datadir.TLSCert), "--reason", "test")
	if err := hello(); err == nil {
		t.Fatal("fra's certificate revoked at gbr, and its next handshake still succeeded")
	}

	// A restart changes nothing of what was received.
	for _, f := range []*fedNode{gbr, usa, fra} {
		f.srv.stop()
		f.srv = f.start(f.addr)
	}
	if !usa.holds(first) || usa.holds(next) || !fra.holds(toFra) {
		t.Fatalf("after restart: usa holds %s %v (want true), %s %v (want false); fra holds %s %v (want true)",
			first, usa.holds(first), next, usa.holds(next), toFra, fra.holds(toFra))
	}
	for _, f := range []*fedNode{gbr, usa, fra} {
		f.srv.stop()
	}
}

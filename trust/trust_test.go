package trust

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
)

// A Store in use (as a serving node's) sees peer add, cert revoke and peer
// remove, made through the files, at its next Identify.
func TestStoreFollowsTheFiles(t *testing.T) {
	now := time.Now()
	ca, err := pki.NewCA(pki.Subject{Name: "Test CA", Country: "NATO", Org: "test"}, 24*time.Hour, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "gbr")
	cfg := datadir.Config{Name: "gbr", Country: "GBR", Identity: "identity--00000000-0000-4000-8000-000000000001"}
	cfg.Defaults()
	if _, err := datadir.Create(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if err := MakeSelfSigned(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if err := AddTrustedCA(dir, pki.MarshalCert(ca.Cert)); err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dns, ips := pki.DefaultHosts("usa")
	c, err := ca.Issue(pki.Leaf{Subject: pki.Subject{Name: "usa", Country: "USA", Org: "usa"}, DNSNames: dns, IPs: ips,
		NotAfter: now.Add(time.Hour)}, k.Public(), now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(dir)
	certs := []*x509.Certificate{c}
	if p, err := s.Identify(certs); err != nil || p != nil {
		t.Fatalf("a CA-issued certificate of no peer: %+v, %v; want no peer, no error", p, err)
	}
	if _, err := AddPeer(dir, PeerSpec{CertPEM: pki.MarshalCert(c), SigningKey: binding.MarshalPublicKey(pub)}, now); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Identify(certs); err != nil || p == nil || p.Name != "usa" {
		t.Fatalf("after peer add: %+v, %v; want usa", p, err)
	}
	if err := RevokeCert(dir, c, "test", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Identify(certs); !errors.Is(err, ErrCertRevoked) {
		t.Fatalf("after cert revoke: %v, want ErrCertRevoked", err)
	}
	if err := RemovePeer(dir, "usa"); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustCurrent(t, s).Peer("usa"); ok {
		t.Fatal("after peer remove: usa is still a peer")
	}
}

func mustCurrent(t *testing.T, s *Store) *Trust {
	t.Helper()
	tr, err := s.Current()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

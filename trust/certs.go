package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
)

// DefaultCertValidity is how long a node certificate issued through Tearline
// lives: long enough for demos and exercises, short enough to be renewed.
const DefaultCertValidity = 397 * 24 * time.Hour

// ReadTLSLeaf reads the node's own TLS certificate (the leaf).
func ReadTLSLeaf(dir string) (*x509.Certificate, error) {
	b, err := os.ReadFile(datadir.Path(dir, datadir.TLSCert))
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	cs, err := pki.ParseCerts(b)
	if err != nil {
		return nil, fmt.Errorf("node certificate %s: %w", datadir.TLSCert, err)
	}
	return cs[0], nil
}

func readTLSKey(dir string) (crypto.Signer, error) {
	b, err := os.ReadFile(datadir.Path(dir, datadir.TLSKey))
	if err != nil {
		return nil, fmt.Errorf("node TLS key: %w", err)
	}
	k, err := pki.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("node TLS key %s: %w", datadir.TLSKey, err)
	}
	return k, nil
}

func nodeSubject(cfg datadir.Config) pki.Subject {
	return pki.Subject{Name: cfg.Name, Country: cfg.Country, Org: cfg.Org}
}

// nodeHosts is the loopback names every node certificate carries, plus the
// hosts the operator names.
func nodeHosts(cfg datadir.Config, hosts []string) pki.Leaf {
	dns, ips := pki.DefaultHosts(cfg.Name)
	d, i := pki.SplitHosts(hosts)
	return pki.Leaf{Subject: nodeSubject(cfg), DNSNames: append(dns, d...), IPs: append(ips, i...)}
}

// IssueFromCA replaces the self-signed certificate Init made in dir by one
// the alliance CA issues for the same key, and trusts the CA.
func IssueFromCA(dir string, cfg datadir.Config, ca *pki.CA, hosts []string, now time.Time) error {
	k, err := readTLSKey(dir)
	if err != nil {
		return err
	}
	l := nodeHosts(cfg, hosts)
	l.NotAfter = now.Add(DefaultCertValidity)
	c, err := ca.Issue(l, k.Public(), now)
	if err != nil {
		return err
	}
	if err := AddTrustedCA(dir, pki.MarshalCert(ca.Cert)); err != nil {
		return err
	}
	return datadir.AtomicWrite(datadir.Path(dir, datadir.TLSCert), pki.MarshalCert(c), 0o644)
}

// CertRequest returns a PEM certificate request for the node's TLS key, for
// the alliance CA to sign (`tearline ca sign`); hosts are names and
// addresses partners reach the node at, beyond the loopback defaults.
func CertRequest(dir string, hosts []string) ([]byte, error) {
	cfg, err := datadir.LoadConfig(datadir.Path(dir, datadir.ConfigFile))
	if err != nil {
		return nil, err
	}
	k, err := readTLSKey(dir)
	if err != nil {
		return nil, err
	}
	l := nodeHosts(cfg, hosts)
	return pki.NewRequest(l.Subject, l.DNSNames, l.IPs, k)
}

// InstallCert installs a certificate (leaf first, then any intermediates)
// issued for the node's TLS key as tls/cert.pem. With caPEM, that CA bundle
// is trusted first. The certificate must name this node and chain to the
// trust bundle: a node whose own certificate its partners would refuse is
// refused here. A serving node presents it from its next handshake on
// (Store.ServerConfig and ClientConfig read tls/ as it is then).
func InstallCert(dir string, certPEM, caPEM []byte, now time.Time) (*x509.Certificate, error) {
	cfg, err := datadir.LoadConfig(datadir.Path(dir, datadir.ConfigFile))
	if err != nil {
		return nil, err
	}
	chain, err := pki.ParseCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("cert install: %w", err)
	}
	leaf := chain[0]
	k, err := readTLSKey(dir)
	if err != nil {
		return nil, err
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := leaf.PublicKey.(equaler); !ok || !e.Equal(k.Public()) {
		return nil, errors.New("cert install: the certificate is not for this node's TLS key (tls/key.pem)")
	}
	if leaf.Subject.CommonName != cfg.Name {
		return nil, fmt.Errorf("cert install: the certificate names %q, not this node (%q)", leaf.Subject.CommonName, cfg.Name)
	}
	if caPEM != nil {
		if err := AddTrustedCA(dir, caPEM); err != nil {
			return nil, err
		}
	}
	t, err := LoadTrust(dir)
	if err != nil {
		return nil, err
	}
	if _, err := t.verifyChain(leaf, now, chain[1:]...); err != nil {
		return nil, fmt.Errorf("cert install: %w", err)
	}
	if err := datadir.AtomicWrite(datadir.Path(dir, datadir.TLSCert), pki.MarshalCert(chain...), 0o644); err != nil {
		return nil, fmt.Errorf("cert install: %w", err)
	}
	return leaf, nil
}

// AddTrustedCA adds the CA certificates in caPEM to trust/ca.pem, the bundle
// that defines which nodes exist for this node. Certificates already there
// are not added twice.
func AddTrustedCA(dir string, caPEM []byte) error {
	add, err := pki.ParseCerts(caPEM)
	if err != nil {
		return fmt.Errorf("trust: CA bundle: %w", err)
	}
	var have []*x509.Certificate
	if b, err := os.ReadFile(datadir.Path(dir, TrustCAFile)); err == nil {
		if have, err = pki.ParseCerts(b); err != nil {
			return fmt.Errorf("trust %s: %w", TrustCAFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("trust: %w", err)
	}
	seen := map[string]bool{}
	for _, c := range have {
		seen[pki.Fingerprint(c)] = true
	}
	for _, c := range add {
		if !c.IsCA {
			return fmt.Errorf("trust: %q is not a CA certificate", c.Subject.CommonName)
		}
		if !seen[pki.Fingerprint(c)] {
			have = append(have, c)
			seen[pki.Fingerprint(c)] = true
		}
	}
	return datadir.AtomicWrite(datadir.Path(dir, TrustCAFile), pki.MarshalCert(have...), 0o644)
}

// MakeSelfSigned writes a self-signed ECDSA P-256 certificate for the node's HTTPS
// listener. It is its own CA, so clients pin it with --ca.
func MakeSelfSigned(dir string, cfg datadir.Config) error {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cfg.Name, Organization: []string{cfg.Org}, Country: []string{cfg.Country}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", cfg.Name},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	if err := os.WriteFile(datadir.Path(dir, datadir.TLSCert), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(datadir.Path(dir, datadir.TLSKey), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
}

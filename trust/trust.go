package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
)

// Certificate refusals. The handshake reports them to the peer only as a TLS
// alert; the server logs the wrapped error.
var (
	// ErrCertUnknown: the certificate chains to no CA in the trust bundle
	// and is not a peer's pinned self-signed certificate.
	ErrCertUnknown = errors.New("certificate not issued by a trusted CA")
	// ErrCertRevoked: the certificate (or a CA above it) is listed in
	// trust/revoked.yaml.
	ErrCertRevoked = errors.New("certificate revoked")
	// ErrCertExpired: outside the certificate's validity period.
	ErrCertExpired = errors.New("certificate expired or not yet valid")
)

// RevokedCert is one entry of trust/revoked.yaml. A certificate matches by
// its fingerprint or by its serial number (hex); serial numbers are random
// 127-bit values, so a serial names one certificate in practice whichever CA
// issued it.
type RevokedCert struct {
	Fingerprint string    `yaml:"cert_sha256,omitempty"`
	Serial      string    `yaml:"serial,omitempty"`
	Name        string    `yaml:"name,omitempty"` // the subject, for people reading the file
	Reason      string    `yaml:"reason,omitempty"`
	RevokedAt   time.Time `yaml:"revoked_at,omitempty"`
}

// Trust is one immutable snapshot of what a node trusts for TLS: the
// alliance CA bundle, its peers and the revoked certificates. Build it with
// LoadTrust (or through a Store, which reloads it when files change).
type Trust struct {
	pool      *x509.CertPool  // the CA bundle and the pinned peer certificates
	anchors   map[string]bool // fingerprints of the CA bundle's certificates
	pinned    map[string]bool // fingerprints of self-signed peer certificates
	peers     map[string]*Peer
	byName    map[string]*Peer
	revokedFP map[string]bool
	revokedSN map[string]bool
}

// LoadTrust reads the trust files of the node in dir: trust/ca.pem,
// trust/revoked.yaml and peers.yaml. Any of them may be absent.
func LoadTrust(dir string) (*Trust, error) {
	peers, err := LoadPeers(dir)
	if err != nil {
		return nil, err
	}
	return loadTrust(dir, peers)
}

func loadTrust(dir string, peers []Peer) (*Trust, error) {
	t := &Trust{pool: x509.NewCertPool(), anchors: map[string]bool{}, pinned: map[string]bool{},
		peers: map[string]*Peer{}, byName: map[string]*Peer{}, revokedFP: map[string]bool{}, revokedSN: map[string]bool{}}
	b, err := os.ReadFile(datadir.Path(dir, TrustCAFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("trust: %w", err)
	default:
		cas, err := pki.ParseCerts(b)
		if err != nil {
			return nil, fmt.Errorf("trust %s: %w", TrustCAFile, err)
		}
		for _, c := range cas {
			if !c.IsCA {
				return nil, fmt.Errorf("trust %s: %q is not a CA certificate", TrustCAFile, c.Subject.CommonName)
			}
			t.pool.AddCert(c)
			t.anchors[pki.Fingerprint(c)] = true
		}
	}
	for i := range peers {
		p := &peers[i]
		t.peers[p.Fingerprint] = p
		t.byName[p.Name] = p
		// A self-signed peer certificate is its own anchor: it goes in the
		// pool so the handshake can verify it, and verifyChain accepts it
		// only as itself, never as the issuer of another certificate.
		if c := p.cert; bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			t.pool.AddCert(c)
			t.pinned[p.Fingerprint] = true
		}
	}
	revoked, err := LoadRevoked(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range revoked {
		if r.Fingerprint != "" {
			t.revokedFP[r.Fingerprint] = true
		}
		if r.Serial != "" {
			t.revokedSN[r.Serial] = true
		}
	}
	return t, nil
}

// LoadRevoked reads trust/revoked.yaml; a missing file revokes nothing.
func LoadRevoked(dir string) ([]RevokedCert, error) {
	b, err := os.ReadFile(datadir.Path(dir, RevokedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	var rs []RevokedCert
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trust %s: %w", RevokedFile, err)
	}
	for i, r := range rs {
		switch {
		case r.Fingerprint == "" && r.Serial == "":
			return nil, fmt.Errorf("trust %s: entry %d names no certificate (cert_sha256 or serial)", RevokedFile, i)
		case r.Fingerprint != "" && !pki.IsFingerprint(r.Fingerprint):
			return nil, fmt.Errorf("trust %s: entry %d: cert_sha256 %q: want sha256:<64 hex>", RevokedFile, i, r.Fingerprint)
		}
	}
	return rs, nil
}

// RevokeCert adds a certificate to trust/revoked.yaml. A listener serving dir
// refuses it from its next handshake on, and refuses requests still arriving
// on connections it admitted before.
func RevokeCert(dir string, c *x509.Certificate, reason string, now time.Time) error {
	rs, err := LoadRevoked(dir)
	if err != nil {
		return err
	}
	fp := pki.Fingerprint(c)
	for _, r := range rs {
		if r.Fingerprint == fp {
			return nil // already revoked; the first date stands
		}
	}
	rs = append(rs, RevokedCert{Fingerprint: fp, Serial: pki.SerialHex(c), Name: c.Subject.String(),
		Reason: reason, RevokedAt: now.UTC().Truncate(time.Second)})
	out, err := yaml.Marshal(rs)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	header := "# Revoked TLS certificates, refused in the handshake (tearline cert revoke).\n"
	return datadir.AtomicWrite(datadir.Path(dir, RevokedFile), append([]byte(header), out...), 0o644)
}

// Pool returns the certificates a handshake may chain to: the CA bundle and
// the pinned peer certificates. Callers must not modify it.
func (t *Trust) Pool() *x509.CertPool { return t.pool }

// Peer returns the peer of that name.
func (t *Trust) Peer(name string) (*Peer, bool) {
	p, ok := t.byName[name]
	return p, ok
}

func (t *Trust) revoked(c *x509.Certificate) bool {
	return t.revokedFP[pki.Fingerprint(c)] || t.revokedSN[pki.SerialHex(c)]
}

// accept picks, among chains the x509 verifier built, one this node accepts:
// ending at a CA of the bundle, or being exactly one pinned peer certificate;
// with no certificate in it revoked and the leaf within its validity at now.
func (t *Trust) accept(chains [][]*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	err := ErrCertUnknown
	for _, chain := range chains {
		if len(chain) == 0 {
			continue
		}
		leaf, root := chain[0], chain[len(chain)-1]
		rfp := pki.Fingerprint(root)
		if !t.anchors[rfp] && !(t.pinned[rfp] && len(chain) == 1) {
			continue
		}
		if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
			return nil, fmt.Errorf("%w: %q valid %s to %s", ErrCertExpired, leaf.Subject.CommonName,
				leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		revoked := false
		for _, c := range chain {
			if t.revoked(c) {
				err = fmt.Errorf("%w: %q (serial %s)", ErrCertRevoked, c.Subject.CommonName, pki.SerialHex(c))
				revoked = true
				break
			}
		}
		if !revoked {
			return chain, nil
		}
	}
	return nil, err
}

// verifyChain verifies a leaf certificate (with any intermediates a peer
// sent) for client authentication, as the handshake does, and applies
// accept.
func (t *Trust) verifyChain(leaf *x509.Certificate, now time.Time, intermediates ...*x509.Certificate) ([]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: t.pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil, fmt.Errorf("%w: %v", ErrCertExpired, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCertUnknown, err)
	}
	return t.accept(chains, now)
}

// Identify names the peer presenting certs (leaf first, as in
// tls.ConnectionState.PeerCertificates). It verifies again rather than trust
// the handshake alone: a connection can outlive a revocation, a removed
// peer or the end of a certificate's validity. It returns (nil, nil) for a
// valid certificate that is no peer of this node: a node of the alliance this
// node has no arrangement with.
func (t *Trust) Identify(certs []*x509.Certificate, now time.Time) (*Peer, error) {
	if len(certs) == 0 {
		return nil, nil
	}
	if _, err := t.verifyChain(certs[0], now, certs[1:]...); err != nil {
		return nil, err
	}
	return t.peers[pki.Fingerprint(certs[0])], nil
}

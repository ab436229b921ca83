// Package pki makes and reads the X.509 material of node identities: an
// alliance (or agency) CA, the TLS certificates it issues to nodes,
// certificate requests, and the fingerprints by which a node knows its
// partners. It knows nothing of data directories; package node decides where
// the files live.
//
// Keys are ECDSA P-256: every TLS 1.3 stack speaks it, and it keeps the
// certificates small.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"strings"
	"time"
)

const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
	pemRequest     = "CERTIFICATE REQUEST"
)

// FingerprintPrefix starts every certificate fingerprint in text form.
const FingerprintPrefix = "sha256:"

// Fingerprint returns "sha256:" and the lowercase hex SHA-256 of the
// certificate's DER: the form in which peers.yaml and revoked.yaml name a
// certificate.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// IsFingerprint reports whether s has the form Fingerprint writes.
func IsFingerprint(s string) bool { return fingerprintRE.MatchString(s) }

// SerialHex returns a certificate serial number as lowercase hex, the form
// revoked.yaml uses.
func SerialHex(c *x509.Certificate) string { return c.SerialNumber.Text(16) }

// GenerateKey returns a new ECDSA P-256 key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	return k, nil
}

// MarshalKey encodes a private key as PEM PKCS #8.
func MarshalKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParseKey reads a PEM PKCS #8 private key that can sign (ECDSA, Ed25519 or
// RSA).
func ParseKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != pemPrivateKey {
		return nil, errors.New("pki: parse key: no PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: parse key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: parse key: %T cannot sign", k)
	}
	return s, nil
}

// MarshalCert encodes certificates as concatenated PEM blocks.
func MarshalCert(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: pemCertificate, Bytes: c.Raw})
	}
	return b.Bytes()
}

// ParseCerts reads every CERTIFICATE block in pemBytes, in order. Other block
// types are an error, so a key pasted by mistake is noticed; so is a damaged
// block, which would otherwise be skipped; no certificate at all is an error
// too.
func ParseCerts(pemBytes []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := pemBytes
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		// pem.Decode skips what it cannot read, a damaged block included:
		// what it consumed must hold this block's BEGIN line and no other.
		if bytes.Count(rest[:len(rest)-len(next)], []byte("-----BEGIN")) != 1 {
			return nil, errors.New("pki: malformed PEM block")
		}
		rest = next
		if block.Type != pemCertificate {
			return nil, fmt.Errorf("pki: PEM block %q, want %q", block.Type, pemCertificate)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
		out = append(out, c)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("pki: data after the last PEM block")
	}
	if len(out) == 0 {
		return nil, errors.New("pki: no PEM certificate found")
	}
	return out, nil
}

// ParseCert reads exactly one certificate.
func ParseCert(pemBytes []byte) (*x509.Certificate, error) {
	cs, err := ParseCerts(pemBytes)
	if err != nil {
		return nil, err
	}
	if len(cs) != 1 {
		return nil, fmt.Errorf("pki: %d certificates, want 1", len(cs))
	}
	return cs[0], nil
}

// Subject names a CA or a node.
type Subject struct {
	Name    string // common name: the node name, or the CA's name
	Country string // ISO 3166 alpha-3, as nodes use; written as given
	Org     string
}

func (s Subject) pkix() pkix.Name {
	n := pkix.Name{CommonName: s.Name}
	if s.Org != "" {
		n.Organization = []string{s.Org}
	}
	// X.509 countryName is formally ISO 3166 alpha-2; Tearline names
	// countries in alpha-3 everywhere else, and the certificate must agree
	// with peers.yaml, so alpha-3 is written here. It is compared, never
	// interpreted.
	if s.Country != "" {
		n.Country = []string{s.Country}
	}
	return n
}

func serial() (*big.Int, error) {
	// 127 bits: positive, unpredictable, within RFC 5280's 20 octets.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	return n, nil
}

// CA is a certificate authority that can issue node certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA makes a self-signed CA valid from now for the given period. It may
// issue only end-entity certificates (path length 0): an alliance CA that
// wants intermediates is brought from outside.
func NewCA(s Subject, validFor time.Duration, now time.Time) (*CA, error) {
	k, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               s.pkix(),
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA: %w", err)
	}
	return &CA{Cert: c, Key: k}, nil
}

// LoadCA reads a CA certificate and its key, checking that they belong
// together and that the certificate may sign certificates.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	c, err := ParseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	k, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	if !samePublic(c.PublicKey, k.Public()) {
		return nil, errors.New("pki: CA key does not match the CA certificate")
	}
	if !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("pki: the CA certificate may not sign certificates")
	}
	return &CA{Cert: c, Key: k}, nil
}

func samePublic(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// Leaf describes a node certificate to issue.
type Leaf struct {
	Subject
	DNSNames []string
	IPs      []net.IP
	// Validity; NotBefore defaults to one minute before now (clock skew).
	NotBefore, NotAfter time.Time
}

// DefaultHosts are the names every node certificate carries, so a node is
// reachable on loopback in demos and tests.
func DefaultHosts(name string) ([]string, []net.IP) {
	return []string{"localhost", name}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
}

// SplitHosts sorts host names given on the command line into DNS names and
// IP addresses.
func SplitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

func leafTemplate(l Leaf, now time.Time) (*x509.Certificate, error) {
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	nb := l.NotBefore
	if nb.IsZero() {
		nb = now.Add(-time.Minute)
	}
	if l.NotAfter.IsZero() || !l.NotAfter.After(nb) {
		return nil, errors.New("pki: certificate validity: not_after must be after not_before")
	}
	return &x509.Certificate{
		SerialNumber: sn,
		Subject:      l.pkix(),
		NotBefore:    nb,
		NotAfter:     l.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// One certificate serves the node as TLS server (partners and
		// people connect to it) and as TLS client (it connects to partners).
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              l.DNSNames,
		IPAddresses:           l.IPs,
	}, nil
}

// Issue signs a certificate for pub as described by l.
func (ca *CA) Issue(l Leaf, pub crypto.PublicKey, now time.Time) (*x509.Certificate, error) {
	tmpl, err := leafTemplate(l, now)
	if err != nil {
		return nil, err
	}
	// A certificate must not outlive its issuer: verifiers would refuse it
	// later anyway, so say so now.
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	if !tmpl.NotAfter.After(tmpl.NotBefore) {
		return nil, fmt.Errorf("pki: issue %s: the CA certificate expires (%s) before the certificate would begin (%s)",
			l.Name, ca.Cert.NotAfter.UTC().Format(time.RFC3339), tmpl.NotBefore.UTC().Format(time.RFC3339))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: issue %s: %w", l.Name, err)
	}
	return x509.ParseCertificate(der)
}

// SelfSigned makes a node certificate signed by its own key: the default
// identity of a node with no alliance CA. It is marked as a CA so that a
// client can put it in its root pool and verify the node by it (pinning);
// a node's trust code accepts such a certificate only as exactly itself,
// never as an issuer of others.
func SelfSigned(l Leaf, k crypto.Signer, now time.Time) (*x509.Certificate, error) {
	tmpl, err := leafTemplate(l, now)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.KeyUsage |= x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, fmt.Errorf("pki: self-sign %s: %w", l.Name, err)
	}
	return x509.ParseCertificate(der)
}

// NewRequest makes a PEM certificate request (PKCS #10) for a node's key,
// to be signed by the alliance CA.
func NewRequest(s Subject, dns []string, ips []net.IP, k crypto.Signer) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: s.pkix(), DNSNames: dns, IPAddresses: ips,
	}, k)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemRequest, Bytes: der}), nil
}

// SignRequest checks a PEM certificate request's self-signature and issues a
// certificate for it with the requested subject and names.
func (ca *CA) SignRequest(csrPEM []byte, notAfter, now time.Time) (*x509.Certificate, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != pemRequest {
		return nil, errors.New("pki: no PEM \"CERTIFICATE REQUEST\" block")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	s := Subject{Name: req.Subject.CommonName}
	if len(req.Subject.Country) > 0 {
		s.Country = req.Subject.Country[0]
	}
	if len(req.Subject.Organization) > 0 {
		s.Org = req.Subject.Organization[0]
	}
	if s.Name == "" {
		return nil, errors.New("pki: certificate request has no common name")
	}
	return ca.Issue(Leaf{Subject: s, DNSNames: req.DNSNames, IPs: req.IPAddresses, NotAfter: notAfter}, req.PublicKey, now)
}

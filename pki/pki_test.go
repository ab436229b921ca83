package pki_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tearline/tearline/pki"
)

// testNow is a whole second: X.509 times have second precision, so times the
// tests compare survive the round trip through DER.
func testNow() time.Time { return time.Now().UTC().Truncate(time.Second) }

func mustCA(t testing.TB, name string, validFor time.Duration, now time.Time) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA(pki.Subject{Name: name, Country: "ZZZ", Org: "Alliance"}, validFor, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustMarshalKey(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	b, err := pki.MarshalKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustIssue(t testing.TB, ca *pki.CA, l pki.Leaf, pub crypto.PublicKey, now time.Time) *x509.Certificate {
	t.Helper()
	c, err := ca.Issue(l, pub, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

// verify checks c against roots at now for usage, as node's trust code and
// a TLS client do.
func verify(c *x509.Certificate, roots *x509.CertPool, now time.Time, usage x509.ExtKeyUsage, inter ...*x509.Certificate) error {
	_, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool(inter...), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func wantErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want an error", what)
	} else if err.Error() == "" {
		t.Errorf("%s: empty error message", what)
	}
}

// corruptBase64 damages a PEM block's body while keeping its BEGIN and END
// lines intact.
func corruptBase64(p []byte) []byte {
	lines := bytes.Split(p, []byte("\n"))
	lines[2] = append([]byte("!!!!"), lines[2]...)
	return bytes.Join(lines, []byte("\n"))
}

// --- keys ---

func TestKeyRoundTrip(t *testing.T) {
	k := mustKey(t)
	if k.Curve != elliptic.P256() {
		t.Fatalf("GenerateKey curve %s, want P-256", k.Curve.Params().Name)
	}
	p := mustMarshalKey(t, k)
	if b, _ := pem.Decode(p); b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("MarshalKey wrote %q, want a PRIVATE KEY block", p)
	}
	got, err := pki.ParseKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey.Equal(got.Public()) {
		t.Fatal("ParseKey(MarshalKey(k)) is another key")
	}
	digest := sha256.Sum256([]byte("tearline"))
	sig, err := got.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(&k.PublicKey, digest[:], sig) {
		t.Fatal("the parsed key's signature does not verify with the original public key")
	}
	if k2 := mustKey(t); k2.Equal(k) {
		t.Fatal("GenerateKey returned the same key twice")
	}
}

func TestParseKeyAcceptsEd25519AndRSA(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []crypto.Signer{ed, rk} {
		got, err := pki.ParseKey(mustMarshalKey(t, k))
		if err != nil {
			t.Fatalf("%T: %v", k, err)
		}
		if !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
			t.Fatalf("%T: round trip changed the key", k)
		}
	}
}

func TestParseKeyRefuses(t *testing.T) {
	k := mustKey(t)
	good := mustMarshalKey(t, k)
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	xk, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := x509.MarshalPKCS8PrivateKey(xk)
	if err != nil {
		t.Fatal(err)
	}
	ca := mustCA(t, "ca", time.Hour, testNow())
	der, _ := pem.Decode(good)
	cases := map[string][]byte{
		"nil":                       nil,
		"empty":                     {},
		"whitespace":                []byte(" \n\t\n"),
		"garbage":                   []byte("this is not a key"),
		"raw DER, no PEM":           der.Bytes,
		"truncated PEM":             good[:len(good)/2],
		"no END line":               bytes.TrimSuffix(bytes.TrimSpace(good), []byte("-----END PRIVATE KEY-----")),
		"damaged base64":            corruptBase64(good),
		"SEC1 EC PRIVATE KEY block": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"SEC1 DER as PRIVATE KEY":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: sec1}),
		"certificate":               pki.MarshalCert(ca.Cert),
		"certificate before key":    append(pki.MarshalCert(ca.Cert), good...),
		"garbage DER":               pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}),
		"empty block":               pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY"}),
		"X25519 cannot sign":        pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: x25519}),
		"truncated DER":             pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der.Bytes[:len(der.Bytes)-3]}),
	}
	for name, in := range cases {
		got, err := pki.ParseKey(in)
		wantErr(t, name, err)
		if got != nil {
			t.Errorf("%s: returned a key with the error", name)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "pki: ") {
			t.Errorf("%s: error %q does not say where it comes from", name, err)
		}
	}
}

// --- certificates ---

func TestCertRoundTrip(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	leaf := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "node-a"}, NotAfter: now.Add(time.Minute)}, mustKey(t).Public(), now)

	bundle := pki.MarshalCert(leaf, ca.Cert)
	if n := bytes.Count(bundle, []byte("-----BEGIN CERTIFICATE-----")); n != 2 {
		t.Fatalf("MarshalCert of two certificates wrote %d blocks", n)
	}
	cs, err := pki.ParseCerts(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || !cs[0].Equal(leaf) || !cs[1].Equal(ca.Cert) {
		t.Fatalf("ParseCerts(MarshalCert(leaf, ca)) = %d certificates, not leaf and CA in order", len(cs))
	}
	if !bytes.Equal(pki.MarshalCert(cs...), bundle) {
		t.Fatal("MarshalCert(ParseCerts(b)) != b")
	}
	c, err := pki.ParseCert(pki.MarshalCert(leaf))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Equal(leaf) {
		t.Fatal("ParseCert(MarshalCert(leaf)) is another certificate")
	}
	// CRLF line ends (a file edited on Windows) and surrounding blank lines
	// are still the same certificate.
	crlf := append([]byte("\r\n\n"), bytes.ReplaceAll(pki.MarshalCert(leaf), []byte("\n"), []byte("\r\n"))...)
	if c, err := pki.ParseCert(append(crlf, "\n\n"...)); err != nil || !c.Equal(leaf) {
		t.Fatalf("CRLF PEM: %v", err)
	}
	if len(pki.MarshalCert()) != 0 {
		t.Fatal("MarshalCert() of nothing is not empty")
	}
}

func TestParseCertsRefuses(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	other := mustCA(t, "other", time.Hour, now)
	good, second := pki.MarshalCert(ca.Cert), pki.MarshalCert(other.Cert)
	key := mustMarshalKey(t, ca.Key)
	csr, err := pki.NewRequest(pki.Subject{Name: "node-a"}, nil, nil, mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	truncated := append(append([]byte{}, good[:len(good)/2]...), '\n')
	cases := map[string][]byte{
		"nil":                               nil,
		"empty":                             {},
		"whitespace":                        []byte("\n \t\r\n"),
		"garbage":                           []byte("-----BEGIN nonsense"),
		"raw DER, no PEM":                   ca.Cert.Raw,
		"truncated":                         good[:len(good)-20],
		"private key":                       key,
		"certificate request":               csr,
		"certificate then key":              cat(good, key),
		"key then certificate":              cat(key, good),
		"trailing garbage":                  cat(good, []byte("trailing")),
		"trailing truncated block":          cat(good, truncated),
		"garbage DER":                       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}),
		"truncated DER":                     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw[:len(ca.Cert.Raw)-1]}),
		"empty block":                       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE"}),
		"DER with trailing bytes":           pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(append([]byte{}, ca.Cert.Raw...), 0)}),
		"lowercase type":                    pem.EncodeToMemory(&pem.Block{Type: "certificate", Bytes: ca.Cert.Raw}),
		"X509 CERTIFICATE type":             pem.EncodeToMemory(&pem.Block{Type: "X509 CERTIFICATE", Bytes: ca.Cert.Raw}),
		"truncated block between good ones": cat(good, truncated, second),
		"truncated block first":             cat(truncated, second),
		"damaged block between good ones":   cat(good, corruptBase64(good), second),
		"damaged block first":               cat(corruptBase64(good), second),
		"damaged key between certificates":  cat(good, corruptBase64(key), second),
	}
	for name, in := range cases {
		cs, err := pki.ParseCerts(in)
		wantErr(t, name, err)
		if cs != nil {
			t.Errorf("%s: returned %d certificates with the error", name, len(cs))
		}
		if _, err := pki.ParseCert(in); err == nil {
			t.Errorf("%s: ParseCert accepted it", name)
		}
	}
}

func TestParseCertWantsExactlyOne(t *testing.T) {
	now := testNow()
	a, b := mustCA(t, "a", time.Hour, now), mustCA(t, "b", time.Hour, now)
	for _, in := range [][]byte{pki.MarshalCert(a.Cert, b.Cert), pki.MarshalCert(a.Cert, a.Cert)} {
		if _, err := pki.ParseCerts(in); err != nil {
			t.Fatalf("ParseCerts of a bundle: %v", err)
		}
		c, err := pki.ParseCert(in)
		if err == nil || c != nil {
			t.Errorf("ParseCert of two certificates = %v, %v; want an error", c, err)
		} else if !strings.Contains(err.Error(), "2 certificates") {
			t.Errorf("ParseCert of two certificates: error %q does not say how many", err)
		}
	}
}

// --- fingerprints and serials ---

func TestFingerprint(t *testing.T) {
	now := testNow()
	a, b := mustCA(t, "a", time.Hour, now), mustCA(t, "b", time.Hour, now)
	sum := sha256.Sum256(a.Cert.Raw)
	want := "sha256:" + hex.EncodeToString(sum[:])
	if got := pki.Fingerprint(a.Cert); got != want {
		t.Fatalf("Fingerprint = %q, want %q", got, want)
	}
	if !strings.HasPrefix(want, pki.FingerprintPrefix) {
		t.Fatalf("FingerprintPrefix %q is not the fingerprint's prefix", pki.FingerprintPrefix)
	}
	reparsed, err := pki.ParseCert(pki.MarshalCert(a.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if pki.Fingerprint(reparsed) != want {
		t.Fatal("the fingerprint changed over a PEM round trip")
	}
	if pki.Fingerprint(b.Cert) == want {
		t.Fatal("two certificates have the same fingerprint")
	}
	if !pki.IsFingerprint(want) || !pki.IsFingerprint(pki.Fingerprint(b.Cert)) {
		t.Fatal("IsFingerprint refuses what Fingerprint writes")
	}
	hex64 := want[len("sha256:"):]
	for _, bad := range []string{
		"", "sha256:", hex64, "sha256:" + hex64[:63], "sha256:" + hex64 + "0",
		"SHA256:" + hex64, "sha256:" + strings.ToUpper(hex64), "sha1:" + hex64[:40],
		"sha256:" + hex64[:63] + "g", "sha256: " + hex64[1:], " " + want, want + " ",
		want + "\n", "\n" + want, "sha256:" + hex64 + "\nsha256:" + hex64, "sha256-" + hex64,
		"sha256:" + strings.Repeat("０", 64), want + "\x00",
	} {
		if pki.IsFingerprint(bad) {
			t.Errorf("IsFingerprint(%q) = true", bad)
		}
	}
}

func TestSerials(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	seen := map[string]bool{}
	for i := range 20 {
		c := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(time.Hour)}, mustKey(t).Public(), now)
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.Cmp(limit) >= 0 {
			t.Fatalf("serial %s is not in (0, 2^127)", c.SerialNumber)
		}
		s := pki.SerialHex(c)
		if s != c.SerialNumber.Text(16) || s != strings.ToLower(s) {
			t.Fatalf("SerialHex = %q, want lowercase hex of %s", s, c.SerialNumber)
		}
		if seen[s] {
			t.Fatalf("serial %s issued twice (after %d)", s, i)
		}
		seen[s] = true
	}
}

// --- CA and issuing ---

func TestNewCA(t *testing.T) {
	now := testNow()
	ca, err := pki.NewCA(pki.Subject{Name: "Alliance CA", Country: "ZZZ", Org: "Alliance"}, 48*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	switch {
	case !c.IsCA || !c.BasicConstraintsValid:
		t.Error("NewCA: not a CA certificate")
	case c.MaxPathLen != 0 || !c.MaxPathLenZero:
		t.Errorf("NewCA: path length %d (zero %v), want 0", c.MaxPathLen, c.MaxPathLenZero)
	case c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign:
		t.Errorf("NewCA: key usage %b", c.KeyUsage)
	case !c.NotBefore.Equal(now.Add(-time.Minute)) || !c.NotAfter.Equal(now.Add(48*time.Hour)):
		t.Errorf("NewCA: valid %s to %s, want a minute before %s for 48h", c.NotBefore, c.NotAfter, now)
	case c.Subject.CommonName != "Alliance CA" || !slices.Equal(c.Subject.Country, []string{"ZZZ"}) ||
		!slices.Equal(c.Subject.Organization, []string{"Alliance"}):
		t.Errorf("NewCA: subject %s", c.Subject)
	case !bytes.Equal(c.RawIssuer, c.RawSubject):
		t.Error("NewCA: not self-issued")
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("NewCA: not self-signed: %v", err)
	}
	if !ca.Key.Public().(*ecdsa.PublicKey).Equal(c.PublicKey) {
		t.Error("NewCA: the key is not the certificate's")
	}
	// Empty country and organisation are left out, not written empty.
	bare, err := pki.NewCA(pki.Subject{Name: "bare"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(bare.Cert.Subject.Country) != 0 || len(bare.Cert.Subject.Organization) != 0 {
		t.Errorf("NewCA with no country or org: subject %s", bare.Cert.Subject)
	}
	if bare.Cert.PublicKey.(*ecdsa.PublicKey).Equal(c.PublicKey) || bare.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two CAs share a key or a serial")
	}
}

// The CA may issue only end-entity certificates: an intermediate made with
// its key (which Issue cannot make, so it is made here by hand) does not
// give a chain a verifier accepts.
func TestNewCAIsPathLenZero(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	ik := mustKey(t)
	itmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "intermediate"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	ider, err := x509.CreateCertificate(rand.Reader, itmpl, ca.Cert, ik.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := x509.ParseCertificate(ider)
	if err != nil {
		t.Fatal(err)
	}
	sub := &pki.CA{Cert: inter, Key: ik}
	leaf := mustIssue(t, sub, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(time.Hour)}, mustKey(t).Public(), now)
	// The leaf is sound below the intermediate...
	if err := verify(leaf, pool(inter), now, x509.ExtKeyUsageClientAuth); err != nil {
		t.Fatalf("the leaf does not verify against its issuer: %v", err)
	}
	// ...but the CA's path length forbids the intermediate.
	err = verify(leaf, pool(ca.Cert), now, x509.ExtKeyUsageClientAuth, inter)
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.TooManyIntermediates {
		t.Fatalf("chain through an intermediate under a path-length-0 CA: %v, want TooManyIntermediates", err)
	}
}

func TestIssueVerifies(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", 30*24*time.Hour, now)
	k := mustKey(t)
	dns, ips := pki.DefaultHosts("node-a")
	d, i := pki.SplitHosts([]string{"node-a.example.org", "192.0.2.7", "2001:db8::7"})
	leaf := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "node-a", Country: "ZZZ", Org: "Agency"},
		DNSNames: append(dns, d...), IPs: append(ips, i...), NotAfter: now.Add(24 * time.Hour)}, k.Public(), now)

	switch {
	case leaf.IsCA || !leaf.BasicConstraintsValid:
		t.Error("leaf: may act as a CA")
	case leaf.KeyUsage != x509.KeyUsageDigitalSignature:
		t.Errorf("leaf: key usage %b, want digital signature only", leaf.KeyUsage)
	case !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) ||
		len(leaf.UnknownExtKeyUsage) != 0:
		t.Errorf("leaf: extended key usage %v %v, want server and client auth", leaf.ExtKeyUsage, leaf.UnknownExtKeyUsage)
	case !leaf.NotBefore.Equal(now.Add(-time.Minute)) || !leaf.NotAfter.Equal(now.Add(24*time.Hour)):
		t.Errorf("leaf: valid %s to %s", leaf.NotBefore, leaf.NotAfter)
	case leaf.Subject.CommonName != "node-a" || !slices.Equal(leaf.Subject.Country, []string{"ZZZ"}) ||
		!slices.Equal(leaf.Subject.Organization, []string{"Agency"}):
		t.Errorf("leaf: subject %s", leaf.Subject)
	case !bytes.Equal(leaf.RawIssuer, ca.Cert.RawSubject):
		t.Error("leaf: issuer is not the CA")
	case !k.PublicKey.Equal(leaf.PublicKey):
		t.Error("leaf: certifies another key")
	case !slices.Equal(leaf.DNSNames, []string{"localhost", "node-a", "node-a.example.org"}):
		t.Errorf("leaf: DNS names %v", leaf.DNSNames)
	}
	roots := pool(ca.Cert)
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if err := verify(leaf, roots, now, u); err != nil {
			t.Errorf("leaf for usage %v: %v", u, err)
		}
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageTimeStamping} {
		if err := verify(leaf, roots, now, u); err == nil {
			t.Errorf("leaf verifies for usage %v, which it was not issued for", u)
		}
	}
	for _, h := range []string{"localhost", "node-a", "node-a.example.org", "127.0.0.1", "::1", "192.0.2.7", "2001:db8::7"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, DNSName: h}); err != nil {
			t.Errorf("leaf for host %s: %v", h, err)
		}
	}
	for _, h := range []string{"node-b", "example.org", "evil.node-a", "10.0.0.1", "127.0.0.2"} {
		if err := leaf.VerifyHostname(h); err == nil {
			t.Errorf("leaf verifies for host %s, which it does not name", h)
		}
	}
}

func TestIssueCapsValidityToCA(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	leaf := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(365 * 24 * time.Hour)}, mustKey(t).Public(), now)
	if !leaf.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("leaf valid to %s, beyond its CA (%s)", leaf.NotAfter, ca.Cert.NotAfter)
	}
}

func TestIssueRefusesBadValidity(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	pub := mustKey(t).Public()
	for name, l := range map[string]pki.Leaf{
		"no not_after":                 {},
		"not_after before now":         {NotAfter: now.Add(-time.Hour)},
		"not_after equal not_before":   {NotBefore: now, NotAfter: now},
		"not_after before not_before":  {NotBefore: now, NotAfter: now.Add(-time.Second)},
		"not_before after the CA ends": {NotBefore: now.Add(2 * time.Hour), NotAfter: now.Add(3 * time.Hour)},
	} {
		l.Name = "n"
		c, err := ca.Issue(l, pub, now)
		wantErr(t, name, err)
		if c != nil {
			t.Errorf("%s: issued a certificate valid %s to %s", name, c.NotBefore, c.NotAfter)
		}
	}
}

// An expired CA (one loaded from files, say) must not issue: the certificate
// it would make ends before it begins.
func TestExpiredCARefusesToIssue(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "old", time.Hour, now.Add(-48*time.Hour))
	loaded, err := pki.LoadCA(pki.MarshalCert(ca.Cert), mustMarshalKey(t, ca.Key))
	if err != nil {
		t.Fatal(err)
	}
	c, err := loaded.Issue(pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(time.Hour)}, mustKey(t).Public(), now)
	if err == nil {
		t.Fatalf("an expired CA issued a certificate valid %s to %s", c.NotBefore, c.NotAfter)
	}
	csr, err := pki.NewRequest(pki.Subject{Name: "n"}, nil, nil, mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := loaded.SignRequest(csr, now.Add(time.Hour), now); err == nil {
		t.Fatalf("an expired CA signed a request: valid %s to %s", c.NotBefore, c.NotAfter)
	}
}

func TestForeignLeafRefused(t *testing.T) {
	now := testNow()
	ours := mustCA(t, "Alliance CA", time.Hour, now)
	// The attacker's CA carries the very same subject as ours.
	theirs := mustCA(t, "Alliance CA", time.Hour, now)
	if !bytes.Equal(ours.Cert.RawSubject, theirs.Cert.RawSubject) {
		t.Fatal("test set-up: the two CAs' subjects differ")
	}
	l := pki.Leaf{Subject: pki.Subject{Name: "node-a"}, NotAfter: now.Add(time.Hour)}
	good := mustIssue(t, ours, l, mustKey(t).Public(), now)
	forged := mustIssue(t, theirs, l, mustKey(t).Public(), now)
	if err := verify(good, pool(ours.Cert), now, x509.ExtKeyUsageClientAuth); err != nil {
		t.Fatalf("our own leaf: %v", err)
	}
	if err := verify(forged, pool(ours.Cert), now, x509.ExtKeyUsageClientAuth); err == nil {
		t.Fatal("a leaf of another CA with our CA's name verifies against our CA")
	}
	if err := verify(forged, pool(ours.Cert), now, x509.ExtKeyUsageClientAuth, theirs.Cert); err == nil {
		t.Fatal("a leaf of another CA verifies when that CA is sent along as an intermediate")
	}
}

// A leaf's key cannot issue further certificates that chain to the CA.
func TestLeafCannotIssue(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	k := mustKey(t)
	leaf := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "node-a"}, NotAfter: now.Add(time.Hour)}, k.Public(), now)
	asCA := &pki.CA{Cert: leaf, Key: k}
	sub := mustIssue(t, asCA, pki.Leaf{Subject: pki.Subject{Name: "mallory"}, NotAfter: now.Add(time.Hour)}, mustKey(t).Public(), now)
	if err := sub.CheckSignatureFrom(leaf); err == nil {
		t.Fatal("CheckSignatureFrom accepts a leaf as issuer")
	}
	if err := verify(sub, pool(ca.Cert), now, x509.ExtKeyUsageClientAuth, leaf); err == nil {
		t.Fatal("a certificate issued by a leaf verifies against the CA")
	}
	if _, err := pki.LoadCA(pki.MarshalCert(leaf), mustMarshalKey(t, k)); err == nil {
		t.Fatal("LoadCA accepts a leaf and its key as a CA")
	}
}

func TestValidityWindow(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", 30*24*time.Hour, now.Add(-10*24*time.Hour))
	roots := pool(ca.Cert)
	// Issued in the past, expired a day ago.
	then := now.Add(-3 * 24 * time.Hour)
	expired := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(-24 * time.Hour)}, mustKey(t).Public(), then)
	if !expired.NotBefore.Equal(then.Add(-time.Minute)) {
		t.Fatalf("not_before %s, want a minute before %s", expired.NotBefore, then)
	}
	if err := verify(expired, roots, then.Add(time.Hour), x509.ExtKeyUsageClientAuth); err != nil {
		t.Fatalf("while it was valid: %v", err)
	}
	err := verify(expired, roots, now, x509.ExtKeyUsageClientAuth)
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("expired leaf: %v, want Expired", err)
	}
	// Not yet valid.
	future := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotBefore: now.Add(time.Hour), NotAfter: now.Add(2 * time.Hour)}, mustKey(t).Public(), now)
	if err := verify(future, roots, now, x509.ExtKeyUsageClientAuth); !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("leaf not yet valid: %v, want Expired (outside validity)", err)
	}
	if err := verify(future, roots, now.Add(90*time.Minute), x509.ExtKeyUsageClientAuth); err != nil {
		t.Fatalf("leaf within its validity: %v", err)
	}
}

func TestHosts(t *testing.T) {
	dns, ips := pki.DefaultHosts("node-a")
	if !slices.Equal(dns, []string{"localhost", "node-a"}) {
		t.Errorf("DefaultHosts DNS %v", dns)
	}
	if len(ips) != 2 || !ips[0].Equal(net.IPv4(127, 0, 0, 1)) || !ips[1].Equal(net.IPv6loopback) {
		t.Errorf("DefaultHosts IPs %v", ips)
	}
	dns, ips = pki.SplitHosts([]string{" node.example.org ", "", "  ", "10.1.2.3", "2001:db8::1", "[::1]", "host:443", "192.0.2.1 "})
	if !slices.Equal(dns, []string{"node.example.org", "[::1]", "host:443"}) {
		t.Errorf("SplitHosts DNS %q", dns)
	}
	wantIPs := []net.IP{net.ParseIP("10.1.2.3"), net.ParseIP("2001:db8::1"), net.ParseIP("192.0.2.1")}
	if !slices.EqualFunc(ips, wantIPs, net.IP.Equal) {
		t.Errorf("SplitHosts IPs %v, want %v", ips, wantIPs)
	}
	if dns, ips := pki.SplitHosts(nil); dns != nil || ips != nil {
		t.Errorf("SplitHosts(nil) = %v, %v", dns, ips)
	}
}

func TestSelfSigned(t *testing.T) {
	now := testNow()
	k := mustKey(t)
	dns, ips := pki.DefaultHosts("node-a")
	c, err := pki.SelfSigned(pki.Leaf{Subject: pki.Subject{Name: "node-a", Country: "ZZZ"}, DNSNames: dns, IPs: ips, NotAfter: now.Add(time.Hour)}, k, now)
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 || c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Errorf("self-signed: CA %v, key usage %b", c.IsCA, c.KeyUsage)
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if err := verify(c, pool(c), now, u); err != nil {
			t.Errorf("self-signed, pinned, for %v: %v", u, err)
		}
	}
	if err := c.VerifyHostname("node-a"); err != nil {
		t.Error(err)
	}
	if err := verify(c, pool(mustCA(t, "ca", time.Hour, now).Cert), now, x509.ExtKeyUsageClientAuth); err == nil {
		t.Error("a self-signed certificate verifies against a CA")
	}
	if _, err := pki.SelfSigned(pki.Leaf{Subject: pki.Subject{Name: "n"}}, k, now); err == nil {
		t.Error("SelfSigned with no not_after accepted")
	}
}

// --- LoadCA ---

func TestLoadCA(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	loaded, err := pki.LoadCA(pki.MarshalCert(ca.Cert), mustMarshalKey(t, ca.Key))
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Cert.Equal(ca.Cert) {
		t.Fatal("LoadCA returned another certificate")
	}
	leaf := mustIssue(t, loaded, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(time.Hour)}, mustKey(t).Public(), now)
	if err := verify(leaf, pool(ca.Cert), now, x509.ExtKeyUsageServerAuth); err != nil {
		t.Fatalf("a leaf of the loaded CA: %v", err)
	}
}

// selfSignedCA makes a self-signed certificate from tmpl by hand, for CA
// certificates NewCA would not make.
func selfSignedCA(t *testing.T, tmpl *x509.Certificate, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestLoadCARefuses(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	other := mustCA(t, "ca", time.Hour, now)
	certPEM, keyPEM := pki.MarshalCert(ca.Cert), mustMarshalKey(t, ca.Key)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	lk := mustKey(t)
	leaf := mustIssue(t, ca, pki.Leaf{Subject: pki.Subject{Name: "n"}, NotAfter: now.Add(time.Hour)}, lk.Public(), now)
	k := mustKey(t)
	base := func() *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "fake"},
			NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), BasicConstraintsValid: true}
	}
	caNoCertSign := base()
	caNoCertSign.IsCA, caNoCertSign.KeyUsage = true, x509.KeyUsageDigitalSignature|x509.KeyUsageCRLSign
	certSignNoCA := base()
	certSignNoCA.KeyUsage = x509.KeyUsageCertSign
	kPEM := mustMarshalKey(t, k)

	cases := map[string][2][]byte{
		"another CA's key":             {certPEM, mustMarshalKey(t, other.Key)},
		"an Ed25519 key":               {certPEM, mustMarshalKey(t, ed)},
		"a leaf and its key":           {pki.MarshalCert(leaf), mustMarshalKey(t, lk)},
		"CA but no certSign usage":     {selfSignedCA(t, caNoCertSign, k), kPEM},
		"certSign but not a CA":        {selfSignedCA(t, certSignNoCA, k), kPEM},
		"two certificates":             {pki.MarshalCert(ca.Cert, other.Cert), keyPEM},
		"key where the cert should be": {keyPEM, keyPEM},
		"cert where the key should be": {certPEM, certPEM},
		"empty certificate":            {nil, keyPEM},
		"empty key":                    {certPEM, nil},
		"garbage key":                  {certPEM, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")},
	}
	for name, in := range cases {
		got, err := pki.LoadCA(in[0], in[1])
		wantErr(t, name, err)
		if got != nil {
			t.Errorf("%s: returned a CA with the error", name)
		}
	}
}

// --- certificate requests ---

func TestSignRequest(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", 30*24*time.Hour, now)
	k := mustKey(t)
	dns, ips := pki.DefaultHosts("node-a")
	dns = append(dns, "node-a.example.org")
	ips = append(ips, net.ParseIP("192.0.2.9"))
	csr, err := pki.NewRequest(pki.Subject{Name: "node-a", Country: "ZZZ", Org: "Agency"}, dns, ips, k)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(csr); b == nil || b.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("NewRequest wrote %q", csr)
	}
	notAfter := now.Add(7 * 24 * time.Hour)
	c, err := ca.SignRequest(csr, notAfter, now)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !k.PublicKey.Equal(c.PublicKey):
		t.Error("signed: another key")
	case c.Subject.CommonName != "node-a" || !slices.Equal(c.Subject.Country, []string{"ZZZ"}) || !slices.Equal(c.Subject.Organization, []string{"Agency"}):
		t.Errorf("signed: subject %s", c.Subject)
	case !slices.Equal(c.DNSNames, dns):
		t.Errorf("signed: DNS names %v, want %v", c.DNSNames, dns)
	case !slices.EqualFunc(c.IPAddresses, ips, net.IP.Equal):
		t.Errorf("signed: IPs %v, want %v", c.IPAddresses, ips)
	case !c.NotAfter.Equal(notAfter) || !c.NotBefore.Equal(now.Add(-time.Minute)):
		t.Errorf("signed: valid %s to %s", c.NotBefore, c.NotAfter)
	case c.IsCA:
		t.Error("signed: a CA")
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool(ca.Cert), CurrentTime: now, DNSName: "node-a.example.org",
			KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			t.Errorf("signed, for %v: %v", u, err)
		}
	}
	// The caller's validity is capped to the CA's, whatever it asks.
	c, err = ca.SignRequest(csr, now.Add(10*365*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if !c.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("signed: valid to %s, beyond the CA (%s)", c.NotAfter, ca.Cert.NotAfter)
	}
}

func TestSignRequestRefuses(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", time.Hour, now)
	k := mustKey(t)
	csr, err := pki.NewRequest(pki.Subject{Name: "node-a", Country: "ZZZ"}, []string{"node-a"}, nil, k)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(csr)
	der := block.Bytes
	reenc := func(b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: b}) }

	// The signature is the last field: flipping its last byte keeps the DER
	// well formed but breaks the signature.
	badSig := bytes.Clone(der)
	badSig[len(badSig)-1] ^= 0x01
	// Renaming the node after signing.
	renamed := bytes.Replace(der, []byte("node-a"), []byte("node-b"), -1)
	if bytes.Equal(renamed, der) {
		t.Fatal("test set-up: the name is not in the request's DER")
	}
	noCN, err := pki.NewRequest(pki.Subject{Org: "Agency"}, []string{"node-a"}, nil, k)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"nil":                          nil,
		"garbage":                      []byte("not a request"),
		"truncated PEM":                csr[:len(csr)/2],
		"truncated DER":                reenc(der[:len(der)-4]),
		"garbage DER":                  reenc([]byte("not DER")),
		"certificate":                  pki.MarshalCert(ca.Cert),
		"key":                          mustMarshalKey(t, k),
		"request as CERTIFICATE":       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tampered signature":           reenc(badSig),
		"subject changed after":        reenc(renamed),
		"no common name":               noCN,
		"NEW CERTIFICATE REQUEST type": pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: der}),
	}
	for name, in := range cases {
		c, err := ca.SignRequest(in, now.Add(time.Hour), now)
		wantErr(t, name, err)
		if c != nil {
			t.Errorf("%s: signed a certificate for %s", name, c.Subject)
		}
	}
	// The untouched request is accepted, so the refusals above are about
	// what was changed.
	if _, err := ca.SignRequest(csr, now.Add(time.Hour), now); err != nil {
		t.Fatalf("the untouched request: %v", err)
	}
}

// A request asks; the CA decides. Whatever extensions a request carries, the
// certificate is an end-entity TLS certificate with the caller's validity.
func TestSignRequestIgnoresRequestedExtensions(t *testing.T) {
	now := testNow()
	ca := mustCA(t, "ca", 30*24*time.Hour, now)
	k := mustKey(t)
	mustASN1 := func(v any) []byte {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bc := mustASN1(struct {
		IsCA       bool
		MaxPathLen int
	}{true, 5})
	ku := mustASN1(asn1.BitString{Bytes: []byte{0x86}, BitLength: 7}) // digitalSignature, keyCertSign, cRLSign
	eku := mustASN1([]asn1.ObjectIdentifier{{2, 5, 29, 37, 0}, {1, 3, 6, 1, 5, 5, 7, 3, 3}})
	validity := mustASN1(struct{ NotBefore, NotAfter time.Time }{now.Add(-365 * 24 * time.Hour), now.Add(100 * 365 * 24 * time.Hour)})
	nc := mustASN1(struct {
		Permitted []struct {
			Base asn1.RawValue
		} `asn1:"optional,tag:0"`
	}{[]struct{ Base asn1.RawValue }{{asn1.RawValue{Class: 2, Tag: 2, Bytes: []byte("evil.example")}}}})
	foreign := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	u, _ := url.Parse("spiffe://alliance/admin")
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "node-a", Country: []string{"ZZZ", "YYY"}, Organization: []string{"Agency", "Other"},
			OrganizationalUnit: []string{"admins"}, SerialNumber: "1"},
		DNSNames: []string{"node-a"}, EmailAddresses: []string{"root@example.org"}, URIs: []*url.URL{u},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: ku},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: eku},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 30}, Critical: true, Value: nc},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 16}, Value: validity}, // privateKeyUsagePeriod
			{Id: foreign, Critical: true, Value: []byte{0x05, 0x00}},
		},
	}, k)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Extensions) < 6 {
		t.Fatalf("test set-up: the request carries %d extensions", len(req.Extensions))
	}
	notAfter := now.Add(24 * time.Hour)
	c, err := ca.SignRequest(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), notAfter, now)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.IsCA || c.MaxPathLen > 0:
		t.Errorf("the request made itself a CA (path length %d)", c.MaxPathLen)
	case c.KeyUsage != x509.KeyUsageDigitalSignature:
		t.Errorf("key usage %b from the request", c.KeyUsage)
	case !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) || len(c.UnknownExtKeyUsage) != 0:
		t.Errorf("extended key usage %v %v from the request", c.ExtKeyUsage, c.UnknownExtKeyUsage)
	case len(c.URIs) != 0 || len(c.EmailAddresses) != 0:
		t.Errorf("names from the request: URIs %v, emails %v", c.URIs, c.EmailAddresses)
	case len(c.PermittedDNSDomains) != 0 || c.PermittedDNSDomainsCritical:
		t.Errorf("name constraints from the request: %v", c.PermittedDNSDomains)
	case !c.NotBefore.Equal(now.Add(-time.Minute)) || !c.NotAfter.Equal(notAfter):
		t.Errorf("valid %s to %s, want the caller's", c.NotBefore, c.NotAfter)
	// Of several countries or organisations (a multi-valued RDN, whose
	// order DER sets), the first the request holds is taken; the rest and
	// other attributes are dropped.
	case c.Subject.CommonName != "node-a" || !slices.Equal(c.Subject.Country, req.Subject.Country[:1]) ||
		!slices.Equal(c.Subject.Organization, req.Subject.Organization[:1]) || len(c.Subject.OrganizationalUnit) != 0 || c.Subject.SerialNumber != "":
		t.Errorf("subject %s", c.Subject)
	}
	allowed := map[string]bool{"2.5.29.15": true, "2.5.29.37": true, "2.5.29.19": true, "2.5.29.17": true, "2.5.29.35": true, "2.5.29.14": true}
	for _, e := range c.Extensions {
		if !allowed[e.Id.String()] {
			t.Errorf("extension %s copied from the request", e.Id)
		}
	}
	// The certificate cannot issue others that chain to the CA.
	sub := mustIssue(t, &pki.CA{Cert: c, Key: k}, pki.Leaf{Subject: pki.Subject{Name: "mallory"}, NotAfter: now.Add(time.Hour)}, mustKey(t).Public(), now)
	if err := verify(sub, pool(ca.Cert), now, x509.ExtKeyUsageClientAuth, c); err == nil {
		t.Error("a certificate issued by the signed request's key verifies against the CA")
	}
}

// --- fuzzing ---

var fuzzFixture = sync.OnceValues(func() (*pki.CA, error) {
	return pki.NewCA(pki.Subject{Name: "fuzz CA"}, 24*time.Hour, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
})

func FuzzParseCerts(f *testing.F) {
	ca, err := fuzzFixture()
	if err != nil {
		f.Fatal(err)
	}
	now := ca.Cert.NotBefore.Add(time.Hour)
	k := mustKey(f)
	leaf := mustIssue(f, ca, pki.Leaf{Subject: pki.Subject{Name: "n"}, DNSNames: []string{"n"}, NotAfter: now.Add(time.Hour)}, k.Public(), now)
	good := pki.MarshalCert(leaf, ca.Cert)
	for _, s := range [][]byte{good, pki.MarshalCert(leaf), good[:len(good)/2], mustMarshalKey(f, k), nil, []byte("junk"),
		append(pki.MarshalCert(leaf), "trailing"...), bytes.Join([][]byte{pki.MarshalCert(leaf), corruptBase64(good), pki.MarshalCert(ca.Cert)}, nil),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x80}})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cs, err := pki.ParseCerts(in)
		one, err1 := pki.ParseCert(in)
		if err != nil {
			if cs != nil || one != nil || err1 == nil {
				t.Fatalf("ParseCerts error %v with %d certificates; ParseCert %v", err, len(cs), err1)
			}
			return
		}
		if len(cs) == 0 {
			t.Fatal("ParseCerts accepted input with no certificate")
		}
		if (err1 == nil) != (len(cs) == 1) || (err1 == nil && !one.Equal(cs[0])) {
			t.Fatalf("ParseCert disagrees with ParseCerts (%d certificates): %v", len(cs), err1)
		}
		again, err := pki.ParseCerts(pki.MarshalCert(cs...))
		if err != nil {
			t.Fatalf("accepted certificates do not round-trip: %v", err)
		}
		if len(again) != len(cs) {
			t.Fatalf("round trip: %d certificates, was %d", len(again), len(cs))
		}
		for i := range cs {
			if !again[i].Equal(cs[i]) || pki.Fingerprint(again[i]) != pki.Fingerprint(cs[i]) || !pki.IsFingerprint(pki.Fingerprint(cs[i])) {
				t.Fatalf("round trip changed certificate %d", i)
			}
			_ = pki.SerialHex(cs[i])
		}
	})
}

func FuzzParseKey(f *testing.F) {
	k := mustKey(f)
	good := mustMarshalKey(f, k)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{good, mustMarshalKey(f, ed), good[:len(good)/2], corruptBase64(good), nil, []byte("junk"),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: sec1}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := pki.ParseKey(in)
		if err != nil {
			if s != nil {
				t.Fatalf("ParseKey returned a key with error %v", err)
			}
			return
		}
		out, err := pki.MarshalKey(s)
		if err != nil {
			t.Fatalf("accepted %T does not marshal: %v", s, err)
		}
		s2, err := pki.ParseKey(out)
		if err != nil {
			t.Fatalf("accepted %T does not round-trip: %v", s, err)
		}
		pub, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(s2.Public()) {
			t.Fatalf("round trip changed the %T key", s)
		}
	})
}

func FuzzSignRequest(f *testing.F) {
	ca, err := fuzzFixture()
	if err != nil {
		f.Fatal(err)
	}
	now := ca.Cert.NotBefore.Add(time.Hour)
	k := mustKey(f)
	dns, ips := pki.DefaultHosts("node-a")
	good, err := pki.NewRequest(pki.Subject{Name: "node-a", Country: "ZZZ", Org: "Agency"}, dns, ips, k)
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(good)
	bad := bytes.Clone(block.Bytes)
	bad[len(bad)-1] ^= 1
	for _, s := range [][]byte{good, good[:len(good)/2], corruptBase64(good), nil, []byte("junk"), pki.MarshalCert(ca.Cert),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: bad})} {
		f.Add(s)
	}
	notAfter := now.Add(24 * time.Hour)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ca.SignRequest(in, notAfter, now)
		if err != nil {
			if c != nil {
				t.Fatalf("SignRequest returned a certificate with error %v", err)
			}
			return
		}
		switch {
		case c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature:
			t.Fatalf("signed: CA %v, key usage %b", c.IsCA, c.KeyUsage)
		case !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}):
			t.Fatalf("signed: extended key usage %v", c.ExtKeyUsage)
		case c.NotAfter.After(notAfter) || c.NotAfter.After(ca.Cert.NotAfter) || !c.NotBefore.Equal(now.Add(-time.Minute)):
			t.Fatalf("signed: valid %s to %s", c.NotBefore, c.NotAfter)
		case c.Subject.CommonName == "":
			t.Fatal("signed: no common name")
		case len(c.URIs) != 0 || len(c.EmailAddresses) != 0:
			t.Fatal("signed: names beyond DNS and IP")
		}
		if err := c.CheckSignatureFrom(ca.Cert); err != nil {
			t.Fatalf("signed certificate does not check against the CA: %v", err)
		}
		if back, err := pki.ParseCert(pki.MarshalCert(c)); err != nil || !back.Equal(c) {
			t.Fatalf("signed certificate does not round-trip: %v", err)
		}
	})
}

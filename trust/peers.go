package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
)

// Federation files in a node's data directory (datadir names them). They
// are files, not database rows, so that an operator can read, diff and back
// them up, and so that every process serving the directory picks their
// changes up at its next handshake or delivery (Store).
const (
	PeersFile   = datadir.PeersFile
	TrustCAFile = datadir.TrustCAFile
	RevokedFile = datadir.RevokedFile
)

// ErrNoPeer is returned for a peer name that is not in peers.yaml.
var ErrNoPeer = errors.New("no such peer")

// Peer is a partner node: who it is and the TLS certificate it presents.
// Its Ed25519 signing keys live in keyring.yaml under the same name, where
// binding verification already looks for them; one file of keys keeps a
// key's validity and revocation in one place.
type Peer struct {
	Name    string `yaml:"name"`
	Country string `yaml:"country"`
	Org     string `yaml:"org,omitempty"`
	// Fingerprint is the SHA-256 of the certificate's DER ("sha256:hex"):
	// a client certificate names this peer only if it is exactly this one.
	Fingerprint string    `yaml:"cert_sha256"`
	CertPEM     string    `yaml:"cert"`
	Added       time.Time `yaml:"added"`
	// URL is where the peer serves (https://host:port): the outbox delivers
	// to URL + "/federation/v1/inbox" and pull reads its TAXII collections.
	// Empty: nothing is sent to it (releases wait in the outbox).
	URL string `yaml:"url,omitempty"`
	// LogKey is the note verifier key of the peer's audit log: this node
	// witnesses the log (cosigns its checkpoints, compares notes on it).
	LogKey string `yaml:"log_key,omitempty"`
	// WitnessKey is the cosignature/v1 verifier key of the peer as a
	// witness; Witness says this node asks it to cosign its own log.
	WitnessKey string `yaml:"witness_key,omitempty"`
	Witness    bool   `yaml:"witness,omitempty"`

	cert *x509.Certificate // parsed from CertPEM by LoadPeers
}

// Cert returns the peer's certificate.
func (p *Peer) Cert() *x509.Certificate { return p.cert }

// LoadPeers reads peers.yaml; a missing file is no peers.
func LoadPeers(dir string) ([]Peer, error) {
	b, err := os.ReadFile(datadir.Path(dir, PeersFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	return parsePeers(b)
}

func parsePeers(b []byte) ([]Peer, error) {
	var ps []Peer
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&ps); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("peers %s: %w", PeersFile, err)
	}
	seen := map[string]bool{}
	for i := range ps {
		p := &ps[i]
		if !datadir.ValidNodeName(p.Name) {
			return nil, fmt.Errorf("peers %s: entry %d: invalid name %q", PeersFile, i, p.Name)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("peers %s: %s listed twice", PeersFile, p.Name)
		}
		seen[p.Name] = true
		c, err := pki.ParseCert([]byte(p.CertPEM))
		if err != nil {
			return nil, fmt.Errorf("peers %s: %s: %w", PeersFile, p.Name, err)
		}
		// The fingerprint is what the handshake compares; it must be the
		// certificate's, or an edited file would name the wrong peer.
		if fp := pki.Fingerprint(c); fp != p.Fingerprint {
			return nil, fmt.Errorf("peers %s: %s: cert_sha256 %s does not match the certificate (%s)", PeersFile, p.Name, p.Fingerprint, fp)
		}
		p.cert = c
	}
	return ps, nil
}

func writePeers(dir string, ps []Peer) error {
	slices.SortFunc(ps, func(a, b Peer) int { return strings.Compare(a.Name, b.Name) })
	b, err := yaml.Marshal(ps)
	if err != nil {
		return fmt.Errorf("peers: %w", err)
	}
	header := "# Partner nodes (tearline peer add/remove). Their signing keys are in " + datadir.KeyringFile + ".\n"
	return datadir.AtomicWrite(datadir.Path(dir, PeersFile), append([]byte(header), b...), 0o600)
}

// PeerSpec is what `peer add` is told about a partner.
type PeerSpec struct {
	Name       string
	Country    string // default: the certificate's country
	Org        string // default: the certificate's organisation
	CertPEM    []byte
	SigningKey string // "ed25519:<base64>", as `tearline identity` prints it
	URL        string // where the peer serves, https://host:port; optional
	LogKey     string // its audit log's note verifier key: this node witnesses its log; optional
	WitnessKey string // its cosignature/v1 verifier key; optional
	Witness    bool   // ask it to cosign this node's log (needs URL and WitnessKey)
}

// AddPeer records a partner in the node in dir: its certificate in
// peers.yaml and its signing key in keyring.yaml, valid from now on (a key
// the keyring already holds for that node is left as it is, so a peer
// removed and added again keeps its keys' history).
//
// The certificate must name the peer (common name = node name, the name its
// bindings carry) and must be acceptable to this node's trust store now:
// issued by the alliance CA bundle, or self-signed (pinned).
func AddPeer(dir string, s PeerSpec, now time.Time) (Peer, error) {
	cfg, err := datadir.LoadConfig(datadir.Path(dir, datadir.ConfigFile))
	if err != nil {
		return Peer{}, err
	}
	c, err := pki.ParseCert(s.CertPEM)
	if err != nil {
		return Peer{}, fmt.Errorf("peer add: certificate: %w", err)
	}
	if s.Name == "" {
		s.Name = c.Subject.CommonName
	}
	switch {
	case !datadir.ValidNodeName(s.Name):
		return Peer{}, fmt.Errorf("peer add: invalid name %q", s.Name)
	case s.Name == cfg.Name:
		return Peer{}, fmt.Errorf("peer add: %s is this node", s.Name)
	case c.Subject.CommonName != s.Name:
		return Peer{}, fmt.Errorf("peer add: the certificate names %q, not %q", c.Subject.CommonName, s.Name)
	}
	if len(c.Subject.Country) > 0 {
		if s.Country != "" && !strings.EqualFold(s.Country, c.Subject.Country[0]) {
			return Peer{}, fmt.Errorf("peer add: --country %s, but the certificate says %s", s.Country, c.Subject.Country[0])
		}
		s.Country = c.Subject.Country[0]
	}
	s.Country = strings.ToUpper(s.Country)
	if !datadir.ValidCountry(s.Country) {
		return Peer{}, fmt.Errorf("peer add: country %q: want an ISO 3166 alpha-3 code", s.Country)
	}
	if s.Org == "" && len(c.Subject.Organization) > 0 {
		s.Org = c.Subject.Organization[0]
	}
	pub, err := binding.ParsePublicKey(s.SigningKey)
	if err != nil {
		return Peer{}, fmt.Errorf("peer add: signing key: %w", err)
	}

	peers, err := LoadPeers(dir)
	if err != nil {
		return Peer{}, err
	}
	if slices.ContainsFunc(peers, func(p Peer) bool { return p.Name == s.Name }) {
		return Peer{}, fmt.Errorf("peer add: %s is already a peer (remove it first to replace its certificate)", s.Name)
	}
	p := Peer{Name: s.Name, Country: s.Country, Org: s.Org, Fingerprint: pki.Fingerprint(c),
		CertPEM: string(pki.MarshalCert(c)), Added: now.UTC().Truncate(time.Second), URL: s.URL, cert: c}
	if err := checkPeerURL(p.URL); err != nil {
		return Peer{}, fmt.Errorf("peer add: %w", err)
	}
	if err := checkWitnessKeys(&p, s); err != nil {
		return Peer{}, fmt.Errorf("peer add: %w", err)
	}
	// Check against the trust store as it would be with the peer in it, so
	// that a certificate the handshake would refuse is refused here, with a
	// reason, instead of failing every connection later.
	t, err := loadTrust(dir, append(slices.Clone(peers), p))
	if err != nil {
		return Peer{}, err
	}
	if _, err := t.verifyChain(c, now); err != nil {
		return Peer{}, fmt.Errorf("peer add: %s's certificate: %w", s.Name, err)
	}

	entries, err := datadir.ReadKeyringEntries(dir)
	if err != nil {
		return Peer{}, err
	}
	id := binding.KeyIDOf(pub)
	known := false
	for _, e := range entries {
		epub, err := binding.ParsePublicKey(e.Public)
		if err == nil && binding.KeyIDOf(epub) == id {
			if e.Node != s.Name {
				return Peer{}, fmt.Errorf("peer add: signing key %s is already in the keyring for node %q", id, e.Node)
			}
			known = true
		}
	}
	if !known {
		entries = append(entries, datadir.KeyringEntry{Node: s.Name, Public: binding.MarshalPublicKey(pub)})
		if err := datadir.WriteKeyringEntries(dir, entries); err != nil {
			return Peer{}, err
		}
	}
	if err := writePeers(dir, append(peers, p)); err != nil {
		return Peer{}, err
	}
	return p, nil
}

// RemovePeer removes a partner from peers.yaml, so its certificate no longer
// names anyone and partner routes refuse it. Its signing keys stay in the
// keyring: data it sent before still verifies. Revoke a key (RevokeSigningKey)
// to refuse its later bindings.
func RemovePeer(dir, name string) error {
	peers, err := LoadPeers(dir)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(peers, func(p Peer) bool { return p.Name == name })
	if i < 0 {
		return fmt.Errorf("peer remove %s: %w", name, ErrNoPeer)
	}
	return writePeers(dir, slices.Delete(peers, i, i+1))
}

// checkPeerURL accepts "" or an https URL with a host and nothing after it
// but an optional path prefix.
func checkPeerURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("peer url %q: want https://host[:port]", s)
	}
	return nil
}

// CheckPeerURL checks a partner URL as peers.yaml accepts it:
// https://host[:port], optionally with a path prefix.
func CheckPeerURL(s string) error { return checkPeerURL(s) }

// SetPeerURL records where peer name serves.
func SetPeerURL(dir, name, u string) error {
	if err := checkPeerURL(u); err != nil {
		return err
	}
	peers, err := LoadPeers(dir)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(peers, func(p Peer) bool { return p.Name == name })
	if i < 0 {
		return fmt.Errorf("peer %s: %w", name, ErrNoPeer)
	}
	peers[i].URL = u
	return writePeers(dir, peers)
}

// checkWitnessKeys checks and records the witnessing keys of spec in p:
// the log key must name the peer's log ("<name>/audit") and the witness key
// must be a cosignature/v1 key.
func checkWitnessKeys(p *Peer, s PeerSpec) error {
	if s.LogKey != "" {
		v, err := note.NewVerifier(s.LogKey)
		if err != nil {
			return fmt.Errorf("log key: %w", err)
		}
		if v.Name() != s.Name+"/audit" {
			return fmt.Errorf("log key names %q, not %s's log %q", v.Name(), s.Name, s.Name+"/audit")
		}
	}
	if s.WitnessKey != "" {
		if _, err := fnote.NewVerifierForCosignatureV1(s.WitnessKey); err != nil {
			return fmt.Errorf("witness key (want a cosignature/v1 key): %w", err)
		}
	}
	if s.Witness && (s.WitnessKey == "" || s.URL == "") {
		return errors.New("a witness needs its witness key and URL (add it with --identity)")
	}
	p.LogKey, p.WitnessKey, p.Witness = s.LogKey, s.WitnessKey, s.Witness
	return nil
}

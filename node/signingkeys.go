package node

import (
	"crypto/ed25519"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/pki"
	"github.com/tearline/tearline/trust"
)

// Signing keys, the keyring, rotation and revocation are package datadir's
// (datadir.RotateSigningKey, datadir.RevokeSigningKey); a serving node picks
// their changes up at its next use (Node.signer, Node.keyring).

// Identity is what a partner needs to know this node: `tearline identity`
// prints it, and the partner's `tearline peer add` takes it.
type Identity struct {
	Name       string `json:"name" yaml:"name"`
	Country    string `json:"country" yaml:"country"`
	Org        string `json:"org" yaml:"org"`
	SigningKey string `json:"signing_key" yaml:"signing_key"` // current, "ed25519:<base64>"
	KeyID      string `json:"key_id" yaml:"key_id"`
	CertSHA256 string `json:"cert_sha256" yaml:"cert_sha256"`
	CertPEM    string `json:"cert" yaml:"cert"` // the TLS certificate (leaf), PEM
	// URL is where the node serves partners (https://host:port), when its
	// operator said so (`identity --url`); `peer add --identity` records it.
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// LogKey is the note verifier key of the node's audit log, and
	// WitnessKey that of its cosignatures (docs/AUDIT.md, "Witnesses").
	LogKey     string `json:"log_key,omitempty" yaml:"log_key,omitempty"`
	WitnessKey string `json:"witness_key,omitempty" yaml:"witness_key,omitempty"`
}

// ReadIdentity reads the identity of the node in dir.
func ReadIdentity(dir string) (Identity, error) {
	cfg, err := LoadConfig(path(dir, ConfigFile))
	if err != nil {
		return Identity{}, err
	}
	key, err := datadir.ReadSigningKey(dir)
	if err != nil {
		return Identity{}, err
	}
	c, err := trust.ReadTLSLeaf(dir)
	if err != nil {
		return Identity{}, err
	}
	pub := key.Public().(ed25519.PublicKey)
	if err := datadir.EnsureLogKey(dir, cfg.Name); err != nil {
		return Identity{}, err
	}
	lk, err := datadir.ReadLogVerifierKey(dir)
	if err != nil {
		return Identity{}, err
	}
	wk, err := datadir.ReadWitnessVerifierKey(dir, cfg.Name)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Name: cfg.Name, Country: cfg.Country, Org: cfg.Org,
		SigningKey: binding.MarshalPublicKey(pub), KeyID: binding.KeyIDOf(pub),
		CertSHA256: pki.Fingerprint(c), CertPEM: string(pki.MarshalCert(c)), LogKey: lk, WitnessKey: wk}, nil
}

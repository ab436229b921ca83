// Package partners changes whom this node trusts: partner nodes (their TLS
// certificate in peers.yaml, their signing key in keyring.yaml) and the
// revocation of signing keys. The console (`tearline peer add`, `peer
// remove`, `key revoke`) and the administrator's screens call the same
// methods, so the same checks, role rule (node's authority table,
// ActPeerAdmin: administrators) and audit apply. Each change is a write of
// a data-directory file (packages trust and datadir, written atomically);
// a serving node re-reads those files at its next handshake or binding
// check (datadir.Watched), so a change takes effect at once, on every
// replica that shares the directory.
package partners

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/pki"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
	"go.yaml.in/yaml/v3"
)

// Limits on what an administrator sends: a certificate chain and keys are
// small; anything larger is a mistake or an attack.
const (
	MaxCertPEM = 64 << 10
	maxField   = 1024
)

// Service changes the node's peers and signing keys.
type Service struct {
	n *node.Node
	// mu serialises this process's changes of peers.yaml and
	// keyring.yaml (each is read, changed and written whole).
	mu sync.Mutex
}

// New returns the partner administration of n.
func New(n *node.Node) *Service { return &Service{n: n} }

// Spec is what adding a peer is told (trust.PeerSpec).
type Spec = trust.PeerSpec

// FromIdentity reads a partner's `tearline identity` output (YAML) as the
// Spec of adding it; what over sets of its URL, log and witness keys and
// witness flag wins over the identity's (the console's flags). What does
// not parse is node.ErrInvalid.
func FromIdentity(b []byte, over Spec) (Spec, error) {
	if len(b) > MaxCertPEM+8*maxField {
		return Spec{}, fmt.Errorf("identity: %w: over %d KiB", node.ErrInvalid, (MaxCertPEM+8*maxField)>>10)
	}
	var id node.Identity
	if err := yaml.Unmarshal(b, &id); err != nil {
		return Spec{}, fmt.Errorf("identity: %w: %w", node.ErrInvalid, err)
	}
	return Spec{Name: id.Name, Country: id.Country, Org: id.Org, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey,
		URL: cmp.Or(over.URL, id.URL), LogKey: cmp.Or(over.LogKey, id.LogKey), WitnessKey: cmp.Or(over.WitnessKey, id.WitnessKey), Witness: over.Witness}, nil
}

// invalid marks err, a refusal of what the administrator sent, as
// node.ErrInvalid; a failure to read or write the data directory stays
// what it is.
func invalid(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%w: %w", node.ErrInvalid, err)
}

// AddPeer adds a partner node by its certificate (PEM) and Ed25519 signing
// key, as `tearline peer add` does (trust.AddPeer: the certificate must name
// the peer and be acceptable to this node's trust store now). Bad input is
// node.ErrInvalid, in words that say what was wrong. Administrators only;
// audited (peer.add).
func (s *Service) AddPeer(ctx context.Context, p *node.Principal, spec Spec) (trust.Peer, error) {
	if err := node.Authorize(p, node.ActPeerAdmin); err != nil {
		return trust.Peer{}, fmt.Errorf("peer add: %w", err)
	}
	switch {
	case len(spec.CertPEM) == 0:
		return trust.Peer{}, fmt.Errorf("peer add: %w: no certificate", node.ErrInvalid)
	case len(spec.CertPEM) > MaxCertPEM:
		return trust.Peer{}, fmt.Errorf("peer add: %w: the certificate is over %d KiB", node.ErrInvalid, MaxCertPEM>>10)
	}
	for _, f := range []string{spec.Name, spec.Country, spec.Org, spec.SigningKey, spec.URL, spec.LogKey, spec.WitnessKey} {
		if len(f) > maxField {
			return trust.Peer{}, fmt.Errorf("peer add: %w: a field is over %d bytes", node.ErrInvalid, maxField)
		}
	}
	if _, err := pki.ParseCert(spec.CertPEM); err != nil {
		return trust.Peer{}, fmt.Errorf("peer add: %w: certificate: %w", node.ErrInvalid, err)
	}
	if _, err := binding.ParsePublicKey(strings.TrimSpace(spec.SigningKey)); err != nil {
		return trust.Peer{}, fmt.Errorf("peer add: %w: signing key (want ed25519:<base64>): %w", node.ErrInvalid, err)
	}
	spec.SigningKey = strings.TrimSpace(spec.SigningKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	// The wall clock, not the node's: the TLS handshake checks the
	// certificate against it, and adding checks what the handshake will.
	peer, err := trust.AddPeer(s.n.Dir(), spec, time.Now())
	if err != nil {
		return trust.Peer{}, invalid(err)
	}
	detail := "country=" + peer.Country + " cert=" + peer.Fingerprint
	if peer.URL != "" {
		detail += " url=" + peer.URL
	}
	return peer, s.record(ctx, p, audit.ActionPeerAdd, peer.Name, detail)
}

// RemovePeer removes a partner, as `tearline peer remove` does: its
// certificate no longer admits it; its signing keys stay, so what it sent
// before still verifies. An unknown name is node.ErrNotFound.
// Administrators only; audited (peer.remove).
func (s *Service) RemovePeer(ctx context.Context, p *node.Principal, name string) error {
	if err := node.Authorize(p, node.ActPeerAdmin); err != nil {
		return fmt.Errorf("peer remove: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := trust.RemovePeer(s.n.Dir(), name); errors.Is(err, trust.ErrNoPeer) {
		return fmt.Errorf("%w: %w", node.ErrNotFound, err)
	} else if err != nil {
		return err
	}
	return s.record(ctx, p, audit.ActionPeerRemove, name, "")
}

// RevokeKey revokes the signing key keyID (a partner's, or one of this
// node's retired keys) from when on (RFC 3339; "" now), as `tearline key
// revoke` does (datadir.RevokeSigningKey): bindings it made from then on
// are refused, earlier ones still verify. A time that does not parse, a
// key the keyring does not hold, or the node's current key, is
// node.ErrInvalid. Administrators only; audited (signing-key.revoke).
func (s *Service) RevokeKey(ctx context.Context, p *node.Principal, keyID, when string) (binding.Key, error) {
	if err := node.Authorize(p, node.ActPeerAdmin); err != nil {
		return binding.Key{}, fmt.Errorf("key revoke: %w", err)
	}
	keyID = strings.TrimSpace(keyID)
	if keyID == "" || len(keyID) > maxField {
		return binding.Key{}, fmt.Errorf("key revoke: %w: want a key id, ed25519:<hex>", node.ErrInvalid)
	}
	at := s.n.Now()
	if when = strings.TrimSpace(when); when != "" {
		t, err := time.Parse(time.RFC3339Nano, when)
		if err != nil {
			return binding.Key{}, fmt.Errorf("key revoke: %w: the time must be RFC 3339, e.g. 2026-12-08T10:00:00Z", node.ErrInvalid)
		}
		at = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := datadir.RevokeSigningKey(s.n.Dir(), keyID, at)
	if err != nil {
		return binding.Key{}, invalid(err)
	}
	return k, s.record(ctx, p, audit.ActionSigningKeyRevoke, k.KeyID, "node="+k.Node+" from="+k.RevokedAt.UTC().Format(time.RFC3339Nano))
}

// record audits a change made: the file is already written, so a failure
// here says so rather than hiding that the change stands.
func (s *Service) record(ctx context.Context, p *node.Principal, action, subject, detail string) error {
	e := audit.Event{Actor: p.Actor(), Action: action, Subject: subject, Detail: detail, Decision: audit.Allow}
	if err := s.n.Store().Update(ctx, func(tx store.Tx) error { return s.n.AppendAudit(ctx, tx, e) }); err != nil {
		return fmt.Errorf("%s done, but not recorded in the audit log: %w", action, err)
	}
	return nil
}

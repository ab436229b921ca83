package partners_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/partners"
	"github.com/tearline/tearline/node/users"
)

// TestPeersAndKeys: an administrator adds a partner, revokes its key and
// removes it; the open node sees each change at once (its next use of the
// peers and the keyring), and each is audited. Bad input is refused in
// words and changes nothing; other roles may not.
func TestPeersAndKeys(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	rel, _ := nodetest.AddUser(t, n, users.UserSpec{Name: "rel", Role: node.RoleReleaser, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	idYAML := nodetest.PartnerIdentity(t, "usa", "USA")
	spec, err := partners.FromIdentity(idYAML, partners.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	peersFile := filepath.Join(n.Dir(), node.PeersFile)
	before, _ := os.ReadFile(peersFile)

	// Refused: another role, bad PEM, a bad key, too large a certificate,
	// an identity that is not YAML.
	if _, err := n.Partners.AddPeer(ctx, rel, spec); !errors.Is(err, node.ErrForbidden) {
		t.Errorf("a releaser adds a peer: %v", err)
	}
	bad := spec
	bad.CertPEM = []byte("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
	if _, err := n.Partners.AddPeer(ctx, admin, bad); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("bad PEM: %v", err)
	}
	bad = spec
	bad.SigningKey = "ed25519:nope"
	if _, err := n.Partners.AddPeer(ctx, admin, bad); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "signing key") {
		t.Errorf("bad signing key: %v", err)
	}
	bad = spec
	bad.CertPEM = bytes.Repeat([]byte("A"), partners.MaxCertPEM+1)
	if _, err := n.Partners.AddPeer(ctx, admin, bad); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("a huge certificate: %v", err)
	}
	bad = spec
	bad.Name = "fra" // the certificate names usa
	if _, err := n.Partners.AddPeer(ctx, admin, bad); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "names") {
		t.Errorf("a certificate naming another node: %v", err)
	}
	if _, err := partners.FromIdentity([]byte("name: [unclosed"), partners.Spec{}); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("an identity that does not parse: %v", err)
	}
	if after, _ := os.ReadFile(peersFile); !bytes.Equal(before, after) {
		t.Fatal("a refused add changed peers.yaml")
	}
	if p, _ := n.Peer("usa"); p != nil {
		t.Fatal("usa is a peer after refusals")
	}

	// Added: the open node trusts it at once.
	p, err := n.Partners.AddPeer(ctx, admin, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := n.Peer("usa"); err != nil || got == nil || got.Fingerprint != p.Fingerprint {
		t.Fatalf("the open node's peer usa: %+v %v", got, err)
	}
	if _, err := n.Partners.AddPeer(ctx, admin, spec); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "already") {
		t.Errorf("added twice: %v", err)
	}
	ring, err := n.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	var keyID string
	for _, k := range ring.Keys() {
		if k.Node == "usa" {
			keyID = k.KeyID
		}
	}
	if keyID == "" {
		t.Fatal("usa's key is not in the open node's keyring")
	}

	// Revoking: an unknown key and the node's own current key are refused;
	// usa's key is revoked, and the open node's keyring says so.
	if _, err := n.Partners.RevokeKey(ctx, admin, "ed25519:0000", ""); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "not in") {
		t.Errorf("an unknown key: %v", err)
	}
	s, err := n.Signer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Partners.RevokeKey(ctx, admin, s.KeyID(), ""); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "rotate") {
		t.Errorf("the node's current key: %v", err)
	}
	if _, err := n.Partners.RevokeKey(ctx, admin, keyID, "yesterday"); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("a bad time: %v", err)
	}
	if _, err := n.Partners.RevokeKey(ctx, rel, keyID, ""); !errors.Is(err, node.ErrForbidden) {
		t.Errorf("a releaser revokes a key: %v", err)
	}
	k, err := n.Partners.RevokeKey(ctx, admin, keyID, "")
	if err != nil || k.RevokedAt.IsZero() {
		t.Fatalf("revoke: %+v %v", k, err)
	}
	ring, _ = n.Keyring()
	for _, rk := range ring.Keys() {
		if rk.KeyID == keyID && rk.RevokedAt.IsZero() {
			t.Error("the open node's keyring still has usa's key unrevoked")
		}
	}

	// Removing.
	if err := n.Partners.RemovePeer(ctx, admin, "nowhere"); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("remove an unknown peer: %v", err)
	}
	if err := n.Partners.RemovePeer(ctx, admin, "usa"); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Peer("usa"); got != nil {
		t.Error("the open node still trusts usa after its removal")
	}

	var acts []string
	for _, e := range nodetest.AuditLog(t, n.Store()) {
		if e.Actor == admin.Actor() && (e.Action == audit.ActionPeerAdd || e.Action == audit.ActionPeerRemove || e.Action == audit.ActionSigningKeyRevoke) {
			acts = append(acts, e.Action+" "+e.Subject)
		}
	}
	want := []string{"peer.add usa", "signing-key.revoke " + keyID, "peer.remove usa"}
	if strings.Join(acts, "|") != strings.Join(want, "|") {
		t.Errorf("audited %q, want %q", acts, want)
	}
}

package node

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/trust"
)

const rotLabelID = "marking-definition--0b0c3a31-5a2e-5c6f-9f0d-4f1e2a3b4c5d"

const rotLabelJSON = `{"type":"marking-definition","spec_version":"2.1","id":"` + rotLabelID + `",
 "created":"2026-01-01T00:00:00.000Z","name":"NATO SECRET",
 "extensions":{"extension-definition--00000000-0000-4000-8000-000000004774":{"extension_type":"property-extension","policy":"NATO","classification":"SECRET"}}}`

const rotObjectJSON = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
 "created":"2026-03-14T09:20:00.000Z","modified":"2026-03-14T09:25:00.000Z","pattern":"[domain-name:value = 'c2.example.net']",
 "pattern_type":"stix","valid_from":"2026-03-14T09:20:00Z"}`

// bindAt makes a binding with the node's signing key as it is on disk now,
// created at the given time, exactly as ingest would (binding.Signer).
func bindAt(t *testing.T, dir string, at time.Time) (*binding.Binding, []byte, map[string][]byte) {
	t.Helper()
	cfg, err := LoadConfig(path(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	key, err := datadir.ReadSigningKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := jcs.Canonicalize([]byte(rotObjectJSON))
	if err != nil {
		t.Fatal(err)
	}
	lab, err := jcs.Canonicalize([]byte(rotLabelJSON))
	if err != nil {
		t.Fatal(err)
	}
	b, err := binding.NewSigner(cfg.Name, cfg.Identity, key).Bind(binding.BindInput{CanonicalObject: obj,
		Labels: []binding.LabelInput{{ID: rotLabelID, Canonical: lab}}}, at)
	if err != nil {
		t.Fatal(err)
	}
	return b, obj, map[string][]byte{rotLabelID: lab}
}

func verifyNow(t *testing.T, dir string, b *binding.Binding, obj []byte, labels map[string][]byte) error {
	t.Helper()
	ring, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ring.Verify(b, obj, labels)
}

func initDir(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := Init(context.Background(), dir, InitOptions{Name: name, Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRotateSigningKey(t *testing.T) {
	dir := initDir(t, "gbr-node")
	t0 := time.Now().UTC().Add(-time.Hour)
	before, obj, labels := bindAt(t, dir, t0)
	running, err := Open(context.Background(), dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()

	r, err := datadir.RotateSigningKey(dir, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// A node already open signs with the new key from its next binding on.
	if id := testSigner(t, running).KeyID(); id != r.New {
		t.Fatalf("running node signs with %s after the rotation, want %s", id, r.New)
	}
	if r.Old != before.KeyID || r.New == r.Old {
		t.Fatalf("rotation %+v; the old binding used %s", r, before.KeyID)
	}
	// Bindings made with the old key before the rotation still verify.
	if err := verifyNow(t, dir, before, obj, labels); err != nil {
		t.Fatalf("old binding after rotation: %v", err)
	}
	// New bindings use the new key, and verify.
	after, obj, labels := bindAt(t, dir, t0.Add(45*time.Minute))
	if after.KeyID != r.New {
		t.Fatalf("new binding signed by %s, want %s", after.KeyID, r.New)
	}
	if err := verifyNow(t, dir, after, obj, labels); err != nil {
		t.Fatalf("new binding: %v", err)
	}
	// The node, opened again, signs with the new key.
	n, err := Open(context.Background(), dir, Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if testSigner(t, n).KeyID() != r.New {
		t.Fatalf("opened node signs with %s, want %s", testSigner(t, n).KeyID(), r.New)
	}
	if k, ok := testKeyring(t, n).Lookup(r.Old); !ok || !k.NotAfter.Equal(r.At) {
		t.Fatalf("old key in the node's keyring: %+v %v", k, ok)
	}
	// The retired key cannot be revoked out of existence, only from a time;
	// the current key cannot be revoked at all.
	if _, err := datadir.RevokeSigningKey(dir, r.New, time.Now()); err == nil {
		t.Fatal("revoking the current key: no error")
	}
}

func TestRevokeSigningKey(t *testing.T) {
	dir := initDir(t, "gbr-node")
	t0 := time.Now().UTC().Add(-3 * time.Hour)
	early, eObj, eLabels := bindAt(t, dir, t0)                 // before the revocation
	late, lObj, lLabels := bindAt(t, dir, t0.Add(2*time.Hour)) // after it
	if _, err := datadir.RotateSigningKey(dir, t0.Add(150*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Both made before the rotation: both verify.
	for _, b := range []*binding.Binding{early, late} {
		obj, labels := eObj, eLabels
		if b == late {
			obj, labels = lObj, lLabels
		}
		if err := verifyNow(t, dir, b, obj, labels); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}
	// The key was compromised at t0+1h.
	k, err := datadir.RevokeSigningKey(dir, early.KeyID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !k.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("revoked at %s", k.RevokedAt)
	}
	if err := verifyNow(t, dir, early, eObj, eLabels); err != nil {
		t.Fatalf("binding made before the revocation: %v", err)
	}
	if err := verifyNow(t, dir, late, lObj, lLabels); !errors.Is(err, binding.ErrKeyNotValid) {
		t.Fatalf("binding made after the revocation: %v, want ErrKeyNotValid", err)
	}
	// A later revocation does not move the recorded one.
	if k, err := datadir.RevokeSigningKey(dir, early.KeyID, t0.Add(2*time.Hour)); err != nil || !k.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second revocation: %+v %v", k, err)
	}
	if _, err := datadir.RevokeSigningKey(dir, "ed25519:00000000000000000000000000000000", time.Now()); err == nil {
		t.Fatal("revoking an unknown key: no error")
	}
}

func TestPeerKeyRevocation(t *testing.T) {
	// A partner's key, recorded by trust.AddPeer, revoked here: its bindings
	// after the revocation are refused, those before accepted.
	gbr := initDir(t, "gbr-node")
	fra := filepath.Join(t.TempDir(), "fra-node")
	if err := Init(context.Background(), fra, InitOptions{Name: "fra-node", Country: "FRA", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	id, err := ReadIdentity(fra)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.AddPeer(gbr, trust.PeerSpec{Name: id.Name, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey}, time.Now()); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour)
	early, obj, labels := bindAt(t, fra, t0)
	late, _, _ := bindAt(t, fra, t0.Add(40*time.Minute))
	if err := verifyNow(t, gbr, late, obj, labels); err != nil {
		t.Fatalf("partner binding: %v", err)
	}
	if _, err := datadir.RevokeSigningKey(gbr, id.KeyID, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := verifyNow(t, gbr, early, obj, labels); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if err := verifyNow(t, gbr, late, obj, labels); !errors.Is(err, binding.ErrKeyNotValid) {
		t.Fatalf("after revocation: %v, want ErrKeyNotValid", err)
	}
	// Removing the peer keeps its keys: its past data still verifies.
	if err := trust.RemovePeer(gbr, "fra-node"); err != nil {
		t.Fatal(err)
	}
	if err := verifyNow(t, gbr, early, obj, labels); err != nil {
		t.Fatalf("after peer remove: %v", err)
	}
}

package recall

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/tearline/tearline/binding"
)

const identity = "identity--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

func signer(t *testing.T, node, seed string) (*binding.Signer, binding.Key) {
	t.Helper()
	s := sha256.Sum256([]byte(seed))
	k := ed25519.NewKeyFromSeed(s[:])
	return binding.NewSigner(node, identity, k), binding.Key{Node: node, Public: k.Public().(ed25519.PublicKey)}
}

var at = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func notice() *Notice {
	return &Notice{ID: "recall--8a5b2d1e-1c3f-4e6a-9b7d-0f1e2d3c4b5a", ObjectRef: "indicator--11111111-1111-4111-8111-111111111111",
		Versions: []string{"2026-01-01T00:00:00.000Z"}, To: "fra-node", Reason: "source compromised",
		Objects: []string{"indicator--11111111-1111-4111-8111-111111111111", "indicator--22222222-2222-4222-8222-222222222222"}}
}

func TestNoticeRoundTrip(t *testing.T) {
	s, k := signer(t, "gbr-node", "gbr")
	ring, err := binding.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := SignNotice(s, notice(), at)
	if err != nil {
		t.Fatal(err)
	}
	n, err := VerifyNotice(ring, raw)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, raw)
	}
	if n.Originator != "gbr-node" || n.To != "fra-node" || len(n.Objects) != 2 || n.Issued != "2026-11-22T10:00:00.000Z" {
		t.Errorf("notice = %+v", n)
	}
	// Signing is deterministic: the same notice gives the same bytes.
	again, err := SignNotice(s, notice(), at)
	if err != nil || !bytes.Equal(raw, again) {
		t.Errorf("not deterministic: %v", err)
	}
}

func TestNoticeRefused(t *testing.T) {
	s, k := signer(t, "gbr-node", "gbr")
	other, ok := signer(t, "usa-node", "usa")
	ring, err := binding.NewKeyring(k, ok)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := SignNotice(s, notice(), at)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := SignNotice(other, notice(), at) // signed by usa, claims usa: valid but not gbr
	if err != nil {
		t.Fatal(err)
	}
	claimGBR := bytes.Replace(forged, []byte(`"originator":"usa-node"`), []byte(`"originator":"gbr-node"`), 1)
	_, stranger := signer(t, "gbr-node", "someone else")
	strangerRing, _ := binding.NewKeyring(stranger)
	revokedRing, _ := binding.NewKeyring(binding.Key{Node: "gbr-node", Public: k.Public, RevokedAt: at.Add(-time.Hour)})

	cases := []struct {
		name string
		ring *binding.Keyring
		raw  []byte
		want error
	}{
		{"tampered reason", ring, bytes.Replace(raw, []byte("source compromised"), []byte("source compromisee"), 1), binding.ErrBadSignature},
		{"tampered objects", ring, bytes.Replace(raw, []byte("22222222-2222"), []byte("33333333-2222"), 1), binding.ErrBadSignature},
		{"tampered to", ring, bytes.Replace(raw, []byte(`"to":"fra-node"`), []byte(`"to":"deu-node"`), 1), binding.ErrBadSignature},
		{"unknown key", strangerRing, raw, binding.ErrUnknownKey},
		{"revoked key", revokedRing, raw, binding.ErrKeyNotValid},
		{"another node's key", ring, claimGBR, binding.ErrKeyNotValid},
		{"not json", ring, []byte("{"), ErrInvalid},
		{"no signature", ring, bytes.Replace(raw, []byte(`"value"`), []byte(`"valuex"`), 1), ErrInvalid},
		{"wrong algorithm", ring, bytes.Replace(raw, []byte(`"algorithm":"ed25519"`), []byte(`"algorithm":"rsa"`), 1), ErrInvalid},
		{"an ack is not a notice", ring, bytes.Replace(raw, []byte(`"tearline-recall"`), []byte(`"tearline-recall-ack"`), 1), ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := VerifyNotice(c.ring, c.raw); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestAck(t *testing.T) {
	s, k := signer(t, "fra-node", "fra")
	ring, _ := binding.NewKeyring(k)
	a := &Ack{RecallRef: "recall--8a5b2d1e-1c3f-4e6a-9b7d-0f1e2d3c4b5a", ObjectRef: "indicator--11111111-1111-4111-8111-111111111111",
		Purged: []string{"indicator--22222222-2222-4222-8222-222222222222"}}
	raw, err := SignAck(s, a, at)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyAck(ring, raw)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, raw)
	}
	if got.Node != "fra-node" || len(got.Purged) != 1 || got.RecallRef != a.RecallRef {
		t.Errorf("ack = %+v", got)
	}
	tampered := bytes.Replace(raw, []byte("22222222-2222"), []byte("33333333-2222"), 1)
	if _, err := VerifyAck(ring, tampered); !errors.Is(err, binding.ErrBadSignature) {
		t.Errorf("tampered ack: %v", err)
	}
	// A notice's signature does not make an acknowledgement.
	ns, nk := signer(t, "gbr-node", "gbr")
	ring2, _ := binding.NewKeyring(nk)
	nraw, _ := SignNotice(ns, notice(), at)
	if _, err := VerifyAck(ring2, nraw); err == nil {
		t.Error("a notice verified as an ack")
	}
}

func TestSignRefusesBadNotice(t *testing.T) {
	s, _ := signer(t, "gbr-node", "gbr")
	n := notice()
	n.To = "gbr-node"
	if _, err := SignNotice(s, n, at); !errors.Is(err, ErrInvalid) {
		t.Errorf("notice to itself: %v", err)
	}
	n = notice()
	n.Objects = nil
	if _, err := SignNotice(s, n, at); !errors.Is(err, ErrInvalid) {
		t.Errorf("no objects: %v", err)
	}
}

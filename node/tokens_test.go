package node

import (
	"context"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// Tokens made before lifetimes were bounded (no expiry, or one beyond
// token_max_ttl) get the longest lifetime from the upgrade on; the step is
// audited once and changes nothing the second time.
func TestCapTokensFromTheUpgradeOn(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, "gbr", "GBR")
	admin, _ := addUser(t, n, adminSpec())
	old := []store.Token{
		{ID: "old-forever", UserID: admin.User.ID, Hash: []byte("h1"), Created: n.now().Add(-400 * 24 * time.Hour)},
		{ID: "old-too-long", UserID: admin.User.ID, Hash: []byte("h2"), Created: n.now(), Expires: n.now().Add(5 * 365 * 24 * time.Hour)},
	}
	if err := n.st.Update(ctx, func(tx store.Tx) error {
		for _, tok := range old {
			if err := tx.PutToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := n.now().Truncate(time.Microsecond) // the store keeps microseconds
	capped, err := capTokens(ctx, n)
	if err != nil || capped != 2 {
		t.Fatalf("CapTokens = %d, %v; want 2", capped, err)
	}
	limit := n.now().Add(n.cfg.TokenMaxTTL)
	for _, tok := range old {
		got, err := n.st.Token(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Expires.IsZero() || got.Expires.Before(before.Add(n.cfg.TokenMaxTTL)) || got.Expires.After(limit) {
			t.Errorf("token %s expires %v, want the upgrade time plus %s", tok.ID, got.Expires, n.cfg.TokenMaxTTL)
		}
	}
	if capped, err := capTokens(ctx, n); err != nil || capped != 0 {
		t.Fatalf("CapTokens again = %d, %v; want 0", capped, err)
	}
	caps := 0
	for _, e := range auditLog(t, n.st) {
		if e.Action == audit.ActionTokenCap {
			caps++
		}
	}
	if caps != 1 {
		t.Errorf("%d token.cap audit entries, want 1", caps)
	}
}

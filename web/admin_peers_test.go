package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
)

// TestAdminPeersAndKeys: an administrator adds a peer from its identity,
// revokes its signing key and removes it from the peers screen, and the
// serving node trusts and stops trusting it at once. Other roles, and a
// post without the CSRF token, change nothing; bad input is refused in
// words on the form, and an oversized identity is refused.
func TestAdminPeersAndKeys(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, usersSpec("rel", node.RoleReleaser))
	f.addUser(t, usersSpec("adam", node.RoleAdmin))
	ident := string(nodetest.PartnerIdentity(t, "usa", "USA"))
	peer := func() *node.Peer {
		t.Helper()
		p, err := f.n.Peer("usa")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range []string{"ana", "rel"} {
		c := f.client(t)
		c.mustLogin(name)
		csrf := csrfOf(t, c.get("/ui/publish").body)
		for path, form := range map[string]url.Values{
			"/ui/admin/peers":            {"csrf": {csrf}, "identity": {ident}},
			"/ui/admin/peers/usa/remove": {"csrf": {csrf}},
			"/ui/admin/keys/revoke":      {"csrf": {csrf}, "key_id": {"ed25519:00"}},
		} {
			if p := c.post(path, form); p.code != http.StatusForbidden {
				t.Errorf("%s POST %s = %d, want 403", name, path, p.code)
			}
		}
	}
	adam := f.client(t)
	adam.mustLogin("adam")
	if p := adam.post("/ui/admin/peers", url.Values{"identity": {ident}}); p.code != http.StatusForbidden || peer() != nil {
		t.Fatalf("CSRF-less add: %d, peer %v", p.code, peer())
	}
	csrf := csrfOf(t, adam.get("/ui/admin/peers").body)
	p := adam.post("/ui/admin/peers", url.Values{"csrf": {csrf}, "cert": {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}, "signing_key": {"ed25519:AAAA"}})
	if p.code != http.StatusBadRequest || !strings.Contains(p.body, `data-outcome="error"`) || !strings.Contains(p.body, "certificate") || peer() != nil {
		t.Fatalf("bad PEM: %d\n%s", p.code, p.body)
	}
	if p := adam.post("/ui/admin/peers", url.Values{"csrf": {csrf}, "identity": {strings.Repeat("x", 200<<10)}}); p.code != http.StatusBadRequest || !strings.Contains(p.body, "KiB") || peer() != nil {
		t.Fatalf("oversized form: %d", p.code)
	}
	p = adam.post("/ui/admin/peers", url.Values{"csrf": {csrf}, "identity": {ident}})
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-peer="usa"`) || peer() == nil {
		t.Fatalf("add: %d, peer %v\n%s", p.code, peer(), p.body)
	}
	var keyID string
	ring, _ := f.n.Keyring()
	for _, k := range ring.Keys() {
		if k.Node == "usa" {
			keyID = k.KeyID
		}
	}
	if !strings.Contains(p.body, `data-key="`+keyID+`"`) {
		t.Fatalf("the keys table lacks usa's key %s", keyID)
	}
	if p := adam.post("/ui/admin/keys/revoke", url.Values{"csrf": {csrf}, "key_id": {"ed25519:0123"}}); p.code != http.StatusBadRequest || !strings.Contains(p.body, "not in") {
		t.Errorf("revoke an unknown key: %d", p.code)
	}
	if p := adam.post("/ui/admin/keys/revoke", url.Values{"csrf": {csrf}, "key_id": {keyID}, "at": {"yesterday"}}); p.code != http.StatusBadRequest {
		t.Errorf("revoke at a bad time: %d", p.code)
	}
	p = adam.post("/ui/admin/keys/revoke", url.Values{"csrf": {csrf}, "key_id": {keyID}})
	if p.code != http.StatusOK || !strings.Contains(p.body, `data-outcome="done"`) {
		t.Fatalf("revoke: %d\n%s", p.code, p.body)
	}
	ring, _ = f.n.Keyring()
	for _, k := range ring.Keys() {
		if k.KeyID == keyID && k.RevokedAt.IsZero() {
			t.Error("the serving node's keyring has the key unrevoked")
		}
	}
	if p := adam.post("/ui/admin/peers/nosuch/remove", url.Values{"csrf": {csrf}}); p.code != http.StatusNotFound {
		t.Errorf("remove an unknown peer: %d", p.code)
	}
	if p := adam.post("/ui/admin/peers/usa/remove", url.Values{"csrf": {csrf}}); p.code != http.StatusOK || strings.Contains(p.body, `data-peer="usa"`) || peer() != nil {
		t.Fatalf("remove: %d, peer %v", p.code, peer())
	}
}

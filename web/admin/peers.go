package admin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node/partners"
	"github.com/tearline/tearline/web"
)

// Peers and keys changed from the administrator's screen: node/partners
// does what `tearline peer add`, `peer remove` and `key revoke` do (the
// same checks, admin only, audited), and a serving node sees the change
// at its next handshake or binding check. The forms only read what was
// sent and show node's refusal in its words (node/partners bounds each
// field: a certificate or an identity of at most 64 KiB, short fields).

// peerForm is what an add-peer form sent, shown again when it is refused.
type peerForm struct {
	Identity, Name, Cert, SigningKey, URL string
}

// keyRow is one signing key of the keyring, with whether it may be
// revoked from this screen (not yet revoked; not the node's current key,
// which node refuses: rotate first).
type keyRow struct {
	Node, ID, NotBefore, NotAfter, Revoked string
	Revocable                              bool
}

func (a adminPages) keyRows() ([]keyRow, error) {
	ring, err := a.Node().Keyring()
	if err != nil {
		return nil, err
	}
	signer, err := a.Node().Signer()
	if err != nil {
		return nil, err
	}
	current := signer.KeyID()
	keys := slices.Clone(ring.Keys())
	slices.SortStableFunc(keys, func(x, y binding.Key) int { return strings.Compare(x.Node, y.Node) })
	out := make([]keyRow, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyRow{Node: k.Node, ID: k.KeyID, NotBefore: stamp(k.NotBefore), NotAfter: stamp(k.NotAfter), Revoked: stamp(k.RevokedAt),
			Revocable: k.RevokedAt.IsZero() && k.KeyID != current})
	}
	return out, nil
}

// addPeer adds a partner from its `tearline identity` output, or from its
// certificate and signing key (partners.AddPeer).
func (a adminPages) addPeer(w http.ResponseWriter, r *http.Request) {
	f := peerForm{Identity: strings.TrimSpace(r.PostFormValue("identity")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Cert: strings.TrimSpace(r.PostFormValue("cert")), SigningKey: strings.TrimSpace(r.PostFormValue("signing_key")), URL: strings.TrimSpace(r.PostFormValue("url"))}
	show := func(code int, msg string) { a.showPeers(w, r, code, outcome{Error: msg}, f) }
	spec := partners.Spec{Name: f.Name, CertPEM: []byte(f.Cert), SigningKey: f.SigningKey, URL: f.URL}
	if f.Identity != "" {
		id, err := partners.FromIdentity([]byte(f.Identity), partners.Spec{URL: f.URL})
		if err != nil {
			a.adminFail(w, r, err, show)
			return
		}
		spec = id
	}
	p, err := a.Node().Partners.AddPeer(r.Context(), web.Principal(r), spec)
	if err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	a.showPeers(w, r, http.StatusOK, outcome{Done: "Added peer " + p.Name + " (" + p.Country + "), certificate " + p.Fingerprint +
		": it is trusted from its next connection."}, peerForm{})
}

// removePeer removes a partner (partners.RemovePeer): its certificate no
// longer admits it; its keys stay so that what it sent still verifies.
func (a adminPages) removePeer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := a.Node().Partners.RemovePeer(r.Context(), web.Principal(r), name); err != nil {
		a.adminFail(w, r, err, func(code int, msg string) { a.showPeers(w, r, code, outcome{Error: msg}, peerForm{}) })
		return
	}
	a.showPeers(w, r, http.StatusOK, outcome{Done: "Removed peer " + name + ": its certificate no longer admits it."}, peerForm{})
}

// revokeKey revokes a signing key from a time on, default now
// (partners.RevokeKey): bindings it made from then on are refused.
func (a adminPages) revokeKey(w http.ResponseWriter, r *http.Request) {
	show := func(code int, msg string) { a.showPeers(w, r, code, outcome{Error: msg}, peerForm{}) }
	k, err := a.Node().Partners.RevokeKey(r.Context(), web.Principal(r), r.PostFormValue("key_id"), r.PostFormValue("at"))
	if err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	a.showPeers(w, r, http.StatusOK, outcome{Done: "Revoked " + k.KeyID + " of " + k.Node + " from " + stamp(k.RevokedAt) +
		": bindings it made from then on are refused."}, peerForm{})
}

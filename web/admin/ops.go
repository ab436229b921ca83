package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/health"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/web"
)

// The administrator's operational screens: peers and keys (peers.go: add
// and remove a peer, revoke a signing key, through node/partners as the
// console does; a serving node sees the change at once), split views and
// their acknowledgement, agreements' lifecycle and the node's health.
func (a adminPages) moreRoutes() {
	a.Handle("GET "+web.Prefix+"admin/peers", a.SignedIn(a.peers))
	a.Handle("POST "+web.Prefix+"admin/peers", a.SignedIn(a.addPeer))
	a.Handle("POST "+web.Prefix+"admin/peers/{name}/remove", a.SignedIn(a.removePeer))
	a.Handle("POST "+web.Prefix+"admin/keys/revoke", a.SignedIn(a.revokeKey))
	a.Handle("POST "+web.Prefix+"admin/peers/{name}/ack-split", a.SignedIn(a.ackSplit))
	a.Handle("GET "+web.Prefix+"admin/agreements", a.SignedIn(a.agreements))
	a.Handle("POST "+web.Prefix+"admin/agreements/{id}/transition", a.SignedIn(a.transition))
	a.Handle("GET "+web.Prefix+"admin/health", a.SignedIn(a.health))
}

type peerRow struct {
	Name, Country, Org, URL, Fingerprint, CertExpires, Added string
	Witness                                                  bool
	Cosigned                                                 string
	Keys                                                     []string
	OpenSplitViews                                           int
}

type splitRow struct {
	ID                                   int64
	Peer, Origin, Reporter, Detected, By string
	Size                                 int64
	Open                                 bool
}

type peersData struct {
	Peers   []peerRow
	Keys    []keyRow
	Splits  []splitRow
	Outcome outcome
	Form    peerForm
}

func peerRows(ps []health.Peer) []peerRow {
	out := make([]peerRow, 0, len(ps))
	for _, p := range ps {
		r := peerRow{Name: p.Name, Country: p.Country, Org: p.Org, URL: p.URL, Fingerprint: p.Fingerprint,
			CertExpires: stamp(p.CertExpires), Added: stamp(p.Added), Witness: p.Witness, OpenSplitViews: p.OpenSplitViews}
		if !p.Cosigned.IsZero() {
			r.Cosigned = fmt.Sprintf("size %d at %s", p.CosignedSize, stamp(p.Cosigned))
		}
		for _, k := range p.Keys {
			s := k.KeyID
			if !k.NotAfter.IsZero() {
				s += " until " + stamp(k.NotAfter)
			}
			if !k.RevokedAt.IsZero() {
				s += " revoked from " + stamp(k.RevokedAt)
			}
			r.Keys = append(r.Keys, s)
		}
		out = append(out, r)
	}
	return out
}

func (a adminPages) peers(w http.ResponseWriter, r *http.Request) {
	a.showPeers(w, r, http.StatusOK, outcome{}, peerForm{})
}

// showPeers lists the peers with their certificates, keys and witness
// state (health.Read: admins), and the split views of their logs, with an
// acknowledgement for the open ones (node/oversight).
func (a adminPages) showPeers(w http.ResponseWriter, r *http.Request, code int, o outcome, f peerForm) {
	ctx, p := r.Context(), web.Principal(r)
	h, err := health.Read(ctx, a.Node().Node, p)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	svs, err := a.Node().Oversight.SplitViews(ctx, p, "", false)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := peersData{Peers: peerRows(h.Peers), Outcome: o, Form: f}
	if d.Keys, err = a.keyRows(); err != nil {
		a.Fail(w, r, err)
		return
	}
	for _, s := range svs {
		d.Splits = append(d.Splits, splitRow{ID: s.ID, Peer: s.Peer, Origin: s.Origin, Reporter: s.Reporter, Detected: stamp(s.Detected),
			By: s.AckedBy, Size: s.Size, Open: s.AckedAt.IsZero()})
	}
	a.Render(w, code, "admin_peers", "", a.ViewFor(r, "Peers and keys", a.low(), d))
}

// ackSplit acknowledges the open split views of a peer's log
// (Oversight.AckSplitView, as `tearline peer ack-split`): deliveries to it
// resume.
func (a adminPages) ackSplit(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	n, err := a.Node().Oversight.AckSplitView(r.Context(), web.Principal(r), name)
	if err != nil {
		a.adminFail(w, r, err, func(code int, msg string) { a.showPeers(w, r, code, outcome{Error: msg}, peerForm{}) })
		return
	}
	msg := fmt.Sprintf("Acknowledged %d split view(s) of %s: deliveries resume.", n, name)
	if n == 0 {
		msg = "No open split view of " + name + "."
	}
	a.showPeers(w, r, http.StatusOK, outcome{Done: msg}, peerForm{})
}

type agreementRow struct {
	ID, Title, State, Since, Parties, Signed, Missing, Effective, Expires string
	Version                                                               int
	Moves                                                                 []string
}

type agreementsData struct {
	Rows    []agreementRow
	Outcome outcome
}

// moves are the lifecycle moves an admin is offered from a state; node
// (agreement.Advance) decides which it allows (activating needs every
// signature, for one).
func moves(s agreement.State) []string {
	switch s {
	case agreement.StateDraft:
		return []string{"proposed", "terminated"}
	case agreement.StateProposed:
		return []string{"active", "terminated"}
	case agreement.StateActive:
		return []string{"suspended", "terminated"}
	case agreement.StateSuspended:
		return []string{"active", "terminated"}
	}
	return nil
}

func (a adminPages) agreements(w http.ResponseWriter, r *http.Request) {
	a.showAgreements(w, r, http.StatusOK, outcome{})
}

// showAgreements lists every agreement version with its lifecycle state
// and a button per move; its history is on /ui/agreements/{id}.
// Agreements.Agreements lets every role read; this page is for those who
// may move them, so node's authority table is asked first (ActAgreementAdm).
func (a adminPages) showAgreements(w http.ResponseWriter, r *http.Request, code int, o outcome) {
	ctx, p := r.Context(), web.Principal(r)
	if err := node.Authorize(p, node.ActAgreementAdm); err != nil {
		a.Fail(w, r, err)
		return
	}
	as, err := a.Node().Agreements.Agreements(ctx, p)
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := agreementsData{Outcome: o}
	for _, ag := range as {
		d.Rows = append(d.Rows, agreementRow{ID: ag.ID, Version: ag.Version, Title: ag.Title, State: ag.State, Since: stamp(ag.Since),
			Parties: strings.Join(ag.Parties, ", "), Signed: strings.Join(ag.Signed, ", "), Missing: strings.Join(ag.Missing, ", "),
			Effective: ag.Effective, Expires: ag.Expires, Moves: moves(agreement.State(ag.State))})
	}
	a.Render(w, code, "admin_agreements", "", a.ViewFor(r, "Agreements' lifecycle", a.low(), d))
}

// transition moves an agreement version through its lifecycle
// (Agreements.TransitionAgreement, as the API's POST
// /api/v1/agreements/{id}/transition): it takes effect at the next decision.
func (a adminPages) transition(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	show := func(code int, msg string) { a.showAgreements(w, r, code, outcome{Error: msg}) }
	version, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil || version < 1 {
		show(http.StatusBadRequest, "Not done: want a version number.")
		return
	}
	to := agreement.State(r.PostFormValue("to"))
	if !slices.Contains([]agreement.State{agreement.StateProposed, agreement.StateActive, agreement.StateSuspended, agreement.StateTerminated}, to) {
		show(http.StatusBadRequest, "Not done: want proposed, active, suspended or terminated.")
		return
	}
	ag, err := a.Node().Agreements.TransitionAgreement(r.Context(), web.Principal(r), id, version, to, strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		a.adminFail(w, r, err, show)
		return
	}
	a.showAgreements(w, r, http.StatusOK, outcome{Done: fmt.Sprintf("%s v%d is now %s.", ag.ID, ag.Version, ag.State)})
}

type healthData struct {
	At, Backend                 string
	Queued, Retrying, Failed    int
	CheckpointSize              int64
	CheckpointAt, CheckpointAge string
	DataBytes                   string
	DataFiles                   int
	Peers                       []peerRow
	Witnesses, OpenSplits       int
}

// health shows the node's health (health.Read: admins only).
func (a adminPages) health(w http.ResponseWriter, r *http.Request) {
	h, err := health.Read(r.Context(), a.Node().Node, web.Principal(r))
	if err != nil {
		a.Fail(w, r, err)
		return
	}
	d := healthData{At: stamp(h.At), Backend: h.Backend, Queued: h.Outbox[store.DeliveryQueued], Retrying: h.Outbox[store.DeliveryRetrying],
		Failed: h.Outbox[store.DeliveryFailed], CheckpointSize: h.Checkpoint.Size, DataFiles: h.DataFiles,
		DataBytes: fmt.Sprintf("%.1f MiB (%d bytes)", float64(h.DataBytes)/(1<<20), h.DataBytes), Peers: peerRows(h.Peers)}
	if !h.Checkpoint.Created.IsZero() {
		d.CheckpointAt = stamp(h.Checkpoint.Created)
		d.CheckpointAge = h.At.Sub(h.Checkpoint.Created).Round(time.Second).String()
	}
	for _, p := range h.Peers {
		if p.Witness {
			d.Witnesses++
		}
		d.OpenSplits += p.OpenSplitViews
	}
	a.Render(w, http.StatusOK, "admin_health", "", a.ViewFor(r, "Node health", a.low(), d))
}

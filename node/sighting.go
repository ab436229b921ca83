package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Sightings back (docs/FEDERATION.md, "Sightings back"). When this node
// stores a STIX sighting of an object it received from a partner, the
// sighting goes back to the object's originator if an agreement with the
// originator allows releasing it for the purpose PurposeSighting: the same
// decision as any release (labels, levels, topics, conditions), so an
// agreement opts in by listing the purpose "sighting" in the terms from
// this node to the originator. The ingest writes a follow-up row
// (followup.go); after it commits, the row's transaction decides, records
// the sighting in the dissemination ledger and queues it in the outbox; a
// refusal is audited.

// PurposeSighting is the purpose a sighting is sent back under.
const PurposeSighting = "sighting"

// sightingBack decides and queues the return of sighting v (raw is its
// plain content) to the originator of what it sights. It runs in the
// transaction of the sighting's follow-up row, after the ingest committed;
// only a store failure is an error, a decision not to send is audited.
func (n *Node) sightingBack(ctx context.Context, tx store.Tx, p *Principal, v *store.ObjectVersion, raw []byte, classLabels []string) (bool, error) {
	var s struct {
		Ref string `json:"sighting_of_ref"`
	}
	if json.Unmarshal(raw, &s) != nil || s.Ref == "" {
		return false, nil
	}
	prov, err := tx.Provenance(ctx, s.Ref)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // not from a partner
	}
	if err != nil {
		return false, err
	}
	to := prov.Originator
	if to == "" || to == n.cfg.Name {
		return false, nil
	}
	deny := func(reasons ...string) (bool, error) {
		return false, n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSightingSend, Object: v.ID, Modified: v.Modified,
			Subject: "party:" + to, Decision: audit.Deny, Reasons: reasons, Detail: "sighting_of=" + s.Ref})
	}
	peers, err := n.peers()
	if err != nil {
		// A broken peers file must not stop ingest: the sighting stays here.
		n.log.Warn("sighting back: peers", "err", err)
		return deny("peers-unreadable")
	}
	if !slices.ContainsFunc(peers, func(pe Peer) bool { return pe.Name == to }) {
		return deny("not-a-peer")
	}
	c, err := n.uncachedClass(ctx, tx, v.Class, classLabels)
	if err != nil {
		return false, err
	}
	compiled, _, err := n.compiledAgreements(ctx, tx)
	if err != nil {
		return false, err
	}
	plain := *v
	plain.Raw, plain.Key = raw, nil
	f, err := n.buildFacts(ctx, tx, plain, c, compiled)
	if err != nil {
		return false, err
	}
	best, _ := n.decideAll(f, compiled, to, PurposeSighting)
	if best.d.Outcome != policy.Release {
		reasons := reasonCodes(best.d.Reasons)
		if best.d.Outcome != policy.Refuse {
			// A sighting goes back whole and without a person's approval,
			// or not at all.
			reasons = append(reasons, "outcome-"+best.d.Outcome.String())
		}
		return deny(reasons...)
	}
	seq, err := tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: v.ID, Modified: v.Modified, Party: to, Agreement: best.Agreement,
		AgreementVersion: best.Version, Term: best.d.Terms, Outcome: store.LedgerRelease, State: store.LedgerReady, Labels: f.labels,
		By: p.Actor(), At: n.now()})
	if err != nil {
		return false, err
	}
	// The sighting travels as any released object (an "objects" message:
	// the originator verifies its binding and decides it inbound under the
	// agreement), followed by a "sighting" message that tells the
	// originator what it sights. A peer's messages arrive in order.
	e := store.LedgerEntry{ObjectID: v.ID, Modified: v.Modified, Party: to, Agreement: best.Agreement, AgreementVersion: best.Version,
		State: store.LedgerReady}
	if _, err := n.outboxRelease(ctx, tx, e, seq); err != nil {
		return false, err
	}
	note, err := json.Marshal(sightingNote{Sighting: v.ID, Modified: v.Modified, SightingOf: s.Ref})
	if err != nil {
		return false, err
	}
	if err := n.enqueueOutbox(ctx, tx, to, store.OutboxSighting, note); err != nil {
		return false, err
	}
	return true, n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSightingSend, Object: v.ID, Modified: v.Modified,
		Labels: f.labels, Subject: "party:" + to, Decision: audit.Allow,
		Detail: truncate("sighting_of="+s.Ref+" agreement="+agreementKey(best.Agreement, best.Version), 300)})
}

// sightingNote is the payload of a "sighting" message: ids only. The
// sighting itself came just before it as an "objects" message.
type sightingNote struct {
	Sighting   string `json:"sighting"`
	Modified   string `json:"modified"`
	SightingOf string `json:"sighting_of_ref"`
}

// receiveSighting records that a partner sent back a sighting of an object
// this node originated and released to it. The sighting must have arrived
// (the "objects" message before this one, verified and accepted under the
// agreement), be bound by that partner, and sight what it says it sights.
func (n *Node) receiveSighting(ctx context.Context, peer *Peer, payload []byte) error {
	// refuseAs audits why and answers the peer told.
	refuseAs := func(object, why, told string) error {
		ev := audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionSightingRecv, Object: object, Subject: "party:" + peer.Name,
			Decision: audit.Refuse, Detail: truncate(why, 300)}
		if err := n.st.Update(ctx, func(tx store.Tx) error { return n.appendAudit(ctx, tx, ev) }); err != nil {
			return fmt.Errorf("sighting from %s: audit refusal: %w", peer.Name, err)
		}
		return fmt.Errorf("sighting from %s: %w: %s", peer.Name, ErrRefused, told)
	}
	refuse := func(object, why string) error { return refuseAs(object, why, why) }
	var note sightingNote
	if err := json.Unmarshal(payload, &note); err != nil || note.Sighting == "" || note.SightingOf == "" {
		return refuse("", "not a sighting message")
	}
	v, err := versionOf(ctx, n.st, note.Sighting, note.Modified)
	if errors.Is(err, ErrNotFound) {
		return refuse(note.Sighting, "the sighting was not received (refused, or never sent)")
	}
	if err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	}
	if v.Type != "sighting" || v.Originator != peer.Name {
		return refuse(note.Sighting, "not a sighting bound by "+peer.Name)
	}
	var s struct {
		Ref string `json:"sighting_of_ref"`
	}
	if err := json.Unmarshal(v.Raw, &s); err != nil || s.Ref != note.SightingOf {
		return refuse(note.Sighting, "the sighting does not sight "+note.SightingOf)
	}
	if ok, why, err := n.sentTo(ctx, s.Ref, peer.Name); err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	} else if !ok {
		// Whether this node holds the object, and from whom, is not the
		// peer's to learn from a sighting it makes up: one answer for all
		// (the audit entry keeps why).
		return refuseAs(note.Sighting, why, "sighting of "+s.Ref+": not an object this node originated and sent to "+peer.Name)
	}
	err = n.st.Update(ctx, func(tx store.Tx) error {
		return n.appendAudit(ctx, tx, audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionSightingRecv, Object: note.Sighting,
			Modified: note.Modified, Subject: "party:" + peer.Name, Decision: audit.Accept, Detail: "sighting_of=" + s.Ref})
	})
	if err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	}
	return nil
}

// sentTo reports whether object id is this node's and went to party, whole
// or as a tearline; if not, why.
func (n *Node) sentTo(ctx context.Context, id, party string) (bool, string, error) {
	versions, err := n.st.Versions(ctx, id)
	if err != nil {
		return false, "", err
	}
	if len(versions) == 0 {
		return false, "sighting of " + id + ", which this node does not hold", nil
	}
	orig, err := originatorOf(ctx, n.st, id, versions)
	if err != nil {
		return false, "", err
	}
	if orig != n.cfg.Name {
		return false, "sighting of " + id + ", which " + orig + " originated, not this node", nil
	}
	went, err := wentTo(ctx, n.st, id, party)
	if err != nil || went {
		return went, "", err
	}
	return false, "sighting of " + id + ", which never went to " + party, nil
}

// uncachedClass returns class id (of labelIDs) from the cache if it is
// there, else built from the labels in r without caching it: the class may
// have been made in this very transaction, which may yet roll back, and the
// cache must only ever hold committed classes (an id can be reused).
func (n *Node) uncachedClass(ctx context.Context, r store.Reader, id int64, labelIDs []string) (policy.Class, error) {
	n.classMu.Lock()
	c, ok := n.classes.byID[id]
	n.classMu.Unlock()
	if ok {
		return c, nil
	}
	c = policy.Class{ID: id, LabelIDs: labelIDs}
	for _, lid := range labelIDs {
		raw, err := r.Label(ctx, lid)
		if err != nil {
			return policy.Class{}, fmt.Errorf("access class %d: %w", id, err)
		}
		l, ours, err := label.ParseMarkingDefinition(raw)
		if err != nil || !ours {
			return policy.Class{}, fmt.Errorf("access class %d: label %s does not parse (%v)", id, lid, err)
		}
		c.Labels = append(c.Labels, l)
	}
	return c, nil
}

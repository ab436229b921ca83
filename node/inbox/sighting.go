package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
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
func (ib *Service) sightingBack(ctx context.Context, tx store.Tx, p *node.Principal, v *store.ObjectVersion, raw []byte, classLabels []string) (bool, error) {
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
	if to == "" || to == ib.n.Config().Name {
		return false, nil
	}
	deny := func(reasons ...string) (bool, error) {
		return false, ib.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSightingSend, Object: v.ID, Modified: v.Modified,
			Subject: "party:" + to, Decision: audit.Deny, Reasons: reasons, Detail: "sighting_of=" + s.Ref})
	}
	peers, err := ib.n.Peers()
	if err != nil {
		// A broken peers file must not stop ingest: the sighting stays here.
		ib.n.Logger().Warn("sighting back: peers", "err", err)
		return deny("peers-unreadable")
	}
	if !slices.ContainsFunc(peers, func(pe node.Peer) bool { return pe.Name == to }) {
		return deny("not-a-peer")
	}
	c, err := ib.uncachedClass(ctx, tx, v.Class, classLabels)
	if err != nil {
		return false, err
	}
	compiled, _, err := ib.n.CompiledAgreements(ctx, tx)
	if err != nil {
		return false, err
	}
	plain := *v
	plain.Raw, plain.Key = raw, nil
	f, err := ib.n.buildFacts(ctx, tx, plain, c, compiled)
	if err != nil {
		return false, err
	}
	best, _ := ib.n.decideAll(f, compiled, to, PurposeSighting)
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
		By: p.Actor(), At: ib.n.Now()})
	if err != nil {
		return false, err
	}
	// The sighting travels as any released object (an "objects" message:
	// the originator verifies its binding and decides it inbound under the
	// agreement), followed by a "sighting" message that tells the
	// originator what it sights. A peer's messages arrive in order.
	e := store.LedgerEntry{ObjectID: v.ID, Modified: v.Modified, Party: to, Agreement: best.Agreement, AgreementVersion: best.Version,
		State: store.LedgerReady}
	if _, err := ib.n.QueueRelease(ctx, tx, e, seq); err != nil {
		return false, err
	}
	note, err := json.Marshal(sightingNote{Sighting: v.ID, Modified: v.Modified, SightingOf: s.Ref})
	if err != nil {
		return false, err
	}
	if err := ib.n.EnqueueOutbox(ctx, tx, to, store.OutboxSighting, note); err != nil {
		return false, err
	}
	return true, ib.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSightingSend, Object: v.ID, Modified: v.Modified,
		Labels: f.labels, Subject: "party:" + to, Decision: audit.Allow,
		Detail: clip.String("sighting_of="+s.Ref+" agreement="+node.AgreementKey(best.Agreement, best.Version), 300)})
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
func (ib *Service) receiveSighting(ctx context.Context, peer *node.Peer, payload []byte) error {
	refuse := func(object, why string) error {
		ev := audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionSightingRecv, Object: object, Subject: "party:" + peer.Name,
			Decision: audit.Refuse, Detail: clip.String(why, 300)}
		if err := ib.n.Store().Update(ctx, func(tx store.Tx) error { return ib.n.AppendAudit(ctx, tx, ev) }); err != nil {
			return fmt.Errorf("sighting from %s: audit refusal: %w", peer.Name, err)
		}
		return fmt.Errorf("sighting from %s: %w: %s", peer.Name, node.ErrRefused, why)
	}
	var note sightingNote
	if err := json.Unmarshal(payload, &note); err != nil || note.Sighting == "" || note.SightingOf == "" {
		return refuse("", "not a sighting message")
	}
	v, err := versionOf(ctx, ib.n.Store(), note.Sighting, note.Modified)
	if errors.Is(err, node.ErrNotFound) {
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
	if ok, why, err := ib.sentTo(ctx, s.Ref, peer.Name); err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	} else if !ok {
		return refuse(note.Sighting, why)
	}
	err = ib.n.Store().Update(ctx, func(tx store.Tx) error {
		return ib.n.AppendAudit(ctx, tx, audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionSightingRecv, Object: note.Sighting,
			Modified: note.Modified, Subject: "party:" + peer.Name, Decision: audit.Accept, Detail: "sighting_of=" + s.Ref})
	})
	if err != nil {
		return fmt.Errorf("sighting from %s: %w", peer.Name, err)
	}
	return nil
}

// sentTo reports whether object id is this node's and went to party, whole
// or as a tearline; if not, why.
func (ib *Service) sentTo(ctx context.Context, id, party string) (bool, string, error) {
	versions, err := ib.n.Store().Versions(ctx, id)
	if err != nil {
		return false, "", err
	}
	if len(versions) == 0 {
		return false, "sighting of " + id + ", which this node does not hold", nil
	}
	orig, err := node.OriginatorOf(ctx, ib.n.Store(), id, versions)
	if err != nil {
		return false, "", err
	}
	if orig != ib.n.Config().Name {
		return false, "sighting of " + id + ", which " + orig + " originated, not this node", nil
	}
	// A tearline is in the ledger under the object it was made from.
	ledgerID := id
	if prov, err := ib.n.Store().Provenance(ctx, id); err == nil && prov.DerivedFrom != "" {
		ledgerID, _, _ = strings.Cut(prov.DerivedFrom, "@")
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, "", err
	}
	entries, err := ib.n.Store().Ledger(ctx, store.LedgerQuery{ObjectID: ledgerID})
	if err != nil {
		return false, "", err
	}
	for _, e := range entries {
		if e.Party != party {
			continue
		}
		if (e.Outcome == store.LedgerRelease && e.ObjectID == id) || (e.Outcome == store.LedgerTearline && e.TearlineID == id) {
			return true, "", nil
		}
	}
	return false, "sighting of " + id + ", which never went to " + party, nil
}

// uncachedClass returns class id (of labelIDs) from the cache if it is
// there, else built from the labels in r without caching it: the class may
// have been made in this very transaction, which may yet roll back, and the
// cache must only ever hold committed classes (an id can be reused).
func (ib *Service) uncachedClass(ctx context.Context, r store.Reader, id int64, labelIDs []string) (policy.Class, error) {
	ib.n.classMu.Lock()
	c, ok := ib.n.classes.byID[id]
	ib.n.classMu.Unlock()
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

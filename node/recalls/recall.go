// Package recalls takes back what this node released: a recall notice,
// signed by the originator, goes to every partner an object went to; each
// purges it (and every tearline made from it) and answers with a signed
// acknowledgement, tracked per party. The inbox handlers of notices and
// acknowledgements (ReceiveRecall, ReceiveRecallAck) are registered by
// whoever composes the node (node/stack).
package recalls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/recall"
	"github.com/tearline/tearline/store"
)

// errRecallRefused marks a recall refused for what it says rather than for
// a store failure: it is audited and never retried.
var errRecallRefused = errors.New("recall refused")

// Recall (docs/FEDERATION.md, "Recall"). The originator of an object sends a
// signed notice to every partner the dissemination ledger says received it
// (whole or as a tearline), through the outbox; each partner checks that the
// notice comes from the object's originator, crypto-shreds what it holds
// (the object, the tearlines it received in its place, and the tearlines it
// made from them for others), and returns a signed acknowledgement the
// originator records per partner.
//
// A recall does not purge the originator's own copy: the originator still
// answers for the object (its ledger, its audit trail) and may withdraw it in
// STIX terms with a revoked version, or purge it with `tearline purge`.

// Service recalls the objects of one node and honours partners' recalls.
type Service struct {
	n *node.Node
}

// New returns the recalls of n.
func New(n *node.Node) *Service { return &Service{n: n} }

// RecallStatus is one recall as it concerns one party: ids, parties, times
// and the signed documents, never content.
type RecallStatus struct {
	Recall  string          `json:"recall"`
	Object  string          `json:"object"`
	Party   string          `json:"party"`
	Inbound bool            `json:"inbound,omitempty"` // received from Party rather than issued here
	Objects []string        `json:"objects"`           // what the party was asked to purge
	Reason  string          `json:"reason"`
	Issued  time.Time       `json:"issued"`
	By      string          `json:"by,omitempty"`
	State   string          `json:"state"` // pending, acknowledged
	AckedAt *time.Time      `json:"acknowledged_at,omitempty"`
	Purged  []string        `json:"purged,omitempty"`   // from the acknowledgement
	NotHeld []string        `json:"not_held,omitempty"` // from the acknowledgement
	Notice  json.RawMessage `json:"notice,omitempty"`
	Ack     json.RawMessage `json:"ack,omitempty"`
}

func recallStatus(r store.Recall) RecallStatus {
	s := RecallStatus{Recall: r.ID, Object: r.ObjectID, Party: r.Party, Inbound: r.Inbound, Objects: r.Objects, Reason: r.Reason,
		Issued: r.Issued, By: r.By, State: r.State, Notice: json.RawMessage(r.Notice)}
	if s.Objects == nil {
		s.Objects = []string{}
	}
	if !r.AckedAt.IsZero() {
		at := r.AckedAt
		s.AckedAt = &at
	}
	if len(r.Ack) > 0 {
		s.Ack = json.RawMessage(r.Ack)
		// The stored acknowledgement was verified when it was recorded (or
		// made here); its lists are read back without a keyring.
		var a recall.Ack
		if json.Unmarshal(r.Ack, &a) == nil {
			s.Purged, s.NotHeld = a.Purged, a.NotHeld
		}
	}
	return s
}

// Recall recalls objectID, which this node originated, from every partner
// it was released to: one signed notice per partner is queued in the outbox
// in the same transaction as the recall's rows and audit entries. Admins and
// releasers may recall.
func (rc *Service) Recall(ctx context.Context, p *node.Principal, objectID, reason string) ([]RecallStatus, error) {
	if err := node.Authorize(p, node.ActRecall); err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > recall.MaxReason {
		return nil, fmt.Errorf("recall %s: %w: a reason of 1 to %d bytes is required", objectID, node.ErrInvalid, recall.MaxReason)
	}
	id := recall.NewID()
	var out []RecallStatus
	err := rc.n.Outbox().Update(ctx, func(tx store.Tx) error {
		out = out[:0]
		// Recalling is acting on the object: one p may not read is answered
		// as one that does not exist, before its origin or its releases are
		// told.
		notFound := fmt.Errorf("object %s: %w", objectID, node.ErrNotFound)
		if err := rc.n.AuthorizeObject(ctx, tx, p, node.ActRecall, objectID, nil, notFound); err != nil {
			return err
		}
		all, err := tx.Versions(ctx, objectID)
		if err != nil {
			return err
		}
		// A recall is of one instance (docs/SECURITY.md): the one a read
		// by p returns, of p's highest level. Another instance, one p may
		// not read above all, is not touched, here or at a partner.
		rv, err := instance.Pick(ctx, rc.n.Classes(), rc.n.Registry(), tx, p.Subject, all)
		if err != nil {
			return err
		}
		if rv.Instances == 0 {
			return notFound
		}
		inst := rv.Version.Instance
		// The originator is told from the versions p may read: the answer
		// must not depend on one it may not.
		var versions []store.ObjectVersion
		for _, v := range all {
			if v.Instance != inst {
				continue
			}
			if ok, err := rc.n.ActsOn(ctx, tx, p, node.ActRecall, objectID, []node.VersionKey{node.KeyOf(v)}); err != nil {
				return err
			} else if ok {
				versions = append(versions, v)
			}
		}
		if len(versions) == 0 {
			return notFound
		}
		orig, err := node.OriginatorOf(ctx, tx, objectID, versions)
		if err != nil {
			return err
		}
		if orig != rc.n.Config().Name {
			return fmt.Errorf("%w: %s was originated by %s: only its originator can recall it", node.ErrForbidden, objectID, orig)
		}
		// Only the releases of versions p may read: a release of a later
		// version p may not read is not p's to know of, so the answer (and
		// the notice) is what it would be without it.
		parties, err := recipients(ctx, tx, objectID, func(k node.VersionKey) (bool, error) {
			if k.Instance != inst {
				return false, nil
			}
			return rc.n.ActsOn(ctx, tx, p, node.ActRecall, objectID, []node.VersionKey{k})
		})
		if err != nil {
			return err
		}
		if len(parties) == 0 {
			return fmt.Errorf("%w: %s was never released to a partner: nothing to recall", node.ErrInvalid, objectID)
		}
		origin, err := instance.OriginOf(ctx, tx, rc.n.Config().Name, versions[len(versions)-1])
		if err != nil {
			return err
		}
		out, err = rc.recallIn(ctx, tx, p, objectID, origin, id, reason, parties)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recall %s: %w", objectID, err)
	}
	return out, nil
}

// recallIn issues recall id of objectID to parties in tx: per party, the
// signed notice in the outbox, the recall row and the audit entry. Recall
// and a delete over TAXII (taxii.go) call it.
func (rc *Service) recallIn(ctx context.Context, tx store.Tx, p *node.Principal, objectID string, origin int64, id, reason string, parties []partyRecall) ([]RecallStatus, error) {
	var out []RecallStatus
	now := rc.n.Now()
	for _, r := range parties {
		notice := &recall.Notice{ID: id, ObjectRef: objectID, Instance: origin, Versions: r.versions, Objects: r.objects, To: r.party, Reason: reason}
		signer, err := rc.n.Signer()
		if err != nil {
			return nil, err
		}
		raw, err := recall.SignNotice(signer, notice, now)
		if err != nil {
			return nil, err
		}
		row := store.Recall{ID: id, Party: r.party, ObjectID: objectID, Originator: rc.n.Config().Name, Objects: r.objects, Reason: reason,
			Notice: raw, State: store.RecallPending, Issued: now, By: p.Actor()}
		if err := tx.PutRecall(ctx, row); err != nil {
			return nil, err
		}
		if err := rc.n.Outbox().Enqueue(ctx, tx, r.party, store.OutboxRecall, raw); err != nil {
			return nil, err
		}
		// The reason is the originator's free text: it stays in the
		// recall row and the notice, not in the content-free log.
		if err := rc.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionRecallIssue, Object: objectID,
			Subject: "party:" + r.party, Decision: audit.Accept, Count: len(r.objects),
			Detail: clip.String("recall="+id+" objects="+strings.Join(r.objects, ","), 300)}); err != nil {
			return nil, err
		}
		out = append(out, recallStatus(row))
	}
	return out, nil
}

// partyRecall is what one party received of an object.
type partyRecall struct {
	party    string
	objects  []string
	versions []string
}

// recipients reads the ledger for every party objectID went to, whole or as
// a tearline, in party order, counting the releases of the versions keep
// keeps.
func recipients(ctx context.Context, r store.Reader, objectID string, keep func(node.VersionKey) (bool, error)) ([]partyRecall, error) {
	entries, err := r.Ledger(ctx, store.LedgerQuery{ObjectID: objectID})
	if err != nil {
		return nil, err
	}
	by := map[string]*partyRecall{}
	for _, e := range entries {
		var sent string
		switch e.Outcome {
		case store.LedgerRelease:
			sent = e.ObjectID
		case store.LedgerTearline:
			sent = e.TearlineID
		default:
			continue
		}
		if ok, err := keep(node.VersionKey{Instance: e.Instance, Modified: e.Modified}); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		pr := by[e.Party]
		if pr == nil {
			pr = &partyRecall{party: e.Party}
			by[e.Party] = pr
		}
		if sent != "" && !slices.Contains(pr.objects, sent) {
			pr.objects = append(pr.objects, sent)
		}
		if e.Modified != "" && !slices.Contains(pr.versions, e.Modified) {
			pr.versions = append(pr.versions, e.Modified)
		}
	}
	out := make([]partyRecall, 0, len(by))
	for _, pr := range by {
		if len(pr.objects) > 0 {
			out = append(out, *pr)
		}
	}
	slices.SortFunc(out, func(a, b partyRecall) int { return strings.Compare(a.party, b.party) })
	return out, nil
}

// RecallStatus returns the recalls selected by q (a recall id or an object
// id), one entry per party: who has acknowledged and who has not. Admins,
// releasers and auditors read it; it holds no content. The read is audited.
func (rc *Service) RecallStatus(ctx context.Context, p *node.Principal, q store.RecallQuery) ([]RecallStatus, error) {
	if err := node.Authorize(p, node.ActRecallRead); err != nil {
		return nil, fmt.Errorf("recall status: %w", err)
	}
	if q.ID == "" && q.ObjectID == "" {
		return nil, fmt.Errorf("recall status: %w: name a recall or an object", node.ErrInvalid)
	}
	var out []RecallStatus
	err := rc.n.Store().Update(ctx, func(tx store.Tx) error {
		rows, err := tx.Recalls(ctx, q)
		if err != nil {
			return err
		}
		out = make([]RecallStatus, 0, len(rows))
		for _, r := range rows {
			// A recall is there for p only if p may read every version it
			// recalls (auditors and admins see every level's metadata).
			versions, readable := noticeVersions(r.Notice)
			if r.Inbound && readable {
				// An inbound notice numbers the instance as its
				// originator does: the instance here is the one
				// holding it.
				versions, readable, err = rc.localKeys(ctx, tx, r, versions)
				if err != nil {
					return err
				}
			}
			ok, err := rc.n.ActsOn(ctx, tx, p, node.ActRecallRead, r.ObjectID, versions)
			if err != nil {
				return err
			}
			if ok && (readable || node.EveryLevel(p, node.ActRecallRead)) {
				out = append(out, recallStatus(r))
			}
		}
		return rc.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionRecallRead, Object: q.ObjectID,
			Decision: audit.Allow, Count: len(out), Detail: "recall=" + q.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("recall status: %w", err)
	}
	return out, nil
}

// noticeVersions reads the versions a stored recall notice names, of the
// instance it names (as its originator numbers it). The notice was
// verified, or made here, when it was stored; one that does not read is
// shown to no one who does not see every level (ok false).
func noticeVersions(notice []byte) (versions []node.VersionKey, ok bool) {
	var nt struct {
		Instance int64    `json:"instance"`
		Versions []string `json:"versions"`
	}
	if json.Unmarshal(notice, &nt) != nil {
		return nil, false
	}
	for _, m := range nt.Versions {
		versions = append(versions, node.VersionKey{Instance: nt.Instance, Modified: m})
	}
	return versions, true
}

// localKeys renumbers the versions of an inbound recall row r (by its
// originator's instance) as this node numbers them. A notice for an
// instance not held here names versions no one reads (ok false unless the
// caller sees every level).
func (rc *Service) localKeys(ctx context.Context, r store.Reader, row store.Recall, versions []node.VersionKey) ([]node.VersionKey, bool, error) {
	if len(versions) == 0 {
		return versions, true, nil
	}
	k, held, err := instance.Local(ctx, r, rc.n.Config().Name, row.ObjectID, instance.Origin{Originator: row.Originator, Instance: versions[0].Instance})
	if err != nil || !held {
		return nil, false, err
	}
	out := make([]node.VersionKey, len(versions))
	for i, v := range versions {
		out[i] = node.VersionKey{Instance: k, Modified: v.Modified}
	}
	return out, true, nil
}

// ReceiveRecall honours a recall notice from peer: it must verify under the
// keyring, come from its originator, be addressed to this node, and every
// object of it this node holds must have that originator. Everything named
// is purged (an id not held is tombstoned, so a late delivery cannot bring
// it in), and so is every tearline this node made from it for others, with
// its derived-from relationship. A signed acknowledgement is queued back in
// the same transaction. A repeated notice is answered with the same
// acknowledgement.
func (rc *Service) ReceiveRecall(ctx context.Context, peer *node.Peer, payload []byte) error {
	ring, err := rc.n.Keyring()
	if err != nil {
		return err
	}
	notice, err := recall.VerifyNotice(ring, payload)
	if err != nil {
		return rc.refuseRecall(ctx, peer, "", err)
	}
	switch {
	case notice.Originator != peer.Name:
		return rc.refuseRecall(ctx, peer, notice.ObjectRef, fmt.Errorf("notice %s is signed by %s but was sent by %s", notice.ID, notice.Originator, peer.Name))
	case notice.To != rc.n.Config().Name:
		return rc.refuseRecall(ctx, peer, notice.ObjectRef, fmt.Errorf("notice %s is addressed to %s, not this node", notice.ID, notice.To))
	}
	actor := "peer:" + peer.Name
	purgedAny := false
	err = rc.n.Outbox().Update(ctx, func(tx store.Tx) error {
		purgedAny = false
		rows, err := tx.Recalls(ctx, store.RecallQuery{ID: notice.ID})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Inbound && r.Party == peer.Name && len(r.Ack) > 0 {
				if err := rc.n.Outbox().Enqueue(ctx, tx, peer.Name, store.OutboxAck, r.Ack); err != nil {
					return err
				}
				return rc.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionRecallReceive, Object: notice.ObjectRef,
					Subject: "party:" + peer.Name, Decision: audit.Accept, Detail: "recall=" + notice.ID + " repeated: acknowledged again"})
			}
		}

		// Check everything before purging anything: a notice naming an
		// object of another originator that went to the peer is refused
		// whole. One that never went to the peer is not the peer's to know
		// of: it is answered exactly as an id not held (listed not held,
		// neither purged nor tombstoned), so a partner cannot probe what
		// this node holds from others.
		var targets []target
		var notHeld []string
		foreign := map[string]bool{}
		self := rc.n.Config().Name
		for _, id := range notice.Objects {
			versions, err := tx.Versions(ctx, id)
			if err != nil {
				return err
			}
			if len(versions) == 0 {
				notHeld = append(notHeld, id)
				continue
			}
			orig, err := node.OriginatorOf(ctx, tx, id, versions)
			if err != nil {
				return err
			}
			if orig != notice.Originator {
				went, err := node.WentTo(ctx, tx, id, peer.Name)
				if err != nil {
					return err
				}
				if !went {
					foreign[id] = true
					notHeld = append(notHeld, id)
					continue
				}
				return fmt.Errorf("%w: %s was originated by %s, not by %s", errRecallRefused, id, orig, notice.Originator)
			}
			// The instance here that holds the one recalled (the notice
			// numbers it as its originator does; the tearlines it names
			// are their own ids, of instance 0 there).
			origin := int64(0)
			if id == notice.ObjectRef {
				origin = notice.Instance
			}
			k, held, err := instance.Local(ctx, tx, self, id, instance.Origin{Originator: notice.Originator, Instance: origin})
			if err != nil {
				return err
			}
			if !held {
				// Other instances of the id are held, not the one
				// recalled: it never came here.
				foreign[id] = true
				notHeld = append(notHeld, id)
				continue
			}
			targets = append(targets, target{id: id, instance: k})
		}
		// Tearlines made here from what is recalled, for onward release.
		for _, tg := range slices.Clone(targets) {
			derived, err := derivedHere(ctx, tx, tg.id, tg.instance)
			if err != nil {
				return err
			}
			for _, d := range derived {
				if !slices.ContainsFunc(targets, func(x target) bool { return x.id == d }) {
					targets = append(targets, target{id: d})
				}
			}
		}

		now := rc.n.Now()
		purged := []string{}
		for _, tg := range targets {
			versions, err := rc.purgeInstance(ctx, tx, actor, tg, now)
			if err != nil {
				return err
			}
			if len(versions) > 0 {
				purged = append(purged, tg.id)
				purgedAny = true
			}
		}
		// An id not held now was either purged before (it stays purged) or
		// never came: its tombstone keeps it from arriving later.
		var tombs map[string]bool
		var never []string
		for _, id := range notHeld {
			if foreign[id] {
				never = append(never, id)
				continue
			}
			if tombs == nil {
				ts, err := tx.Tombstones(ctx)
				if err != nil {
					return err
				}
				tombs = map[string]bool{}
				for _, t := range ts {
					tombs[t.ID] = true
				}
			}
			if tombs[id] {
				purged = append(purged, id)
				continue
			}
			if _, err := tx.PurgeVersions(ctx, store.WholeObject(id, now, node.PurgeRecall)); err != nil {
				return err
			}
			never = append(never, id)
		}

		ack := &recall.Ack{RecallRef: notice.ID, ObjectRef: notice.ObjectRef, Purged: purged, NotHeld: never}
		signer, err := rc.n.Signer()
		if err != nil {
			return err
		}
		raw, err := recall.SignAck(signer, ack, now)
		if err != nil {
			return err
		}
		issued, _ := time.Parse(time.RFC3339Nano, notice.Issued)
		row := store.Recall{ID: notice.ID, Party: peer.Name, ObjectID: notice.ObjectRef, Originator: notice.Originator, Inbound: true,
			Objects: notice.Objects, Reason: notice.Reason, Notice: payload, State: store.RecallAcknowledged, Issued: issued,
			AckedAt: now, Ack: raw}
		if err := tx.PutRecall(ctx, row); err != nil {
			return err
		}
		if err := rc.n.Outbox().Enqueue(ctx, tx, peer.Name, store.OutboxAck, raw); err != nil {
			return err
		}
		return rc.n.AppendAudit(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionRecallReceive, Object: notice.ObjectRef,
			Subject: "party:" + peer.Name, Decision: audit.Accept, Reasons: []string{node.PurgeRecall}, Count: len(purged),
			Detail: clip.String("recall="+notice.ID+" purged="+strings.Join(purged, ",")+" not_held="+strings.Join(never, ",")+
				" held_from_others="+strings.Join(slices.Sorted(maps.Keys(foreign)), ","), 300)})
	})
	if errors.Is(err, errRecallRefused) {
		return rc.refuseRecall(ctx, peer, notice.ObjectRef, err)
	}
	if err != nil {
		return fmt.Errorf("recall %s from %s: %w", notice.ID, peer.Name, err)
	}
	if purgedAny {
		rc.n.Scrub(ctx)
	}
	return nil
}

// target is an instance of an id a recall purges here.
type target struct {
	id       string
	instance int64
}

// purgeInstance purges instance tg.instance of tg.id, in tx, for a
// recall, and returns the versions purged. The id's other instances here
// (another originator's, this node's own, or another instance of the same
// originator) are not touched.
func (rc *Service) purgeInstance(ctx context.Context, tx store.Tx, actor string, tg target, now time.Time) ([]string, error) {
	ts, err := rc.n.PurgeIn(ctx, tx, actor, store.Purge{ID: tg.id, Instance: tg.instance, PurgedAt: now, Reason: node.PurgeRecall})
	return store.PurgedVersions(ts), err
}

// derivedHere returns the tearlines this node made from instance inst of
// id (its ledger says so) and their derived-from relationships (whose ids
// follow from the tearline's, see makeTearline).
func derivedHere(ctx context.Context, r store.Reader, id string, inst int64) ([]string, error) {
	entries, err := r.Ledger(ctx, store.LedgerQuery{ObjectID: id})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.TearlineID == "" || e.Instance != inst || slices.Contains(out, e.TearlineID) {
			continue
		}
		out = append(out, e.TearlineID,
			release.DerivedFromID(e.TearlineID))
	}
	return out, nil
}

// refuseRecall audits a refused recall message from peer and returns the
// error the sender sees: node.ErrRefused, so it is not retried.
func (rc *Service) refuseRecall(ctx context.Context, peer *node.Peer, object string, why error) error {
	ev := audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionRecallRefuse, Object: object, Subject: "party:" + peer.Name,
		Decision: audit.Refuse, Detail: clip.String(why.Error(), 300)}
	if err := rc.n.Store().Update(ctx, func(tx store.Tx) error { return rc.n.AppendAudit(ctx, tx, ev) }); err != nil {
		// Not audited, so not answered either way: the sender retries.
		return fmt.Errorf("recall from %s: audit refusal: %w", peer.Name, err)
	}
	return fmt.Errorf("recall from %s: %w: %v", peer.Name, node.ErrRefused, why)
}

// ReceiveRecallAck records peer's signed acknowledgement of a recall this
// node sent it. A repeated acknowledgement changes nothing.
func (rc *Service) ReceiveRecallAck(ctx context.Context, peer *node.Peer, payload []byte) error {
	ring, err := rc.n.Keyring()
	if err != nil {
		return err
	}
	a, err := recall.VerifyAck(ring, payload)
	if err != nil {
		return rc.refuseRecall(ctx, peer, "", err)
	}
	if a.Node != peer.Name {
		return rc.refuseRecall(ctx, peer, a.ObjectRef, fmt.Errorf("acknowledgement %s is signed by %s but was sent by %s", a.ID, a.Node, peer.Name))
	}
	err = rc.n.Store().Update(ctx, func(tx store.Tx) error {
		rows, err := tx.Recalls(ctx, store.RecallQuery{ID: a.RecallRef})
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rows, func(r store.Recall) bool { return !r.Inbound && r.Party == peer.Name })
		if i < 0 {
			return fmt.Errorf("%w: %s did not go to %s from here", errRecallRefused, a.RecallRef, peer.Name)
		}
		if rows[i].State == store.RecallAcknowledged {
			return nil
		}
		if err := tx.AckRecall(ctx, a.RecallRef, peer.Name, rc.n.Now(), payload); err != nil {
			return err
		}
		return rc.n.AppendAudit(ctx, tx, audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionRecallAck, Object: rows[i].ObjectID,
			Subject: "party:" + peer.Name, Decision: audit.Accept, Count: len(a.Purged),
			Detail: clip.String("recall="+a.RecallRef+" purged="+strings.Join(a.Purged, ",")+" not_held="+strings.Join(a.NotHeld, ","), 300)})
	})
	if errors.Is(err, errRecallRefused) {
		return rc.refuseRecall(ctx, peer, a.ObjectRef, err)
	}
	if err != nil {
		return fmt.Errorf("recall acknowledgement from %s: %w", peer.Name, err)
	}
	return nil
}

// LedgerRecalls returns, for dissemination ledger entries already read
// (and audited) with Ledger, the latest recall of each entry's object from
// each entry's party, keyed by LedgerRecallKey: so the ledger shows whether
// each recipient acknowledged a recall. Auditors and admins read it.
func (rc *Service) LedgerRecalls(ctx context.Context, p *node.Principal, entries []store.LedgerEntry) (map[string]RecallStatus, error) {
	if err := node.Authorize(p, node.ActLedgerRead); err != nil {
		return nil, fmt.Errorf("ledger recalls: %w", err)
	}
	out := map[string]RecallStatus{}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.ObjectID] {
			continue
		}
		seen[e.ObjectID] = true
		rows, err := rc.n.Store().Recalls(ctx, store.RecallQuery{ObjectID: e.ObjectID})
		if err != nil {
			return nil, fmt.Errorf("ledger recalls: %w", err)
		}
		for _, r := range rows { // oldest first: the latest recall wins
			if !r.Inbound {
				// A recall is of one instance: its notice names it.
				out[LedgerRecallKey(r.ObjectID, noticeInstance(r.Notice), r.Party)] = recallStatus(r)
			}
		}
	}
	return out, nil
}

// LedgerRecallKey is the key of LedgerRecalls' map: a ledger entry's
// object, instance and party.
func LedgerRecallKey(objectID string, instance int64, party string) string {
	return objectID + "\x00" + strconv.FormatInt(instance, 10) + "\x00" + party
}

// noticeInstance reads the instance a stored notice names (0 when none).
func noticeInstance(notice []byte) int64 {
	var nt struct {
		Instance int64 `json:"instance"`
	}
	_ = json.Unmarshal(notice, &nt)
	return nt.Instance
}

// Recipients names the parties the versions of id named went to, whole
// or as a tearline (the ledger says so), for a delete that must recall
// them first.
func (rc *Service) Recipients(ctx context.Context, r store.Reader, id string, versions []node.VersionKey) ([]string, error) {
	parties, err := recipients(ctx, r, id, among(versions))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(parties))
	for i, pr := range parties {
		out[i] = pr.party
	}
	return out, nil
}

// among keeps the versions named.
func among(versions []node.VersionKey) func(node.VersionKey) (bool, error) {
	return func(k node.VersionKey) (bool, error) { return slices.Contains(versions, k), nil }
}

// RecallIn recalls the releases of the versions of id named from every
// party they went to, in tx, as p and for reason (a delete over TAXII,
// which purges those versions after it): a recall per instance, each
// notice naming exactly the versions of its party's releases among them.
// The caller has checked that p may read every version named.
func (rc *Service) RecallIn(ctx context.Context, tx store.Tx, p *node.Principal, id string, versions []node.VersionKey, reason string) error {
	var insts []int64
	for _, v := range versions {
		if !slices.Contains(insts, v.Instance) {
			insts = append(insts, v.Instance)
		}
	}
	for _, k := range insts {
		parties, err := recipients(ctx, tx, id, func(v node.VersionKey) (bool, error) {
			return v.Instance == k && slices.Contains(versions, v), nil
		})
		if err != nil {
			return err
		}
		if len(parties) == 0 {
			continue
		}
		if _, err := rc.recallIn(ctx, tx, p, id, k, recall.NewID(), reason, parties); err != nil {
			return err
		}
	}
	return nil
}

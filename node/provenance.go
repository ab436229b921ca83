package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/store"
)

// RecordProvenance records how a received object came here: its originator
// and the hops it travelled under agreement versions, ending at this node.
// Federation calls it on receipt; an admin may record it for material that
// arrived by other means. It is written once and never changed.
func (n *Node) RecordProvenance(ctx context.Context, p *Principal, prov store.Provenance) error {
	if err := authorize(p, ActProvenanceIn); err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	if prov.ObjectID == "" || prov.Originator == "" {
		return fmt.Errorf("provenance: %w: object and originator are required", ErrInvalid)
	}
	if len(prov.Hops) > 0 && prov.ReceivedFrom == "" {
		prov.ReceivedFrom = prov.Hops[len(prov.Hops)-1].From
	}
	if prov.ReceivedAt.IsZero() {
		prov.ReceivedAt = n.now()
	}
	var hops []string
	for _, h := range prov.Hops {
		hops = append(hops, fmt.Sprintf("%s>%s@%s", h.From, h.To, agreementKey(h.Agreement, h.Version)))
	}
	err := n.st.Update(ctx, func(tx store.Tx) error {
		if err := n.authorizeObject(ctx, tx, p, ActProvenanceIn, prov.ObjectID, "", fmt.Errorf("object %s: %w", prov.ObjectID, ErrNotFound)); err != nil {
			return err
		}
		if err := tx.PutProvenance(ctx, prov); err != nil {
			return err
		}
		return n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionProvenanceRecord, Object: prov.ObjectID,
			Subject: "node:" + prov.Originator, Decision: audit.Accept, Detail: truncate("hops="+strings.Join(hops, ","), 300)})
	})
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", prov.ObjectID, err)
	}
	return nil
}

// RecordConsent records the originator's consent to release objectID to
// party (ORCON, third-party rule). The originator must be the object's
// recorded originator: a consent by anyone else means nothing.
func (n *Node) RecordConsent(ctx context.Context, p *Principal, objectID, originator, party string) (store.Consent, error) {
	if err := authorize(p, ActConsent); err != nil {
		return store.Consent{}, fmt.Errorf("consent: %w", err)
	}
	c := store.Consent{ObjectID: objectID, Originator: originator, To: party, By: p.Actor(), At: n.now()}
	err := n.st.Update(ctx, func(tx store.Tx) error {
		if err := n.authorizeObject(ctx, tx, p, ActConsent, objectID, "", fmt.Errorf("object %s: %w", objectID, ErrNotFound)); err != nil {
			return err
		}
		prov, err := tx.Provenance(ctx, objectID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s has no recorded provenance: consent applies to material from another originator", ErrInvalid, objectID)
		}
		if err != nil {
			return err
		}
		if prov.Originator != originator {
			return fmt.Errorf("%w: %s was originated by %s, not %s", ErrInvalid, objectID, prov.Originator, originator)
		}
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		return n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionConsentRecord, Object: objectID,
			Subject: "party:" + party, Decision: audit.Accept, Detail: "originator=" + originator})
	})
	if err != nil {
		return store.Consent{}, fmt.Errorf("consent for %s: %w", objectID, err)
	}
	return c, nil
}

// Consents lists the consents recorded for objectID.
func (n *Node) Consents(ctx context.Context, p *Principal, objectID string) ([]store.Consent, error) {
	if err := authorize(p, ActConsentRead); err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	// An object p may not read has no consents p can see, as one that
	// does not exist has none.
	if ok, err := n.actsOn(ctx, n.st, p, ActConsentRead, objectID, nil); err != nil || !ok {
		return nil, err
	}
	return n.st.Consents(ctx, objectID)
}

// Ledger returns the dissemination ledger: for an object, every party it
// went to (or was refused to), under which agreement and term, and when;
// for an agreement, what was released, refused and approved in [from, to).
// Only auditors and admins read it; it holds ids, labels, parties and
// decisions, never content, so no clearance is needed. The read is audited.
func (n *Node) Ledger(ctx context.Context, p *Principal, q store.LedgerQuery) ([]store.LedgerEntry, error) {
	if err := authorize(p, ActLedgerRead); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if q.ObjectID == "" && q.Agreement == "" {
		return nil, fmt.Errorf("ledger: %w: name an object or an agreement", ErrInvalid)
	}
	var out []store.LedgerEntry
	err := n.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if out, err = tx.Ledger(ctx, q); err != nil {
			return err
		}
		detail := "agreement=" + q.Agreement + " from=" + timeOrEmpty(q.From) + " to=" + timeOrEmpty(q.To)
		return n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionLedgerRead, Object: q.ObjectID,
			Decision: audit.Allow, Count: len(out), Detail: detail})
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return out, nil
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

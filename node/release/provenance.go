package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// RecordProvenance records how a received object came here: its originator
// and the hops it travelled under agreement versions, ending at this node.
// Federation calls it on receipt; an admin may record it for material that
// arrived by other means. It is written once and never changed.
func (rs *Service) RecordProvenance(ctx context.Context, p *node.Principal, prov store.Provenance) error {
	if err := node.Authorize(p, node.ActProvenanceIn); err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	if prov.ObjectID == "" || prov.Originator == "" {
		return fmt.Errorf("provenance: %w: object and originator are required", node.ErrInvalid)
	}
	if len(prov.Hops) > 0 && prov.ReceivedFrom == "" {
		prov.ReceivedFrom = prov.Hops[len(prov.Hops)-1].From
	}
	if prov.ReceivedAt.IsZero() {
		prov.ReceivedAt = rs.n.Now()
	}
	var hops []string
	for _, h := range prov.Hops {
		hops = append(hops, fmt.Sprintf("%s>%s@%s", h.From, h.To, node.AgreementKey(h.Agreement, h.Version)))
	}
	err := rs.n.Store().Update(ctx, func(tx store.Tx) error {
		if err := rs.n.AuthorizeObject(ctx, tx, p, node.ActProvenanceIn, prov.ObjectID, nil, fmt.Errorf("object %s: %w", prov.ObjectID, node.ErrNotFound)); err != nil {
			return err
		}
		if err := tx.PutProvenance(ctx, prov); err != nil {
			return err
		}
		return rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionProvenanceRecord, Object: prov.ObjectID,
			Subject: "node:" + prov.Originator, Decision: audit.Accept, Detail: clip.String("hops="+strings.Join(hops, ","), 300)})
	})
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", prov.ObjectID, err)
	}
	return nil
}

// RecordConsent records the originator's consent to release objectID to
// party (ORCON, third-party rule). The originator must be the object's
// recorded originator: a consent by anyone else means nothing.
func (rs *Service) RecordConsent(ctx context.Context, p *node.Principal, objectID, originator, party string) (store.Consent, error) {
	if err := node.Authorize(p, node.ActConsent); err != nil {
		return store.Consent{}, fmt.Errorf("consent: %w", err)
	}
	c := store.Consent{ObjectID: objectID, Originator: originator, To: party, By: p.Actor(), At: rs.n.Now()}
	err := rs.n.Store().Update(ctx, func(tx store.Tx) error {
		if err := rs.n.AuthorizeObject(ctx, tx, p, node.ActConsent, objectID, nil, fmt.Errorf("object %s: %w", objectID, node.ErrNotFound)); err != nil {
			return err
		}
		prov, err := tx.Provenance(ctx, objectID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s has no recorded provenance: consent applies to material from another originator", node.ErrInvalid, objectID)
		}
		if err != nil {
			return err
		}
		if prov.Originator != originator {
			return fmt.Errorf("%w: %s was originated by %s, not %s", node.ErrInvalid, objectID, prov.Originator, originator)
		}
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		return rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionConsentRecord, Object: objectID,
			Subject: "party:" + party, Decision: audit.Accept, Detail: "originator=" + originator})
	})
	if err != nil {
		return store.Consent{}, fmt.Errorf("consent for %s: %w", objectID, err)
	}
	return c, nil
}

// Consents lists the consents recorded for objectID.
func (rs *Service) Consents(ctx context.Context, p *node.Principal, objectID string) ([]store.Consent, error) {
	if err := node.Authorize(p, node.ActConsentRead); err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	// An object p may not read has no consents p can see, as one that
	// does not exist has none.
	if ok, err := rs.n.ActsOn(ctx, rs.n.Store(), p, node.ActConsentRead, objectID, nil); err != nil || !ok {
		return nil, err
	}
	return rs.n.Store().Consents(ctx, objectID)
}

// Ledger returns the dissemination ledger: for an object, every party it
// went to (or was refused to), under which agreement and term, and when;
// for an agreement or a partner, what was released, refused and approved
// in [from, to); at most q.Limit entries, oldest first, and never more
// than MaxLedgerRows. Only auditors and admins read it; it holds ids, labels, parties and
// decisions, never content, so no clearance is needed. The read is audited.
// MaxLedgerRows is the most entries one Ledger read returns: a report
// over a longer period is read in parts (from, to).
const MaxLedgerRows = 10000

func (rs *Service) Ledger(ctx context.Context, p *node.Principal, q store.LedgerQuery) ([]store.LedgerEntry, error) {
	if err := node.Authorize(p, node.ActLedgerRead); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if q.ObjectID == "" && q.Agreement == "" && q.Party == "" {
		return nil, fmt.Errorf("ledger: %w: name an object, an agreement or a partner", node.ErrInvalid)
	}
	if q.Limit <= 0 || q.Limit > MaxLedgerRows {
		q.Limit = MaxLedgerRows
	}
	var out []store.LedgerEntry
	err := rs.n.Store().Update(ctx, func(tx store.Tx) error {
		var err error
		if out, err = tx.Ledger(ctx, q); err != nil {
			return err
		}
		detail := "agreement=" + q.Agreement + " from=" + timeOrEmpty(q.From) + " to=" + timeOrEmpty(q.To)
		if q.Party != "" {
			detail += " party=" + q.Party
		}
		return rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionLedgerRead, Object: q.ObjectID,
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

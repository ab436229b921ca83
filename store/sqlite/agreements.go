package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// sharingReader reads the tables of sharing with partners: agreements,
// provenance, consents, release requests and the ledger.
// sharingReader and sharingWriter read and write the sharing records:
// agreements, provenance, consents, release requests, the ledger and
// recalls (recalls.go).
type sharingReader struct{ q querier }

type sharingWriter struct{ txConn }

// Agreements, provenance, consents, the release queue and the
// dissemination ledger (migration 4). Lists are kept as JSON text. Rows
// are read by package scan, which expects the columns in the order these
// statements select them.

const agreementCols = `id, version, state, since_us, document, updated_us`

func (r sharingReader) Agreement(ctx context.Context, id string, version int) (store.Agreement, error) {
	a, err := scan.Agreement(r.q.QueryRowContext(ctx, `SELECT `+agreementCols+` FROM agreements WHERE id = ? AND version = ?`, id, version))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("agreement %s v%d: %w", id, version, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("agreement %s v%d: %w", id, version, err)
	}
	return a, nil
}

func (r sharingReader) Agreements(ctx context.Context) ([]store.Agreement, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+agreementCols+` FROM agreements ORDER BY id, version`)
	if err != nil {
		return nil, fmt.Errorf("agreements: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("agreements", scan.Agreement))
}

func (r sharingReader) AgreementHistory(ctx context.Context, id string) ([]store.AgreementTransition, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, version, from_state, to_state, at_us, actor, note FROM agreement_history WHERE id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("agreement history %s: %w", id, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("agreement history "+id, scan.AgreementTransition))
}

func (r sharingReader) Provenance(ctx context.Context, objectID string) (store.Provenance, error) {
	p, err := scan.Provenance(r.q.QueryRowContext(ctx, `SELECT object_id, originator, received_from, hops, received_us, derived_from FROM provenance WHERE object_id = ?`, objectID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("provenance of %s: %w", objectID, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("provenance of %s: %w", objectID, err)
	}
	return p, nil
}

func (r sharingReader) Consents(ctx context.Context, objectID string) ([]store.Consent, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT object_id, originator, to_party, actor, at_us FROM consents WHERE object_id = ? ORDER BY seq`, objectID)
	if err != nil {
		return nil, fmt.Errorf("consents of %s: %w", objectID, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("consents of "+objectID, scan.Consent))
}

const requestCols = `id, object_id, modified, party, agreement, agreement_version, purpose, requester, decision, required, approvals, state, reason, created_us, updated_us, instance`

func (r sharingReader) ReleaseRequest(ctx context.Context, id string) (store.ReleaseRequest, error) {
	q, err := scan.ReleaseRequest(r.q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM release_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return q, fmt.Errorf("release request %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return q, fmt.Errorf("release request %s: %w", id, err)
	}
	return q, nil
}

func (r sharingReader) ReleaseRequests(ctx context.Context, state string) ([]store.ReleaseRequest, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+requestCols+` FROM release_requests WHERE ? = '' OR state = ? ORDER BY created_us, id`, state, state)
	if err != nil {
		return nil, fmt.Errorf("release requests: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("release requests", scan.ReleaseRequest))
}

const ledgerCols = `seq, object_id, modified, party, agreement, agreement_version, term, outcome, tearline_id, labels, reasons, state, request, actor, at_us, instance`

func (r sharingReader) Ledger(ctx context.Context, q store.LedgerQuery) ([]store.LedgerEntry, error) {
	from, to := int64(0), int64(1<<62)
	if !q.From.IsZero() {
		from = q.From.UnixMicro()
	}
	if !q.To.IsZero() {
		to = q.To.UnixMicro()
	}
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+ledgerCols+` FROM ledger
		WHERE (? = '' OR object_id = ?) AND (? = '' OR agreement = ?) AND (? = '' OR party = ?) AND at_us >= ? AND at_us < ? ORDER BY seq LIMIT ?`,
		q.ObjectID, q.ObjectID, q.Agreement, q.Agreement, q.Party, q.Party, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.LedgerEntry)
}

func (t sharingWriter) PutAgreement(ctx context.Context, a store.Agreement) error {
	_, err := t.t.ExecContext(ctx, `INSERT INTO agreements (`+agreementCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id, version) DO UPDATE SET state = excluded.state, since_us = excluded.since_us, document = excluded.document, updated_us = excluded.updated_us`,
		a.ID, a.Version, a.State, a.Since.UnixMicro(), a.Document, a.Updated.UnixMicro())
	if err != nil {
		return fmt.Errorf("put agreement %s v%d: %w", a.ID, a.Version, err)
	}
	return nil
}

func (t sharingWriter) AppendAgreementTransition(ctx context.Context, h store.AgreementTransition) error {
	_, err := t.t.ExecContext(ctx, `INSERT INTO agreement_history (id, version, from_state, to_state, at_us, actor, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.Version, h.From, h.To, h.At.UnixMicro(), h.By, h.Note)
	if err != nil {
		return fmt.Errorf("agreement %s v%d transition: %w", h.ID, h.Version, err)
	}
	return nil
}

func (t sharingWriter) PutProvenance(ctx context.Context, p store.Provenance) error {
	hj, err := scan.JSONList(p.Hops)
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", p.ObjectID, err)
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO provenance (object_id, originator, received_from, hops, received_us, derived_from) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_id) DO NOTHING`, p.ObjectID, p.Originator, p.ReceivedFrom, hj, p.ReceivedAt.UnixMicro(), p.DerivedFrom)
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", p.ObjectID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("provenance of %s: %w", p.ObjectID, store.ErrExists)
	}
	return nil
}

func (t sharingWriter) PutConsent(ctx context.Context, c store.Consent) error {
	_, err := t.t.ExecContext(ctx, `INSERT INTO consents (object_id, originator, to_party, actor, at_us) VALUES (?, ?, ?, ?, ?)`,
		c.ObjectID, c.Originator, c.To, c.By, c.At.UnixMicro())
	if err != nil {
		return fmt.Errorf("consent for %s: %w", c.ObjectID, err)
	}
	return nil
}

func (t sharingWriter) PutReleaseRequest(ctx context.Context, q store.ReleaseRequest) error {
	aj, err := scan.JSONList(q.Approvals)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	if q.Decision == nil {
		q.Decision = []byte("{}")
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO release_requests (`+requestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		q.ID, q.ObjectID, q.Modified, q.Party, q.Agreement, q.AgreementVersion, q.Purpose, q.Requester, q.Decision, q.Required, aj,
		q.State, q.Reason, q.Created.UnixMicro(), q.Updated.UnixMicro(), q.Instance)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("release request %s: %w", q.ID, store.ErrExists)
	}
	return nil
}

func (t sharingWriter) UpdateReleaseRequest(ctx context.Context, q store.ReleaseRequest) error {
	aj, err := scan.JSONList(q.Approvals)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	res, err := t.t.ExecContext(ctx, `UPDATE release_requests SET approvals = ?, state = ?, reason = ?, updated_us = ? WHERE id = ?`,
		aj, q.State, q.Reason, q.Updated.UnixMicro(), q.ID)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("release request %s: %w", q.ID, store.ErrNotFound)
	}
	return nil
}

func (t sharingWriter) AppendLedger(ctx context.Context, e store.LedgerEntry) (int64, error) {
	lj, err := scan.JSONList(e.Labels)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	rj, err := scan.JSONList(e.Reasons)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	res, err := t.t.ExecContext(ctx, `INSERT INTO ledger (object_id, modified, party, agreement, agreement_version, term, outcome, tearline_id, labels, reasons, state, request, actor, at_us, instance)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ObjectID, e.Modified, e.Party, e.Agreement, e.AgreementVersion, e.Term, e.Outcome, e.TearlineID, lj, rj, e.State, e.Request, e.By, e.At.UnixMicro(), e.Instance)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	return res.LastInsertId()
}

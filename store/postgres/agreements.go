package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/internal/scan"
)

// sharingReader reads the tables of sharing with partners: agreements,
// provenance, consents, release requests and the ledger.
// sharingReader and sharingWriter read and write the sharing records:
// agreements, provenance, consents, release requests, the ledger and
// recalls (recalls.go).
type sharingReader struct{ q querier }

type sharingWriter struct{ *txConn }

// Agreements, provenance, consents, the release queue and the
// dissemination ledger (migration 3). Lists are kept as JSON text. Rows
// are read by package scan, which expects the columns in the order these
// statements select them.

const agreementCols = `id, version, state, since_us, document, updated_us`

func (r sharingReader) Agreement(ctx context.Context, id string, version int) (store.Agreement, error) {
	a, err := scan.Agreement(r.q.QueryRow(ctx, `SELECT `+agreementCols+` FROM agreements WHERE id = $1 AND version = $2`, id, version))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("agreement %s v%d: %w", id, version, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("agreement %s v%d: %w", id, version, err)
	}
	return a, nil
}

func (r sharingReader) Agreements(ctx context.Context) ([]store.Agreement, error) {
	rows, err := r.q.Query(ctx, `SELECT `+agreementCols+` FROM agreements ORDER BY id, version`)
	if err != nil {
		return nil, fmt.Errorf("agreements: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("agreements", scan.Agreement))
}

func (r sharingReader) AgreementHistory(ctx context.Context, id string) ([]store.AgreementTransition, error) {
	rows, err := r.q.Query(ctx, `SELECT id, version, from_state, to_state, at_us, actor, note FROM agreement_history WHERE id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("agreement history %s: %w", id, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("agreement history "+id, scan.AgreementTransition))
}

func (r sharingReader) Provenance(ctx context.Context, objectID string) (store.Provenance, error) {
	p, err := scan.Provenance(r.q.QueryRow(ctx, `SELECT object_id, originator, received_from, hops, received_us, derived_from FROM provenance WHERE object_id = $1`, objectID))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("provenance of %s: %w", objectID, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("provenance of %s: %w", objectID, err)
	}
	return p, nil
}

func (r sharingReader) Consents(ctx context.Context, objectID string) ([]store.Consent, error) {
	rows, err := r.q.Query(ctx, `SELECT object_id, originator, to_party, actor, at_us FROM consents WHERE object_id = $1 ORDER BY seq`, objectID)
	if err != nil {
		return nil, fmt.Errorf("consents of %s: %w", objectID, err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.WrapErrors("consents of "+objectID, scan.Consent))
}

const requestCols = `id, object_id, modified, party, agreement, agreement_version, purpose, requester, decision, required, approvals, state, reason, created_us, updated_us, instance`

func (r sharingReader) ReleaseRequest(ctx context.Context, id string) (store.ReleaseRequest, error) {
	q, err := scan.ReleaseRequest(r.q.QueryRow(ctx, `SELECT `+requestCols+` FROM release_requests WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return q, fmt.Errorf("release request %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return q, fmt.Errorf("release request %s: %w", id, err)
	}
	return q, nil
}

func (r sharingReader) ReleaseRequests(ctx context.Context, state string) ([]store.ReleaseRequest, error) {
	rows, err := r.q.Query(ctx, `SELECT `+requestCols+` FROM release_requests WHERE $1::text = '' OR state = $2 ORDER BY created_us, id`, state, state)
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
	var limit *int64 // NULL: no limit
	if q.Limit > 0 {
		l := int64(q.Limit)
		limit = &l
	}
	rows, err := r.q.Query(ctx, `SELECT `+ledgerCols+` FROM ledger
		WHERE ($1::text = '' OR object_id = $2) AND ($3::text = '' OR agreement = $4) AND ($5::text = '' OR party = $6)
		AND at_us >= $7 AND at_us < $8 ORDER BY seq LIMIT $9`,
		q.ObjectID, q.ObjectID, q.Agreement, q.Agreement, q.Party, q.Party, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	return scan.Collect(rows, scan.LedgerEntry)
}

func (t sharingWriter) PutAgreement(ctx context.Context, a store.Agreement) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	_, err := t.t.Exec(ctx, `INSERT INTO agreements (`+agreementCols+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id, version) DO UPDATE SET state = excluded.state, since_us = excluded.since_us, document = excluded.document, updated_us = excluded.updated_us`,
		a.ID, a.Version, a.State, a.Since.UnixMicro(), nz(a.Document), a.Updated.UnixMicro())
	if err != nil {
		return fmt.Errorf("put agreement %s v%d: %w", a.ID, a.Version, err)
	}
	return nil
}

func (t sharingWriter) AppendAgreementTransition(ctx context.Context, h store.AgreementTransition) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	_, err := t.t.Exec(ctx, `INSERT INTO agreement_history (id, version, from_state, to_state, at_us, actor, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		h.ID, h.Version, h.From, h.To, h.At.UnixMicro(), h.By, h.Note)
	if err != nil {
		return fmt.Errorf("agreement %s v%d transition: %w", h.ID, h.Version, err)
	}
	return nil
}

func (t sharingWriter) PutProvenance(ctx context.Context, p store.Provenance) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	hj, err := scan.JSONList(p.Hops)
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", p.ObjectID, err)
	}
	res, err := t.t.Exec(ctx, `INSERT INTO provenance (object_id, originator, received_from, hops, received_us, derived_from) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (object_id) DO NOTHING`, p.ObjectID, p.Originator, p.ReceivedFrom, hj, p.ReceivedAt.UnixMicro(), p.DerivedFrom)
	if err != nil {
		return fmt.Errorf("provenance of %s: %w", p.ObjectID, err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("provenance of %s: %w", p.ObjectID, store.ErrExists)
	}
	return nil
}

func (t sharingWriter) PutConsent(ctx context.Context, c store.Consent) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	_, err := t.t.Exec(ctx, `INSERT INTO consents (object_id, originator, to_party, actor, at_us) VALUES ($1, $2, $3, $4, $5)`,
		c.ObjectID, c.Originator, c.To, c.By, c.At.UnixMicro())
	if err != nil {
		return fmt.Errorf("consent for %s: %w", c.ObjectID, err)
	}
	return nil
}

func (t sharingWriter) PutReleaseRequest(ctx context.Context, q store.ReleaseRequest) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	aj, err := scan.JSONList(q.Approvals)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	if q.Decision == nil {
		q.Decision = []byte("{}")
	}
	res, err := t.t.Exec(ctx, `INSERT INTO release_requests (`+requestCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (id) DO NOTHING`,
		q.ID, q.ObjectID, q.Modified, q.Party, q.Agreement, q.AgreementVersion, q.Purpose, q.Requester, q.Decision, q.Required, aj,
		q.State, q.Reason, q.Created.UnixMicro(), q.Updated.UnixMicro(), q.Instance)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("release request %s: %w", q.ID, store.ErrExists)
	}
	return nil
}

func (t sharingWriter) UpdateReleaseRequest(ctx context.Context, q store.ReleaseRequest) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	aj, err := scan.JSONList(q.Approvals)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	res, err := t.t.Exec(ctx, `UPDATE release_requests SET approvals = $1, state = $2, reason = $3, updated_us = $4 WHERE id = $5`,
		aj, q.State, q.Reason, q.Updated.UnixMicro(), q.ID)
	if err != nil {
		return fmt.Errorf("release request %s: %w", q.ID, err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("release request %s: %w", q.ID, store.ErrNotFound)
	}
	return nil
}

func (t sharingWriter) AppendLedger(ctx context.Context, e store.LedgerEntry) (int64, error) {
	if err := t.lock(ctx); err != nil {
		return 0, err
	}
	lj, err := scan.JSONList(e.Labels)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	rj, err := scan.JSONList(e.Reasons)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	var seq int64
	err = t.t.QueryRow(ctx, `INSERT INTO ledger (object_id, modified, party, agreement, agreement_version, term, outcome, tearline_id, labels, reasons, state, request, actor, at_us, instance)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING seq`,
		e.ObjectID, e.Modified, e.Party, e.Agreement, e.AgreementVersion, e.Term, e.Outcome, e.TearlineID, lj, rj, e.State, e.Request, e.By, e.At.UnixMicro(), e.Instance).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	return seq, nil
}

// agreementsSchema is migration 3.
const agreementsSchema = `
-- Sharing agreements: each version with its current status and the
-- document (RFC 8785 JSON, signatures collected so far).
CREATE TABLE agreements (
	id         text    NOT NULL,
	version    bigint  NOT NULL,
	state      text    NOT NULL,
	since_us   bigint  NOT NULL,
	document   bytea   NOT NULL,
	updated_us bigint  NOT NULL,
	PRIMARY KEY (id, version)
);

CREATE TABLE agreement_history (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text    NOT NULL,
	version    bigint  NOT NULL,
	from_state text    NOT NULL,
	to_state   text    NOT NULL,
	at_us      bigint  NOT NULL,
	actor      text    NOT NULL,
	note       text    NOT NULL
);
CREATE INDEX agreement_history_id ON agreement_history (id, seq);

-- How each object from elsewhere came here (hops: JSON array).
CREATE TABLE provenance (
	object_id     text    PRIMARY KEY,
	originator    text    NOT NULL,
	received_from text    NOT NULL,
	hops          text    NOT NULL,
	received_us   bigint  NOT NULL,
	derived_from  text    NOT NULL
);

CREATE TABLE consents (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	object_id  text    NOT NULL,
	originator text    NOT NULL,
	to_party   text    NOT NULL,
	actor      text    NOT NULL,
	at_us      bigint  NOT NULL
);
CREATE INDEX consents_object ON consents (object_id, seq);

CREATE TABLE release_requests (
	id                text    PRIMARY KEY,
	object_id         text    NOT NULL,
	modified          text    NOT NULL,
	party             text    NOT NULL,
	agreement         text    NOT NULL,
	agreement_version bigint  NOT NULL,
	purpose           text    NOT NULL,
	requester         text    NOT NULL,
	decision          bytea   NOT NULL,
	required          bigint  NOT NULL,
	approvals         text    NOT NULL,
	state             text    NOT NULL,
	reason            text    NOT NULL,
	created_us        bigint  NOT NULL,
	updated_us        bigint  NOT NULL
);
CREATE INDEX release_requests_state ON release_requests (state, created_us);

-- The dissemination ledger: metadata only (ids, labels, parties, decisions).
CREATE TABLE ledger (
	seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	object_id         text    NOT NULL,
	modified          text    NOT NULL,
	party             text    NOT NULL,
	agreement         text    NOT NULL,
	agreement_version bigint  NOT NULL,
	term              bigint  NOT NULL,
	outcome           text    NOT NULL,
	tearline_id       text    NOT NULL,
	labels            text    NOT NULL,
	reasons           text    NOT NULL,
	state             text    NOT NULL,
	request           text    NOT NULL,
	actor             text    NOT NULL,
	at_us             bigint  NOT NULL
);
CREATE INDEX ledger_object ON ledger (object_id, seq);
CREATE INDEX ledger_agreement ON ledger (agreement, at_us);
`

package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/store"
)

// Agreement reads id, version, state, since_us, document, updated_us.
func Agreement(sc Scanner) (store.Agreement, error) {
	var a store.Agreement
	var since, upd int64
	err := sc.Scan(&a.ID, &a.Version, &a.State, &since, &a.Document, &upd)
	a.Since, a.Updated = FromUS(since), FromUS(upd)
	return a, err
}

// AgreementTransition reads id, version, from_state, to_state, at_us, actor,
// note.
func AgreementTransition(sc Scanner) (store.AgreementTransition, error) {
	var t store.AgreementTransition
	var at int64
	if err := sc.Scan(&t.ID, &t.Version, &t.From, &t.To, &at, &t.By, &t.Note); err != nil {
		return t, err
	}
	t.At = FromUS(at)
	return t, nil
}

// Provenance reads object_id, originator, received_from, hops, received_us,
// derived_from. Hops that do not decode are an error that starts "hops: ".
func Provenance(sc Scanner) (store.Provenance, error) {
	var p store.Provenance
	var hops string
	var at int64
	if err := sc.Scan(&p.ObjectID, &p.Originator, &p.ReceivedFrom, &hops, &at, &p.DerivedFrom); err != nil {
		return p, err
	}
	p.ReceivedAt = FromUS(at)
	if err := json.Unmarshal([]byte(hops), &p.Hops); err != nil {
		return p, fmt.Errorf("hops: %w", err)
	}
	return p, nil
}

// Consent reads object_id, originator, to_party, actor, at_us.
func Consent(sc Scanner) (store.Consent, error) {
	var c store.Consent
	var at int64
	if err := sc.Scan(&c.ObjectID, &c.Originator, &c.To, &c.By, &at); err != nil {
		return c, err
	}
	c.At = FromUS(at)
	return c, nil
}

// ReleaseRequest reads id, object_id, modified, party, agreement,
// agreement_version, purpose, requester, decision, required, approvals,
// state, reason, created_us, updated_us. Approvals that do not decode are
// an error that starts "approvals: ".
func ReleaseRequest(sc Scanner) (store.ReleaseRequest, error) {
	var q store.ReleaseRequest
	var approvals string
	var created, updated int64
	if err := sc.Scan(&q.ID, &q.ObjectID, &q.Modified, &q.Party, &q.Agreement, &q.AgreementVersion, &q.Purpose, &q.Requester,
		&q.Decision, &q.Required, &approvals, &q.State, &q.Reason, &created, &updated, &q.Instance); err != nil {
		return q, err
	}
	q.Created, q.Updated = FromUS(created), FromUS(updated)
	if err := json.Unmarshal([]byte(approvals), &q.Approvals); err != nil {
		return q, fmt.Errorf("approvals: %w", err)
	}
	return q, nil
}

// LedgerEntry reads seq, object_id, modified, party, agreement,
// agreement_version, term, outcome, tearline_id, labels, reasons, state,
// request, actor, at_us, instance. Its errors carry Ledger's context: "ledger: " for
// a row that does not scan, "ledger entry <seq>: " for lists that do not
// decode.
func LedgerEntry(sc Scanner) (store.LedgerEntry, error) {
	var e store.LedgerEntry
	var labels, reasons string
	var at int64
	if err := sc.Scan(&e.Seq, &e.ObjectID, &e.Modified, &e.Party, &e.Agreement, &e.AgreementVersion, &e.Term, &e.Outcome,
		&e.TearlineID, &labels, &reasons, &e.State, &e.Request, &e.By, &at, &e.Instance); err != nil {
		return e, fmt.Errorf("ledger: %w", err)
	}
	e.At = FromUS(at)
	if err := errors.Join(json.Unmarshal([]byte(labels), &e.Labels), json.Unmarshal([]byte(reasons), &e.Reasons)); err != nil {
		return e, fmt.Errorf("ledger entry %d: %w", e.Seq, err)
	}
	return e, nil
}

// Recall reads id, party, object_id, originator, inbound, objects, reason,
// notice, state, issued_us, actor, acked_us, ack. inbound is a boolean
// (SQLite: an INTEGER 0 or 1, which database/sql scans into a bool). Its
// errors carry Recalls' context: "recalls: " for a row that does not scan,
// "recall <id>: objects: " for objects that do not decode.
func Recall(sc Scanner) (store.Recall, error) {
	var c store.Recall
	var objects string
	var issued, acked int64
	if err := sc.Scan(&c.ID, &c.Party, &c.ObjectID, &c.Originator, &c.Inbound, &objects, &c.Reason, &c.Notice, &c.State,
		&issued, &c.By, &acked, &c.Ack); err != nil {
		return c, fmt.Errorf("recalls: %w", err)
	}
	c.Issued = FromUS(issued)
	if acked != 0 {
		c.AckedAt = FromUS(acked)
	}
	if len(c.Ack) == 0 {
		c.Ack = nil
	}
	if err := json.Unmarshal([]byte(objects), &c.Objects); err != nil {
		return c, fmt.Errorf("recall %s: objects: %w", c.ID, err)
	}
	return c, nil
}

// User reads id, name, role, nationality, org, clearances, compartments,
// default_label, created_us, disabled. disabled is a boolean (SQLite: an
// INTEGER 0 or 1, which database/sql scans into a bool). Lists that do not
// decode are an error that starts "user <id> ".
func User(sc Scanner) (store.User, error) {
	var u userRow
	if err := sc.Scan(u.dest()...); err != nil {
		return u.User, err
	}
	return u.finish()
}

// userRow is a user's columns as scanned, before decoding.
type userRow struct {
	store.User
	clr, comp string
	created   int64
}

func (u *userRow) dest() []any {
	return []any{&u.ID, &u.Name, &u.Role, &u.Nationality, &u.Org, &u.clr, &u.comp, &u.DefaultLabel, &u.created, &u.Disabled}
}

func (u *userRow) finish() (store.User, error) {
	out := u.User
	if err := json.Unmarshal([]byte(u.clr), &out.Clearances); err != nil {
		return out, fmt.Errorf("user %s clearances: %w", out.ID, err)
	}
	if err := json.Unmarshal([]byte(u.comp), &out.Compartments); err != nil {
		return out, fmt.Errorf("user %s compartments: %w", out.ID, err)
	}
	out.Created = FromUS(u.created)
	return out, nil
}

// Token reads id, user_id, hash, created_us, expires_us, revoked_us; an
// expires_us or revoked_us of 0 is the zero time.
func Token(sc Scanner) (store.Token, error) {
	var t tokenRow
	if err := sc.Scan(t.dest()...); err != nil {
		return t.Token, err
	}
	return t.finish(), nil
}

// tokenRow is a token's columns as scanned.
type tokenRow struct {
	store.Token
	c, e, r int64
}

func (t *tokenRow) dest() []any { return []any{&t.ID, &t.UserID, &t.Hash, &t.c, &t.e, &t.r} }

func (t *tokenRow) finish() store.Token {
	out := t.Token
	out.Created = FromUS(t.c)
	out.Expires = fromOptionalUS(t.e)
	out.RevokedAt = fromOptionalUS(t.r)
	return out
}

// TokenUser reads a token's columns (as Token) followed by its user's (as
// User), from one row.
func TokenUser(sc Scanner) (store.Token, store.User, error) {
	var t tokenRow
	var u userRow
	if err := sc.Scan(append(t.dest(), u.dest()...)...); err != nil {
		return t.Token, u.User, err
	}
	user, err := u.finish()
	return t.finish(), user, err
}

// OutboxItem reads id, peer, kind, payload, created_us, attempts,
// next_attempt_us, delivered_us, last_error, ledger, queued_us, failed_us,
// reason (the backends' outboxCols).
func OutboxItem(sc Scanner) (store.OutboxItem, error) {
	it, _, err := outboxItem(sc, false)
	return it, err
}

func outboxItem(sc Scanner, withLease bool) (store.OutboxItem, int64, error) {
	var it store.OutboxItem
	var created, next, delivered, queued, failed, lease int64
	dest := []any{&it.ID, &it.Peer, &it.Kind, &it.Payload, &created, &it.Attempts, &next, &delivered, &it.LastError,
		&it.Ledger, &queued, &failed, &it.Reason}
	if withLease {
		dest = append(dest, &lease)
	}
	if err := sc.Scan(dest...); err != nil {
		return it, 0, err
	}
	it.Created = FromUS(created)
	it.Queued = FromUS(queued)
	if queued == 0 {
		it.Queued = it.Created
	}
	if next > 0 {
		it.NextAttempt = FromUS(next)
	}
	if delivered > 0 {
		it.Delivered = FromUS(delivered)
	}
	if failed > 0 {
		it.Failed = FromUS(failed)
	}
	return it, max(next, lease), nil
}

// TombstoneColumns are the columns Tombstone reads, in its order.
const TombstoneColumns = `id, instance, versions, versions_us, purged_us, reason, classes, whole`

// Tombstone reads TombstoneColumns. Its errors carry
// Tombstones' context: "tombstones: " for a row that does not scan,
// "tombstone <id>: " for versions that do not decode.
func Tombstone(sc Scanner) (store.Tombstone, error) {
	var ts store.Tombstone
	var vj, vus, classes string
	var us int64
	if err := sc.Scan(&ts.ID, &ts.Instance, &vj, &vus, &us, &ts.Reason, &classes, &ts.Whole); err != nil {
		return ts, fmt.Errorf("tombstones: %w", err)
	}
	var err error
	if ts.Classes, err = ParseClasses(classes); err != nil {
		return ts, fmt.Errorf("tombstone %s: %w", ts.ID, err)
	}
	if ts.VersionsAt, err = ParseAt(vus); err != nil {
		return ts, fmt.Errorf("tombstone %s: %w", ts.ID, err)
	}
	if err := json.Unmarshal([]byte(vj), &ts.Versions); err != nil {
		return ts, fmt.Errorf("tombstone %s: %w", ts.ID, err)
	}
	ts.PurgedAt = FromUS(us)
	return ts, nil
}

// RetainedColumns are the columns Retained reads, in its order.
const RetainedColumns = `id, instance, modified_us, until_us`

// Retained reads RetainedColumns.
func Retained(sc Scanner) (store.Retained, error) {
	var r store.Retained
	var mod, until int64
	err := sc.Scan(&r.ID, &r.Instance, &mod, &until)
	r.ModifiedAt, r.Until = FromUS(mod), FromUS(until)
	return r, err
}

// FormatAt is how a tombstone's VersionsAt are kept: microseconds since
// the epoch, comma separated, in their order; "" for none.
func FormatAt(ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = strconv.FormatInt(t.UnixMicro(), 10)
	}
	return strings.Join(parts, ",")
}

// ParseAt reads FormatAt's form; "" is nil.
func ParseAt(s string) ([]time.Time, error) {
	if s == "" {
		return nil, nil
	}
	var out []time.Time
	for _, p := range strings.Split(s, ",") {
		us, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("versions_us %q: %w", s, err)
		}
		out = append(out, FromUS(us))
	}
	return out, nil
}

// AuditEntry reads idx, data.
func AuditEntry(sc Scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	err := sc.Scan(&e.Index, &e.Data)
	return e, err
}

// AuditCheckpoint reads size, note, created_us.
func AuditCheckpoint(sc Scanner) (store.AuditCheckpoint, error) {
	var c store.AuditCheckpoint
	var us int64
	if err := sc.Scan(&c.Size, &c.Note, &us); err != nil {
		return c, err
	}
	c.Created = FromUS(us)
	return c, nil
}

// DataKey reads the data key's seq, its object's id and modified_us, and
// the wrapped key.
func DataKey(sc Scanner) (store.DataKey, error) {
	var k store.DataKey
	var us int64
	if err := sc.Scan(&k.Seq, &k.ID, &us, &k.Wrapped); err != nil {
		return k, err
	}
	k.ModifiedAt = FromUS(us)
	return k, nil
}

// AccessClass reads id, key; key is the class's label ids joined by
// commas, "" for none.
func AccessClass(sc Scanner) (store.AccessClass, error) {
	var c store.AccessClass
	var key string
	if err := sc.Scan(&c.ID, &key); err != nil {
		return c, err
	}
	if key != "" {
		c.LabelIDs = strings.Split(key, ",")
	}
	return c, nil
}

// ClaimableOutboxItem reads what OutboxItem reads and then lease_us, of an
// undelivered item, and returns when it is due: the later of its next
// attempt and its lease's end.
func ClaimableOutboxItem(sc Scanner) (store.OutboxItem, int64, error) {
	return outboxItem(sc, true)
}

// Followup reads id, kind, actor, source, payload, created_us, attempts,
// last_error.
func Followup(sc Scanner) (store.Followup, error) {
	var f store.Followup
	var created int64
	err := sc.Scan(&f.ID, &f.Kind, &f.Actor, &f.Source, &f.Payload, &created, &f.Attempts, &f.LastError)
	f.Created = FromUS(created)
	return f, err
}

// FormatClasses is how a tombstone's classes are kept: the ids, comma
// separated; "" for none known (a tombstone older than instances).
func FormatClasses(cs []int64) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strconv.FormatInt(c, 10)
	}
	return strings.Join(parts, ",")
}

// ParseClasses reads what FormatClasses wrote; "" is nil.
func ParseClasses(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for _, p := range strings.Split(s, ",") {
		c, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("classes %q: %w", s, err)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// MergeClasses is the sorted union of a and b.
func MergeClasses(a, b []int64) []int64 {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

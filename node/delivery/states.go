package delivery

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Delivery states as releasers see them (docs/UI.md, "Releaser"): where an
// object went and how each delivery goes, for the objects the caller may
// read, without the ledger's and the outbox's numbers. Deliveries reads
// the states of ledger entries for those who read the ledger; States is
// for everyone authority lets read delivery states (ActDeliveryRead:
// releasers and administrators on what they may read, auditors and
// administrators on every level), and Retry retries by what a releaser
// sees (object, version, partner) rather than by a ledger number.

// Entry is one release or tearline of an object to a partner (or a
// refusal), with its delivery's state, as the caller may see it.
type Entry struct {
	// Seq is the ledger entry's sequence number, only to those who read
	// the ledger (node.MayCount): it numbers the releases of every level.
	Seq              int64
	ObjectID         string
	Instance         int64
	Modified         string
	Party            string
	Agreement        string
	AgreementVersion int
	Outcome          string // store.LedgerRelease, LedgerTearline, LedgerRefuse
	State            string // store.LedgerReady (released, to be delivered), or "" for a refusal
	TearlineID       string
	Reasons          []string
	Request          string // the approval request, if one was needed
	By               string
	At               time.Time
	// Delivery is nil for an entry never queued for a peer (a refusal, or
	// a party that is no peer).
	Delivery *Delivery
}

// Key names a delivery by what the caller sees of it: the version of an
// object sent and the partner. A retry by Key retries the newest failed
// delivery of that version to that partner.
type Key struct {
	ObjectID string
	Instance int64
	Modified string
	Party    string
}

// Key is e's Key.
func (e Entry) Key() Key {
	return Key{ObjectID: e.ObjectID, Instance: e.Instance, Modified: e.Modified, Party: e.Party}
}

// Query selects delivery states: of one object (every partner), or to one
// partner within [From, To); Failed keeps only failed deliveries.
type Query struct {
	ObjectID string
	Party    string
	From, To time.Time // zero To: now; zero From with a partner alone: DefaultWindow before To
	Failed   bool
	Limit    int // the newest Limit that match (0, or more than MaxStates: MaxStates)
}

const (
	// MaxStates is the most entries one States call returns.
	MaxStates = 200
	// DefaultWindow and MaxWindow bound a partner's listing in time, so
	// that its cost is that of one partner's releases in a period.
	DefaultWindow = 7 * 24 * time.Hour
	MaxWindow     = 92 * 24 * time.Hour
	// scanChunk is how many ledger entries one store read takes.
	scanChunk = 2000
)

// States returns the deliveries q selects that p may see, newest first,
// at most q.Limit, and whether more matched. An entry whose version p may
// not read is not there, and counts for nothing: not in the entries, not
// in more (which says only that more entries p may see matched). The
// read is audited (delivery.read, with the count p saw).
func (d *Service) States(ctx context.Context, p *node.Principal, q Query) ([]Entry, bool, error) {
	if err := node.Authorize(p, node.ActDeliveryRead); err != nil {
		return nil, false, fmt.Errorf("delivery states: %w", err)
	}
	if q.ObjectID == "" && q.Party == "" {
		return nil, false, fmt.Errorf("delivery states: %w: name an object or a partner", node.ErrInvalid)
	}
	if q.Limit <= 0 || q.Limit > MaxStates {
		q.Limit = MaxStates
	}
	if q.To.IsZero() {
		q.To = d.n.Now().Add(time.Second)
	}
	if q.ObjectID == "" {
		if q.From.IsZero() {
			q.From = q.To.Add(-DefaultWindow)
		}
		if q.To.Sub(q.From) > MaxWindow {
			return nil, false, fmt.Errorf("delivery states: %w: a partner's deliveries are listed over at most %d days", node.ErrInvalid, int(MaxWindow/(24*time.Hour)))
		}
	}
	r := d.n.Store()
	readable := map[Key]bool{}
	var kept []Entry
	more := false
	visit := func(batch []store.LedgerEntry) error {
		var vis []store.LedgerEntry
		for _, e := range batch {
			k := Key{ObjectID: e.ObjectID, Instance: e.Instance, Modified: e.Modified}
			ok, seen := readable[k]
			if !seen {
				var err error
				if ok, err = d.n.ActsOn(ctx, r, p, node.ActDeliveryRead, e.ObjectID, []node.VersionKey{{Instance: e.Instance, Modified: e.Modified}}); err != nil {
					return err
				}
				readable[k] = ok
			}
			if ok {
				vis = append(vis, e)
			}
		}
		states, err := d.outboxOf(ctx, vis)
		if err != nil {
			return err
		}
		for _, e := range vis {
			en := entryFor(p, e)
			if it, ok := states[e.Seq]; ok {
				dl := deliveryFor(p, it)
				en.Delivery = &dl
			}
			if q.Failed && (en.Delivery == nil || en.Delivery.State != store.DeliveryFailed) {
				continue
			}
			kept = append(kept, en)
			if len(kept) > q.Limit {
				kept, more = kept[1:], true // oldest first: the newest Limit stay
			}
		}
		return nil
	}
	if err := scanLedger(ctx, r, store.LedgerQuery{ObjectID: q.ObjectID, Party: q.Party, From: q.From, To: q.To}, visit); err != nil {
		return nil, false, fmt.Errorf("delivery states: %w", err)
	}
	slices.Reverse(kept)
	detail := "party=" + q.Party
	if q.ObjectID == "" {
		detail += " from=" + q.From.UTC().Format(time.RFC3339) + " to=" + q.To.UTC().Format(time.RFC3339)
	}
	if q.Failed {
		detail += " failed"
	}
	err := d.n.Store().Update(ctx, func(tx store.Tx) error {
		return d.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionDeliveryRead, Object: q.ObjectID,
			Decision: audit.Allow, Count: len(kept), Detail: detail})
	})
	if err != nil {
		return nil, false, fmt.Errorf("delivery states: %w", err)
	}
	return kept, more, nil
}

// scanLedger reads the entries q selects, oldest first, in chunks, handing
// each chunk to visit. A chunk starts at the time of the last entry read,
// skipping the entries already seen at that time.
func scanLedger(ctx context.Context, r store.Reader, q store.LedgerQuery, visit func([]store.LedgerEntry) error) error {
	q.Limit = scanChunk
	var last int64
	for {
		es, err := r.Ledger(ctx, q)
		if err != nil {
			return err
		}
		fresh := slices.DeleteFunc(slices.Clone(es), func(e store.LedgerEntry) bool { return e.Seq <= last })
		if err := visit(fresh); err != nil {
			return err
		}
		if len(es) < scanChunk || len(fresh) == 0 {
			return nil
		}
		end := fresh[len(fresh)-1]
		last, q.From = end.Seq, end.At
	}
}

// outboxOf returns the outbox items of the entries es that were queued for
// a peer, by ledger sequence number.
func (d *Service) outboxOf(ctx context.Context, es []store.LedgerEntry) (map[int64]store.OutboxItem, error) {
	var seqs []int64
	for _, e := range es {
		if e.State == store.LedgerReady {
			seqs = append(seqs, e.Seq)
		}
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	return d.n.Store().OutboxOfLedger(ctx, seqs)
}

func entryFor(p *node.Principal, e store.LedgerEntry) Entry {
	en := Entry{ObjectID: e.ObjectID, Instance: e.Instance, Modified: e.Modified, Party: e.Party, Agreement: e.Agreement,
		AgreementVersion: e.AgreementVersion, Outcome: e.Outcome, State: e.State, TearlineID: e.TearlineID, Reasons: e.Reasons, Request: e.Request,
		By: e.By, At: e.At}
	if node.MayCount(p) {
		en.Seq = e.Seq
	}
	return en
}

// Retry makes the newest failed delivery of k's version to k's partner
// due again, as RetryDelivery does for a ledger number. Who may retry is
// authority's (ActDeliveryRetry); a caller who may not read the version
// gets exactly what a delivery that does not exist gets (ErrNotFound, the
// same message), and the denial is audited; a delivery of it that has not
// failed is ErrNotFailed.
func (d *Service) Retry(ctx context.Context, p *node.Principal, k Key) (Delivery, error) {
	what := fmt.Sprintf("retry delivery of %s to %s", k.ObjectID, k.Party)
	if err := node.Authorize(p, node.ActDeliveryRetry); err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	seq, err := d.newestFailed(ctx, p, k)
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", what, err)
	}
	return d.retry(ctx, p, seq, what)
}

// newestFailed is the ledger number of the newest failed delivery of k's
// version to k's party (the newest delivery, when none failed), or 0 when
// there is none or p may not read the version: retry answers 0 as it
// answers a hidden object.
func (d *Service) newestFailed(ctx context.Context, p *node.Principal, k Key) (int64, error) {
	if k.ObjectID == "" || k.Party == "" {
		return 0, nil
	}
	r := d.n.Store()
	ok, err := d.n.ActsOn(ctx, r, p, node.ActDeliveryRetry, k.ObjectID, []node.VersionKey{{Instance: k.Instance, Modified: k.Modified}})
	if err != nil || !ok {
		return 0, err
	}
	var mine []store.LedgerEntry
	err = scanLedger(ctx, r, store.LedgerQuery{ObjectID: k.ObjectID, Party: k.Party}, func(es []store.LedgerEntry) error {
		for _, e := range es {
			if e.Instance == k.Instance && e.Modified == k.Modified && e.State == store.LedgerReady {
				mine = append(mine, e)
			}
		}
		return nil
	})
	if err != nil || len(mine) == 0 {
		return 0, err
	}
	items, err := d.outboxOf(ctx, mine)
	if err != nil {
		return 0, err
	}
	for _, e := range slices.Backward(mine) {
		if it, ok := items[e.Seq]; ok && it.State() == store.DeliveryFailed {
			return e.Seq, nil
		}
	}
	return mine[len(mine)-1].Seq, nil
}

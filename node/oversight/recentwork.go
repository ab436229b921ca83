package oversight

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Work is one of a user's own recent actions on an object, as the audit
// log recorded it (the dashboard's "recent work").
type Work struct {
	At       time.Time
	Action   string // an audit action: object.ingest, release.decide, ...
	ObjectID string
	Modified string
	Party    string // the partner, for a release, request, approval or recall
	Decision string // audit.Allow or audit.Deny
}

// workActions are the actions that are someone's work on an object (not
// their reads, which are many and said nothing new).
var workActions = []string{audit.ActionIngest, audit.ActionReleaseDecide, audit.ActionReleaseRequest, audit.ActionReleaseApprove,
	audit.ActionReleaseRefuse, audit.ActionRecallIssue, audit.ActionConsentRecord, audit.ActionDeliveryRetry}

const (
	// MaxRecentWork is the most entries RecentWork returns.
	MaxRecentWork = 50
	// workScan is how many of one action's entries of the caller are read:
	// a publish of many objects is one entry per object.
	workScan = 200
)

// RecentWork returns p's own recent actions on objects (publishing,
// releases, requests, approvals and refusals, recalls, consents, retries),
// newest first, one per object and action, at most limit (and
// MaxRecentWork), from the audit index (entries whose actor is p; what
// the index does not hold yet after a bulk load shows once serve's loop
// has indexed it). The
// audit log is the auditors', so only p's own entries are read, and only
// those on an object p may still read are returned: one since purged, or
// above p's clearance now, is not there and counts for nothing. Every role
// may read its own (ActOwnWork); the read itself is not audited, as it
// shows only what p did.
func (ov *Service) RecentWork(ctx context.Context, p *node.Principal, limit int) ([]Work, error) {
	if err := node.Authorize(p, node.ActOwnWork); err != nil {
		return nil, fmt.Errorf("recent work: %w", err)
	}
	if limit <= 0 || limit > MaxRecentWork {
		limit = MaxRecentWork
	}
	st := ov.n.Store()
	// serve keeps the index close behind the log (RunAuditCheckpoints):
	// a short tail is indexed here, so one's latest action shows at once;
	// a long one (a bulk load just made) is left to that loop rather than
	// hold up the page every sign-in lands on.
	next, err := st.AuditIndexed(ctx)
	if err != nil {
		return nil, fmt.Errorf("recent work: %w", err)
	}
	size, err := st.AuditSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("recent work: %w", err)
	}
	if size-next <= indexChunk {
		if _, err := ov.IndexAudit(ctx); err != nil {
			return nil, fmt.Errorf("recent work: %w", err)
		}
	}
	var all []store.AuditEntry
	for _, act := range workActions {
		es, err := st.FindAudit(ctx, store.AuditFilter{Actor: p.Actor(), Action: act, Limit: workScan})
		if err != nil {
			return nil, fmt.Errorf("recent work: %w", err)
		}
		all = append(all, es...)
	}
	slices.SortFunc(all, func(a, b store.AuditEntry) int { return cmp.Compare(b.Index, a.Index) })
	type key struct{ action, id string }
	seen := map[key]bool{}
	readable := map[string]bool{}
	var out []Work
	for _, e := range all {
		if len(out) == limit {
			break
		}
		ev, err := audit.Parse(e.Data)
		if err != nil {
			return nil, fmt.Errorf("recent work: entry %d: %w", e.Index, err)
		}
		// The index matched the actor; the entry itself must say so too.
		if ev.Actor != p.Actor() || ev.Object == "" || seen[key{ev.Action, ev.Object}] {
			continue
		}
		seen[key{ev.Action, ev.Object}] = true
		ok, known := readable[ev.Object]
		if !known {
			if ok, err = ov.n.ActsOn(ctx, st, p, node.ActOwnWork, ev.Object, nil); err != nil {
				return nil, fmt.Errorf("recent work: %w", err)
			}
			readable[ev.Object] = ok
		}
		if !ok {
			continue
		}
		out = append(out, Work{At: ev.Time, Action: ev.Action, ObjectID: ev.Object, Modified: ev.Modified,
			Party: strings.TrimPrefix(ev.Subject, "party:"), Decision: ev.Decision})
		if !strings.HasPrefix(ev.Subject, "party:") {
			out[len(out)-1].Party = ""
		}
	}
	return out, nil
}

package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// dashboardPages is the signed-in user's start page (/ui/): their recent
// work, their release requests, failed deliveries they may see, and what they may read by
// discipline and by topic, counted. Everything through the node methods the
// API calls, so it holds only what the user may read.
type dashboardPages struct{ *Server }

const (
	dashRequests       = 10   // the user's latest release requests shown
	dashWork           = 10   // the user's latest actions shown
	dashDeliveries     = 50   // failed deliveries shown, at most
	dashFailedPerParty = 10   // of them, to one partner
	countCap           = 1000 // counts past this show as "1,000+"
)

type facetCount struct {
	Kind, Name, Count, URL string
}

type failedDelivery struct {
	Object               Row
	Party, Reason, Error string
	FailedAt, Agreement  string
}

type dashboardData struct {
	Work         []workRow
	Requests     []requestRow
	MoreRequests bool
	LedgerReader bool
	Failed       []failedDelivery
	FailedCapped bool
	Disciplines  []facetCount
	Topics       []facetCount
	Total        string
}

func (dp *dashboardPages) page(w http.ResponseWriter, r *http.Request) {
	ctx, p := r.Context(), Principal(r)
	m := dp.NewMarks()
	d := dashboardData{}
	if err := dp.recentWork(ctx, r, m, &d); err != nil {
		dp.Fail(w, r, err)
		return
	}
	if err := dp.requests(ctx, r, m, &d); err != nil {
		dp.Fail(w, r, err)
		return
	}
	if err := dp.failedDeliveries(ctx, r, m, &d); err != nil {
		dp.Fail(w, r, err)
		return
	}
	total, err := dp.n.Count(ctx, p, node.ListOptions{CountAtMost: countCap})
	if err != nil {
		dp.Fail(w, r, err)
		return
	}
	d.Total = capCount(total)
	reg := dp.n.Registry()
	for _, f := range []struct {
		kind  string
		names []string
		has   func(l label.Label, name string) bool
		into  *[]facetCount
	}{
		{"disc", reg.Disciplines(), func(l label.Label, n string) bool { return slices.Contains(l.Disciplines, n) }, &d.Disciplines},
		{"topic", reg.Topics(), func(l label.Label, n string) bool { return slices.Contains(l.Topics, n) }, &d.Topics},
	} {
		for _, name := range f.names {
			c, err := dp.n.Count(ctx, p, node.ListOptions{CountAtMost: countCap, Where: classHas(func(l label.Label) bool { return f.has(l, name) })})
			if err != nil {
				dp.Fail(w, r, err)
				return
			}
			if c == 0 {
				continue
			}
			*f.into = append(*f.into, facetCount{Kind: f.kind, Name: name, Count: capCount(c),
				URL: Prefix + "objects?" + url.Values{f.kind: {name}}.Encode()})
		}
	}
	dp.Render(w, http.StatusOK, "dashboard", "", dp.ViewFor(r, "Dashboard", m.Banner(), d))
}

// classHas accepts an access class one of whose labels has.
func classHas(has func(label.Label) bool) func(policy.Class) bool {
	return func(c policy.Class) bool { return slices.ContainsFunc(c.Labels, has) }
}

// capCount shows a count, past countCap as "1,000+": a page never implies
// a precision it does not need.
func capCount(n int64) string {
	if n >= countCap {
		return "1,000+"
	}
	return strconv.FormatInt(n, 10)
}

// requests are the release requests the user made, newest first, as the
// queue gives them (node: requests for objects the user may read).
func (dp *dashboardPages) requests(ctx context.Context, r *http.Request, m *Marks, d *dashboardData) error {
	p := Principal(r)
	qs, err := dp.n.Releases.ReleaseQueue(ctx, p, "")
	if errors.Is(err, node.ErrForbidden) {
		return nil
	}
	if err != nil {
		return err
	}
	mine := slices.DeleteFunc(qs, func(q store.ReleaseRequest) bool { return q.Requester != p.Actor() })
	slices.SortStableFunc(mine, func(a, b store.ReleaseRequest) int { return b.Created.Compare(a.Created) })
	if len(mine) > dashRequests {
		mine, d.MoreRequests = mine[:dashRequests], true
	}
	for _, q := range mine {
		v, err := node.VersionOf(ctx, dp.n.Store(), q.ObjectID, node.VersionKey{Instance: q.Instance, Modified: q.Modified})
		if err != nil {
			return err
		}
		mk, err := m.Object(ctx, dp.n.Node, node.Object{ObjectVersion: v})
		if err != nil {
			return err
		}
		d.Requests = append(d.Requests, requestRow{ID: q.ID, ObjectID: q.ObjectID, Modified: q.Modified, Party: q.Party,
			Agreement: fmt.Sprintf("%s v%d", q.Agreement, q.AgreementVersion), Purpose: q.Purpose, Requester: q.Requester,
			State: q.State, Reason: q.Reason, Required: q.Required, Mark: mk})
		for _, a := range q.Approvals {
			d.Requests[len(d.Requests)-1].Approvals = append(d.Requests[len(d.Requests)-1].Approvals, a.By)
		}
	}
	return nil
}

// failedDeliveries shows, to those who may read delivery states (node
// decides: releasers and admins for what they may read, auditors), the
// latest failed deliveries to each partner over the last week
// (node/delivery's States: what the user may not read is not there, and
// counts for nothing).
func (dp *dashboardPages) failedDeliveries(ctx context.Context, r *http.Request, m *Marks, d *dashboardData) error {
	p := Principal(r)
	if node.Authorize(p, node.ActDeliveryRead) != nil {
		return nil
	}
	d.LedgerReader = true
	as, err := dp.n.Agreements.Agreements(ctx, p)
	if err != nil {
		return err
	}
	var parties []string
	for _, a := range as {
		for _, party := range a.Parties {
			if party != dp.n.Config().Name && !slices.Contains(parties, party) {
				parties = append(parties, party)
			}
		}
	}
	slices.Sort(parties)
	for _, party := range parties {
		if len(d.Failed) >= dashDeliveries {
			d.FailedCapped = true
			break
		}
		es, more, err := dp.n.Deliveries.States(ctx, p, delivery.Query{Party: party, Failed: true, Limit: dashFailedPerParty})
		if err != nil {
			return err
		}
		d.FailedCapped = d.FailedCapped || more
		for _, e := range es {
			v, err := node.VersionOf(ctx, dp.n.Store(), e.ObjectID, node.VersionKey{Instance: e.Instance, Modified: e.Modified})
			if errors.Is(err, node.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
				continue // purged since
			}
			if err != nil {
				return err
			}
			mk, err := m.Object(ctx, dp.n.Node, node.Object{ObjectVersion: v})
			if err != nil {
				return err
			}
			fd := failedDelivery{Object: Row{ID: v.ID, Name: v.ID, Type: v.Type, Modified: v.Modified, Mark: mk}, Party: e.Party,
				Agreement: fmt.Sprintf("%s v%d", e.Agreement, e.AgreementVersion)}
			if dl := e.Delivery; dl != nil {
				fd.Reason, fd.Error = dl.Reason, dl.LastError
				if dl.FailedAt != nil {
					fd.FailedAt = dl.FailedAt.UTC().Format(time.RFC3339)
				}
			}
			d.Failed = append(d.Failed, fd)
		}
	}
	return nil
}

// requestRow is one of the user's release requests on the dashboard.
type requestRow struct {
	ID, ObjectID, Modified, Party, Agreement, Purpose, Requester, State, Reason string
	Approvals                                                                   []string // who approved, in order
	Required                                                                    int
	Mark                                                                        ObjectMark
}

// workRow is one of the user's own recent actions on the dashboard.
type workRow struct {
	Object          Row
	What, Party, At string
	Refused         bool
}

// workWords says what an audited action was, for the one who did it.
var workWords = map[string]string{
	audit.ActionIngest: "published", audit.ActionReleaseDecide: "released", audit.ActionReleaseRequest: "asked to release",
	audit.ActionReleaseApprove: "approved a release", audit.ActionReleaseRefuse: "refused a release", audit.ActionRecallIssue: "recalled",
	audit.ActionConsentRecord: "recorded a consent", audit.ActionDeliveryRetry: "retried a delivery",
}

// recentWork is the user's own recent work (node/oversight's RecentWork:
// their own audited actions, on objects they may still read), each object
// read through node.Get as any page reads it.
func (dp *dashboardPages) recentWork(ctx context.Context, r *http.Request, m *Marks, d *dashboardData) error {
	p := Principal(r)
	ws, err := dp.n.Oversight.RecentWork(ctx, p, dashWork)
	if errors.Is(err, node.ErrForbidden) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, wk := range ws {
		o, err := dp.n.Get(ctx, p, wk.ObjectID)
		if errors.Is(err, node.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		rw, err := dp.Row(r, m, o)
		if err != nil {
			return err
		}
		what := workWords[wk.Action]
		if what == "" {
			what = wk.Action
		}
		d.Work = append(d.Work, workRow{Object: rw, What: what, Party: wk.Party, At: wk.At.UTC().Format(time.RFC3339), Refused: wk.Decision == audit.Deny})
	}
	return nil
}

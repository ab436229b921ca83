package taxiiview

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node/release"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// The partner view of the TAXII collection. A partner node that calls the
// TAXII routes with its client certificate and no token reads the holdings
// collection as the agreements release it to that partner: each object is
// decided with policy.Decide for the partner (as Release decides, for
// AutoReleasePurpose) and served whole, or as its tearline (the stored one,
// else made now through makeTearline), or not at all: a refused or held
// object is absent, and reading it by id is 404 exactly like an object that
// does not exist. Tearlines made for any party, their derived-from
// relationships, and what came from (or was originated by) the partner
// itself are never listed. Every object served is audited and recorded in
// the dissemination ledger (state LedgerPulled), in the read's transaction.

// LedgerPulled is the ledger state of a release a partner read from the
// TAXII partner view: it went when the partner pulled it, not through the
// outbox.
const LedgerPulled = "pulled"

type partnerCtxKey struct{}

// WithPartner returns ctx carrying the partner node a request came from
// (its client certificate named the peer). The TAXII backend serves such a
// request, when it has no token, as that partner.
func WithPartner(ctx context.Context, p *federation.Peer) context.Context {
	return context.WithValue(ctx, partnerCtxKey{}, &node.Peer{Name: p.Name, Country: p.Country, Org: p.Org, URL: p.URL})
}

func partnerFrom(ctx context.Context) (*node.Peer, bool) {
	p, ok := ctx.Value(partnerCtxKey{}).(*node.Peer)
	return p, ok && p != nil
}

// PartnerCaller is a partner node reading the TAXII collections.
type PartnerCaller struct{ Peer node.Peer }

// Actor implements taxii.Caller.
func (c *PartnerCaller) Actor() string { return "peer:" + c.Peer.Name }

var _ taxii.ContextAuthenticator = (*TAXII)(nil)

// AuthenticateContext implements taxii.ContextAuthenticator: a request that
// carries a partner (WithPartner) is that partner.
func (t *TAXII) AuthenticateContext(ctx context.Context) (taxii.Caller, bool, error) {
	p, ok := partnerFrom(ctx)
	if !ok {
		return nil, false, nil
	}
	return &PartnerCaller{Peer: *p}, true, nil
}

func (t *TAXII) partnerCollections(pc *PartnerCaller) []taxii.Collection {
	return []taxii.Collection{{
		ID:    t.HoldingsID(),
		Title: t.n.Config().Name + " holdings",
		Description: "What node " + t.n.Config().Name + " releases to " + pc.Peer.Name + " under their active agreements: " +
			"whole objects, or tearlines where only part may go.",
		Alias: HoldingsAlias, CanRead: true, CanWrite: false,
		MediaTypes: []string{taxii.MediaTypeSTIX},
	}}
}

func (t *TAXII) partnerObjects(ctx context.Context, pc *PartnerCaller, collection string, q taxii.Query) (taxii.Page, error) {
	if collection != t.HoldingsID() {
		return taxii.Page{}, fmt.Errorf("collection %s: %w", collection, taxii.ErrNotFound)
	}
	return t.partnerRead(ctx, &pc.Peer, q)
}

// partnerVersions serves the versions endpoint: a partner sees one version
// of an object, the latest, if it may receive it.
func (t *TAXII) partnerVersions(ctx context.Context, pc *PartnerCaller, collection string, q taxii.Query) (taxii.Page, error) {
	q.Manifest, q.Next, q.Version = true, "", taxii.VersionMatch{}
	return t.partnerObjects(ctx, pc, collection, q)
}

// partnerItem is one served row of the partner view.
type partnerItem struct {
	item     taxii.Item
	labels   []string // label ids the item's bindings name
	event    audit.Event
	ledger   *store.LedgerEntry
	original string
}

// partnerRead serves one page of the partner view for peer.
func (t *TAXII) partnerRead(ctx context.Context, peer *node.Peer, q taxii.Query) (taxii.Page, error) {
	limit := pageLimit(q.Limit)
	// Partners' cursors are sealed like users' (cursors.go), bound to the
	// peer and the query: a store position would count, in its gaps, the
	// objects not released to this partner.
	cur, err := t.n.Cursors(ctx)
	if err != nil {
		return taxii.Page{}, err
	}
	codec := cur.Codec()
	// Not bound to added_after: the pull client of every release, ours and
	// the previous one, sends added_after on a pull's first page and only
	// next after it, and the position already lies past that time.
	params := slices.DeleteFunc(taxiiCursorParams(q), func(p string) bool { return strings.HasPrefix(p, "added_after=") })
	scope := pagecursor.Scope{User: "peer:" + peer.Name, Route: "partner " + taxiiRoute(q, false), Params: params}
	var start cursor
	if q.Next != "" {
		pos, err := codec.Open(scope, q.Next)
		if err != nil {
			return taxii.Page{}, fmt.Errorf("next: not a cursor this server issued for this partner and query (%v): %w", err, taxii.ErrBadRequest)
		}
		start = cursor{after: pos.After, skip: pos.Skip}
	}
	detail := "taxii-partner"
	if q.Manifest {
		detail = "taxii-partner-manifest"
	}
	// The page is read from a snapshot and its ledger and audit entries are
	// committed with concurrent reads (group commit), durable before the
	// page is answered. Only a pull that must make a tearline first (a
	// write) is read again in a write transaction of its own.
	pr := partnerPageRead{t: t, peer: peer, q: q, limit: limit, start: start, codec: codec, scope: scope, detail: detail}
	res, err := pr.read(ctx, t.n.Store(), nil)
	switch {
	case err == nil:
		err = node.RecordPull(ctx, t.n, res.ledger, res.events...)
	case errors.Is(err, release.ErrTearlineDue):
		err = t.n.Outbox().Update(ctx, func(tx store.Tx) error {
			var err error
			if res, err = pr.read(ctx, tx, tx); err != nil {
				return err
			}
			for _, e := range res.ledger {
				if _, err := tx.AppendLedger(ctx, e); err != nil {
					return err
				}
			}
			return t.n.AppendAudit(ctx, tx, res.events...)
		})
	}
	if err != nil {
		return taxii.Page{}, fmt.Errorf("taxii partner read: %w", err)
	}
	if res.missing {
		return taxii.Page{}, fmt.Errorf("taxii read %s: %w", q.Object, taxii.ErrNotFound)
	}
	return res.page, nil
}

// partnerPageRead is one page of the partner view being read.
type partnerPageRead struct {
	t      *TAXII
	peer   *node.Peer
	q      taxii.Query
	limit  int
	start  cursor
	codec  *pagecursor.Codec
	scope  pagecursor.Scope
	detail string
}

// partnerPage is what reading a page decided: the page, or missing (an
// object-by-id read the partner may not make), and the ledger and audit
// entries to commit before it is answered.
type partnerPage struct {
	page    taxii.Page
	missing bool
	ledger  []store.LedgerEntry
	events  []audit.Event
}

// read reads the page through r. tx is nil for a read from a snapshot: a
// tearline that would have to be made then fails it with
// release.ErrTearlineDue; in a write transaction (r == tx) it is made.
func (pr *partnerPageRead) read(ctx context.Context, r store.Reader, tx store.Tx) (partnerPage, error) {
	t, peer, q, limit, start, codec, scope, detail := pr.t, pr.peer, pr.q, pr.limit, pr.start, pr.codec, pr.scope, pr.detail
	actor := "peer:" + peer.Name
	var out partnerPage
	compiled, _, err := t.n.CompiledAgreements(ctx, r)
	if err != nil {
		return out, err
	}
	var src rowSource
	want := "" // object-by-id: the id the partner asked for
	switch {
	case q.Object != "":
		want = q.Object
		v, ok, err := t.partnerRow(ctx, r, peer.Name, q.Object)
		if err != nil {
			return out, err
		}
		if !ok {
			out.missing, out.events = true, []audit.Event{partnerDenial(actor, peer.Name, q.Object, detail)}
			return out, nil
		}
		src = &sliceSource{rows: []store.ObjectVersion{v}}
	case len(q.IDs) > 0:
		var rows []store.ObjectVersion
		for _, id := range slices.Compact(slices.Sorted(slices.Values(q.IDs))) {
			vs, err := r.Versions(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return out, err
			}
			if len(vs) > 0 && (len(q.Types) == 0 || slices.Contains(q.Types, vs[0].Type)) {
				rows = append(rows, vs[len(vs)-1])
			}
		}
		slices.SortFunc(rows, func(a, b store.ObjectVersion) int { return cmp.Compare(a.Seq, b.Seq) })
		src = &sliceSource{rows: afterSeq(rows, start.after)}
	default:
		cs, err := r.AccessClasses(ctx, 0)
		if err != nil {
			return out, err
		}
		classes := make([]int64, len(cs))
		for i, c := range cs {
			classes[i] = c.ID
		}
		lq := store.ListQuery{Types: q.Types, Classes: classes, After: start.after, Limit: limit + 1, IncludeRevoked: true}
		if !q.AddedAfter.IsZero() && q.Next == "" {
			if lq.After, err = seekAdded(ctx, r, lq, q.AddedAfter); err != nil {
				return out, err
			}
		}
		src = &listSource{ctx: ctx, tx: r, q: lq}
	}

	page := &out.page
	var events []audit.Event
	if want == "" {
		// The list entry comes first and is filled in last (taxiiRead).
		events = make([]audit.Event, 1, 1+limit+16)
	}
	var labels []string
	prev, scanned := start.after, 0
	for {
		if scanned == taxiiMaxScan || len(page.Items) == limit && want == "" {
			// Checked before deciding the next row, so that nothing is
			// made or recorded for a row this page does not serve.
			next, err := codec.Seal(scope, pagecursor.Position{After: prev})
			if err != nil {
				return out, err
			}
			page.More, page.Next = true, next
			break
		}
		v, ok, err := src.next()
		if err != nil {
			return out, err
		}
		if !ok {
			break
		}
		scanned++
		prev = v.Seq
		if !specMatch(q.SpecVersions) || !q.AddedAfter.IsZero() && !v.DateAdded.After(q.AddedAfter) {
			continue
		}
		pi, ok, err := t.partnerDecide(ctx, r, tx, compiled, peer.Name, v, q.Manifest)
		if err != nil {
			return out, err
		}
		if !ok || want != "" && pi.item.ID != want {
			continue
		}
		if pi.ledger != nil {
			out.ledger = append(out.ledger, *pi.ledger)
		}
		page.Items = append(page.Items, pi.item)
		pi.event.Detail = clip.String(detail+" "+pi.event.Detail, 300)
		events = append(events, pi.event)
		for _, id := range pi.labels {
			if !slices.Contains(labels, id) {
				labels = append(labels, id)
			}
		}
	}
	if want != "" && len(page.Items) == 0 {
		return partnerPage{missing: true, events: []audit.Event{partnerDenial(actor, peer.Name, want, detail)}}, nil
	}
	for _, id := range labels {
		raw, err := r.Label(ctx, id)
		if err != nil {
			return out, fmt.Errorf("label %s: %w", id, err)
		}
		if raw, err = served("label "+id, raw, false); err != nil {
			return out, err
		}
		page.Leading = append(page.Leading, raw)
		events = append(events, audit.Event{Actor: actor, Action: audit.ActionLabelRead, Object: id, Decision: audit.Allow, Detail: detail})
	}
	if want == "" {
		events[0] = audit.Event{Actor: actor, Action: audit.ActionList, Decision: audit.Allow, Subject: "party:" + peer.Name,
			Count: len(page.Items), Detail: describeQuery(detail, q)}
	}
	out.events = events
	return out, nil
}

// partnerDenial audits an object-by-id read the partner may not make. Its
// reason does not say whether the object exists: the log is read by people
// who may see that, the partner is not.
func partnerDenial(actor, party, id, detail string) audit.Event {
	return audit.Event{Actor: actor, Action: audit.ActionRead, Object: clip.String(id, 200), Subject: "party:" + party,
		Decision: audit.Deny, Reasons: []string{"not-released-to-party"}, Detail: detail}
}

// partnerRow finds the row to decide for an object-by-id read: the latest
// version of id, or, when id is a tearline made for party, the original it
// was made from (the tearline is served only if the original's decision
// still makes it).
func (t *TAXII) partnerRow(ctx context.Context, tx store.Reader, party, id string) (store.ObjectVersion, bool, error) {
	vs, err := tx.Versions(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && len(vs) == 0 {
		return store.ObjectVersion{}, false, nil
	}
	if err != nil {
		return store.ObjectVersion{}, false, err
	}
	// The default instance's latest version (partnerDecide: the view
	// serves no other instance).
	i := len(vs) - 1
	for i >= 0 && vs[i].Instance != 0 {
		i--
	}
	if i < 0 {
		return store.ObjectVersion{}, false, nil
	}
	v := vs[i]
	prov, err := tx.Provenance(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return v, true, nil
	case err != nil:
		return store.ObjectVersion{}, false, err
	case prov.DerivedFrom == "":
		return v, true, nil
	}
	oid, ok, parsed := release.ParseDerivedFrom(prov.DerivedFrom)
	if !parsed {
		return store.ObjectVersion{}, false, nil
	}
	ov, err := node.VersionOf(ctx, tx, oid, ok)
	if errors.Is(err, node.ErrNotFound) {
		return store.ObjectVersion{}, false, nil
	}
	if err != nil {
		return store.ObjectVersion{}, false, err
	}
	if release.TearlineID(ov.Type, ov.ID, node.KeyOf(ov), party) != id {
		return store.ObjectVersion{}, false, nil
	}
	return ov, true, nil
}

// partnerDecide decides whether and how row v is served to party. ok false:
// the row is not in the partner's view.
func (t *TAXII) partnerDecide(ctx context.Context, r store.Reader, tx store.Tx, compiled map[string]*policy.Agreement, party string,
	v store.ObjectVersion, manifest bool) (partnerItem, bool, error) {
	// Only the default instance is in the view: a pulled version carries
	// no instance (the profile is the previous version's), and its
	// receiver takes it as the originator's instance 0. Other instances
	// go to partners by push, which names them (docs/FEDERATION.md,
	// "Instances on the wire"), so a partner holding one of them never
	// takes another as a version of it.
	if v.Instance != 0 {
		return partnerItem{}, false, nil
	}
	skip, err := t.partnerHidden(ctx, r, party, v)
	if err != nil || skip {
		return partnerItem{}, false, err
	}
	c, err := t.n.Classes().Of(ctx, r, v.Class)
	if err != nil {
		return partnerItem{}, false, err
	}
	pd, ok, err := t.rel.DecidePull(ctx, r, tx, compiled, party, v, c)
	if err != nil || !ok {
		return partnerItem{}, false, err
	}
	out, labels := v, c.LabelIDs
	e := &store.LedgerEntry{ObjectID: v.ID, Modified: v.Modified, Instance: v.Instance, Party: party, Agreement: pd.Agreement, AgreementVersion: pd.Version,
		Term: pd.Terms, Labels: pd.Labels, State: LedgerPulled, By: "peer:" + party, At: t.n.Now(), Outcome: pd.Outcome}
	if pd.Outcome == store.LedgerTearline {
		vs, err := r.Versions(ctx, pd.Tearline)
		if err != nil {
			return partnerItem{}, false, err
		}
		if len(vs) == 0 {
			return partnerItem{}, false, fmt.Errorf("tearline %s of %s: not stored", pd.Tearline, v.ID)
		}
		out = vs[len(vs)-1]
		tc, err := t.n.Classes().Of(ctx, r, out.Class)
		if err != nil {
			return partnerItem{}, false, err
		}
		labels = tc.LabelIDs
		e.TearlineID, e.Labels = pd.Tearline, labels
	}
	pi := partnerItem{item: taxiiItem(out, nil, nil), original: v.ID}
	// The listing position, so that a partner's added_after cursor follows
	// the listing even when a tearline was made later than its original.
	pi.item.DateAdded = v.DateAdded
	pi.event = audit.Event{Actor: "peer:" + party, Action: audit.ActionRead, Object: out.ID, Modified: out.Modified, Labels: labels,
		Decision: audit.Allow, Subject: "party:" + party,
		Detail: fmt.Sprintf("outcome=%s agreement=%s", e.Outcome, node.AgreementKey(pd.Agreement, pd.Version))}
	if e.TearlineID != "" {
		pi.event.Detail += " tearline-of=" + v.ID
	}
	if manifest {
		return pi, true, nil // metadata only: nothing disseminated
	}
	if pi.item.Object, err = served("object "+out.ID, out.Raw, out.Opened); err != nil {
		return partnerItem{}, false, err
	}
	if pi.item.Related, err = out.BindingObjects(); err != nil {
		return partnerItem{}, false, err
	}
	// Every label any binding names, so the partner can verify each one.
	for _, raw := range pi.item.Related {
		b, err := binding.Parse(raw)
		if err != nil {
			return partnerItem{}, false, fmt.Errorf("binding of %s: %w", out.ID, err)
		}
		for _, l := range b.Labels {
			pi.labels = append(pi.labels, l.Ref)
		}
		for _, l := range b.PartLabels {
			pi.labels = append(pi.labels, l.Ref)
		}
	}
	pi.ledger = e
	return pi, true, nil
}

// partnerHidden reports rows that are never in a partner's view whatever
// the agreements say: tearlines and their derived-from relationships (a
// tearline is served in place of its original, to its party only), and
// what came from or was originated by the partner itself.
func (t *TAXII) partnerHidden(ctx context.Context, tx store.Reader, party string, v store.ObjectVersion) (bool, error) {
	if v.Originator == party {
		return true, nil
	}
	prov, err := tx.Provenance(ctx, v.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	case prov.DerivedFrom != "" || prov.Originator == party || prov.ReceivedFrom == party:
		return true, nil
	}
	if v.Type != "relationship" || v.Originator != t.n.Config().Name {
		return false, nil
	}
	var rel struct {
		Type      string `json:"relationship_type"`
		SourceRef string `json:"source_ref"`
	}
	if err := json.Unmarshal(v.Raw, &rel); err != nil || rel.Type != "derived-from" {
		return false, nil
	}
	sp, err := tx.Provenance(ctx, rel.SourceRef)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return sp.DerivedFrom != "", nil
}

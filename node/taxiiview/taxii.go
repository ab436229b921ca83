// Package taxiiview is what this node serves over TAXII 2.1 (package taxii
// is the protocol): the holdings collection users read and write with a
// token, decided and audited like the JSON API, and the partner view a
// partner pulls with its certificate, decided per object as a release
// (node/release) and recorded in the ledger.
package taxiiview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// HoldingsAlias is the alias of the collection every node offers over
// TAXII: its own holdings, as the reader's clearance allows.
const HoldingsAlias = federation.HoldingsAlias

// TAXII adapts the node to package taxii. Reads go through the same
// decisions as the JSON API and are audited, durably, before they are
// answered; writes go through Ingest.
type TAXII struct {
	n      *node.Node
	rel    *release.Service // partners' pulls are decided as releases
	rc     *recalls.Service // a delete recalls what was released
	places *labelPlaces     // where label items go (taxii_read.go)
}

// New returns the TAXII backend of n.
func New(n *node.Node, rel *release.Service, rc *recalls.Service) *TAXII {
	return &TAXII{n: n, rel: rel, rc: rc, places: &labelPlaces{}}
}

var _ taxii.Backend = (*TAXII)(nil)

// MarkedAlias is the alias of the holdings collection's marked copy: the
// same objects, each with its labels' marking-definition ids added to its
// object_marking_refs, for platforms that keep markings but not bindings.
const MarkedAlias = "holdings-marked"

// MarkedID is the marked collection's id, made as HoldingsID is.
func (t *TAXII) MarkedID() string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:tearline:taxii:collection:holdings-marked:"+t.n.Config().Identity)).String()
}

// HoldingsID is the holdings collection's id: a UUIDv5 of the node's STIX
// identity, so it is stable across restarts and distinct across nodes.
func (t *TAXII) HoldingsID() string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:tearline:taxii:collection:holdings:"+t.n.Config().Identity)).String()
}

// Authenticate implements taxii.Backend. A Basic user name, when given,
// must be the token owner's: a token pasted under the wrong name is refused
// rather than silently read as someone else.
func (t *TAXII) Authenticate(ctx context.Context, user, token string) (taxii.Caller, error) {
	p, err := t.n.Authenticate(ctx, token)
	if errors.Is(err, node.ErrUnauthenticated) {
		return nil, taxii.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if user != "" && user != p.User.Name {
		err := t.n.RecordReads(ctx, audit.Event{Actor: "token:" + p.TokenID, Action: audit.ActionAuthRefuse,
			Decision: audit.Deny, Reasons: []string{"user-mismatch"}})
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		return nil, taxii.ErrUnauthenticated
	}
	return p, nil
}

func principalOf(c taxii.Caller) (*node.Principal, error) {
	p, ok := c.(*node.Principal)
	if !ok || p == nil {
		return nil, fmt.Errorf("taxii caller %T: %w", c, taxii.ErrUnauthenticated)
	}
	return p, nil
}

// Collections implements taxii.Backend: the holdings collection. Analysts,
// releasers and admins read it (filtered by clearance) and write it;
// auditors see that it exists but may neither read nor write, since they
// must not see content beyond the audit log's metadata.
func (t *TAXII) Collections(ctx context.Context, c taxii.Caller) ([]taxii.Collection, error) {
	if pc, ok := c.(*PartnerCaller); ok {
		return t.partnerCollections(pc), nil
	}
	p, err := principalOf(c)
	if err != nil {
		return nil, err
	}
	rw := node.Authorize(p, node.ActTAXIIContent) == nil
	return []taxii.Collection{{
		ID:    t.HoldingsID(),
		Title: t.n.Config().Name + " holdings",
		Description: "Everything node " + t.n.Config().Name + " holds, as the reader's clearance allows, each object exactly as stored; " +
			"the Tearline labels of those objects are marking-definitions of the collection. " +
			"Objects posted without a Tearline label take the poster's default label.",
		Alias: HoldingsAlias, CanRead: rw, CanWrite: rw,
		MediaTypes: []string{taxii.MediaTypeSTIX},
	}, {
		ID:    t.MarkedID(),
		Title: t.n.Config().Name + " holdings, marked",
		Description: "The holdings collection with each object's Tearline label ids added to its object_marking_refs, " +
			"so that platforms which keep markings keep the classification: a marked copy, not the bytes the originator signed.",
		Alias: MarkedAlias, CanRead: rw, CanWrite: rw,
		MediaTypes: []string{taxii.MediaTypeSTIX},
	}}, nil
}

// reader checks the collection and that p may read it; marked says it is
// the marked copy.
func (t *TAXII) reader(c taxii.Caller, collection string) (p *node.Principal, marked bool, err error) {
	if p, err = principalOf(c); err != nil {
		return nil, false, err
	}
	switch collection {
	case t.HoldingsID():
	case t.MarkedID():
		marked = true
	default:
		return nil, false, fmt.Errorf("collection %s: %w", collection, taxii.ErrNotFound)
	}
	if err := node.Authorize(p, node.ActTAXIIContent); err != nil {
		return nil, false, fmt.Errorf("collection %s: %v: %w", collection, err, taxii.ErrForbidden)
	}
	return p, marked, nil
}

// Objects implements taxii.Backend.
func (t *TAXII) Objects(ctx context.Context, c taxii.Caller, collection string, q taxii.Query) (taxii.Page, error) {
	if pc, ok := c.(*PartnerCaller); ok {
		return t.partnerObjects(ctx, pc, collection, q) // partnerview.go
	}
	p, marked, err := t.reader(c, collection)
	if err != nil {
		return taxii.Page{}, err
	}
	return t.taxiiRead(ctx, p, q, marked, t.places)
}

// Versions implements taxii.Backend: the versions p may read, oldest first,
// through Versions (and its audit).
func (t *TAXII) Versions(ctx context.Context, c taxii.Caller, collection string, q taxii.Query) (taxii.Page, error) {
	if pc, ok := c.(*PartnerCaller); ok {
		return t.partnerVersions(ctx, pc, collection, q)
	}
	p, marked, err := t.reader(c, collection)
	if err != nil {
		return taxii.Page{}, err
	}
	if strings.HasPrefix(q.Object, labelPrefix) {
		if page, ok, err := t.taxiiLabelVersions(ctx, p, q, t.places); ok || err != nil {
			return page, err
		}
	}
	limit := pageLimit(q.Limit)
	skip := 0
	if q.Next != "" {
		cur, err := t.taxiiOpenCursor(ctx, p, q, true, marked)
		if err != nil {
			return taxii.Page{}, err
		}
		if cur.after != 0 {
			return taxii.Page{}, fmt.Errorf("next: not a versions cursor: %w", taxii.ErrBadRequest)
		}
		skip = cur.skip
	}
	vs, err := t.n.Versions(ctx, p, q.Object)
	if errors.Is(err, node.ErrNotFound) {
		return taxii.Page{}, fmt.Errorf("taxii versions: %w", taxii.ErrNotFound)
	}
	if err != nil {
		return taxii.Page{}, err
	}
	var page taxii.Page
	seen := 0
	for _, v := range vs {
		if !q.AddedAfter.IsZero() && !v.DateAdded.After(q.AddedAfter) || !specMatch(q.SpecVersions) {
			continue
		}
		if seen++; seen <= skip {
			continue
		}
		if len(page.Items) == limit {
			page.More = true
			if page.Next, err = t.taxiiSealCursor(ctx, p, q, true, marked, cursor{skip: seen - 1}); err != nil {
				return taxii.Page{}, err
			}
			break
		}
		page.Items = append(page.Items, taxiiItem(v.ObjectVersion, nil, nil))
	}
	return page, nil
}

// Add implements taxii.Backend: the envelope's objects are ingested as one
// bundle, exactly as POST /api/v1/objects would ingest them, and every
// object is reported once, in envelope order.
func (t *TAXII) Add(ctx context.Context, c taxii.Caller, collection string, objects []json.RawMessage) (taxii.AddResult, error) {
	if _, ok := c.(*PartnerCaller); ok {
		// Partners deliver through the federation inbox, where every
		// object is checked against the agreements inbound.
		return taxii.AddResult{}, fmt.Errorf("partners deliver to %s, not over TAXII: %w", federation.InboxPath, taxii.ErrForbidden)
	}
	p, err := principalOf(c)
	if err != nil {
		return taxii.AddResult{}, err
	}
	if collection != t.HoldingsID() && collection != t.MarkedID() {
		return taxii.AddResult{}, fmt.Errorf("collection %s: %w", collection, taxii.ErrNotFound)
	}
	if len(objects) == 0 {
		return taxii.AddResult{}, nil
	}
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
	for i, o := range objects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString("]}")
	lim := stix.Limits{MaxBytes: int(t.n.Config().MaxBodyBytes) + 1024}
	res, err := t.n.Ingest(ctx, p, b.Bytes(), node.IngestOptions{Limits: lim})
	switch {
	case errors.Is(err, node.ErrForbidden):
		return taxii.AddResult{}, fmt.Errorf("role %s may not publish: %w", p.User.Role, taxii.ErrForbidden)
	case err != nil && ctx.Err() != nil:
		return taxii.AddResult{}, err
	case err != nil:
		return taxii.AddResult{}, fmt.Errorf("%w: %w", taxii.ErrBadRequest, err)
	}
	return addResult(p, objects, res), nil
}

// envelopeObject is what a status needs to name an object.
type envelopeObject struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Modified       string `json:"modified"`
	Created        string `json:"created"`
	ObjectRef      string `json:"object_ref"`
	ObjectModified string `json:"object_modified"`
}

// envelopeMeta reads the members a status names an object by, skipping
// the rest: one shallow pass, where decoding each object with
// encoding/json cost a sixth of a large POST's CPU. Ingest has validated
// (or refused) the object already; what does not parse leaves fields empty.
func envelopeMeta(raw []byte) envelopeObject {
	var m envelopeObject
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return m
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return m
		}
		var dst *string
		switch name.String() {
		case "type":
			dst = &m.Type
		case "id":
			dst = &m.ID
		case "modified":
			dst = &m.Modified
		case "created":
			dst = &m.Created
		case "object_ref":
			dst = &m.ObjectRef
		case "object_modified":
			dst = &m.ObjectModified
		}
		if dst != nil && dec.PeekKind() == '"' {
			v, err := dec.ReadToken()
			if err != nil {
				return m
			}
			*dst = v.String()
			continue
		}
		if err := dec.SkipValue(); err != nil {
			return m
		}
	}
	return m
}

func (o envelopeObject) version() string {
	if o.Modified != "" {
		return o.Modified
	}
	return o.Created
}

// addResult turns an ingest result into one status detail per envelope
// object. Refusals carry the object's index; landed objects are matched by
// id and version; labels and bindings, which Ingest absorbs, succeed with
// the object they belong to.
func addResult(p *node.Principal, objects []json.RawMessage, res *node.IngestResult) taxii.AddResult {
	meta := make([]envelopeObject, len(objects))
	byID := make(map[string][]int, len(objects))
	for i, o := range objects {
		meta[i] = envelopeMeta(o) // a malformed object is among the refusals
		byID[meta[i].ID] = append(byID[meta[i].ID], i)
	}
	done := make([]bool, len(objects))
	ok := make([]bool, len(objects))
	msg := make([]string, len(objects))
	// find returns the first object not yet accounted for with this id that
	// match accepts: an envelope may hold several versions of one id.
	find := func(id string, match func(int) bool) int {
		for _, i := range byID[id] {
			if !done[i] && match(i) {
				return i
			}
		}
		return -1
	}
	for _, r := range res.Refused {
		i := -1
		if r.Index >= 0 && r.Index < len(meta) && !done[r.Index] && (r.ID == "" || meta[r.Index].ID == r.ID) {
			i = r.Index
		} else if r.ID != "" {
			i = find(r.ID, func(int) bool { return true })
		}
		if i >= 0 {
			done[i], msg[i] = true, refusalMessage(p, r)
		}
	}
	landed := map[string]bool{}
	for _, l := range res.Landed {
		landed[l.ID+"\x00"+l.Modified] = true
		i := find(l.ID, func(j int) bool { return l.Modified == "" || meta[j].version() == l.Modified })
		if i >= 0 {
			done[i], ok[i], msg[i] = true, true, l.Status
		}
	}
	for i, m := range meta {
		if done[i] {
			continue
		}
		switch m.Type {
		case binding.Type:
			ok[i] = landed[m.ObjectRef+"\x00"+m.ObjectModified]
			msg[i] = "binding verified and stored with " + m.ObjectRef
			if !ok[i] {
				msg[i] = "binding not stored: the object it binds was refused"
			}
		case "marking-definition":
			ok[i], msg[i] = true, "Tearline label: stored with the objects it labels"
		default:
			msg[i] = "not stored"
		}
	}
	var out taxii.AddResult
	for i, m := range meta {
		d := taxii.StatusDetail{ID: m.ID, Version: m.version(), Message: msg[i]}
		if ok[i] {
			out.Successes = append(out.Successes, d)
		} else {
			out.Failures = append(out.Failures, d)
		}
	}
	return out
}

// refusalMessage words a refusal for a TAXII client. The one a stock client
// meets first, an object with no label of ours from a user with no default
// label, says what the user or an administrator can do about it.
func refusalMessage(p *node.Principal, r node.Refusal) string {
	if r.Property == "object_marking_refs" && strings.HasPrefix(r.Reason, "no classification label") {
		return fmt.Sprintf("no classification label: the object references no Tearline label marking-definition, "+
			"and user %q has no default label to apply (a TAXII client cannot attach one); "+
			"an administrator can set one with PATCH /api/v1/users/%s {\"default_label\": \"BANNER\"}", p.User.Name, p.User.Name)
	}
	if r.Property != "" {
		return r.Property + ": " + r.Reason
	}
	return r.Reason
}

// Delete implements taxii.Backend: a purge (crypto-shredding, as
// `tearline purge` does) of the versions of q.Object that p may read and
// match[version] selects (all of them when it is absent), recalled from
// the partners the ledger says received those versions, in one transaction
// with its audit entries. It acts on, and decides from, only what p may
// read: versions p may not read (another instance of the id, or a later
// version at a level above p's) are neither purged nor looked at, so the
// answer is the one for an id that has none. p must be the poster of every
// version selected, if none was released to a partner, or a releaser or
// admin, if this node originated them (else 403); an object p may not
// read at all is 404, as a missing id.
func (t *TAXII) Delete(ctx context.Context, c taxii.Caller, collection string, q taxii.Query) error {
	if _, ok := c.(*PartnerCaller); ok {
		return fmt.Errorf("partners may not delete: %w", taxii.ErrForbidden)
	}
	p, _, err := t.reader(c, collection)
	if err != nil {
		return err
	}
	return t.taxiiDelete(ctx, p, q, t.places)
}

// PurgeDelete is the tombstone's reason for an object deleted over TAXII.
const PurgeDelete = "delete"

// errDeleteRefused carries a refused delete's reason out of its
// transaction, which is rolled back; the refusal is audited after it.
type errDeleteRefused struct{ reason string }

func (e errDeleteRefused) Error() string { return "delete refused: " + e.reason }

func (t *TAXII) taxiiDelete(ctx context.Context, p *node.Principal, q taxii.Query, places *labelPlaces) error {
	id := q.Object
	notFound := fmt.Errorf("taxii delete %s: %w", clip.String(id, 200), taxii.ErrNotFound)
	if err := node.Authorize(p, node.ActTAXIIDelete); err != nil {
		return fmt.Errorf("taxii delete: %v: %w", err, taxii.ErrForbidden)
	}
	var purged []string
	var err error
	if strings.HasPrefix(id, labelPrefix) {
		// One of our labels, an item p reads: labels are not deleted,
		// they go with the last object bearing them.
		var page taxii.Page
		if page, _, err = t.taxiiLabelVersions(ctx, p, taxii.Query{Object: id}, places); err == nil && len(page.Items) > 0 {
			err = errDeleteRefused{"label"}
		}
	}
	if err == nil {
		err = t.n.Outbox().Update(ctx, func(tx store.Tx) error {
			// Acting on an object is reading it first: one p may not read
			// answers as one that does not exist.
			if err := t.n.AuthorizeObject(ctx, tx, p, node.ActTAXIIDelete, id, nil, notFound); err != nil {
				return err
			}
			all, err := tx.Versions(ctx, id)
			if err != nil {
				return err
			}
			// Only what p may read exists for this delete (the rule of a
			// read, per version): what it selects, purges and decides from.
			var vis []store.ObjectVersion
			for _, v := range all {
				c, err := t.n.Classes().Of(ctx, tx, v.Class)
				if err != nil {
					return err
				}
				if policy.CanRead(t.n.Registry(), p.Subject, c.Labels).Allow {
					vis = append(vis, v)
				}
			}
			if len(vis) == 0 || !specMatch(q.SpecVersions) {
				return notFound
			}
			// No match[version]: every version (TAXII 2.1 §5.7); one given,
			// "last" included, selects as a read does.
			sel := vis
			if v := q.Version; v.First || v.Last || v.All || len(v.At) > 0 {
				q.AddedAfter = time.Time{} // not a filter of this endpoint
				if sel, err = t.selectVersions(vis[len(vis)-1], q, map[string][]store.ObjectVersion{id: vis}, nil); err != nil {
					return err
				}
			}
			if len(sel) == 0 {
				return notFound
			}
			modified := make([]node.VersionKey, len(sel))
			for i, v := range sel {
				modified[i] = node.VersionKey{Instance: v.Instance, Modified: v.Modified}
			}
			// The releases of the versions selected only.
			parties, err := t.rc.Recipients(ctx, tx, id, modified)
			if err != nil {
				return err
			}
			ours, err := t.originatedHere(ctx, tx, id, all, sel)
			if err != nil {
				return err
			}
			switch {
			case ours && node.Authorize(p, node.ActDeleteOrigin) == nil:
			case len(parties) > 0:
				return errDeleteRefused{"released"}
			default:
				posted, err := t.postedBy(ctx, tx, p.Actor(), id, sel)
				if err != nil {
					return err
				}
				if !posted {
					return errDeleteRefused{"not-poster"}
				}
			}
			why := "deleted over TAXII by " + p.User.Name
			if len(parties) > 0 {
				// The notice's reason, which the partners read, names no
				// one here; the recall row and the audit keep who.
				if err := t.rc.RecallIn(ctx, tx, p, id, modified, "deleted over TAXII"); err != nil {
					return err
				}
			}
			// A purge per instance of the versions selected.
			byInst := map[int64][]time.Time{}
			var insts []int64
			for _, v := range sel {
				if _, ok := byInst[v.Instance]; !ok {
					insts = append(insts, v.Instance)
				}
				byInst[v.Instance] = append(byInst[v.Instance], v.ModifiedAt)
			}
			purged = purged[:0]
			for _, k := range insts {
				ts, err := t.n.PurgeIn(ctx, tx, p.Actor(), store.Purge{ID: id, Instance: k, Versions: byInst[k], PurgedAt: t.n.Now(), Reason: PurgeDelete})
				if err != nil {
					return err
				}
				purged = append(purged, store.PurgedVersions(ts)...)
			}
			return t.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionDelete, Object: id, Decision: audit.Accept,
				Reasons: []string{why}, Count: len(purged), Detail: "taxii"})
		})
	}
	var refused errDeleteRefused
	if errors.As(err, &refused) {
		err = t.n.Store().Update(ctx, func(tx store.Tx) error {
			return t.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionDelete, Object: clip.String(id, 200),
				Decision: audit.Refuse, Reasons: []string{refused.reason}, Detail: "taxii"})
		})
		if err != nil {
			return fmt.Errorf("taxii delete: %w", err)
		}
		return fmt.Errorf("%s may read %s but not delete it (the poster of an object never released to a partner may, "+
			"and releasers and admins may delete what this node originated): %w", p.User.Name, id, taxii.ErrForbidden)
	}
	if err != nil {
		return fmt.Errorf("taxii delete: %w", err)
	}
	t.n.Scrub(ctx)
	return nil
}

// originatedHere reports whether this node originated the versions sel
// of id: each is bound by this node, and the id's provenance, if it names
// another originator, is not that of a version of the id (a partner's
// delivery: its own versions, maybe an instance p may not read) but says
// the object came here otherwise (recorded by hand).
func (t *TAXII) originatedHere(ctx context.Context, r store.Reader, id string, all, sel []store.ObjectVersion) (bool, error) {
	here := t.n.Config().Name
	for _, v := range sel {
		if v.Originator != here {
			return false, nil
		}
	}
	prov, err := r.Provenance(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return prov.Originator == here || slices.ContainsFunc(all, func(v store.ObjectVersion) bool { return v.Originator == prov.Originator }), nil
}

// postedWindow bounds the audit log postedBy reads around a version's
// date_added: the ingest entry is stamped while the version is prepared
// and appended in the transaction that stores it.
const postedWindow = 10 * time.Minute

// postedBy reports whether actor posted every version of id in vs: the
// audit log has an ingest entry ("created") naming actor for each. Entries
// of other actors are passed over (another instance may share a
// modified, and the answer must not depend on one p may not read). Only the
// entries stamped within postedWindow of the versions' date_added are
// read: a binary search by time finds the first, since entries are
// appended in time order, give or take the time an ingest takes.
func (t *TAXII) postedBy(ctx context.Context, r store.Reader, actor, id string, vs []store.ObjectVersion) (bool, error) {
	need := map[string]int{}
	from, to := vs[0].DateAdded, vs[0].DateAdded
	for _, v := range vs {
		need[v.Modified]++
		if v.DateAdded.Before(from) {
			from = v.DateAdded
		}
		if v.DateAdded.After(to) {
			to = v.DateAdded
		}
	}
	from, to = from.Add(-postedWindow), to.Add(postedWindow)
	size, err := r.AuditSize(ctx)
	if err != nil {
		return false, err
	}
	at := func(i int64) (time.Time, error) {
		es, err := r.AuditEntries(ctx, i, i+1)
		if err != nil || len(es) == 0 {
			return time.Time{}, err
		}
		ev, err := audit.Parse(es[0].Data)
		return ev.Time, err
	}
	lo, hi := int64(0), size
	for lo < hi {
		mid := lo + (hi-lo)/2
		t, err := at(mid)
		if err != nil {
			return false, err
		}
		if t.Before(from) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	needle := []byte(`"object":` + strconv.Quote(id))
	const batch = 1024
	for i := lo; i < size && len(need) > 0; i += batch {
		es, err := r.AuditEntries(ctx, i, min(i+batch, size))
		if err != nil {
			return false, err
		}
		var last time.Time
		for _, en := range es {
			if !bytes.Contains(en.Data, needle) {
				continue
			}
			ev, err := audit.Parse(en.Data)
			if err != nil {
				return false, err
			}
			last = ev.Time
			if ev.Action != audit.ActionIngest || ev.Object != id || ev.Detail != "created" || need[ev.Modified] == 0 || ev.Actor != actor {
				continue
			}
			if need[ev.Modified]--; need[ev.Modified] == 0 {
				delete(need, ev.Modified)
			}
		}
		if len(es) > 0 {
			if ev, err := audit.Parse(es[len(es)-1].Data); err == nil {
				last = ev.Time
			}
		}
		if last.After(to) {
			break
		}
	}
	return len(need) == 0, nil
}

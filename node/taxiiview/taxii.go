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
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
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
	n   *node.Node
	rel *release.Service // partners' pulls are decided as releases
}

// New returns the TAXII backend of n.
func New(n *node.Node, rel *release.Service) *TAXII { return &TAXII{n: n, rel: rel} }

var _ taxii.Backend = (*TAXII)(nil)

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
		err := t.n.Store().Update(ctx, func(tx store.Tx) error {
			return t.n.AppendAudit(ctx, tx, audit.Event{Actor: "token:" + p.TokenID, Action: audit.ActionAuthRefuse,
				Decision: audit.Deny, Reasons: []string{"user-mismatch"}})
		})
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
		Description: "Everything node " + t.n.Config().Name + " holds, as the reader's clearance allows. " +
			"Objects posted without a Tearline label take the poster's default label.",
		Alias: HoldingsAlias, CanRead: rw, CanWrite: rw,
		MediaTypes: []string{taxii.MediaTypeSTIX},
	}}, nil
}

// reader checks the collection and that p may read it.
func (t *TAXII) reader(c taxii.Caller, collection string) (*node.Principal, error) {
	p, err := principalOf(c)
	if err != nil {
		return nil, err
	}
	if collection != t.HoldingsID() {
		return nil, fmt.Errorf("collection %s: %w", collection, taxii.ErrNotFound)
	}
	if err := node.Authorize(p, node.ActTAXIIContent); err != nil {
		return nil, fmt.Errorf("collection %s: %v: %w", collection, err, taxii.ErrForbidden)
	}
	return p, nil
}

// Objects implements taxii.Backend.
func (t *TAXII) Objects(ctx context.Context, c taxii.Caller, collection string, q taxii.Query) (taxii.Page, error) {
	if pc, ok := c.(*PartnerCaller); ok {
		return t.partnerObjects(ctx, pc, collection, q) // partnerview.go
	}
	p, err := t.reader(c, collection)
	if err != nil {
		return taxii.Page{}, err
	}
	return t.taxiiRead(ctx, p, q)
}

// Versions implements taxii.Backend: the versions p may read, oldest first,
// through Versions (and its audit).
func (t *TAXII) Versions(ctx context.Context, c taxii.Caller, collection string, q taxii.Query) (taxii.Page, error) {
	if pc, ok := c.(*PartnerCaller); ok {
		return t.partnerVersions(ctx, pc, collection, q)
	}
	p, err := t.reader(c, collection)
	if err != nil {
		return taxii.Page{}, err
	}
	limit := pageLimit(q.Limit)
	skip := 0
	if q.Next != "" {
		cur, err := t.taxiiOpenCursor(ctx, p, q, true)
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
			if page.Next, err = t.taxiiSealCursor(ctx, p, q, true, cursor{skip: seen - 1}); err != nil {
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
	if collection != t.HoldingsID() {
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

// Delete implements taxii.Backend. Tearline does not erase intelligence
// through TAXII: objects are immutable, and the STIX way to withdraw one is
// for its originator to publish a revoked version, which this collection
// then serves. The attempt is audited and refused, for every role.
func (t *TAXII) Delete(ctx context.Context, c taxii.Caller, collection, id string) error {
	if _, ok := c.(*PartnerCaller); ok {
		return fmt.Errorf("partners may not delete: %w", taxii.ErrForbidden)
	}
	p, err := principalOf(c)
	if err != nil {
		return err
	}
	if collection != t.HoldingsID() {
		return fmt.Errorf("collection %s: %w", collection, taxii.ErrNotFound)
	}
	err = t.n.Store().Update(ctx, func(tx store.Tx) error {
		return t.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionDelete, Object: clip.String(id, 200),
			Decision: audit.Refuse, Reasons: []string{"not-supported"}, Detail: "taxii"})
	})
	if err != nil {
		return fmt.Errorf("taxii delete: %w", err)
	}
	return fmt.Errorf("objects are not deleted over TAXII; the originator withdraws one by publishing a revoked version (STIX 2.1 §3.6): %w", taxii.ErrNotSupported)
}

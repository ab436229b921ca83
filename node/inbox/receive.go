package inbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

// Receiving objects from a partner (kind "objects"). For each message:
//
//   - the peer is who its TLS client certificate names (the API route);
//   - every object must come with a binding, and every binding must verify
//     against the keyring (the originator's signature over the object and
//     the exact labels sent);
//   - an active agreement with the peer must accept the object inbound
//     (policy.DecideInbound: direction, labels, scope, condition);
//   - labels under a partner's policy are translated through that
//     agreement's equivalence table and bound by this node as an
//     alternative binding, and the object is readable here under the
//     translated labels;
//   - provenance (originator, the hops so far and this one: agreement,
//     version, peer, us) and retention (the agreement's retention_days
//     from now) are recorded;
//
// all in one transaction with a federation.receive audit entry per object.
// A message with any object that fails is refused whole: nothing of it is
// stored, the refusal is audited (federation.refuse) and the sender is told
// why. A version already held is accepted again and stores nothing new: a
// resend is harmless.

// ReceivedObject is the receiver's answer for one object of an "objects"
// message.
type ReceivedObject struct {
	ID        string   `json:"id"`
	Modified  string   `json:"modified,omitempty"`
	Status    string   `json:"status"` // "created" or "exists"
	Agreement string   `json:"agreement"`
	Labels    []string `json:"labels"` // the access class here (translated)
	// instance is the instance here the version joined or started: not
	// on the wire (the sender numbers its instances its own way), but
	// named in the follow-up rows of onward releases.
	instance int64
}

// maxInboundObjects bounds the objects of one "objects" message.
const maxInboundObjects = 4096

// inbound is one object of a message, checked and ready to store.
type inbound struct {
	v         store.ObjectVersion
	labels    map[string][]byte // label id -> canonical marking-definition, every label to store
	class     []string
	prov      store.Provenance
	retention time.Duration
	agreement string
	version   int
	origin    int64 // the object's instance at its originator (the envelope's originator_instance)
}

// receiveError is a refusal with reason codes for the audit record and
// the code of the federation reason table the sender is told.
type receiveError struct {
	reasons []string
	code    federation.Reason
	msg     string
}

func (e *receiveError) Error() string { return e.msg }

func refuseIn(code, format string, args ...any) error {
	fc := federation.ReasonInvalid
	if code == "version" {
		fc = federation.ReasonConflict
	}
	return &receiveError{reasons: []string{code}, code: fc, msg: fmt.Sprintf(format, args...)}
}

// signatureReason classes a binding that does not verify: a key this node
// does not hold yet is transient (the partner's key is added to the
// keyring later, and the sender retries); a key that may not sign it
// (revoked, expired, another node's) and a bad signature are permanent.
func signatureReason(err error) federation.Reason {
	switch {
	case errors.Is(err, binding.ErrUnknownKey):
		return federation.ReasonUnknownKey
	case errors.Is(err, binding.ErrKeyNotValid):
		return federation.ReasonRevokedKey
	}
	return federation.ReasonBadSignature
}

// ReceiveBatch implements federation.Receiver: the inbox route's peer,
// authenticated by its client certificate, delivers msgs.
func (ib *Service) ReceiveBatch(ctx context.Context, from *federation.Peer, msgs []federation.InboxMessage) []federation.InboxMessageResult {
	return ib.HandleInboxBatch(ctx, &node.Peer{Name: from.Name, Country: from.Country, Org: from.Org, URL: from.URL}, msgs)
}

// HandleInboxBatch handles the messages of one delivery from peer, in
// order, and returns one result per message. Consecutive "objects"
// messages are stored in one transaction (each still all-or-nothing); other
// kinds go to their registered handlers one by one.
func (ib *Service) HandleInboxBatch(ctx context.Context, peer *node.Peer, msgs []federation.InboxMessage) []federation.InboxMessageResult {
	out := make([]federation.InboxMessageResult, len(msgs))
	for i := 0; i < len(msgs); {
		if msgs[i].Kind == store.OutboxObjects && !ib.hasHandler(store.OutboxObjects) {
			j := i
			for j < len(msgs) && msgs[j].Kind == store.OutboxObjects {
				j++
			}
			ib.receiveObjects(ctx, peer, msgs[i:j], out[i:j])
			i = j
			continue
		}
		m := msgs[i]
		res, err := ib.HandleInbox(ctx, peer, m.Kind, m.Payload)
		out[i] = federation.InboxMessageResult{ID: m.ID, Status: federation.InboxAccepted, Result: res}
		switch {
		case errors.Is(err, ErrUnknownKind):
			out[i].Status, out[i].Reason, out[i].Error = federation.InboxRefused, federation.ReasonUnknownKind, err.Error()
		case errors.Is(err, node.ErrRefused):
			code := federation.ReasonOf(err, federation.ReasonRefused)
			out[i].Status, out[i].Reason, out[i].Error = code.Status(), code, err.Error()
		case err != nil:
			out[i].Status, out[i].Reason, out[i].Error = federation.InboxRetry, federation.ReasonBusy, err.Error()
		}
		i++
	}
	return out
}

func (ib *Service) hasHandler(kind string) bool {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	return ib.handlers[kind] != nil
}

// receiveObjects checks every message, then stores the accepted ones in
// one transaction; a message whose write fails (a conflicting version, a
// purged object) is refused and the transaction is made again without it.
func (ib *Service) receiveObjects(ctx context.Context, peer *node.Peer, msgs []federation.InboxMessage, out []federation.InboxMessageResult) {
	now := ib.n.Now()
	compiled, _, err := ib.n.CompiledAgreements(ctx, ib.n.Store())
	if err != nil {
		for i := range out {
			out[i] = federation.InboxMessageResult{ID: msgs[i].ID, Status: federation.InboxRetry, Reason: federation.ReasonBusy, Error: "agreements: " + err.Error()}
		}
		return
	}
	prepared := make([][]*inbound, len(msgs))
	var refusals []audit.Event
	refuse := func(i int, err error, objs []string) {
		reasons, code := []string{"invalid"}, federation.ReasonInvalid
		var re *receiveError
		if errors.As(err, &re) {
			reasons, code = re.reasons, re.code
		}
		// The refusal as a TAXII error resource, as a TAXII server would
		// answer a POST it refuses. A transient one (a key not loaded yet)
		// answers retry: the sender tries again.
		out[i] = federation.InboxMessageResult{ID: msgs[i].ID, Status: code.Status(), Reason: code, Error: err.Error(),
			Result: taxii.Error{Title: "Unprocessable Entity", Description: clip.String(err.Error(), 1000),
				ErrorCode: strings.Join(reasons, ","), HTTPStatus: "422"}}
		obj := ""
		if len(objs) > 0 {
			obj = objs[0]
		}
		refusals = append(refusals, audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionFederationRefuse, Object: obj,
			Subject: "party:" + peer.Name, Decision: audit.Refuse, Reasons: reasons, Detail: clip.String(err.Error(), 300)})
	}
	// Checking is CPU work (parsing, canonical JSON, Ed25519): in parallel.
	errs := make([]error, len(msgs))
	ids := make([][]string, len(msgs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(msgs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(msgs) {
					return
				}
				prepared[i], ids[i], errs[i] = ib.checkInbound(peer, msgs[i].Payload, compiled, now)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			prepared[i] = nil
			refuse(i, err, ids[i])
		}
	}
	// Onward automatic releases, never back to the sender (autorelease.go),
	// follow the commit from rows the receipt writes (followup.go).
	targets, terr := ib.n.AutoReleaseTargets(ctx, peer.Name)
	if terr != nil {
		ib.n.Logger().Warn("federation: automatic release", "peer", peer.Name, "err", terr)
	}
	auto := terr != nil || len(targets) > 0
	for {
		var results [][]ReceivedObject
		var follow []store.Followup
		failed := -1
		var failErr error
		err := ib.n.Store().Update(ctx, func(tx store.Tx) error {
			results, follow = make([][]ReceivedObject, len(msgs)), nil
			wc := &writeCache{labels: map[string]bool{}, classes: map[string]int64{}}
			for i, ins := range prepared {
				if ins == nil {
					continue
				}
				r, err := ib.storeInbound(ctx, tx, wc, peer, ins)
				if err != nil {
					if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrRevoked) || errors.Is(err, store.ErrPurged) || errors.Is(err, store.ErrExists) {
						failed, failErr = i, err
					}
					return err
				}
				results[i] = r
			}
			if auto {
				var created []node.VersionRef
				for _, r := range results {
					for _, o := range r {
						if o.Status == "created" {
							created = append(created, node.VersionRef{ID: o.ID, Modified: o.Modified, Instance: o.instance})
						}
					}
				}
				var err error
				if follow, err = ib.n.Followups().AddAutoReleases(ctx, tx, node.AutoReleaser(), peer.Name, created); err != nil {
					return err
				}
			}
			// One append for the whole delivery: the audit tree's hashes
			// are computed once, not per message.
			return ib.n.AppendAudit(ctx, tx, wc.events...)
		})
		if err == nil {
			for i, r := range results {
				if prepared[i] != nil {
					out[i] = federation.InboxMessageResult{ID: msgs[i].ID, Status: federation.InboxAccepted, Result: map[string]any{"objects": r}}
				}
			}
			// The receipt stands whatever happens here.
			ib.n.Followups().Do(ctx, follow)
			break
		}
		if failed < 0 {
			for i := range prepared {
				if prepared[i] != nil {
					out[i] = federation.InboxMessageResult{ID: msgs[i].ID, Status: federation.InboxRetry, Reason: federation.ReasonBusy, Error: "store: " + err.Error()}
				}
			}
			break
		}
		var ids []string
		for _, in := range prepared[failed] {
			ids = append(ids, in.v.ID)
		}
		refuse(failed, &receiveError{reasons: []string{"version"}, code: federation.ReasonConflict, msg: "not stored: " + failErr.Error()}, ids)
		prepared[failed] = nil
	}
	if len(refusals) > 0 {
		if err := ib.n.Store().Update(ctx, func(tx store.Tx) error { return ib.n.AppendAudit(ctx, tx, refusals...) }); err != nil {
			ib.n.Logger().Warn("federation: audit refusals", "peer", peer.Name, "err", err)
		}
	}
}

// checkInbound parses, verifies and decides one "objects" message. It
// returns the ids of the content objects for the refusal record.
func (ib *Service) checkInbound(peer *node.Peer, payload []byte, compiled map[string]*policy.Agreement, now time.Time) ([]*inbound, []string, error) {
	var bundle federation.ObjectsBundle
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&bundle); err != nil {
		return nil, nil, refuseIn("invalid", "payload: %v", err)
	}
	if bundle.Type != "bundle" || len(bundle.Objects) == 0 || len(bundle.Objects) > maxInboundObjects {
		return nil, nil, refuseIn("invalid", "payload: want a STIX bundle of 1 to %d objects", maxInboundObjects)
	}
	labels := map[string][]byte{}
	parsedLabels := map[string]label.Label{}
	bindings := map[string][]*binding.Binding{}
	var objs []stix.Object
	var ids []string
	for _, raw := range bundle.Objects {
		var head struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, ids, refuseIn("invalid", "object: %v", err)
		}
		// Labels and bindings have parsers of their own, stricter than
		// generic STIX validation.
		switch head.Type {
		case "marking-definition":
			l, canon, err := ib.labels.parse(raw)
			if err != nil {
				if err.canonical {
					return nil, ids, refuseIn("label", "label %s: %v", head.ID, err.err)
				}
				return nil, ids, refuseIn("label", "marking-definition %s is not a Tearline label: %v", head.ID, err.err)
			}
			labels[head.ID], parsedLabels[head.ID] = canon, l
			continue
		case binding.Type:
			b, err := binding.Parse(raw)
			if err != nil {
				return nil, ids, refuseIn("binding", "binding %s: %v", head.ID, err)
			}
			k := b.ObjectRef + "\x00" + b.ObjectModified
			bindings[k] = append(bindings[k], b)
			continue
		}
		obj, err := stix.ValidateObject(raw)
		if err != nil {
			return nil, ids, refuseIn("invalid", "object: %v", err)
		}
		switch {
		case obj.Type == "marking-definition" || obj.Type == binding.Type:
			return nil, ids, refuseIn("invalid", "object %s: type changed", obj.ID)
		default:
			objs = append(objs, obj)
			ids = append(ids, obj.ID)
		}
	}
	if len(objs) == 0 {
		return nil, ids, refuseIn("invalid", "no object in the message")
	}
	var out []*inbound
	for _, obj := range objs {
		k := obj.ID + "\x00" + obj.Version()
		bs := bindings[k]
		delete(bindings, k)
		in, err := ib.checkOne(peer, obj, bs, labels, parsedLabels, bundle.Release, compiled, now)
		if err != nil {
			return nil, ids, fmt.Errorf("%s: %w", obj.ID, err)
		}
		out = append(out, in)
	}
	for _, bs := range bindings {
		return nil, ids, refuseIn("binding", "binding %s for %s arrived without that object", bs[0].ID, bs[0].ObjectRef)
	}
	return out, ids, nil
}

func (ib *Service) checkOne(peer *node.Peer, obj stix.Object, bs []*binding.Binding, labels map[string][]byte, parsed map[string]label.Label,
	env federation.ReleaseEnvelope, compiled map[string]*policy.Agreement, now time.Time) (*inbound, error) {
	if len(bs) == 0 {
		return nil, refuseIn("unbound", "no binding: the originator's label binding must come with the object")
	}
	canon, err := jcs.Canonicalize(obj.Raw)
	if err != nil {
		return nil, refuseIn("invalid", "%v", err)
	}
	var primary *binding.Binding
	for _, b := range bs {
		supplied := map[string][]byte{}
		for _, r := range b.Labels {
			if raw, ok := labels[r.Ref]; ok {
				supplied[r.Ref] = raw
			}
		}
		for _, r := range b.PartLabels {
			if raw, ok := labels[r.Ref]; ok {
				supplied[r.Ref] = raw
			}
		}
		ring, err := ib.n.Keyring()
		if err != nil {
			return nil, err
		}
		if err := ring.Verify(b, canon, supplied); err != nil {
			return nil, &receiveError{reasons: []string{"signature"}, code: signatureReason(err),
				msg: fmt.Sprintf("binding %s does not verify: %v", b.ID, err)}
		}
		if primary == nil || (b.Kind == binding.KindOriginator && primary.Kind != binding.KindOriginator) {
			primary = b
		}
	}
	// An alternative binding (a tearline, a translation) is only
	// acceptable from the peer that sent it: it vouches for what it made.
	if primary.Kind != binding.KindOriginator && primary.Node != peer.Name {
		return nil, refuseIn("binding", "alternative binding %s made by %s, not by the sender %s", primary.ID, primary.Node, peer.Name)
	}
	originator := primary.Node
	if primary.Kind != binding.KindOriginator && env.Originator != "" {
		originator = env.Originator // a tearline the peer made of material it holds
	}
	if originator == ib.n.Config().Name {
		return nil, refuseIn("provenance", "object originated here")
	}
	facts := policy.ObjectFacts{Type: obj.Type, Originator: originator, ReceivedAt: now, Raw: canon}
	var wholeIDs []string
	for _, r := range primary.Labels {
		facts.Labels = append(facts.Labels, parsed[r.Ref])
		wholeIDs = append(wholeIDs, r.Ref)
	}
	var partSel [][]string
	var partIDs []string
	for _, p := range primary.PartLabels {
		facts.Parts = append(facts.Parts, policy.Part{Selectors: p.Selectors, Label: parsed[p.Ref]})
		partSel = append(partSel, p.Selectors)
		partIDs = append(partIDs, p.Ref)
	}

	// Every active agreement with the peer; the first that accepts (newest
	// version of each id first, ids in order) governs.
	var keys []string
	for k, a := range compiled {
		if a.HasParty(peer.Name) && a.Self() == ib.n.Config().Name {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y string) int {
		ax, ay := compiled[x], compiled[y]
		if c := strings.Compare(ax.ID(), ay.ID()); c != 0 {
			return c
		}
		return ay.Version() - ax.Version()
	})
	var chosen *policy.Agreement
	var d policy.ReleaseDecision
	var why []string
	for _, k := range keys {
		a := compiled[k]
		f := facts
		f.Provenance = []policy.Hop{{Agreement: a, From: peer.Name, To: ib.n.Config().Name}}
		dd := policy.DecideInbound(a, f, peer.Name, now)
		if dd.Outcome == policy.Release {
			chosen, d = a, dd
			break
		}
		why = append(why, fmt.Sprintf("%s: %s", node.AgreementKey(a.ID(), a.Version()), strings.Join(release.Words(release.ReasonCodes(dd.Reasons)), "; ")))
		if len(why) == 1 {
			d = dd
		}
	}
	if chosen == nil {
		codes := release.ReasonCodes(d.Reasons)
		if len(keys) == 0 {
			codes, why = []string{string(policy.ReasonNoTerms)}, []string{"no agreement with " + peer.Name + " covers this"}
		}
		return nil, &receiveError{reasons: codes, code: federation.ReasonPolicy,
			msg: "refused under every agreement with " + peer.Name + ": " + strings.Join(why, " | ")}
	}

	// Bindings as received, then ours for translated labels.
	keep := map[string][]byte{}
	for _, id := range append(slices.Clone(wholeIDs), partIDs...) {
		keep[id] = labels[id]
	}
	all := bs
	classWhole, classParts := wholeIDs, partIDs
	if d.Translated != nil || d.TranslatedParts != nil {
		tr := d.Translated
		if tr == nil {
			tr = facts.Labels
		}
		in := binding.BindInput{ObjectID: obj.ID, ObjectModified: obj.Version(), CanonicalObject: canon,
			Kind: binding.KindAlternative, DerivedFromRef: primary.ID}
		classWhole = nil
		for _, l := range tr {
			id, raw := l.ID(), ib.n.Registry().MarkingDefinition(l)
			in.Labels = append(in.Labels, binding.LabelInput{ID: id, Canonical: raw})
			keep[id] = raw
			classWhole = append(classWhole, id)
		}
		if d.TranslatedParts != nil {
			classParts = nil
			for i, l := range d.TranslatedParts {
				id, raw := l.ID(), ib.n.Registry().MarkingDefinition(l)
				in.Parts = append(in.Parts, binding.PartInput{Selectors: partSel[i], Label: binding.LabelInput{ID: id, Canonical: raw}})
				keep[id] = raw
				classParts = append(classParts, id)
			}
		} else {
			for i, id := range partIDs {
				in.Parts = append(in.Parts, binding.PartInput{Selectors: partSel[i], Label: binding.LabelInput{ID: id, Canonical: labels[id]}})
			}
		}
		signer, err := ib.n.Signer()
		if err != nil {
			return nil, err
		}
		ours, err := signer.Bind(in, now)
		if err != nil {
			return nil, refuseIn("label", "translated binding: %v", err)
		}
		all = append(slices.Clone(bs), ours)
	}
	var bb bytes.Buffer
	bb.WriteByte('[')
	for i, b := range all {
		if i > 0 {
			bb.WriteByte(',')
		}
		bb.Write(b.Raw)
	}
	bb.WriteByte(']')
	class := append(slices.Clone(classWhole), classParts...)
	slices.Sort(class)
	class = slices.Compact(class)

	hops := slices.Clone(env.Hops)
	hops = append(hops, store.Hop{Agreement: chosen.ID(), Version: chosen.Version(), From: peer.Name, To: ib.n.Config().Name})
	in := &inbound{
		v: store.ObjectVersion{ID: obj.ID, Type: obj.Type, Modified: obj.Version(), ModifiedAt: obj.ModifiedAt, Created: obj.Created,
			Revoked: obj.Revoked, Digest: primary.ObjectDigest, Raw: obj.Raw, Bindings: bb.Bytes(), Originator: originator},
		labels:    keep,
		class:     class,
		prov:      store.Provenance{ObjectID: obj.ID, Originator: originator, ReceivedFrom: peer.Name, Hops: hops, ReceivedAt: now},
		retention: d.Retention,
		agreement: chosen.ID(),
		version:   chosen.Version(),
		origin:    env.OriginatorInstance,
	}
	return in, nil
}

// writeCache remembers, within one transaction, the labels written and
// the access classes looked up, which most objects of a delivery share.
type writeCache struct {
	labels  map[string]bool
	classes map[string]int64
	events  []audit.Event // audit entries of the objects written, appended at the end
}

// storeInbound writes one checked message in tx: its objects in one batch
// (putObjects), then each one's provenance and retention. A refused version
// (a conflict, after a revocation, a purged object) fails the message.
func (ib *Service) storeInbound(ctx context.Context, tx store.Tx, wc *writeCache, peer *node.Peer, ins []*inbound) ([]ReceivedObject, error) {
	vs := make([]*store.ObjectVersion, len(ins))
	for i, in := range ins {
		for id, raw := range in.labels {
			if wc.labels[id] {
				continue
			}
			if err := tx.PutLabel(ctx, id, raw); err != nil {
				return nil, err
			}
			wc.labels[id] = true
		}
		key := strings.Join(in.class, ",")
		cid, ok := wc.classes[key]
		if !ok {
			var err error
			if cid, err = tx.AccessClass(ctx, in.class); err != nil {
				return nil, err
			}
			wc.classes[key] = cid
		}
		v := in.v
		v.Class = cid
		vs[i] = &v
	}
	// A partner's version joins the instance here that holds the same
	// instance of the same originator; else it starts one (package
	// instance, docs/FEDERATION.md "Instances on the wire").
	from := make([]int64, len(ins))
	for i, in := range ins {
		from[i] = in.origin
	}
	if err := instance.AssignReceived(ctx, tx, ib.n.Config().Name, vs, from); err != nil {
		return nil, err
	}
	created, errs, err := node.PutObjects(ctx, tx, vs)
	if err != nil {
		return nil, err
	}
	var out []ReceivedObject
	for i, in := range ins {
		v := vs[i]
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: %w", v.ID, errs[i])
		}
		if err := tx.PutProvenance(ctx, in.prov); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
		if in.retention > 0 {
			if err := tx.SetRetention(ctx, store.Retained{ID: v.ID, Instance: v.Instance, ModifiedAt: v.ModifiedAt, Until: in.prov.ReceivedAt.Add(in.retention)}); err != nil {
				return nil, err
			}
		}
		status := "created"
		if !created[i] {
			status = "exists"
		}
		out = append(out, ReceivedObject{ID: v.ID, Modified: v.Modified, Status: status, Agreement: node.AgreementKey(in.agreement, in.version), Labels: in.class, instance: v.Instance})
		wc.events = append(wc.events, audit.Event{Actor: "peer:" + peer.Name, Action: audit.ActionFederationReceive, Object: v.ID, Modified: v.Modified,
			Labels: in.class, Decision: audit.Accept, Subject: "party:" + peer.Name,
			Detail: clip.String(fmt.Sprintf("%s agreement=%s originator=%s retention=%s", status, node.AgreementKey(in.agreement, in.version), in.prov.Originator, in.retention), 300)})
	}
	return out, nil
}

// labelParseCacheSize bounds the labels a node keeps parsed. Partners send
// the same few labels with every object; a node sees far fewer distinct
// labels than this.
const labelParseCacheSize = 1024

// labelParseCache remembers the label marking-definitions received from
// partners, parsed and canonicalised, by the SHA-256 of the bytes received.
// A hit is the result parsing those very bytes gives (parsing depends on
// nothing else), so a changed label, being other bytes, is parsed afresh.
// Only labels that parse are kept. Bounded: when full, an arbitrary entry
// makes room. Safe for concurrent use; the zero value is ready.
type labelParseCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]parsedLabel
}

type parsedLabel struct {
	l     label.Label
	canon []byte
}

// parse returns the label raw holds and its canonical form, as parseLabel
// does.
func (c *labelParseCache) parse(raw []byte) (label.Label, []byte, *labelParseError) {
	key := sha256.Sum256(raw)
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return e.l.Clone(), e.canon, nil
	}
	l, canon, err := parseLabel(raw)
	if err != nil {
		return label.Label{}, nil, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = make(map[[sha256.Size]byte]parsedLabel)
	}
	if len(c.entries) >= labelParseCacheSize {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = parsedLabel{l: l.Clone(), canon: canon}
	c.mu.Unlock()
	return l, canon, nil
}

// labelParseError says why a received label was refused: err is nil for a
// marking-definition that is not a Tearline label.
type labelParseError struct {
	canonical bool // it parsed, but has no canonical form
	err       error
}

// parseLabel parses a label marking-definition received from a partner and
// canonicalises it.
func parseLabel(raw []byte) (label.Label, []byte, *labelParseError) {
	l, ours, err := label.ParseMarkingDefinition(raw)
	if err != nil || !ours {
		return label.Label{}, nil, &labelParseError{err: err}
	}
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		return label.Label{}, nil, &labelParseError{canonical: true, err: err}
	}
	return l, canon, nil
}

package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// OutboxOptions tune the delivery loop (federation.OutboxOptions).
type OutboxOptions = federation.OutboxOptions

// RunOutbox delivers the outbox until ctx ends (federation.Outbox.Run),
// with this node as the Sender: it builds each batch from the store and
// audits what partners answer. o.MaxAge defaults to the configuration's
// delivery_max_age; the loop counts into DeliveryMetrics.
func (d *Service) RunOutbox(ctx context.Context, o OutboxOptions) error {
	if o.MaxAge == 0 {
		o.MaxAge = d.n.Config().DeliveryMaxAge
	}
	if o.Metrics == nil {
		o.Metrics = d.DeliveryMetrics()
	}
	return federation.NewOutbox(d.n.Store(), d.sender(), d.n.Outbox().WakeChan(), d.n.Logger(), o).Run(ctx)
}

// DeliveryMetrics returns the node's delivery metrics (one per node, for
// the API's /metrics and the delivery loop).
func (d *Service) DeliveryMetrics() *federation.Metrics {
	d.metricsOnce.Do(func() { d.metrics = federation.NewMetrics(d.n.Store()) })
	return d.metrics
}

// sender is the node as federation.Sender.
type sender struct {
	d *Service
	n *node.Node
}

func (d *Service) sender() sender { return sender{d: d, n: d.n} }

// Peer implements federation.Sender.
func (s sender) Peer(name string) (*federation.Peer, error) {
	peers, err := s.n.Peers()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(peers, func(p node.Peer) bool { return p.Name == name })
	if i < 0 {
		return nil, nil
	}
	return wirePeer(&peers[i]), nil
}

// DeliveriesPaused implements federation.Pauser: deliveries to peer are
// held back while a split view of its audit log is not acknowledged
// (witness.go).
func (s sender) DeliveriesPaused(ctx context.Context, peer string) (string, bool, error) {
	return s.d.DeliveriesPaused(ctx, peer)
}

// Client implements federation.Sender.
func (s sender) Client(name string) (*http.Client, error) {
	return trust.FederationClient(s.n.Dir(), name)
}

// wirePeer is the peer as the federation protocol knows it.
func wirePeer(p *node.Peer) *federation.Peer {
	return &federation.Peer{Name: p.Name, Country: p.Country, Org: p.Org, URL: p.URL}
}

// failReasons are the audit reasons of a delivery that failed for good:
// the peer refused it, transient failures outlasted the maximum age, or
// this node would not send it (its row fails its access MAC).
func failReasons(code federation.Reason) []string {
	switch code {
	case federation.ReasonExpired:
		return []string{"delivery-expired"}
	case federation.ReasonAccessMAC: // refused here, not by the peer
		return []string{string(code)}
	}
	return []string{"refused-by-peer", string(code)}
}

// sentObjects is the sender's note on a built batch: the released object
// each "objects" message carries, by outbox id, for the audit record.
type sentObjects map[int64]node.ObjectsRef

// BuildBatch implements federation.Sender: it assembles the POST of
// batch. The versions and provenance of its objects are read in one query
// each, not one per message.
func (s sender) BuildBatch(ctx context.Context, peer *federation.Peer, batch []store.OutboxItem) (*federation.Batch, error) {
	sent := sentObjects{}
	bb := &federation.Batch{Items: batch, Messages: make([]federation.InboxMessage, 0, len(batch)), Note: sent}
	refs := make([]node.ObjectsRef, len(batch))
	var ids []string
	for i, it := range batch {
		if it.Kind != store.OutboxObjects {
			continue
		}
		if err := json.Unmarshal(it.Payload, &refs[i]); err != nil {
			return nil, fmt.Errorf("outbox %d: objects ref: %w", it.ID, err)
		}
		ids = append(ids, refs[i].Object)
	}
	found, tampered, provs, err := s.d.releasedVersions(ctx, refs, ids)
	if err != nil {
		return nil, err
	}
	labelCache := map[string][]byte{}
	for i, it := range batch {
		payload := it.Payload
		if it.Kind == store.OutboxObjects {
			k := versionKey(refs[i].Object, refs[i].Modified, refs[i].Instance)
			v, ok := found[k]
			if !ok && tampered[k] {
				// Stored, but its row fails its access MAC (reported by
				// the checks): never sent, and the delivery fails.
				sent[it.ID] = refs[i]
				bb.Refused = append(bb.Refused, federation.Outcome{Message: federation.InboxMessage{ID: it.ID, Kind: it.Kind},
					Status: store.DeliveryFailed, Reason: federation.ReasonAccessMAC,
					Error: fmt.Sprintf("not sent: the stored version %s of %s fails its access MAC (its row was changed outside the node; docs/SECURITY.md)", refs[i].Modified, refs[i].Object)})
				continue
			}
			if !ok {
				// Purged or no longer stored: done, nothing to send.
				bb.Gone = append(bb.Gone, it.ID)
				continue
			}
			var prov *store.Provenance
			if p, ok := provs[v.ID]; ok {
				prov = &p
			}
			b, err := s.d.objectsPayload(ctx, refs[i], v, prov, labelCache)
			if err != nil {
				return nil, fmt.Errorf("outbox %d: %w", it.ID, err)
			}
			payload = b
			sent[it.ID] = refs[i]
		}
		bb.Messages = append(bb.Messages, federation.InboxMessage{ID: it.ID, Kind: it.Kind, Payload: payload})
	}
	return bb, nil
}

// versionKey names a version by its key: two instances may share an id and
// a modified (docs/SECURITY.md).
func versionKey(id, modified string, instance int64) string {
	return id + "\x00" + modified + "\x00" + strconv.FormatInt(instance, 10)
}

// releasedVersions reads the versions refs name and the provenance of their
// objects, in one query each: the versions found by versionKey, opened
// (only those named: other versions of the objects stay sealed), and the
// provenance by object id. The versions are read through the access MAC
// checks: a version whose row fails them is not found, and is in tampered
// (by versionKey) when the backend still holds a row of that key.
func (d *Service) releasedVersions(ctx context.Context, refs []node.ObjectsRef, ids []string) (found map[string]*store.ObjectVersion, tampered map[string]bool, provs map[string]store.Provenance, err error) {
	if len(ids) == 0 {
		return nil, nil, nil, nil
	}
	sealed := d.n.Sealed()
	// Read beneath the sealing (the checks, over the backend), content
	// still sealed, and open only the versions the batch sends: an
	// object's other versions come along in the same read and would be
	// opened for nothing. (Through the sealing store, VersionsOf opens
	// every version it returns.)
	vs, err := sealed.Unwrap().VersionsOf(ctx, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	want := make(map[string]bool, len(refs))
	for _, r := range refs {
		if r.Object != "" {
			want[versionKey(r.Object, r.Modified, r.Instance)] = true
		}
	}
	found = make(map[string]*store.ObjectVersion, len(want))
	var open []*store.ObjectVersion
	for i := range vs {
		k := versionKey(vs[i].ID, vs[i].Modified, vs[i].Instance)
		if want[k] && found[k] == nil {
			found[k] = &vs[i]
			open = append(open, &vs[i])
		}
	}
	if tampered, err = d.failedChecks(ctx, refs, found); err != nil {
		return nil, nil, nil, err
	}
	if err := sealed.Keys().OpenVersions(open); err != nil {
		return nil, nil, nil, err
	}
	objs := make([]string, 0, len(found))
	for _, v := range found {
		objs = append(objs, v.ID)
	}
	provs, err = sealed.ProvenanceOf(ctx, objs)
	if err != nil {
		return nil, nil, nil, err
	}
	return found, tampered, provs, nil
}

// failedChecks returns the version keys of refs the checked read did not
// find but the backend holds: rows that fail their access MAC. Only the
// missing are read again, from the backend (usually none).
func (d *Service) failedChecks(ctx context.Context, refs []node.ObjectsRef, found map[string]*store.ObjectVersion) (map[string]bool, error) {
	missing := map[string]bool{}
	var ids []string
	for _, r := range refs {
		k := versionKey(r.Object, r.Modified, r.Instance)
		if r.Object != "" && found[k] == nil && !missing[k] {
			missing[k] = true
			ids = append(ids, r.Object)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	raw, err := store.Base(d.n.Store()).VersionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, v := range raw {
		if k := versionKey(v.ID, v.Modified, v.Instance); missing[k] {
			out[k] = true
		}
	}
	return out, nil
}

// Record implements federation.Sender: an audit entry for each message
// the peer accepted (federation.send, for objects) or that failed for good
// (federation.refuse, with "refused-by-peer" and the reason code).
func (s sender) Record(ctx context.Context, peer *federation.Peer, b *federation.Batch, outcomes []federation.Outcome) error {
	n := s.n
	sent, _ := b.Note.(sentObjects)
	var events []audit.Event
	for _, o := range outcomes {
		m := o.Message
		ref, isObject := sent[m.ID]
		switch o.Status {
		case store.DeliveryDelivered:
			if isObject {
				events = append(events, audit.Event{Actor: "node:" + n.Config().Name, Action: audit.ActionFederationSend, Object: ref.Object,
					Modified: ref.Modified, Subject: "party:" + peer.Name, Decision: audit.Allow,
					Detail: clip.String(fmt.Sprintf("outbox=%d ledger=%d agreement=%s", m.ID, ref.Ledger, node.AgreementKey(ref.Agreement, ref.Version)), 300)})
			}
		default:
			ev := audit.Event{Actor: "node:" + n.Config().Name, Action: audit.ActionFederationRefuse, Subject: "party:" + peer.Name,
				Decision: audit.Refuse, Reasons: failReasons(o.Reason), Detail: clip.String(fmt.Sprintf("outbox=%d kind=%s: %s", m.ID, m.Kind, o.Error), 300)}
			if isObject {
				ev.Object, ev.Modified = ref.Object, ref.Modified
			}
			events = append(events, ev)
		}
	}
	if len(events) == 0 {
		return nil
	}
	return n.Store().Update(ctx, func(tx store.Tx) error { return n.AppendAudit(ctx, tx, events...) })
}

// objectsPayload assembles the wire bundle of one "objects" reference from
// its stored version v (opened) and the object's provenance (nil: none).
func (d *Service) objectsPayload(ctx context.Context, ref node.ObjectsRef, v *store.ObjectVersion, prov *store.Provenance, labelCache map[string][]byte) ([]byte, error) {
	raws, err := v.BindingObjects()
	if err != nil {
		return nil, err
	}
	bundle := federation.ObjectsBundle{Type: "bundle", ID: "bundle--" + uuid.NewString(),
		Release: federation.ReleaseEnvelope{Agreement: ref.Agreement, Version: ref.Version, Originator: v.Originator}}
	seen := map[string]bool{}
	for _, raw := range raws {
		b, err := binding.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("object %s: stored binding: %w", v.ID, err)
		}
		ids := make([]string, 0, len(b.Labels)+len(b.PartLabels))
		for _, l := range b.Labels {
			ids = append(ids, l.Ref)
		}
		for _, l := range b.PartLabels {
			ids = append(ids, l.Ref)
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			lraw, ok := labelCache[id]
			if !ok {
				if lraw, err = d.n.Store().Label(ctx, id); err != nil {
					return nil, fmt.Errorf("object %s: label %s: %w", v.ID, id, err)
				}
				labelCache[id] = lraw
			}
			bundle.Objects = append(bundle.Objects, lraw)
		}
	}
	bundle.Objects = append(bundle.Objects, v.Raw)
	bundle.Objects = append(bundle.Objects, raws...)
	if prov != nil {
		bundle.Release.Originator, bundle.Release.Hops = prov.Originator, prov.Hops
	}
	if bundle.Release.OriginatorInstance, err = instance.OriginOf(ctx, d.n.Store(), d.n.Config().Name, *v); err != nil {
		return nil, fmt.Errorf("object %s: %w", v.ID, err)
	}
	return json.Marshal(bundle)
}

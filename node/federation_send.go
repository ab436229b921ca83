package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// InboxPath is the partner route messages are delivered to.
const InboxPath = "/federation/v1/inbox"

// Bounds of the inbox protocol. A batch is bounded by count and size on both
// sides, so neither a sender nor a receiver holds more than this in memory.
const (
	MaxInboxBody     = 64 << 20 // bytes of one POST
	MaxInboxMessages = 1024     // messages in one POST
)

// InboxRequest is the body of POST /federation/v1/inbox: messages of one
// sender, in its outbox order.
type InboxRequest struct {
	Messages []InboxMessage `json:"messages"`
}

// InboxMessage is one outbox item on the wire. ID is the sender's outbox
// id, echoed in the result; the receiver's idempotence does not depend on
// it (objects are idempotent by id and modified).
type InboxMessage struct {
	ID      int64           `json:"id"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// InboxResponse answers an InboxRequest, one result per message in order.
type InboxResponse struct {
	Results []InboxMessageResult `json:"results"`
}

// InboxMessageResult is the receiver's answer to one message. Status is
// "accepted" or "refused" (for good: the sender must not retry) or
// "retry" (a transient failure at the receiver).
type InboxMessageResult struct {
	ID     int64       `json:"id"`
	Status string      `json:"status"`
	Error  string      `json:"error,omitempty"`
	Result InboxResult `json:"result,omitempty"`
}

// Inbox result statuses.
const (
	InboxAccepted = "accepted"
	InboxRefused  = "refused"
	InboxRetry    = "retry"
)

// objectsRef is the outbox payload of kind "objects": a reference to one
// released object version, not its content. Content stays sealed in the
// object store; it is read and assembled into a bundle when the message is
// sent, so the outbox never holds plaintext and a version purged before
// delivery is not sent.
type objectsRef struct {
	Ledger    int64  `json:"ledger"`
	Object    string `json:"object"` // the released object, or the tearline made for the party
	Modified  string `json:"modified"`
	Agreement string `json:"agreement"`
	Version   int    `json:"agreement_version"`
}

// ReleaseEnvelope rides along the STIX bundle of an "objects" message as
// the bundle property x_tearline_release: under which agreement the sender
// released and the object's provenance so far. The receiver decides under
// its own copy of the agreements; this is the sender's claim, recorded.
type ReleaseEnvelope struct {
	Agreement  string      `json:"agreement"`
	Version    int         `json:"agreement_version"`
	Originator string      `json:"originator"`
	Hops       []store.Hop `json:"hops,omitempty"` // before this one
}

// objectsBundle is the wire payload of kind "objects": a STIX 2.1 bundle
// holding our label marking-definitions, the object and its bindings, as
// GET /api/v1/export writes them.
type objectsBundle struct {
	Type    string            `json:"type"`
	ID      string            `json:"id"`
	Objects []json.RawMessage `json:"objects"`
	Release ReleaseEnvelope   `json:"x_tearline_release"`
}

// outboxRelease queues the delivery of a ledger entry that is ready, when
// the party is a peer of this node. It runs in the transaction that writes
// the entry. A party that is not (yet) a peer gets nothing queued: the
// ledger still records the release, and `peer add` does not replay it.
func (n *Node) outboxRelease(ctx context.Context, tx store.Tx, e store.LedgerEntry, seq int64) error {
	if e.State != store.LedgerReady {
		return nil
	}
	peers, err := n.peers()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(peers, func(p Peer) bool { return p.Name == e.Party }) {
		return nil
	}
	ref := objectsRef{Ledger: seq, Object: e.ObjectID, Modified: e.Modified, Agreement: e.Agreement, Version: e.AgreementVersion}
	if e.TearlineID != "" {
		ref.Object = e.TearlineID
	}
	payload, err := json.Marshal(ref)
	if err != nil {
		return err
	}
	return n.enqueueOutbox(ctx, tx, e.Party, store.OutboxObjects, payload)
}

// OutboxOptions tune the delivery loop; zero values are the defaults.
type OutboxOptions struct {
	Batch int // messages per POST (default 512)
	// Lease is how long a claim holds its rows (default 15s). It outlasts
	// one POST (Timeout) so two replicas do not send the same rows at once;
	// it is short because a sender killed mid-delivery holds its rows, and
	// everything after them to that peer, until it runs out. A row sent
	// twice is harmless: receiving is idempotent by (id, modified).
	Lease       time.Duration
	BaseBackoff time.Duration // first retry delay (default 500ms)
	MaxBackoff  time.Duration // retry delay cap (default 5 minutes)
	Timeout     time.Duration // per POST (default 10s)
	// Poll is the fallback wake-up: the loop also looks at the outbox this
	// often (default 5s; negative: never), for rows committed by another
	// process (the CLI, another replica on the same database), whose commits
	// cannot signal this process. Commits in this process wake it at once.
	Poll time.Duration
	// Client, when set, returns the HTTP client for a peer (tests); by
	// default trust.FederationClient(dir, peer).
	Client func(peer string) (*http.Client, error)
}

func (o *OutboxOptions) defaults() {
	if o.Batch <= 0 {
		o.Batch = 512
	}
	o.Batch = min(o.Batch, MaxInboxMessages)
	if o.Lease <= 0 {
		o.Lease = 15 * time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	o.Lease = max(o.Lease, o.Timeout+time.Second)
	if o.Poll == 0 {
		o.Poll = DefaultOutboxPoll
	}
}

// DefaultOutboxPoll is how often the delivery loop looks at the outbox when
// nothing in this process woke it.
const DefaultOutboxPoll = 5 * time.Second

// RunOutbox delivers the outbox until ctx ends. It sends what is due at
// once (what an earlier run left included), then sleeps until a commit in
// this process that enqueued wakes it (wakeOutbox), the earliest retry is
// due, or o.Poll passes (the fallback for rows another process committed). Each peer's messages go in outbox order, several per POST; peers are
// served in parallel. A failed POST leaves its messages due again after an
// exponential backoff with jitter; a message the peer refuses for good is
// recorded as done with the refusal, audited, and not retried.
func (n *Node) RunOutbox(ctx context.Context, o OutboxOptions) error {
	o.defaults()
	d := &deliverer{n: n, o: o, clients: map[string]*http.Client{}}
	wake := n.fed.wakeChan()
	for {
		more, err := d.round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			n.log.Warn("outbox", "err", err)
		}
		if more && err == nil {
			continue
		}
		// The only timer: the earliest retry (or lease end) still waiting.
		wait := time.Duration(-1)
		if err != nil {
			wait = o.BaseBackoff
		} else if due, ok, err := n.st.NextOutboxDue(ctx); err != nil {
			wait = o.BaseBackoff
		} else if ok {
			wait = max(time.Until(due), 0) + time.Millisecond
		}
		// The fallback timer: another process's commits do not signal us.
		if o.Poll > 0 && (wait < 0 || wait > o.Poll) {
			wait = o.Poll
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

type deliverer struct {
	n       *Node
	o       OutboxOptions
	mu      sync.Mutex
	clients map[string]*http.Client
}

// round claims what is due and delivers it; more reports that the claim was
// full, so more may be due.
func (d *deliverer) round(ctx context.Context) (more bool, err error) {
	limit := d.o.Batch * 4
	items, err := d.n.st.ClaimOutbox(ctx, "", time.Now(), limit, d.o.Lease)
	if err != nil {
		return false, err
	}
	if len(items) == 0 {
		return false, nil
	}
	byPeer := map[string][]store.OutboxItem{}
	var order []string
	for _, it := range items {
		if _, ok := byPeer[it.Peer]; !ok {
			order = append(order, it.Peer)
		}
		byPeer[it.Peer] = append(byPeer[it.Peer], it)
	}
	peers, err := d.n.peers()
	if err != nil {
		return false, err
	}
	var wg sync.WaitGroup
	for _, name := range order {
		var peer *Peer
		for i := range peers {
			if peers[i].Name == name {
				peer = &peers[i]
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.deliverPeer(ctx, name, peer, byPeer[name])
		}()
	}
	wg.Wait()
	return len(items) == limit, nil
}

// deliverPeer sends one peer's claimed items in order, a batch per POST,
// and stops at the first failure: the rest go back with the same backoff
// so that nothing overtakes the failed batch. The next batch is assembled
// while the current one is in flight: POSTs stay in order, one at a time.
func (d *deliverer) deliverPeer(ctx context.Context, name string, peer *Peer, items []store.OutboxItem) {
	type prepared struct {
		start int
		b     *builtBatch
		err   error
	}
	if d.paused(ctx, name, items) {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan prepared, 1)
	go func() {
		defer close(ready)
		for start := 0; start < len(items); start += d.o.Batch {
			b, err := d.buildBatch(ctx, peer, items[start:min(start+d.o.Batch, len(items))])
			select {
			case ready <- prepared{start, b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for p := range ready {
		err := p.err
		if err == nil {
			err = d.sendBatch(ctx, peer, p.b)
		}
		if err == nil {
			continue
		}
		cancel()
		rest := items[p.start:]
		ids := make([]int64, len(rest))
		for i, it := range rest {
			ids[i] = it.ID
		}
		next := time.Now().Add(store.OutboxBackoff(rest[0].Attempts+1, d.o.BaseBackoff, d.o.MaxBackoff, rand.Float64()))
		d.n.log.Info("outbox: delivery failed; will retry", "peer", name, "messages", len(rest), "retry_at", next, "err", err)
		// MarkFailed only touches rows not yet delivered, so the part of
		// a batch the peer accepted stays done.
		if merr := d.n.st.MarkFailed(context.WithoutCancel(ctx), next, truncate(err.Error(), 500), ids...); merr != nil {
			d.n.log.Warn("outbox: record failure", "peer", name, "err", merr)
		}
		for range ready { // let the builder finish
		}
		return
	}
}

func (d *deliverer) client(name string) (*http.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clients[name]; ok {
		return c, nil
	}
	var c *http.Client
	var err error
	if d.o.Client != nil {
		c, err = d.o.Client(name)
	} else {
		c, err = trust.FederationClient(d.n.dir, name)
	}
	if err != nil {
		return nil, err
	}
	d.clients[name] = c
	return c, nil
}

// builtBatch is a batch ready to POST.
type builtBatch struct {
	items []store.OutboxItem
	req   InboxRequest
	sent  []sentObject
	gone  []store.OutboxItem // purged or no longer stored: done, nothing to send
}

// buildBatch assembles the POST of batch. The versions and provenance of
// its objects are read in one query each, not one per message.
func (d *deliverer) buildBatch(ctx context.Context, peer *Peer, batch []store.OutboxItem) (*builtBatch, error) {
	if peer == nil {
		return nil, fmt.Errorf("%w (not in %s)", trust.ErrNoPeer, PeersFile)
	}
	if peer.URL == "" {
		return nil, fmt.Errorf("peer %s has no url in %s", peer.Name, PeersFile)
	}
	bb := &builtBatch{items: batch, req: InboxRequest{Messages: make([]InboxMessage, 0, len(batch))}}
	refs := make([]objectsRef, len(batch))
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
	found, provs, err := d.n.releasedVersions(ctx, refs, ids)
	if err != nil {
		return nil, err
	}
	labelCache := map[string][]byte{}
	for i, it := range batch {
		payload := it.Payload
		if it.Kind == store.OutboxObjects {
			v, ok := found[versionKey(refs[i].Object, refs[i].Modified)]
			if !ok {
				// Purged or no longer stored: done, nothing to send.
				bb.gone = append(bb.gone, it)
				continue
			}
			var prov *store.Provenance
			if p, ok := provs[v.ID]; ok {
				prov = &p
			}
			b, so, err := d.n.objectsPayload(ctx, refs[i], v, prov, labelCache)
			if err != nil {
				return nil, fmt.Errorf("outbox %d: %w", it.ID, err)
			}
			payload, so.item = b, it.ID
			bb.sent = append(bb.sent, so)
		}
		bb.req.Messages = append(bb.req.Messages, InboxMessage{ID: it.ID, Kind: it.Kind, Payload: payload})
	}
	return bb, nil
}

func versionKey(id, modified string) string { return id + "\x00" + modified }

// releasedVersions reads the versions refs name and the provenance of their
// objects, in one query each: the versions found by versionKey, opened
// (only those named: other versions of the objects stay sealed), and the
// provenance by object id.
func (n *Node) releasedVersions(ctx context.Context, refs []objectsRef, ids []string) (map[string]*store.ObjectVersion, map[string]store.Provenance, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	sealed := n.sealed
	// Read from the backend, content still sealed, and open only the
	// versions the batch sends: an object's other versions come along in
	// the same read and would be opened for nothing. (Through the sealing
	// store, VersionsOf opens every version it returns.)
	vs, err := sealed.Unwrap().VersionsOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	want := make(map[string]bool, len(refs))
	for _, r := range refs {
		if r.Object != "" {
			want[versionKey(r.Object, r.Modified)] = true
		}
	}
	found := make(map[string]*store.ObjectVersion, len(want))
	var open []*store.ObjectVersion
	for i := range vs {
		k := versionKey(vs[i].ID, vs[i].Modified)
		if want[k] && found[k] == nil {
			found[k] = &vs[i]
			open = append(open, &vs[i])
		}
	}
	if err := sealed.Keys().OpenVersions(open); err != nil {
		return nil, nil, err
	}
	objs := make([]string, 0, len(found))
	for _, v := range found {
		objs = append(objs, v.ID)
	}
	provs, err := sealed.ProvenanceOf(ctx, objs)
	if err != nil {
		return nil, nil, err
	}
	return found, provs, nil
}

// sendBatch POSTs a built batch and records the outcome of each message.
// An error means the messages not recorded as done are to be retried.
func (d *deliverer) sendBatch(ctx context.Context, peer *Peer, bb *builtBatch) error {
	c, err := d.client(peer.Name)
	if err != nil {
		return err
	}
	req, sent, gone := bb.req, bb.sent, bb.gone
	var resp InboxResponse
	if len(req.Messages) > 0 {
		if resp, err = postInbox(ctx, c, peer.URL, req, d.o.Timeout); err != nil {
			return err
		}
		if len(resp.Results) != len(req.Messages) {
			return fmt.Errorf("inbox of %s answered %d results for %d messages", peer.Name, len(resp.Results), len(req.Messages))
		}
	}
	now := time.Now()
	var done []int64
	var events []audit.Event
	for _, it := range gone {
		done = append(done, it.ID)
	}
	var retry error
	for i, r := range resp.Results {
		m := req.Messages[i]
		switch r.Status {
		case InboxAccepted:
			done = append(done, m.ID)
			for _, so := range sent {
				if so.item == m.ID {
					events = append(events, audit.Event{Actor: "node:" + d.n.cfg.Name, Action: audit.ActionFederationSend, Object: so.ref.Object,
						Modified: so.ref.Modified, Subject: "party:" + peer.Name, Decision: audit.Allow,
						Detail: truncate(fmt.Sprintf("outbox=%d ledger=%d agreement=%s", m.ID, so.ref.Ledger, agreementKey(so.ref.Agreement, so.ref.Version)), 300)})
				}
			}
		case InboxRefused:
			// For good: recorded, audited, not retried.
			if err := d.n.st.MarkFailed(ctx, now, truncate("refused by "+peer.Name+": "+r.Error, 500), m.ID); err != nil {
				return err
			}
			done = append(done, m.ID)
			ev := audit.Event{Actor: "node:" + d.n.cfg.Name, Action: audit.ActionFederationRefuse, Subject: "party:" + peer.Name,
				Decision: audit.Refuse, Reasons: []string{"refused-by-peer"}, Detail: truncate(fmt.Sprintf("outbox=%d kind=%s: %s", m.ID, m.Kind, r.Error), 300)}
			for _, so := range sent {
				if so.item == m.ID {
					ev.Object, ev.Modified = so.ref.Object, so.ref.Modified
				}
			}
			events = append(events, ev)
			d.n.log.Warn("outbox: message refused by peer", "peer", peer.Name, "outbox", m.ID, "kind", m.Kind, "err", r.Error)
		default:
			// Retry this one and, to keep order, everything after it.
			retry = fmt.Errorf("peer %s: message %d: %s", peer.Name, m.ID, r.Error)
		}
		if retry != nil {
			break
		}
	}
	if len(events) > 0 {
		if err := d.n.st.Update(ctx, func(tx store.Tx) error { return d.n.appendAudit(ctx, tx, events...) }); err != nil {
			return err
		}
	}
	if err := d.n.st.MarkDelivered(ctx, now, done...); err != nil {
		return err
	}
	if retry != nil {
		// The messages before the failed one are done; the caller retries
		// the failed one and the rest.
		return retry
	}
	return nil
}

type sentObject struct {
	item int64
	ref  objectsRef
}

// objectsPayload assembles the wire bundle of one "objects" reference from
// its stored version v (opened) and the object's provenance (nil: none).
func (n *Node) objectsPayload(ctx context.Context, ref objectsRef, v *store.ObjectVersion, prov *store.Provenance, labelCache map[string][]byte) ([]byte, sentObject, error) {
	so := sentObject{ref: ref}
	raws, err := v.BindingObjects()
	if err != nil {
		return nil, so, err
	}
	bundle := objectsBundle{Type: "bundle", ID: "bundle--" + uuid.NewString(),
		Release: ReleaseEnvelope{Agreement: ref.Agreement, Version: ref.Version, Originator: v.Originator}}
	seen := map[string]bool{}
	for _, raw := range raws {
		b, err := binding.Parse(raw)
		if err != nil {
			return nil, so, fmt.Errorf("object %s: stored binding: %w", v.ID, err)
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
				if lraw, err = n.st.Label(ctx, id); err != nil {
					return nil, so, fmt.Errorf("object %s: label %s: %w", v.ID, id, err)
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
	out, err := json.Marshal(bundle)
	return out, so, err
}

// postInbox POSTs req to the peer at base and decodes its answer. Any
// status but 200 is an error: the whole batch is retried.
func postInbox(ctx context.Context, c *http.Client, base string, req InboxRequest, timeout time.Duration) (InboxResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return InboxResponse{}, err
	}
	if len(body) > MaxInboxBody {
		return InboxResponse{}, fmt.Errorf("inbox batch of %d bytes exceeds %d", len(body), MaxInboxBody)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+InboxPath, bytes.NewReader(body))
	if err != nil {
		return InboxResponse{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	res, err := c.Do(hr)
	if err != nil {
		return InboxResponse{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxInboxBody))
	if err != nil {
		return InboxResponse{}, err
	}
	if res.StatusCode != http.StatusOK {
		return InboxResponse{}, fmt.Errorf("inbox: %s: %s", res.Status, truncate(strings.TrimSpace(string(b)), 300))
	}
	var out InboxResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return InboxResponse{}, fmt.Errorf("inbox answer: %w", err)
	}
	return out, nil
}

// paused holds back a peer's claimed items while a split view of its audit
// log is not acknowledged (witness.go): they stay queued, due again after
// the poll interval, with the reason as their last error.
func (d *deliverer) paused(ctx context.Context, name string, items []store.OutboxItem) bool {
	reason, paused, err := d.n.DeliveriesPaused(ctx, name)
	if err != nil {
		d.n.log.Warn("outbox: split-view check", "peer", name, "err", err)
		return false
	}
	if !paused {
		return false
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	wait := d.o.Poll
	if wait <= 0 {
		wait = DefaultOutboxPoll
	}
	d.n.log.Info("outbox: deliveries paused", "peer", name, "messages", len(items), "reason", reason)
	if err := d.n.st.MarkFailed(context.WithoutCancel(ctx), time.Now().Add(wait), "paused: "+reason, ids...); err != nil {
		d.n.log.Warn("outbox: record pause", "peer", name, "err", err)
	}
	return true
}

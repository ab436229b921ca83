package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tearline/tearline/store"
)

// Sender is what the delivery loop needs from the node: who its peers are,
// how to reach them, how to turn outbox rows into wire messages, and how to
// record (audit) what the partner answered. The loop owns the protocol:
// claiming, batching, the lease, retries and each row's state.
type Sender interface {
	// Peer returns peer name as it is now; nil (and no error) when it is
	// not a peer.
	Peer(name string) (*Peer, error)
	// Client returns the mutual-TLS HTTP client for peer name.
	Client(name string) (*http.Client, error)
	// BuildBatch assembles the wire messages of items, in order. Items
	// whose content is gone (purged since) go to Batch.Gone: done, nothing
	// to send.
	BuildBatch(ctx context.Context, peer *Peer, items []store.OutboxItem) (*Batch, error)
	// Record records what peer answered for the messages of b that it
	// accepted or refused for good (audit entries), before their rows are
	// marked.
	Record(ctx context.Context, peer *Peer, b *Batch, outcomes []Outcome) error
}

// Pauser is a Sender that can hold back everything to a peer (a split view
// of its audit log, until an administrator acknowledges it). While paused,
// the peer's messages stay due again after the poll interval, with the
// reason as their last error.
type Pauser interface {
	DeliveriesPaused(ctx context.Context, peer string) (reason string, paused bool, err error)
}

// Batch is one POST's worth of messages, built by the Sender.
type Batch struct {
	Items    []store.OutboxItem // the rows claimed for it, in order
	Messages []InboxMessage     // what is sent, in order
	Gone     []int64            // rows done without sending: their content is gone
	// Note is the Sender's own record of what it built (handed back to
	// Record).
	Note any
}

// Outcome is the partner's answer to one message that is settled:
// accepted, or refused for good.
type Outcome struct {
	Message InboxMessage
	Status  string // InboxAccepted or InboxRefused
	Reason  Reason
	Error   string
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
	// default the Sender's.
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

// Outbox delivers a node's outbox to its peers.
type Outbox struct {
	st   store.Outbox
	s    Sender
	o    OutboxOptions
	wake <-chan struct{}
	log  *slog.Logger

	mu      sync.Mutex
	clients map[string]*http.Client
}

// NewOutbox returns the delivery loop over st for s. wake signals a commit
// in this process that enqueued (nil: none; the loop then relies on Poll).
func NewOutbox(st store.Outbox, s Sender, wake <-chan struct{}, log *slog.Logger, o OutboxOptions) *Outbox {
	o.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{st: st, s: s, o: o, wake: wake, log: log, clients: map[string]*http.Client{}}
}

// Run delivers the outbox until ctx ends. It sends what is due at once
// (what an earlier run left included), then sleeps until wake fires, the
// earliest retry is due, or Poll passes (the fallback for rows another
// process committed). Each peer's messages go in outbox order, several per
// POST; peers are served in parallel. A failed POST leaves its messages due
// again after an exponential backoff with jitter; a message the peer
// refuses for good is recorded as done with the refusal, and not retried.
func (d *Outbox) Run(ctx context.Context) error {
	for {
		more, err := d.round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.log.Warn("outbox", "err", err)
		}
		if more && err == nil {
			continue
		}
		// The only timer: the earliest retry (or lease end) still waiting.
		wait := time.Duration(-1)
		if err != nil {
			wait = d.o.BaseBackoff
		} else if due, ok, err := d.st.NextOutboxDue(ctx); err != nil {
			wait = d.o.BaseBackoff
		} else if ok {
			wait = max(time.Until(due), 0) + time.Millisecond
		}
		// The fallback timer: another process's commits do not signal us.
		if d.o.Poll > 0 && (wait < 0 || wait > d.o.Poll) {
			wait = d.o.Poll
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
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

// round claims what is due and delivers it; more reports that the claim was
// full, so more may be due.
func (d *Outbox) round(ctx context.Context) (more bool, err error) {
	limit := d.o.Batch * 4
	items, err := d.st.ClaimOutbox(ctx, "", time.Now(), limit, d.o.Lease)
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
	var wg sync.WaitGroup
	for _, name := range order {
		peer, err := d.s.Peer(name)
		if err != nil {
			return false, err
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
func (d *Outbox) deliverPeer(ctx context.Context, name string, peer *Peer, items []store.OutboxItem) {
	type prepared struct {
		start int
		b     *Batch
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
			b, err := d.build(ctx, peer, items[start:min(start+d.o.Batch, len(items))])
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
			err = d.send(ctx, peer, p.b)
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
		d.log.Info("outbox: delivery failed; will retry", "peer", name, "messages", len(rest), "retry_at", next, "err", err)
		// MarkFailed only touches rows not yet delivered, so the part of
		// a batch the peer accepted stays done.
		if merr := d.st.MarkFailed(context.WithoutCancel(ctx), next, truncate(err.Error(), 500), ids...); merr != nil {
			d.log.Warn("outbox: record failure", "peer", name, "err", merr)
		}
		for range ready { // let the builder finish
		}
		return
	}
}

// paused holds back a peer's claimed items while the Sender says
// deliveries to it are paused.
func (d *Outbox) paused(ctx context.Context, name string, items []store.OutboxItem) bool {
	p, ok := d.s.(Pauser)
	if !ok {
		return false
	}
	reason, paused, err := p.DeliveriesPaused(ctx, name)
	if err != nil {
		d.log.Warn("outbox: pause check", "peer", name, "err", err)
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
	d.log.Info("outbox: deliveries paused", "peer", name, "messages", len(items), "reason", reason)
	if err := d.st.MarkFailed(context.WithoutCancel(ctx), time.Now().Add(wait), "paused: "+reason, ids...); err != nil {
		d.log.Warn("outbox: record pause", "peer", name, "err", err)
	}
	return true
}

func (d *Outbox) build(ctx context.Context, peer *Peer, items []store.OutboxItem) (*Batch, error) {
	if peer == nil {
		return nil, fmt.Errorf("%s: not a peer", items[0].Peer)
	}
	if peer.URL == "" {
		return nil, fmt.Errorf("peer %s has no url", peer.Name)
	}
	return d.s.BuildBatch(ctx, peer, items)
}

func (d *Outbox) client(name string) (*http.Client, error) {
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
		c, err = d.s.Client(name)
	}
	if err != nil {
		return nil, err
	}
	d.clients[name] = c
	return c, nil
}

// send POSTs a built batch and records the outcome of each message.
// An error means the messages not recorded as done are to be retried.
func (d *Outbox) send(ctx context.Context, peer *Peer, b *Batch) error {
	c, err := d.client(peer.Name)
	if err != nil {
		return err
	}
	var resp InboxResponse
	if len(b.Messages) > 0 {
		if resp, err = PostInbox(ctx, c, peer.URL, InboxRequest{Messages: b.Messages}, d.o.Timeout); err != nil {
			return err
		}
		if len(resp.Results) != len(b.Messages) {
			return fmt.Errorf("inbox of %s answered %d results for %d messages", peer.Name, len(resp.Results), len(b.Messages))
		}
	}
	now := time.Now()
	done := append([]int64(nil), b.Gone...)
	var outcomes []Outcome
	var retry error
	for i, r := range resp.Results {
		m := b.Messages[i]
		switch r.Status {
		case InboxAccepted:
			done = append(done, m.ID)
			outcomes = append(outcomes, Outcome{Message: m, Status: InboxAccepted})
		case InboxRefused:
			// For good: recorded, audited, not retried.
			if err := d.st.MarkFailed(ctx, now, truncate("refused by "+peer.Name+": "+r.Error, 500), m.ID); err != nil {
				return err
			}
			done = append(done, m.ID)
			outcomes = append(outcomes, Outcome{Message: m, Status: InboxRefused, Reason: Classify(r.Status, r.Reason, r.Error), Error: r.Error})
			d.log.Warn("outbox: message refused by peer", "peer", peer.Name, "outbox", m.ID, "kind", m.Kind, "err", r.Error)
		default:
			// Retry this one and, to keep order, everything after it.
			retry = fmt.Errorf("peer %s: message %d: %s", peer.Name, m.ID, r.Error)
		}
		if retry != nil {
			break
		}
	}
	if len(outcomes) > 0 {
		if err := d.s.Record(ctx, peer, b, outcomes); err != nil {
			return err
		}
	}
	if err := d.st.MarkDelivered(ctx, now, done...); err != nil {
		return err
	}
	// The messages before a failed one are done; the caller retries the
	// failed one and the rest.
	return retry
}

// PostInbox POSTs req to the peer at base and decodes its answer. Any
// status but 200 is an error: the whole batch is retried.
func PostInbox(ctx context.Context, c *http.Client, base string, req InboxRequest, timeout time.Duration) (InboxResponse, error) {
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

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

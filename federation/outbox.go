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
	// to send; items it refuses to send go to Batch.Refused: failed.
	BuildBatch(ctx context.Context, peer *Peer, items []store.OutboxItem) (*Batch, error)
	// Record records the messages of b that are settled: accepted by the
	// peer, or failed for good (refused, or transient failures past the
	// maximum age): audit entries, before their rows are marked.
	Record(ctx context.Context, peer *Peer, b *Batch, outcomes []Outcome) error
}

// Pauser is a Sender that can hold back everything to a peer (a split view
// of its audit log, until an administrator acknowledges it). While paused,
// the peer's messages stay retrying with ReasonPaused, due again after the
// poll interval, and do not age towards failure.
type Pauser interface {
	DeliveriesPaused(ctx context.Context, peer string) (reason string, paused bool, err error)
}

// Batch is one POST's worth of messages, built by the Sender.
type Batch struct {
	Items    []store.OutboxItem // the rows claimed for it, in order
	Messages []InboxMessage     // what is sent, in order
	Gone     []int64            // rows done without sending: their content is gone
	// Refused are rows failed without sending: the Sender will not send
	// what they name (ReasonAccessMAC), with the reason and its words.
	Refused []Outcome
	// Note is the Sender's own record of what it built (handed back to
	// Record).
	Note any
}

// Outcome is one message that is settled: accepted by the partner, or
// failed for good.
type Outcome struct {
	Message InboxMessage
	Status  string // store.DeliveryDelivered or store.DeliveryFailed
	Reason  Reason // why it failed
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
	// MaxAge is how long a message is retried after transient failures,
	// from when it was queued, before it fails for good with ReasonExpired
	// (default DefaultMaxAge).
	MaxAge time.Duration
	// Poll is the fallback wake-up: the loop also looks at the outbox this
	// often (default 5s; negative: never), for rows committed by another
	// process (the CLI, another replica on the same database), whose commits
	// cannot signal this process. Commits in this process wake it at once.
	Poll time.Duration
	// Client, when set, returns the HTTP client for a peer (tests); by
	// default the Sender's.
	Client func(peer string) (*http.Client, error)
	// Metrics, when set, counts each delivery's state changes.
	Metrics *Metrics
}

// DefaultMaxAge is how long a message is retried by default.
const DefaultMaxAge = 24 * time.Hour

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
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
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
// POST; peers are served in parallel. Each message ends delivered or
// failed: a transient failure (Reasons) leaves it and the peer's messages
// after it due again after an exponential backoff with jitter, until
// MaxAge; a permanent one fails it at once, and the peer's later messages
// go on.
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
	claimed := time.Now()
	items, err := d.st.ClaimOutbox(ctx, "", claimed, limit, d.o.Lease)
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
			d.deliverPeer(ctx, name, peer, byPeer[name], claimed)
		}()
	}
	wg.Wait()
	return len(items) == limit, nil
}

// deliverPeer sends one peer's claimed items in order, a batch per POST,
// and stops at the first failure: the rest go back with the same backoff
// so that nothing overtakes the failed batch. The next batch is assembled
// while the current one is in flight: POSTs stay in order, one at a time.
// A POST is started only while the claim (made at claimed) will outlast it:
// otherwise another replica could claim the same rows mid-POST, and the
// rest go back as lost to the lease (ReasonLeaseLost, transient).
func (d *Outbox) deliverPeer(ctx context.Context, name string, peer *Peer, items []store.OutboxItem, claimed time.Time) {
	type prepared struct {
		start int
		b     *Batch
		err   error
	}
	if d.paused(ctx, peer, name, items) {
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
		if err == nil && time.Since(claimed) > d.o.Lease-d.o.Timeout {
			err = &Error{ReasonLeaseLost, fmt.Errorf("the claim (%s) could run out during the next POST (up to %s): left for the next claim", d.o.Lease, d.o.Timeout)}
		}
		if err == nil {
			err = d.send(ctx, peer, p.b)
		}
		if err == nil {
			continue
		}
		cancel()
		d.retry(context.WithoutCancel(ctx), peer, name, items[p.start:], err)
		for range ready { // let the builder finish
		}
		return
	}
}

// paused holds back a peer's claimed items while the Sender says
// deliveries to it are paused: they stay retrying with ReasonPaused.
func (d *Outbox) paused(ctx context.Context, peer *Peer, name string, items []store.OutboxItem) bool {
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
	d.retry(context.WithoutCancel(ctx), peer, name, items, &Error{ReasonPaused, fmt.Errorf("paused: %s", reason)})
	return true
}

// retry records a failed attempt on rest, a peer's messages in order from
// the one that failed: each is due again after the backoff, or fails for
// good when it is older than MaxAge (transient failures only: the caller
// fails permanent ones itself).
func (d *Outbox) retry(ctx context.Context, peer *Peer, name string, rest []store.OutboxItem, err error) {
	code := ReasonOf(err, ReasonNetwork)
	now := time.Now()
	next := now.Add(store.OutboxBackoff(rest[0].Attempts+1, d.o.BaseBackoff, d.o.MaxBackoff, rand.Float64()))
	var due, expired []int64
	var outcomes []Outcome
	for _, it := range rest {
		if code != ReasonPaused && now.Sub(it.Queued) > d.o.MaxAge {
			expired = append(expired, it.ID)
			outcomes = append(outcomes, Outcome{Message: InboxMessage{ID: it.ID, Kind: it.Kind}, Status: store.DeliveryFailed, Reason: ReasonExpired,
				Error: fmt.Sprintf("retried for more than %s; last: %s", d.o.MaxAge, err)})
			continue
		}
		due = append(due, it.ID)
	}
	if code == ReasonPaused {
		next = now.Add(max(d.o.Poll, d.o.BaseBackoff))
		d.log.Info("outbox: deliveries paused", "peer", name, "messages", len(due), "err", err)
	} else {
		d.log.Info("outbox: delivery failed; will retry", "peer", name, "messages", len(due), "reason", code, "retry_at", next, "err", err)
	}
	msg := truncate(err.Error(), 500)
	if merr := d.st.MarkRetry(ctx, next, string(code), msg, due...); merr != nil {
		d.log.Warn("outbox: record failure", "peer", name, "err", merr)
	}
	d.o.Metrics.count(store.DeliveryRetrying, len(due))
	if len(expired) > 0 {
		d.log.Warn("outbox: messages failed after the maximum age", "peer", name, "messages", len(expired), "max_age", d.o.MaxAge, "err", err)
		d.fail(ctx, peer, &Batch{Items: rest}, outcomes)
	}
}

// fail records outcomes (all failed for good) and marks their rows.
func (d *Outbox) fail(ctx context.Context, peer *Peer, b *Batch, outcomes []Outcome) {
	if peer != nil {
		if err := d.s.Record(ctx, peer, b, outcomes); err != nil {
			d.log.Warn("outbox: record failure", "peer", peer.Name, "err", err)
		}
	}
	now := time.Now()
	for _, o := range outcomes {
		if err := d.st.MarkFailed(ctx, now, string(o.Reason), truncate(o.Error, 500), o.Message.ID); err != nil {
			d.log.Warn("outbox: record failure", "outbox", o.Message.ID, "err", err)
		}
	}
	d.o.Metrics.count(store.DeliveryFailed, len(outcomes))
}

func (d *Outbox) build(ctx context.Context, peer *Peer, items []store.OutboxItem) (*Batch, error) {
	if peer == nil {
		return nil, &Error{ReasonNoPeer, fmt.Errorf("%s: not a peer", items[0].Peer)}
	}
	if peer.URL == "" {
		return nil, &Error{ReasonNoPeer, fmt.Errorf("peer %s has no url", peer.Name)}
	}
	b, err := d.s.BuildBatch(ctx, peer, items)
	if err != nil {
		return nil, &Error{ReasonBuild, err}
	}
	return b, nil
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

// send POSTs a built batch and records the outcome of each message:
// accepted ones are delivered, permanent refusals (and transient ones past
// MaxAge) failed. An error means the messages not settled, from the first
// transient failure on, are to be retried; it carries the reason code.
func (d *Outbox) send(ctx context.Context, peer *Peer, b *Batch) error {
	if len(b.Refused) > 0 {
		// Failed whatever becomes of the rest: they are never sent.
		for _, o := range b.Refused {
			d.log.Warn("outbox: message not sent", "peer", peer.Name, "outbox", o.Message.ID, "reason", o.Reason, "err", o.Error)
		}
		d.fail(ctx, peer, b, b.Refused)
		b.Refused = nil
	}
	c, err := d.client(peer.Name)
	if err != nil {
		return &Error{ReasonNetwork, err}
	}
	var resp InboxResponse
	if len(b.Messages) > 0 {
		if resp, err = PostInbox(ctx, c, peer.URL, InboxRequest{Messages: b.Messages}, d.o.Timeout); err != nil {
			return err
		}
		if len(resp.Results) != len(b.Messages) {
			return &Error{ReasonServerError, fmt.Errorf("inbox of %s answered %d results for %d messages", peer.Name, len(resp.Results), len(b.Messages))}
		}
	}
	queued := make(map[int64]time.Time, len(b.Items))
	for _, it := range b.Items {
		queued[it.ID] = it.Queued
	}
	now := time.Now()
	done := append([]int64(nil), b.Gone...)
	var accepted, failed []Outcome
	var retry error
	for i, r := range resp.Results {
		m := b.Messages[i]
		if r.Status == InboxAccepted {
			done = append(done, m.ID)
			accepted = append(accepted, Outcome{Message: m, Status: store.DeliveryDelivered})
			continue
		}
		code := Classify(r.Status, r.Reason, r.Error)
		msg := "refused by " + peer.Name + ": " + r.Error
		if r.Status == InboxRetry {
			msg = peer.Name + " answered retry: " + r.Error
		}
		switch {
		case !code.Transient():
			d.log.Warn("outbox: message refused by peer", "peer", peer.Name, "outbox", m.ID, "kind", m.Kind, "reason", code, "err", r.Error)
			failed = append(failed, Outcome{Message: m, Status: store.DeliveryFailed, Reason: code, Error: msg})
		case now.Sub(queued[m.ID]) > d.o.MaxAge:
			d.log.Warn("outbox: message failed after the maximum age", "peer", peer.Name, "outbox", m.ID, "reason", code, "err", r.Error)
			failed = append(failed, Outcome{Message: m, Status: store.DeliveryFailed, Reason: ReasonExpired,
				Error: fmt.Sprintf("retried for more than %s; last: %s", d.o.MaxAge, msg)})
		default:
			// Retry this one and, to keep order, everything after it.
			retry = &Error{code, fmt.Errorf("peer %s: message %d: %s", peer.Name, m.ID, msg)}
		}
		if retry != nil {
			break
		}
	}
	if len(accepted) > 0 {
		if err := d.s.Record(ctx, peer, b, accepted); err != nil {
			return &Error{ReasonBuild, err}
		}
	}
	if err := d.st.MarkDelivered(ctx, now, done...); err != nil {
		return &Error{ReasonBuild, err}
	}
	d.o.Metrics.count(store.DeliveryDelivered, len(accepted))
	if len(failed) > 0 {
		d.fail(ctx, peer, b, failed)
	}
	// The messages before a failed one are settled; the caller retries the
	// failed one and the rest.
	return retry
}

// PostInbox POSTs req to the peer at base and decodes its answer. Any
// status but 200 is an error (ReasonServerError; no answer at all is
// ReasonNetwork): the whole batch is retried.
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
		return InboxResponse{}, &Error{ReasonNetwork, err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxInboxBody))
	if err != nil {
		return InboxResponse{}, &Error{ReasonNetwork, err}
	}
	if res.StatusCode != http.StatusOK {
		return InboxResponse{}, &Error{ReasonServerError, fmt.Errorf("inbox: %s: %s", res.Status, truncate(strings.TrimSpace(string(b)), 300))}
	}
	var out InboxResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return InboxResponse{}, &Error{ReasonServerError, fmt.Errorf("inbox answer: %w", err)}
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

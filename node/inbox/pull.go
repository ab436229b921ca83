package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// Pull: reading a partner's TAXII collection (its partner view of us,
// partnerview.go) with this node's federation client (federation.Pull), and storing what it
// releases through the same receive path as pushed objects: bindings
// verified, DecideInbound, translation, provenance, retention, idempotent by
// (id, modified). The position is an added_after cursor per peer, saved in
// the store (Cursor/SetCursor, name "pull:PEER") only after the page it
// ends has been committed, so a crash re-reads at most one page, which
// stores nothing twice.

// PullOptions tune a pull; zero values are the defaults.
type PullOptions struct {
	Limit   int           // objects per page asked for (default 100)
	Timeout time.Duration // per request (default 30s)
	// Client, when set, returns the HTTP client for a peer (tests); by
	// default trust.FederationClient(dir, peer).
	Client func(peer string) (*http.Client, error)
}

// PullResult says what one pull fetched and stored.
type PullResult struct {
	Peer    string `json:"peer"`
	Pages   int    `json:"pages"`
	Objects int    `json:"objects"` // objects served by the partner
	Created int    `json:"created"` // stored as new versions here
	Exists  int    `json:"exists"`  // already held
	Refused int    `json:"refused"` // refused on receipt (audited)
	Cursor  string `json:"cursor"`  // the saved added_after
}

// pullCursor names the saved cursor of a peer.
func pullCursor(peer string) string { return "pull:" + peer }

// PullPeer pulls what peer name releases to this node, from the saved
// cursor on, following `next` until the partner has no more
// (federation.Pull speaks TAXII; this stores each page and moves the
// cursor).
func (ib *Service) PullPeer(ctx context.Context, name string, o PullOptions) (PullResult, error) {
	res := PullResult{Peer: name}
	if o.Limit <= 0 {
		o.Limit = 100
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	peers, err := ib.n.Peers()
	if err != nil {
		return res, fmt.Errorf("pull %s: %w", name, err)
	}
	i := slices.IndexFunc(peers, func(p node.Peer) bool { return p.Name == name })
	if i < 0 {
		return res, fmt.Errorf("pull %s: %w", name, trust.ErrNoPeer)
	}
	peer := &peers[i]
	if peer.URL == "" {
		return res, fmt.Errorf("pull %s: the peer has no url in %s (peer add --url)", name, node.PeersFile)
	}
	var c *http.Client
	if o.Client != nil {
		c, err = o.Client(name)
	} else {
		c, err = trust.FederationClient(ib.n.Dir(), name)
	}
	if err != nil {
		return res, fmt.Errorf("pull %s: %w", name, err)
	}
	if res.Cursor, err = ib.n.Store().Cursor(ctx, pullCursor(name)); err != nil {
		return res, fmt.Errorf("pull %s: cursor: %w", name, err)
	}
	res.Pages, err = federation.Pull(ctx, c, peer.URL, res.Cursor, o.Limit, o.Timeout, func(ctx context.Context, pg federation.Page) error {
		if err := ib.receivePulled(ctx, peer, pg.Objects, &res); err != nil {
			return err
		}
		// The page is committed: only now may the cursor pass it.
		if pg.Last != "" && pg.Last != res.Cursor {
			if err := ib.n.Store().SetCursor(ctx, pullCursor(name), pg.Last); err != nil {
				return fmt.Errorf("save cursor: %w", err)
			}
			res.Cursor = pg.Last
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("pull %s: %w", name, err)
	}
	return res, nil
}

// receivePulled splits an envelope into one "objects" message per object
// (with the labels and its bindings), and stores them as pushed messages
// are stored. A message refused for good is audited and counted, and does
// not hold the cursor back (it would be refused again); anything to retry
// fails the page.
func (ib *Service) receivePulled(ctx context.Context, peer *node.Peer, objs []json.RawMessage, res *PullResult) error {
	var labels []json.RawMessage
	bindings := map[string][]json.RawMessage{} // object id + "\x00" + modified
	type content struct {
		raw json.RawMessage
		key string
	}
	var contents []content
	for _, raw := range objs {
		var head struct {
			Type           string `json:"type"`
			ID             string `json:"id"`
			Modified       string `json:"modified"`
			Created        string `json:"created"`
			ObjectRef      string `json:"object_ref"`
			ObjectModified string `json:"object_modified"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("envelope object: %w", err)
		}
		switch head.Type {
		case "marking-definition":
			labels = append(labels, raw)
		case binding.Type:
			k := head.ObjectRef + "\x00" + head.ObjectModified
			bindings[k] = append(bindings[k], raw)
		default:
			mod := head.Modified
			if mod == "" {
				mod = head.Created
			}
			contents = append(contents, content{raw: raw, key: head.ID + "\x00" + mod})
		}
	}
	res.Objects += len(contents)
	if len(contents) == 0 {
		return nil
	}
	msgs := make([]federation.InboxMessage, 0, len(contents))
	for i, ct := range contents {
		b := federation.ObjectsBundle{Type: "bundle", ID: "bundle--" + uuid.NewString()}
		b.Objects = append(append(slices.Clone(labels), ct.raw), bindings[ct.key]...)
		payload, err := json.Marshal(b)
		if err != nil {
			return err
		}
		msgs = append(msgs, federation.InboxMessage{ID: int64(i + 1), Kind: store.OutboxObjects, Payload: payload})
	}
	out := make([]federation.InboxMessageResult, len(msgs))
	ib.receiveObjects(ctx, peer, msgs, out)
	var retry []string
	for _, r := range out {
		switch r.Status {
		case federation.InboxAccepted:
			m, _ := r.Result.(map[string]any)
			ros, _ := m["objects"].([]ReceivedObject)
			for _, ro := range ros {
				if ro.Status == "created" {
					res.Created++
				} else {
					res.Exists++
				}
			}
		case federation.InboxRefused:
			res.Refused++
			ib.n.Logger().Warn("pull: object refused", "peer", peer.Name, "err", r.Error)
		default:
			retry = append(retry, r.Error)
		}
	}
	if len(retry) > 0 {
		return fmt.Errorf("not stored, to retry: %s", clip.String(strings.Join(retry, "; "), 500))
	}
	return nil
}

// RunPull pulls every peer that has a URL every interval until ctx ends
// (serve --pull-interval). A failing peer is logged and tried again at the
// next tick; its cursor stays where its last committed page left it.
func (ib *Service) RunPull(ctx context.Context, interval time.Duration, o PullOptions) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		peers, err := ib.n.Peers()
		if err != nil {
			ib.n.Logger().Warn("pull", "err", err)
		}
		for _, p := range peers {
			if p.URL == "" || ctx.Err() != nil {
				continue
			}
			res, err := ib.PullPeer(ctx, p.Name, o)
			if err != nil {
				ib.n.Logger().Warn("pull", "peer", p.Name, "err", err)
				continue
			}
			if res.Objects > 0 {
				ib.n.Logger().Info("pull", "peer", p.Name, "objects", res.Objects, "created", res.Created, "refused", res.Refused)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

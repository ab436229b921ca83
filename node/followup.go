package node

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/store"
)

// Follow-up work (store/followups.go): what an ingest or a receipt causes
// after it commits. The ingest (or receipt) transaction writes a row per
// piece of work, automatic releases of the versions it created (a row per
// autoReleaseBatch versions) and each sighting to send back; once it has
// committed, the same call carries the rows out (runFollowups), each in a
// transaction that takes the row, so it returns with the work done as
// before. A crash in between leaves the rows: RunFollowups (serve) resumes
// them at start and whenever it polls, and a row is carried out once
// whichever process takes it first.

// DefaultFollowupPoll is how often serve looks for follow-up rows left by a
// crash or by another process.
const DefaultFollowupPoll = 5 * time.Second

// AddAutoReleases writes the automatic releases of refs, created
// by p (source "") or received from peer source, in tx: a row per
// autoReleaseBatch versions.
func (fu *Followups) AddAutoReleases(ctx context.Context, tx store.Tx, p *Principal, source string, refs []VersionRef) ([]store.Followup, error) {
	var out []store.Followup
	for start := 0; start < len(refs); start += autoReleaseBatch {
		batch := refs[start:min(start+autoReleaseBatch, len(refs))]
		f, err := fu.Add(ctx, tx, store.FollowupAutoRelease, p, source, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (fu *Followups) Add(ctx context.Context, tx store.Tx, kind string, p *Principal, source string, payload any) (store.Followup, error) {
	n := fu.n
	b, err := json.Marshal(payload)
	if err != nil {
		return store.Followup{}, err
	}
	actor := "anonymous"
	if p != nil {
		actor = p.User.Name
	}
	f := store.Followup{Kind: kind, Actor: actor, Source: source, Payload: b, Created: n.now()}
	if err := tx.AddFollowup(ctx, &f); err != nil {
		return store.Followup{}, fmt.Errorf("follow-up %s: %w", kind, err)
	}
	return f, nil
}

// Do carries out fs, committed rows, in order. A failure is
// logged and recorded on the row, which stays for RunFollowups to retry;
// what caused it stands.
func (fu *Followups) Do(ctx context.Context, fs []store.Followup) {
	n := fu.n
	for _, f := range fs {
		if err := fu.do(ctx, f); err != nil {
			n.log.Warn("follow-up work failed; it will be retried", "followup", f.ID, "kind", f.Kind, "err", err)
			if merr := n.st.FollowupFailed(context.WithoutCancel(ctx), f.ID, clip.String(err.Error(), 500)); merr != nil {
				n.log.Warn("follow-up: record failure", "followup", f.ID, "err", merr)
			}
		}
	}
}

// FollowupHandler carries out one follow-up row: the versions refs,
// created by p (an ingest) or received from peer source. It must take the
// row (store.Tx.TakeFollowup) in the transaction that does the work, so a
// row is carried out once whichever process takes it first; when another
// took it, it does nothing.
type FollowupHandler func(ctx context.Context, row int64, p *Principal, source string, refs []VersionRef) error

// VersionRef names one object version in a follow-up row. Instance is
// absent (0) in rows older than it, which named instance 0's version.
type VersionRef struct {
	ID       string `json:"id"`
	Modified string `json:"modified"`
	Instance int64  `json:"instance,omitempty"`
}

// Key is the version's key within its id.
func (r VersionRef) Key() VersionKey { return VersionKey{Instance: r.Instance, Modified: r.Modified} }

// Followups writes follow-up rows and carries them out through the
// handler each kind has (Handle).
type Followups struct {
	n  *Node
	mu sync.RWMutex
	m  map[string]FollowupHandler // by kind
}

// Followups returns the node's follow-up work.
func (n *Node) Followups() *Followups { return &n.followups }

// Handle sets who carries out rows of kind: node/release the
// automatic releases and the sightings back. Set them before
// serving; a row of a kind nobody handles stays for a process that does.
func (fu *Followups) Handle(kind string, h FollowupHandler) {
	fu.mu.Lock()
	defer fu.mu.Unlock()
	if fu.m == nil {
		fu.m = map[string]FollowupHandler{}
	}
	fu.m[kind] = h
}

// do carries out row f through the handler of its kind.
func (fu *Followups) do(ctx context.Context, f store.Followup) error {
	// The principal the work runs as: only its name is recorded (the
	// ledger's by, the audit actor); the decision is the agreements'.
	p := &Principal{User: store.User{Name: f.Actor, Role: RoleReleaser}}
	var refs []VersionRef
	switch f.Kind {
	case store.FollowupAutoRelease:
		if err := json.Unmarshal(f.Payload, &refs); err != nil {
			return fu.drop(ctx, f, err)
		}
	case store.FollowupSighting:
		var r VersionRef
		if err := json.Unmarshal(f.Payload, &r); err != nil {
			return fu.drop(ctx, f, err)
		}
		refs = []VersionRef{r}
	default:
		return fu.drop(ctx, f, fmt.Errorf("unknown kind %q", f.Kind))
	}
	fu.mu.RLock()
	h := fu.m[f.Kind]
	fu.mu.RUnlock()
	if h == nil {
		return fmt.Errorf("follow-up %d: no handler for %q in this process", f.ID, f.Kind)
	}
	return h(ctx, f.ID, p, f.Source, refs)
}

// drop takes a row that can never be carried out (written by a
// later version, or damaged), logging it.
func (fu *Followups) drop(ctx context.Context, f store.Followup, why error) error {
	n := fu.n
	n.log.Error("follow-up row dropped", "followup", f.ID, "kind", f.Kind, "err", why)
	return n.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.TakeFollowup(ctx, f.ID)
		return err
	})
}

// Run carries out follow-up rows left by a crash (or written by
// another process that has not carried them out yet) at once and then every
// poll (default DefaultFollowupPoll), until ctx ends. serve runs it.
func (fu *Followups) Run(ctx context.Context, poll time.Duration) {
	n := fu.n
	if poll <= 0 {
		poll = DefaultFollowupPoll
	}
	for {
		after := int64(0)
		for ctx.Err() == nil {
			fs, err := n.st.PendingFollowups(ctx, after, 64)
			if err != nil {
				n.log.Warn("follow-up work", "err", err)
				break
			}
			if len(fs) == 0 {
				break
			}
			fu.Do(ctx, fs)
			after = fs[len(fs)-1].ID
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// followupRef is one object version in a follow-up payload.
type followupRef struct {
	ID       string `json:"id"`
	Modified string `json:"modified"`
}

// addAutoReleaseFollowups writes the automatic releases of refs, created
// by p (source "") or received from peer source, in tx: a row per
// autoReleaseBatch versions.
func (n *Node) addAutoReleaseFollowups(ctx context.Context, tx store.Tx, p *Principal, source string, refs []createdRef) ([]store.Followup, error) {
	var out []store.Followup
	for start := 0; start < len(refs); start += autoReleaseBatch {
		batch := refs[start:min(start+autoReleaseBatch, len(refs))]
		payload := make([]followupRef, len(batch))
		for i, r := range batch {
			payload[i] = followupRef{ID: r.id, Modified: r.modified}
		}
		f, err := n.addFollowup(ctx, tx, store.FollowupAutoRelease, p, source, payload)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (n *Node) addFollowup(ctx context.Context, tx store.Tx, kind string, p *Principal, source string, payload any) (store.Followup, error) {
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

// runFollowups carries out fs, committed rows, in order. A failure is
// logged and recorded on the row, which stays for RunFollowups to retry;
// what caused it stands.
func (n *Node) runFollowups(ctx context.Context, fs []store.Followup) {
	for _, f := range fs {
		if err := n.doFollowup(ctx, f); err != nil {
			n.log.Warn("follow-up work failed; it will be retried", "followup", f.ID, "kind", f.Kind, "err", err)
			if merr := n.st.FollowupFailed(context.WithoutCancel(ctx), f.ID, clip.String(err.Error(), 500)); merr != nil {
				n.log.Warn("follow-up: record failure", "followup", f.ID, "err", merr)
			}
		}
	}
}

// doFollowup carries out row f in one transaction that also takes it: if
// another process took it first, nothing is done.
func (n *Node) doFollowup(ctx context.Context, f store.Followup) error {
	// The principal the work runs as: only its name is recorded (the
	// ledger's by, the audit actor); the decision is the agreements'.
	p := &Principal{User: store.User{Name: f.Actor, Role: RoleReleaser}}
	switch f.Kind {
	case store.FollowupAutoRelease:
		var refs []followupRef
		if err := json.Unmarshal(f.Payload, &refs); err != nil {
			return n.dropFollowup(ctx, f, err)
		}
		created := make([]createdRef, len(refs))
		for i, r := range refs {
			created[i] = createdRef{id: r.ID, modified: r.Modified}
		}
		return n.autoRelease(ctx, f.ID, p, f.Source, created)
	case store.FollowupSighting:
		var r followupRef
		if err := json.Unmarshal(f.Payload, &r); err != nil {
			return n.dropFollowup(ctx, f, err)
		}
		return n.updateOutbox(ctx, func(tx store.Tx) error {
			if ok, err := tx.TakeFollowup(ctx, f.ID); err != nil || !ok {
				return err
			}
			v, err := versionOf(ctx, tx, r.ID, r.Modified)
			if errors.Is(err, ErrNotFound) {
				return nil // purged since: nothing to send back
			}
			if err != nil {
				return err
			}
			c, err := n.class(ctx, tx, v.Class)
			if err != nil {
				return err
			}
			_, err = n.sightingBack(ctx, tx, p, &v, v.Raw, c.LabelIDs)
			return err
		})
	}
	return n.dropFollowup(ctx, f, fmt.Errorf("unknown kind %q", f.Kind))
}

// dropFollowup takes a row that can never be carried out (written by a
// later version, or damaged), logging it.
func (n *Node) dropFollowup(ctx context.Context, f store.Followup, why error) error {
	n.log.Error("follow-up row dropped", "followup", f.ID, "kind", f.Kind, "err", why)
	return n.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.TakeFollowup(ctx, f.ID)
		return err
	})
}

// RunFollowups carries out follow-up rows left by a crash (or written by
// another process that has not carried them out yet) at once and then every
// poll (default DefaultFollowupPoll), until ctx ends. serve runs it.
func (n *Node) RunFollowups(ctx context.Context, poll time.Duration) {
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
			n.runFollowups(ctx, fs)
			after = fs[len(fs)-1].ID
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

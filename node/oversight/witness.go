package oversight

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/audit/witness"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// Witnessing (docs/AUDIT.md, "Witnesses"): this node cosigns its partners'
// logs (the witness server, package audit/witness, over this node's store
// and peers), asks the partners it trusts as witnesses to cosign its own
// log, and compares notes with every partner to catch a log showing
// different trees to different partners.

// DefaultWitnessInterval is how often serve asks witnesses to cosign and
// compares notes, besides after each checkpoint it signs.
const DefaultWitnessInterval = time.Minute

// witnessTimeout bounds one witness request.
const witnessTimeout = 10 * time.Second

// witnessState is the node's witness, made at first use, and the signal
// that a checkpoint was signed.
type witnessState struct {
	mu     sync.Mutex
	w      *witness.Witness
	signed chan struct{}
}

func (s *witnessState) signedChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signed == nil {
		s.signed = make(chan struct{}, 1)
	}
	return s.signed
}

// checkpointSigned wakes the witnessing loop (RunWitnessing).
func (ov *Service) checkpointSigned() {
	select {
	case ov.wit.signedChan() <- struct{}{}:
	default:
	}
}

// Witness returns the node's witness server.
func (ov *Service) Witness() (*witness.Witness, error) {
	ov.wit.mu.Lock()
	defer ov.wit.mu.Unlock()
	if ov.wit.w != nil {
		return ov.wit.w, nil
	}
	if err := datadir.EnsureWitnessKey(ov.n.Dir(), ov.n.Config().Name); err != nil {
		return nil, err
	}
	skey, err := os.ReadFile(datadir.Path(ov.n.Dir(), datadir.WitnessKey))
	if err != nil {
		return nil, fmt.Errorf("witness key: %w", err)
	}
	w, err := witness.New(ov.n.Store(), strings.TrimSpace(string(skey)), peerLogs{ov.n}, witnessEvents{ov.n}, ov.n.Logger())
	if err != nil {
		return nil, err
	}
	ov.wit.w = w
	return w, nil
}

// WitnessHandler serves the witness routes (mount behind partner
// authentication).
func (ov *Service) WitnessHandler() (http.Handler, error) {
	w, err := ov.Witness()
	if err != nil {
		return nil, err
	}
	return w.Handler(), nil
}

// peerLogs: the logs this node witnesses are its peers', known by the log
// key each peer's identity carries. peers.yaml is read as it is now, so a
// peer added or removed is followed or dropped at once.
type peerLogs struct{ n *node.Node }

func (l peerLogs) Log(_ context.Context, origin string) (witness.Log, error) {
	peers, err := l.n.Peers()
	if err != nil {
		return witness.Log{}, err
	}
	for _, p := range peers {
		if p.LogKey == "" {
			continue
		}
		v, err := note.NewVerifier(p.LogKey)
		if err == nil && v.Name() == origin {
			return witness.Log{Verifier: v, Node: p.Name}, nil
		}
	}
	return witness.Log{}, fmt.Errorf("%q: %w", origin, witness.ErrUnknownLog)
}

// witnessEvents audits what the witness finds, in its transaction.
type witnessEvents struct{ n *node.Node }

func (e witnessEvents) SplitView(ctx context.Context, tx store.Tx, s store.SplitView) error {
	e.n.Logger().ErrorContext(ctx, "SPLIT VIEW: a partner's audit log showed two different trees; deliveries to it are paused until an admin runs `tearline peer ack-split`",
		"peer", s.Peer, "origin", s.Origin, "size", s.Size, "reporter", s.Reporter)
	return e.n.AppendAudit(ctx, tx, audit.Event{Actor: "node:" + e.n.Config().Name, Action: audit.ActionSplitView, Decision: audit.Refuse,
		Subject: "peer:" + s.Peer, Count: int(s.Size),
		Detail: fmt.Sprintf("origin=%s size=%d reporter=%s deliveries paused", s.Origin, s.Size, s.Reporter)})
}

func (e witnessEvents) Rollback(ctx context.Context, tx store.Tx, r store.WitnessRollback, node string) error {
	e.n.Logger().WarnContext(ctx, "a partner's audit log rolled back, by a signed statement: following it from the restored tree",
		"peer", node, "origin", r.Origin, "old_size", r.OldSize, "new_size", r.NewSize)
	return e.n.AppendAudit(ctx, tx, audit.Event{Actor: "node:" + e.n.Config().Name, Action: audit.ActionRollbackAck, Decision: audit.Accept,
		Subject: "peer:" + node, Count: int(r.OldSize - r.NewSize),
		Detail: fmt.Sprintf("origin=%s old=%d new=%d", r.Origin, r.OldSize, r.NewSize)})
}

// SplitViews returns the split views recorded for peer's log ("" for every
// log); open only those not acknowledged. Admins and auditors.
func (ov *Service) SplitViews(ctx context.Context, p *node.Principal, peer string, open bool) ([]store.SplitView, error) {
	if err := node.Authorize(p, node.ActSplitViewRd); err != nil {
		return nil, fmt.Errorf("split views: %w", err)
	}
	origin := ""
	if peer != "" {
		pp, err := ov.n.Peer(peer)
		if err != nil {
			return nil, err
		}
		if origin = node.PeerOrigin(pp); origin == "" {
			return nil, fmt.Errorf("split views of %s: %w: %w", peer, trust.ErrNoPeer, node.ErrNotFound)
		}
	}
	return ov.n.Store().SplitViews(ctx, origin, open)
}

// AckSplitView acknowledges the open split views of peer's log: deliveries
// to it resume with the next round. Admin only. The state is in the store,
// so the CLI acknowledges on a serving node too, and every replica sees it.
func (ov *Service) AckSplitView(ctx context.Context, p *node.Principal, peer string) (int, error) {
	if err := node.Authorize(p, node.ActSplitViewAck); err != nil {
		return 0, fmt.Errorf("ack-split %s: %w", peer, err)
	}
	pp, err := ov.n.Peer(peer)
	if err != nil {
		return 0, err
	}
	origin := node.PeerOrigin(pp)
	if origin == "" {
		return 0, fmt.Errorf("ack-split %s: %w (or its log key is not known): %w", peer, trust.ErrNoPeer, node.ErrNotFound)
	}
	var count int
	err = ov.n.Store().Update(ctx, func(tx store.Tx) error {
		var err error
		if count, err = tx.AckSplitViews(ctx, origin, p.Actor(), ov.n.Now()); err != nil || count == 0 {
			return err
		}
		return ov.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionSplitAck, Decision: audit.Accept,
			Subject: "peer:" + peer, Count: count, Detail: "origin=" + origin + " deliveries resume"})
	})
	if err != nil {
		return 0, fmt.Errorf("ack-split %s: %w", peer, err)
	}
	if count > 0 {
		ov.n.Outbox().Wake()
	}
	return count, nil
}

// witnessClient returns the mutual-TLS client for peer.
func (ov *Service) witnessClient(peer string) (*http.Client, error) {
	return trust.FederationClient(ov.n.Dir(), peer)
}

// CosignRound asks every peer trusted as a witness (witness: true in
// peers.yaml, with a URL) to cosign the latest checkpoint, signing one
// first if the log grew, and stores the cosignatures that verify with the
// peer's witness key. A peer without the witness routes is skipped (logged
// at Info).
func (ov *Service) CosignRound(ctx context.Context) error {
	// Not SignAuditCheckpoint: its signal would start another round.
	cp, err := audit.Checkpoint(ctx, ov.n.Store(), ov.n.LogSigner(), ov.n.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil // an empty log
	}
	if err != nil {
		return err
	}
	peers, err := ov.n.Peers()
	if err != nil {
		return err
	}
	var errs []error
	for i := range peers {
		p := &peers[i]
		if !p.Witness || p.URL == "" {
			continue
		}
		if err := ov.cosignWith(ctx, p, cp); err != nil {
			errs = append(errs, fmt.Errorf("witness %s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (ov *Service) cosignWith(ctx context.Context, p *node.Peer, cp store.AuditCheckpoint) error {
	known := int64(0)
	last, err := ov.n.Store().LatestAuditCosignature(ctx, p.Name)
	switch {
	case err == nil && last.Size == cp.Size:
		return nil // cosigned already
	case err == nil:
		known = last.Size
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if p.WitnessKey == "" {
		return fmt.Errorf("its witness key is not known (peer add --witness-key, or its identity)")
	}
	cv, err := fnote.NewVerifierForCosignatureV1(p.WitnessKey)
	if err != nil {
		return fmt.Errorf("its witness key: %w", err)
	}
	rbs, err := ov.n.Store().AuditRollbacks(ctx)
	if err != nil {
		return err
	}
	c, err := ov.witnessClient(p.Name)
	if err != nil {
		return err
	}
	cosig, err := witness.Cosign(ctx, witness.Submission{Client: c, Base: p.URL, Timeout: witnessTimeout,
		Size: cp.Size, Checkpoint: cp.Note, Known: known, Rollbacks: rbs,
		Proof: func(ctx context.Context, from int64) ([][]byte, error) {
			return audit.ConsistencyProof(ctx, ov.n.Store(), from, cp.Size)
		}})
	if errors.Is(err, witness.ErrNotSupported) {
		ov.n.Logger().InfoContext(ctx, "witness: partner does not witness this log (no witness route, or our log key unknown to it); skipped", "peer", p.Name, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	line, err := verifiedCosignature(cp.Note, cosig, cv)
	if err != nil {
		return err
	}
	return ov.n.Store().Update(ctx, func(tx store.Tx) error {
		return tx.PutAuditCosignature(ctx, store.AuditCosignature{Size: cp.Size, Witness: p.Name, Line: line, Created: ov.n.Now()})
	})
}

// verifiedCosignature returns the line of cosig that verifies with cv over
// the checkpoint msg (C2SP: signatures from unknown keys are ignored).
func verifiedCosignature(msg, cosig []byte, cv note.Verifier) ([]byte, error) {
	for _, line := range strings.SplitAfter(string(cosig), "\n") {
		if line == "" {
			continue
		}
		n, err := note.Open(append(bytes.Clone(msg), line...), note.VerifierList(cv))
		if err == nil && len(n.Sigs) == 1 {
			return []byte(line), nil
		}
	}
	return nil, fmt.Errorf("no cosignature in the answer verifies with the witness's key %s", cv.Name())
}

// CompareNotes fetches from every peer with a URL the checkpoints it
// cosigned and compares them with this node's (witness.Witness.Compare).
// A peer without the witness routes is skipped (logged at Info).
func (ov *Service) CompareNotes(ctx context.Context) error {
	w, err := ov.Witness()
	if err != nil {
		return err
	}
	peers, err := ov.n.Peers()
	if err != nil {
		return err
	}
	var errs []error
	for i := range peers {
		p := &peers[i]
		if p.URL == "" {
			continue
		}
		c, err := ov.witnessClient(p.Name)
		if err == nil {
			var got witness.Cosigned
			got, err = witness.Fetch(ctx, c, p.URL, witnessTimeout)
			if errors.Is(err, witness.ErrNotSupported) {
				ov.n.Logger().InfoContext(ctx, "witness: partner serves no witness routes; notes not compared", "peer", p.Name)
				continue
			}
			for _, l := range got.Logs {
				if _, cerr := w.Compare(ctx, p.Name, l, ov.proveFrom); cerr != nil {
					errs = append(errs, cerr)
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("compare notes with %s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RunWitnessing asks witnesses to cosign after each checkpoint this node
// signs and every interval, and compares notes with partners every
// interval, until ctx ends. serve runs it beside the API.
func (ov *Service) RunWitnessing(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultWitnessInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	signed := ov.wit.signedChan()
	for {
		if err := ov.CosignRound(ctx); err != nil && ctx.Err() == nil {
			ov.n.Logger().Warn("witness: cosigning", "err", err)
		}
		compare := false
		select {
		case <-ctx.Done():
			return
		case <-signed:
		case <-t.C:
			compare = true
		}
		if compare {
			if err := ov.CompareNotes(ctx); err != nil && ctx.Err() == nil {
				ov.n.Logger().Warn("witness: comparing notes", "err", err)
			}
		}
	}
}

// cosignedNote returns c's note with the stored cosignatures of its size
// appended, as C2SP notes carry them.
func (ov *Service) cosignedNote(ctx context.Context, c store.AuditCheckpoint) ([]byte, error) {
	cs, err := ov.n.Store().AuditCosignatures(ctx, c.Size)
	if err != nil || len(cs) == 0 {
		return c.Note, err
	}
	out := bytes.Clone(c.Note)
	for _, s := range cs {
		out = append(out, s.Line...)
	}
	return out, nil
}

// proveFrom fetches a consistency proof of peer's log from the peer itself
// (witness.ConsistencyPath), for comparing notes on checkpoints of two
// sizes.
func (ov *Service) proveFrom(ctx context.Context, peer string, old, new int64) ([][]byte, error) {
	p, err := ov.n.Peer(peer)
	if err != nil {
		return nil, err
	}
	if p == nil || p.URL == "" {
		return nil, fmt.Errorf("peer %s: no URL to ask for a proof", peer)
	}
	c, err := ov.witnessClient(peer)
	if err != nil {
		return nil, err
	}
	return witness.FetchProof(ctx, c, p.URL, old, new, witnessTimeout)
}

// LogConsistencyProof is this node's log's consistency proof from old to
// new, for partners comparing notes (witness.ConsistencyPath).
func (ov *Service) LogConsistencyProof(ctx context.Context, old, new int64) ([][]byte, error) {
	return audit.ConsistencyProof(ctx, ov.n.Store(), old, new)
}

package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// PullDecision is how one object version goes to a partner that pulls it
// over TAXII (node/taxiiview's partner view): whole, or as its tearline.
type PullDecision struct {
	Outcome   string // store.LedgerRelease or store.LedgerTearline
	Tearline  string // the tearline's id, for store.LedgerTearline
	Agreement string
	Version   int
	Terms     int
	Labels    []string // the original's access class, for the ledger
}

// ErrTearlineDue: a pull decided on a snapshot (DecidePull with no write
// transaction) needs a tearline that is not made yet; decide it again in a
// write transaction, which makes it.
var ErrTearlineDue = errors.New("a tearline is due and not made yet")

// DecidePull decides version v (of access class c) for party, under the
// compiled agreements and for AutoReleasePurpose, as an automatic release
// would: ok is false when nothing may go without a person deciding (a hold)
// or nothing may go at all. It reads through r. A tearline due and not yet
// made is made in tx, or, when tx is nil (a pull read from a snapshot), the
// answer is ErrTearlineDue.
func (rs *Service) DecidePull(ctx context.Context, r store.Reader, tx store.Tx, compiled map[string]*policy.Agreement, party string,
	v store.ObjectVersion, c policy.Class) (PullDecision, bool, error) {
	f, err := rs.buildFacts(ctx, r, v, c, compiled)
	if err != nil {
		return PullDecision{}, false, err
	}
	best, _ := rs.decideAll(f, compiled, party, node.AutoReleasePurpose)
	pd := PullDecision{Agreement: best.Agreement, Version: best.Version, Terms: best.d.Terms, Labels: f.labels}
	switch best.d.Outcome {
	case policy.Release:
		pd.Outcome = store.LedgerRelease
	case policy.Tearline:
		pd.Outcome, pd.Tearline = store.LedgerTearline, TearlineID(v.Type, v.ID, node.KeyOf(v), party)
		vs, err := r.Versions(ctx, pd.Tearline)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return PullDecision{}, false, err
		}
		if len(vs) == 0 {
			if tx == nil {
				return PullDecision{}, false, ErrTearlineDue
			}
			_, _, err := rs.makeTearline(ctx, tx, node.AutoReleaser(), f, best, party, node.AutoReleasePurpose)
			if errors.Is(err, ErrNothingRemains) {
				return PullDecision{}, false, nil
			}
			if err != nil {
				return PullDecision{}, false, fmt.Errorf("tearline of %s for %s: %w", v.ID, party, err)
			}
		}
	default:
		return PullDecision{}, false, nil
	}
	return pd, true, nil
}

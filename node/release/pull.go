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

// DecidePull decides version v (of access class c) for party, under the
// compiled agreements and for AutoReleasePurpose, as an automatic release
// would: ok is false when nothing may go without a person deciding (a hold)
// or nothing may go at all. A tearline due and not yet made is made in tx.
func (rs *Service) DecidePull(ctx context.Context, tx store.Tx, compiled map[string]*policy.Agreement, party string,
	v store.ObjectVersion, c policy.Class) (PullDecision, bool, error) {
	f, err := rs.buildFacts(ctx, tx, v, c, compiled)
	if err != nil {
		return PullDecision{}, false, err
	}
	best, _ := rs.decideAll(f, compiled, party, node.AutoReleasePurpose)
	pd := PullDecision{Agreement: best.Agreement, Version: best.Version, Terms: best.d.Terms, Labels: f.labels}
	switch best.d.Outcome {
	case policy.Release:
		pd.Outcome = store.LedgerRelease
	case policy.Tearline:
		pd.Outcome, pd.Tearline = store.LedgerTearline, TearlineID(v.Type, v.ID, v.Modified, party)
		vs, err := tx.Versions(ctx, pd.Tearline)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return PullDecision{}, false, err
		}
		if len(vs) == 0 {
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

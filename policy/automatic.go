package policy

import "github.com/tearline/tearline/agreement"

// ReleasesAutomatically reports whether the terms from this node to party
// release without a person's approval (release mode automatic). Such a
// decision can still hold (this node's own ORCON material), so callers that
// act automatically must still look at the outcome.
func (a *Agreement) ReleasesAutomatically(party string) bool {
	pi, ok := a.partyIdx[party]
	if !ok || pi == a.self || a.out[pi] < 0 {
		return false
	}
	return a.terms[a.out[pi]].approvals == 0
}

// AutomaticParties maps each reachable partner to the active agreements of
// node self whose terms to it release automatically.
func AutomaticParties(self string, compiled map[string]*Agreement, reachable map[string]bool) map[string]map[string]*Agreement {
	out := map[string]map[string]*Agreement{}
	for k, a := range compiled {
		if a.Self() != self || a.Status().State != agreement.StateActive {
			continue
		}
		for _, party := range a.Partners() {
			if !reachable[party] || !a.ReleasesAutomatically(party) {
				continue
			}
			if out[party] == nil {
				out[party] = map[string]*Agreement{}
			}
			out[party][k] = a
		}
	}
	return out
}

package policy

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

package node

import (
	"slices"
	"testing"
)

// The tests of authority in action (hidden is missing, user
// administration), which need the services, are in
// node/stack/authority_test.go.

// TestAuthorityTable: every action has at least one role, and only roles
// that exist.
func TestAuthorityTable(t *testing.T) {
	for _, act := range []Action{ActUserAdmin, ActPublish, ActTAXIIContent, ActPurge, ActProvenanceIn, ActConsent, ActConsentRead,
		ActLedgerRead, ActAuditRead, ActRecall, ActRecallRead, ActAgreementAdm, ActAgreementRd, ActRelease, ActReleaseQueue, ActApprove, ActSplitViewRd, ActSplitViewAck, ActDeliveryRetry, ActHealthRead, ActDeliveryRead, ActPeerAdmin, ActOwnWork} {
		r := authority(act)
		if len(r.roles) == 0 {
			t.Errorf("%s: no role may take it", act)
		}
		for _, role := range append(slices.Clone(r.roles), r.EveryLevel...) {
			if !slices.Contains(Roles, role) {
				t.Errorf("%s: unknown role %s", act, role)
			}
		}
		for _, role := range r.EveryLevel {
			if !slices.Contains(r.roles, role) {
				t.Errorf("%s: %s acts on every level but may not act", act, role)
			}
		}
	}
	if r := authority("no such action"); len(r.roles) != 0 {
		t.Error("an action not in the table is allowed")
	}
}

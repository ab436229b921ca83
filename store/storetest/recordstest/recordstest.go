// Package recordstest is the part of the store conformance suite (package
// storetest, which runs it) for the node's record tables: users and tokens, agreements, the
// dissemination ledger, consents and release requests, recalls, the outbox
// and its delivery states, follow-up rows, witnessed logs and cosignatures,
// and node keys.
package recordstest

import "github.com/tearline/tearline/store/storetest/internal/suite"

// Tests are the record tables' conformance tests.
var Tests = concat(userTests, agreementTests, followupTests, nodeKeyTests, outboxTests, recallTests, witnessTests, instanceTests, auditIndexTests)

func concat(groups ...[]suite.Test) []suite.Test {
	var out []suite.Test
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

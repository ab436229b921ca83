package audit

// Actions of sharing agreements and releases (docs/AUDIT.md). Each records
// ids, parties, labels and decisions, never content.
const (
	ActionAgreementImport     = "agreement.import"
	ActionAgreementSign       = "agreement.sign"
	ActionAgreementTransition = "agreement.transition"
	ActionReleaseDecide       = "release.decide"  // a release decided and carried out (release, tearline or refuse)
	ActionReleaseExplain      = "release.explain" // a dry run: nothing released
	ActionReleaseRequest      = "release.request" // held for approval
	ActionReleaseApprove      = "release.approve"
	ActionReleaseRefuse       = "release.refuse"
	ActionConsentRecord       = "consent.record"
	ActionProvenanceRecord    = "provenance.record"
	ActionLedgerRead          = "ledger.read"
	ActionDeliveryRetry       = "delivery.retry" // a releaser made a failed delivery to a partner due again
	ActionDeliveryRead        = "delivery.read"  // someone read delivery states (of objects they may read)
)

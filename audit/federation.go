package audit

// Actions of federation: what was sent to and received from partner nodes.
const (
	ActionFederationSend    = "federation.send"    // an object delivered to a partner (the sender's record)
	ActionFederationReceive = "federation.receive" // an object accepted from a partner
	ActionFederationRefuse  = "federation.refuse"  // a message from a partner refused, or refused by one
)

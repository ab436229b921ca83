package store

import (
	"context"
	"time"
)

// AgreementReader reads sharing agreements, provenance, consents, the
// release approval queue and the dissemination ledger. Reader embeds it.
type AgreementReader interface {
	// Agreement returns one version of an agreement; ErrNotFound if absent.
	Agreement(ctx context.Context, id string, version int) (Agreement, error)
	// Agreements returns every stored version, by id then version.
	Agreements(ctx context.Context) ([]Agreement, error)
	// AgreementHistory returns the status changes of every version of id,
	// oldest first.
	AgreementHistory(ctx context.Context, id string) ([]AgreementTransition, error)

	// Provenance returns how object id came to this node; ErrNotFound when
	// nothing is recorded (an object made here has none).
	Provenance(ctx context.Context, objectID string) (Provenance, error)
	// Consents returns the originator consents recorded for objectID, oldest first.
	Consents(ctx context.Context, objectID string) ([]Consent, error)

	// ReleaseRequest returns one request; ErrNotFound if absent.
	ReleaseRequest(ctx context.Context, id string) (ReleaseRequest, error)
	// ReleaseRequests returns the requests in state (every state when ""),
	// oldest first.
	ReleaseRequests(ctx context.Context, state string) ([]ReleaseRequest, error)

	// Ledger returns ledger entries matching q, oldest first.
	Ledger(ctx context.Context, q LedgerQuery) ([]LedgerEntry, error)
}

// AgreementWriter writes what AgreementReader reads. Tx embeds it, so each
// write commits with the audit entries that record it.
type AgreementWriter interface {
	// PutAgreement inserts or replaces one version (id, version).
	PutAgreement(ctx context.Context, a Agreement) error
	AppendAgreementTransition(ctx context.Context, t AgreementTransition) error
	// PutProvenance records an object's provenance; ErrExists if it has one.
	PutProvenance(ctx context.Context, p Provenance) error
	PutConsent(ctx context.Context, c Consent) error
	// PutReleaseRequest inserts a request; ErrExists if the id is taken.
	PutReleaseRequest(ctx context.Context, r ReleaseRequest) error
	// UpdateReleaseRequest replaces a request's approvals, state, reason and
	// updated time; ErrNotFound if absent.
	UpdateReleaseRequest(ctx context.Context, r ReleaseRequest) error
	// AppendLedger appends an entry and returns its sequence number.
	AppendLedger(ctx context.Context, e LedgerEntry) (int64, error)
}

// Agreement is one stored version of a sharing agreement. Document is the
// agreement's RFC 8785 JSON with the signatures collected so far.
type Agreement struct {
	ID       string
	Version  int
	State    string // agreement.State
	Since    time.Time
	Document []byte
	Updated  time.Time
}

// AgreementTransition is one lifecycle move of one agreement version.
type AgreementTransition struct {
	ID       string
	Version  int
	From, To string
	At       time.Time
	By       string
	Note     string
}

// Provenance is how an object came to this node: who originated it and the
// hops it travelled, originator first, each under an agreement version. An
// object made here by tearline of another carries DerivedFrom instead.
type Provenance struct {
	ObjectID     string
	Originator   string // originating node
	ReceivedFrom string // the party that sent it here ("" for a local derivation)
	Hops         []Hop
	ReceivedAt   time.Time
	DerivedFrom  string // "id@modified" of the object a tearline was made from
}

// Hop is one step of an object's journey: From released it to To under
// version Version of agreement Agreement.
type Hop struct {
	Agreement string `json:"agreement"`
	Version   int    `json:"version"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// Consent is an originator's recorded consent to release one object to one
// party.
type Consent struct {
	ObjectID   string
	Originator string
	To         string
	By         string // who recorded it here
	At         time.Time
}

// Release request states.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRefused  = "refused"
	RequestReleased = "released"
)

// ReleaseRequest is a release held for approval.
type ReleaseRequest struct {
	ID       string
	ObjectID string
	Modified string
	// Instance is the instance of ObjectID the held version belongs to
	// (docs/SECURITY.md): another may share its id and modified.
	Instance         int64
	Party            string
	Agreement        string
	AgreementVersion int
	Purpose          string
	Requester        string
	Decision         []byte // JSON snapshot of the decision that held it
	Required         int    // approvals needed: 1 or 2
	Approvals        []Approval
	State            string
	Reason           string
	Created          time.Time
	Updated          time.Time
}

// Approval is one releaser's approval.
type Approval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Ledger outcomes and states.
const (
	LedgerRelease  = "release"
	LedgerTearline = "tearline"
	LedgerRefuse   = "refuse"

	// LedgerReady marks a release waiting in the outbox for delivery.
	LedgerReady = "ready"
)

// LedgerEntry is one dissemination decision: what went (or did not go) to
// whom, under which agreement and term. It holds ids, labels, parties and
// decisions, never content.
type LedgerEntry struct {
	Seq      int64
	ObjectID string
	Modified string
	// Instance is the instance of ObjectID the version decided on belongs
	// to (docs/SECURITY.md): another may share its id and modified. 0 for
	// entries older than the column (they were of instance 0 or not told
	// apart), and for a tearline's own id.
	Instance         int64
	Party            string
	Agreement        string
	AgreementVersion int
	Term             int // index of the terms entry; -1 none
	Outcome          string
	TearlineID       string // the sanitised object sent instead, for a tearline
	Labels           []string
	Reasons          []string
	State            string // LedgerReady, or "" for a refusal
	Request          string // the approval request, if one was needed
	By               string
	At               time.Time
}

// LedgerQuery selects ledger entries: by object, agreement or party within
// [From, To) (empty fields and zero times: unbounded), oldest first, at
// most Limit (0: no limit).
type LedgerQuery struct {
	ObjectID  string
	Agreement string
	Party     string
	From, To  time.Time
	Limit     int
}

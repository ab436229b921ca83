// Package agreement reads, checks and signs Tearline sharing agreements: the
// formal documents under which two or more nodes (nations, agencies) release
// intelligence to each other, and tracks their lifecycle.
//
// A Document is the agreement as the parties wrote and signed it. It does not
// decide anything: package policy compiles an active, fully signed Document
// into the fast form that decides releases. docs/AGREEMENTS.md describes the
// format field by field; docs/examples/agreements/agreement.schema.json is
// its JSON Schema.
package agreement

// Document is one version of an agreement. Field order and names are the
// wire format: partners sign the RFC 8785 form of it (see Canonical), so
// never rename a field or change its meaning without a new format.
type Document struct {
	ID          string        `json:"id" yaml:"id"`
	Title       string        `json:"title" yaml:"title"`
	Version     int           `json:"version" yaml:"version"`
	Effective   string        `json:"effective" yaml:"effective"` // RFC 3339
	Expires     string        `json:"expires" yaml:"expires"`     // RFC 3339
	Parties     []Party       `json:"parties" yaml:"parties"`
	Equivalence []Equivalence `json:"equivalence,omitempty" yaml:"equivalence,omitempty"`
	Terms       []Terms       `json:"terms" yaml:"terms"`
	Signatures  []Signature   `json:"signatures,omitempty" yaml:"signatures,omitempty"`
}

// Party is one node bound by the agreement.
type Party struct {
	Name         string `json:"name" yaml:"name"`             // node name, as in bindings
	PublicKey    string `json:"public_key" yaml:"public_key"` // "ed25519:<base64>" (binding.MarshalPublicKey)
	Country      string `json:"country" yaml:"country"`       // ISO 3166-1 alpha-3
	Organisation string `json:"organisation" yaml:"organisation"`
}

// Level names one classification level of one policy. Owner qualifies a
// national (owned) policy: every nation calls its own scheme NATIONAL, so
// "NATIONAL SECRET" means nothing across a border without it.
type Level struct {
	Policy string `json:"policy" yaml:"policy"`
	Owner  string `json:"owner,omitempty" yaml:"owner,omitempty"`
	Level  string `json:"level" yaml:"level"`
}

// Equivalence is one row of the equivalence table: levels of different
// policies the parties treat as the same. Rows are ordered lowest first, and
// a row's position is the common rank that classification limits and
// approval thresholds compare.
type Equivalence struct {
	Name   string  `json:"name,omitempty" yaml:"name,omitempty"` // for people only, e.g. "SECRET"
	Levels []Level `json:"levels" yaml:"levels"`
}

// Terms govern release in every direction from a party in From to a party in
// To (a party never releases to itself under its own terms). Each ordered
// pair of parties is covered by at most one Terms entry; a pair that no
// entry covers exchanges nothing.
type Terms struct {
	From []string `json:"from" yaml:"from"`
	To   []string `json:"to" yaml:"to"`

	// Scope. "*" alone means any value, including none.
	Topics       []string `json:"topics" yaml:"topics"`
	Disciplines  []string `json:"disciplines" yaml:"disciplines"`
	Compartments []string `json:"compartments,omitempty" yaml:"compartments,omitempty"` // compartments that may pass; none by default
	Condition    string   `json:"condition,omitempty" yaml:"condition,omitempty"`       // CEL over the object; must be true to release

	MaxClassification   Level  `json:"max_classification" yaml:"max_classification"`
	MaxTLP              string `json:"max_tlp,omitempty" yaml:"max_tlp,omitempty"` // default AMBER
	RequireReleasableTo bool   `json:"require_releasable_to,omitempty" yaml:"require_releasable_to,omitempty"`

	Purposes      []string `json:"purposes" yaml:"purposes"`
	RetentionDays int      `json:"retention_days" yaml:"retention_days"`
	Onward        Onward   `json:"onward" yaml:"onward"`
	Release       Release  `json:"release" yaml:"release"`
}

// Onward says where a recipient may pass material it received under these
// terms (the third-party rule).
type Onward string

const (
	OnwardNone        Onward = "none"               // nowhere
	OnwardParties     Onward = "parties"            // only to parties of this agreement
	OnwardWithConsent Onward = "originator-consent" // to anyone, with the originator's recorded consent
)

// Release says who must approve a release.
type Release struct {
	Mode  Mode   `json:"mode" yaml:"mode"`
	Above *Level `json:"above,omitempty" yaml:"above,omitempty"` // approvals needed only strictly above this level; nil: always
}

// Mode is a release mode.
type Mode string

const (
	ModeAutomatic Mode = "automatic"    // no human approval
	ModeOne       Mode = "one-releaser" // one releaser approves
	ModeTwo       Mode = "two-person"   // two distinct releasers approve
)

// Signature is one party's Ed25519 signature over the document's signing
// input (see SigningInput).
type Signature struct {
	Party     string `json:"party" yaml:"party"`
	Signature string `json:"signature" yaml:"signature"` // standard base64 of 64 bytes
}

// Wildcard in Topics or Disciplines admits any value, and none.
const Wildcard = "*"

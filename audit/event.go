// Package audit defines Tearline's audit records and, over the store's audit
// table, the tamper-evident log they form.
//
// An Event holds ids, labels, parties and decisions, never intelligence
// content: an auditor may read the log without being cleared for what it
// describes.
package audit

import (
	"fmt"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/tearline/tearline/jcs"
)

// Actions recorded in the log.
const (
	ActionIngest       = "object.ingest"
	ActionIngestRefuse = "object.refuse"
	ActionRead         = "object.read"
	ActionList         = "object.list"
	ActionSearch       = "object.search" // a search: its shape, not its text (docs/SEARCH.md)
	ActionLabelRead    = "label.read"
	ActionUserAdd      = "user.add"
	ActionUserUpdate   = "user.update"
	ActionTokenIssue   = "token.issue"
	ActionTokenRevoke  = "token.revoke"
	ActionTokenCap     = "token.cap" // tokens given the longest lifetime allowed (token_max_ttl)
	ActionAuthRefuse   = "auth.refuse"
	// The web interface (docs/UI.md): a password set, a login, a refused
	// one (Reasons say why), an account locked by repeated failures, a
	// logout, and a session ended by the node (idle, lifetime, user
	// disabled or changed).
	ActionPasswordSet = "user.password"
	ActionLogin       = "ui.login"
	ActionLoginRefuse = "ui.login.refuse"
	ActionLockout     = "ui.lockout"
	ActionLogout      = "ui.logout"
	ActionSessionEnd  = "ui.session.end"
	ActionNodeInit    = "node.init"
	// Encryption at rest (package seal): a crypto-shred, with the reason
	// (retention, recall, admin, restore) in Reasons; a key-encryption key
	// rotation; a database restored from a backup.
	ActionObjectPurge = "object.purge"
	ActionKeyRotate   = "key.rotate"
	ActionRestore     = "store.restore"
	ActionBackup      = "store.backup"
	// Stored access rules (package accessmac): a version whose access MAC
	// does not match its row (rewritten class, label or binding; Reasons
	// says which check failed), which then reads as absent; the one-time
	// computation of the MACs of rows stored before MACs existed (Count).
	ActionAccessMismatch = "object.access-mismatch"
	ActionAccessBackfill = "object.access-backfill"
	ActionSearchBackfill = "search.backfill" // the search index built for versions stored before it
)

// Decisions.
const (
	Allow  = "allow"
	Deny   = "deny"
	Accept = "accept"
	Refuse = "refuse"
)

// Event is one audit record. Field names are short and stable: they are
// hashed into the Merkle log and read by oversight tools.
type Event struct {
	Version  int       `json:"v"`
	Time     time.Time `json:"time"`
	Node     string    `json:"node"`
	Actor    string    `json:"actor"` // "user:<name>", "node:<name>", "token:<id>", "anonymous"
	Action   string    `json:"action"`
	Object   string    `json:"object,omitempty"`
	Modified string    `json:"modified,omitempty"` // the version read or written
	Labels   []string  `json:"labels,omitempty"`   // label ids
	Decision string    `json:"decision,omitempty"`
	Reasons  []string  `json:"reasons,omitempty"`
	Subject  string    `json:"subject,omitempty"` // a user, token or agreement acted upon
	Detail   string    `json:"detail,omitempty"`  // a short, content-free note (e.g. a query's filters)
	Count    int       `json:"count,omitzero"`
}

// Marshal returns the event's RFC 8785 canonical JSON: the bytes that become
// a Merkle leaf.
func (e Event) Marshal() ([]byte, error) {
	if e.Version == 0 {
		e.Version = 1
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if b, ok := appendCanonical(make([]byte, 0, 256), &e); ok {
		return b, nil
	}
	return e.marshalSlow()
}

// marshalSlow is the reference encoding: encoding/json/v2 then RFC 8785.
// e must already be normalised (Version, Time) as Marshal does.
func (e Event) marshalSlow() ([]byte, error) {
	b, err := json.Marshal(e, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("marshal audit event %s: %w", e.Action, err)
	}
	return jcs.Canonicalize(b)
}

// Parse decodes an entry written by Marshal.
func Parse(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("parse audit entry: %w", err)
	}
	return e, nil
}

// Actions for changes to the node's identity and trust, which live in files
// in the data directory rather than in the store.
const (
	ActionSigningKeyRotate = "signing-key.rotate"
	ActionSigningKeyRevoke = "signing-key.revoke"
	ActionPeerAdd          = "peer.add"
	ActionPeerRemove       = "peer.remove"
	ActionCertChange       = "cert.change"

	// ActionDelete is a refused TAXII DELETE: objects are withdrawn by a
	// revoked version or purged by an administrator, never deleted by a client.
	ActionDelete = "object.delete"
)

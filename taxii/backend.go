package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors a Backend returns (wrapped); the handler maps them to TAXII error
// messages with the matching HTTP status. Anything else is a 500 whose
// detail is logged, not sent.
var (
	// ErrUnauthenticated: no caller for these credentials (401).
	ErrUnauthenticated = errors.New("invalid, expired or revoked credentials")
	// ErrForbidden: the caller's role does not allow this (403).
	ErrForbidden = errors.New("not permitted")
	// ErrNotFound: no such object, or one the caller may not see; the two
	// are indistinguishable by design (404).
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: the request is malformed; the message says how (400).
	ErrBadRequest = errors.New("bad request")
	// ErrNotSupported: the operation is not offered on this collection (405).
	ErrNotSupported = errors.New("not supported")
)

// Caller is an authenticated client. Actor names it stably: status
// resources are shown only to the caller that created them.
type Caller interface {
	Actor() string
}

// Backend is what the handler serves. Every method decides for the caller
// and audits what it returns; the handler only speaks HTTP.
type Backend interface {
	// Authenticate returns the caller for a token. user is the HTTP Basic
	// user name ("" for bearer tokens); when set it must name the token's
	// owner.
	Authenticate(ctx context.Context, user, token string) (Caller, error)
	// Collections lists the collections of the API root as c sees them.
	Collections(ctx context.Context, c Caller) ([]Collection, error)
	// Objects returns one page of a collection's objects (q.Object empty)
	// or of one object's versions (q.Object set; ErrNotFound when the
	// caller can see no version of it). With q.Manifest the items carry no
	// objects, and nothing but the manifest's metadata is read.
	//
	// Each value of the page (Leading, Object, Related) must be exactly
	// one JSON value: the handler writes them into the envelope as they
	// are, unchecked, since checking 3-4 MB again on every page of 1,000
	// costs what the backend, which knows where each value came from,
	// mostly need not spend.
	Objects(ctx context.Context, c Caller, collection string, q Query) (Page, error)
	// Versions returns one page of the versions of q.Object.
	Versions(ctx context.Context, c Caller, collection string, q Query) (Page, error)
	// Add ingests the objects of a POSTed envelope and reports each one,
	// in envelope order, as a success or a failure.
	Add(ctx context.Context, c Caller, collection string, objects []json.RawMessage) (AddResult, error)
	// Delete deletes q.Object from a collection: the versions
	// q.Version selects (all of them when it is the default), subject to
	// q.SpecVersions. ErrNotFound when the caller may not read the object,
	// as for one that does not exist; ErrForbidden when it may read it but
	// not delete it (TAXII 2.1 §5.7).
	Delete(ctx context.Context, c Caller, collection string, q Query) error
}

// Query is the filter of a read, parsed and validated from the URL.
type Query struct {
	Object       string    // the object of the object and versions endpoints
	AddedAfter   time.Time // zero: no filter; else date_added strictly after
	Limit        int       // 0: the backend's default; never above MaxLimit
	Next         string    // opaque cursor the backend issued
	IDs          []string  // match[id]
	Types        []string  // match[type]
	Version      VersionMatch
	SpecVersions []string // match[spec_version]; empty: the newest each object has
	Manifest     bool     // metadata only
}

// VersionMatch is match[version]: the values are ORed. The zero value means
// "last", the TAXII default.
type VersionMatch struct {
	First, Last, All bool
	At               []time.Time // versions whose modified is one of these
}

// Default reports whether v is the default: the last version only.
func (v VersionMatch) Default() bool { return !v.First && !v.All && len(v.At) == 0 }

// Item is one object version in a page.
type Item struct {
	ID        string
	Version   string // modified, else created, else date_added (TAXII §3.4)
	DateAdded time.Time
	MediaType string
	// Object is the STIX object exactly as stored; nil in a manifest.
	Object json.RawMessage
	// Related travel right after Object in an envelope: the object's
	// tearline-binding objects, so a receiving node can verify its labels.
	Related []json.RawMessage
}

// Page is one page of items.
type Page struct {
	// Leading objects open the envelope, before the items: the label
	// marking-definitions the page's bindings name, each once.
	Leading []json.RawMessage
	Items   []Item
	More    bool
	Next    string
}

// AddResult reports a POST: together Successes and Failures hold exactly
// one detail per envelope object.
type AddResult struct {
	Successes []StatusDetail
	Failures  []StatusDetail
}

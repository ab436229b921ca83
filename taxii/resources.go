package taxii

import (
	"encoding/json"
	"time"
)

// Media types. Every TAXII request and response body is TAXII JSON; STIX
// objects travel inside envelopes, so stix+json appears only as the media
// type a collection holds.
const (
	MediaTypeTAXII  = "application/taxii+json;version=2.1"
	MediaTypeSTIX   = "application/stix+json;version=2.1"
	taxiiType       = "application/taxii+json"
	specVersion     = "2.1"
	timestampLayout = "2006-01-02T15:04:05.000000Z"
)

// Timestamp formats t the way TAXII dates are served: RFC 3339 in UTC with
// microseconds, the store's precision, so a client that sends a value back
// as added_after gets exactly what follows it.
func Timestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }

// Discovery is the discovery resource (TAXII 2.1 §4.1.1).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots"`
}

// APIRoot is the API root resource (§4.2.1).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is a collection resource (§5.2.1) as one caller sees it:
// CanRead and CanWrite are that caller's rights.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Collections is the collections resource (§5.1.1).
type Collections struct {
	Collections []Collection `json:"collections,omitempty"`
}

// Envelope is the envelope resource (§3.7). Objects are raw JSON: they are
// served exactly as stored, never re-encoded.
type Envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// ManifestRecord is one entry of a manifest (§5.6.2).
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Manifest is the manifest resource (§5.6.1).
type Manifest struct {
	More    bool             `json:"more"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// Versions is the versions resource (§5.8.1).
type Versions struct {
	More     bool     `json:"more"`
	Next     string   `json:"next,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Status is the status resource (§4.3.1). Tearline ingests synchronously,
// so a status is always "complete" when it is first returned.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	RequestTimestamp string         `json:"request_timestamp,omitempty"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	FailureCount     int            `json:"failure_count"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	PendingCount     int            `json:"pending_count"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// StatusDetail reports one object of a POST (§4.3.2).
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Error is the error message resource (§3.6.1). HTTPStatus is a string in
// TAXII 2.1.
type Error struct {
	Title           string            `json:"title"`
	Description     string            `json:"description,omitempty"`
	ErrorID         string            `json:"error_id,omitempty"`
	ErrorCode       string            `json:"error_code,omitempty"`
	HTTPStatus      string            `json:"http_status,omitempty"`
	ExternalDetails string            `json:"external_details,omitempty"`
	Details         map[string]string `json:"details,omitempty"`
}

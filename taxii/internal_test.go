package taxii

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestAcceptable(t *testing.T) {
	for h, want := range map[string]bool{
		"": true, "*/*": true, "application/*": true, MediaTypeTAXII: true, "application/taxii+json": true,
		"text/html, application/taxii+json;version=2.1;q=0.9": true,
		"application/taxii+json;version=2.0":                  false, "application/json": false, "application/taxii+json;q=0": false,
		"application/stix+json;version=2.1": false, ";;;": false,
	} {
		if got := acceptable(h); got != want {
			t.Errorf("acceptable(%q) = %v", h, got)
		}
	}
	for h, want := range map[string]bool{
		MediaTypeTAXII: true, "application/taxii+json": true, "application/taxii+json; version=2.1": true,
		"application/taxii+json;version=2.0": false, "application/json": false, "": false,
	} {
		if got := contentTypeOK(h); got != want {
			t.Errorf("contentTypeOK(%q) = %v", h, got)
		}
	}
}

func TestParseQuery(t *testing.T) {
	v := url.Values{"added_after": {"2024-01-02T03:04:05.5Z"}, "limit": {"5000"}, "match[id]": {"indicator--0b0c3a31-5a2e-4c6f-9f0d-4f1e2a3b4c5d"},
		"match[type]": {"indicator,malware"}, "match[version]": {"first,2024-01-01T00:00:00Z"}, "match[spec_version]": {"2.1"}}
	q, err := parseQuery(v, objectsFilters)
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != MaxLimit || len(q.IDs) != 1 || len(q.Types) != 2 || !q.Version.First || len(q.Version.At) != 1 || q.Version.Default() ||
		!q.AddedAfter.Equal(time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC)) {
		t.Fatalf("%+v", q)
	}
	// Filters an endpoint does not take are ignored.
	if q, err := parseQuery(v, versionFilters); err != nil || len(q.IDs) != 0 || !q.Version.Default() {
		t.Fatalf("versions endpoint: %+v %v", q, err)
	}
	many := "a--0b0c3a31-5a2e-4c6f-9f0d-4f1e2a3b4c5d"
	for range maxMatchValues {
		many += ",abc--0b0c3a31-5a2e-4c6f-9f0d-4f1e2a3b4c5d"
	}
	for _, bad := range []url.Values{{"limit": {"0"}}, {"added_after": {"x"}}, {"match[type]": {"Indicator"}},
		{"match[id]": {many}}, {"match[version]": {"latest"}}, {"match[spec_version]": {"2"}}} {
		if _, err := parseQuery(bad, objectsFilters); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestStatusStore(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStatusStore(func() time.Time { return now })
	s.put("user:a", Status{ID: "1"})
	if _, ok := s.get("user:b", "1"); ok {
		t.Fatal("another caller reads the status")
	}
	if _, ok := s.get("user:a", "1"); !ok {
		t.Fatal("owner cannot read its status")
	}
	now = now.Add(statusTTL + time.Second)
	if _, ok := s.get("user:a", "1"); ok {
		t.Fatal("expired status still served")
	}
	for i := range statusMaxEntries + 10 {
		s.put("user:a", Status{ID: strconv.Itoa(100 + i)})
	}
	if len(s.byID) != statusMaxEntries || len(s.order) != statusMaxEntries {
		t.Fatalf("%d statuses kept, want %d", len(s.byID), statusMaxEntries)
	}
	if _, ok := s.get("user:a", "100"); ok {
		t.Fatal("oldest status not evicted")
	}
	big := Status{ID: "big", Successes: make([]StatusDetail, statusMaxDetails)}
	s.put("user:a", big)
	if _, ok := s.get("user:a", "big"); !ok || s.details != statusMaxDetails {
		t.Fatalf("newest status evicted or details %d", s.details)
	}
}

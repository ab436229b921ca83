package stix

import (
	"strings"
	"testing"
	"time"
)

func TestIsValidID(t *testing.T) {
	valid := []string{
		"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"x-mitre-tactic--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",    // UUIDv5
		"relationship--81f12913-1372-4c96-85ec-E9034ac98aba", // upper case, as in the OASIS examples
		"abc--8e2e2d2b-17d4-7cbf-b38f-98ee46b3cd3f",
		strings.Repeat("a", 250) + "--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	}
	invalid := []string{
		"",
		"indicator",
		"indicator--",
		"indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
		"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3",
		"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3fa",
		"indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f", // version 0
		"indicator--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f", // NCS variant
		"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g",
		"Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"1ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"a--b--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"ab---8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"a_b--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		strings.Repeat("a", 251) + "--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	}
	for _, id := range valid {
		if !IsValidID(id) {
			t.Errorf("IsValidID(%q) = false", id)
		}
	}
	for _, id := range invalid {
		if IsValidID(id) {
			t.Errorf("IsValidID(%q) = true", id)
		}
	}
	if IDType("x-mitre-tactic--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") != "x-mitre-tactic" || IDType("nope") != "" {
		t.Error("IDType")
	}
}

func TestParseTimestamp(t *testing.T) {
	good := map[string]time.Time{
		"2016-01-20T12:31:12.123Z":          time.Date(2016, 1, 20, 12, 31, 12, 123e6, time.UTC),
		"2016-01-20T12:31:12.123456789123Z": time.Date(2016, 1, 20, 12, 31, 12, 123456789, time.UTC),
		"2024-02-29T00:00:00.000Z":          time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"2016-12-31T23:59:60.000Z":          time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for s, want := range good {
		got, ok := parseTimestamp(s, 3)
		if !ok || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, ok)
		}
	}
	if _, ok := parseTimestamp("2016-01-20T12:31:12Z", 0); !ok {
		t.Error("no fraction refused with minFrac 0")
	}
	for _, s := range []string{
		"2016-01-20T12:31:12Z", "2016-01-20T12:31:12.12Z", "2016-01-20 12:31:12.123Z",
		"2016-01-20T12:31:12.123", "2016-01-20T12:31:12.123+00:00", "2023-02-29T00:00:00.000Z",
		"2016-13-20T12:31:12.123Z", "2016-01-20T24:00:00.000Z", "2016-01-20T12:60:00.000Z",
		"2016-01-20T12:31:60.000Z", "2016-01-20T12:31:12.Z", "2016-01-20T12:31:12.1a3Z", "+016-01-20T12:31:12.123Z",
		"2016-01-20t12:31:12.123Z",
	} {
		if _, ok := parseTimestamp(s, 3); ok {
			t.Errorf("%s accepted", s)
		}
	}
}

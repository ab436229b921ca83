package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
)

// TestCursorsOverHTTP, from the attacker's side: a low and a high reader
// page the same listing over HTTP (API list, export, TAXII objects). Every
// cursor has one length; a cursor replayed by the other user, sent with
// another filter or route, altered, or in the old format is a 400 in the
// route's own error format, with no objects.
func TestCursorsOverHTTP(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	low := tn.user(t, users.UserSpec{Name: "low", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}})
	high := tn.user(t, users.UserSpec{Name: "high", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	for i := range 5 {
		if st, _ := tn.publish(t, admin, sdo(newID("threat-actor"), t0, t0, "open "+strconv.Itoa(i)), "NATO UNCLASSIFIED"); st != 200 {
			t.Fatalf("publish: %d", st)
		}
		for j := range i {
			if st, _ := tn.publish(t, admin, sdo(newID("threat-actor"), t0, t0, "secret "+strconv.Itoa(i)+strconv.Itoa(j)), "NATO SECRET // REL TO GBR, USA"); st != 200 {
				t.Fatalf("publish: %d", st)
			}
		}
	}
	// The first page's cursor of each user, on each route.
	listNext := func(tok, query string) string {
		t.Helper()
		r := tn.get(t, "/api/v1/objects?limit=1"+query, tok)
		var page struct {
			More bool
			Next string
		}
		if r.Status != 200 || json.Unmarshal(r.Body, &page) != nil || !page.More {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		return page.Next
	}
	exportNext := func(tok string) string {
		t.Helper()
		r := tn.get(t, "/api/v1/export?limit=1", tok)
		if r.Status != 200 {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		return r.Header.Get("X-Tearline-Next")
	}
	lowNext, highNext := listNext(low, ""), listNext(high, "")
	lowSecond := listNext(low, "&next="+lowNext)
	lowExport := exportNext(low)
	for _, c := range []string{lowNext, highNext, lowSecond, lowExport} {
		if len(c) != cursor.EncodedLen {
			t.Errorf("cursor %q: %d characters, want %d", c, len(c), cursor.EncodedLen)
		}
	}
	if lowNext == highNext {
		t.Error("the same first page gave both users the same cursor")
	}
	apiBad := func(what, path, tok string) {
		t.Helper()
		r := tn.get(t, path, tok)
		var eb struct {
			Error   string
			Objects []json.RawMessage
		}
		if r.Status != http.StatusBadRequest || json.Unmarshal(r.Body, &eb) != nil || !strings.Contains(eb.Error, "cursor") || len(eb.Objects) != 0 {
			t.Errorf("%s: %d %s; want 400 {\"error\": ...cursor...}", what, r.Status, r.Body)
		}
	}
	apiBad("low's cursor replayed by high", "/api/v1/objects?limit=1&next="+lowNext, high)
	apiBad("high's cursor replayed by low", "/api/v1/objects?limit=1&next="+highNext, low)
	apiBad("another type", "/api/v1/objects?limit=1&type=malware&next="+lowNext, low)
	apiBad("list cursor on export", "/api/v1/export?limit=1&next="+lowNext, low)
	apiBad("export cursor on list", "/api/v1/objects?limit=1&next="+lowExport, low)
	apiBad("old format", "/api/v1/objects?limit=1&next=2", low)
	apiBad("old format, list", "/api/v1/objects?limit=1&next="+url.QueryEscape("1,3,6,7"), low)
	apiBad("altered", "/api/v1/objects?limit=1&next="+flip(lowNext), low)
	if r := tn.get(t, "/api/v1/export?limit=1&next="+lowExport, low); r.Status != 200 {
		t.Errorf("export's own cursor: %d %s", r.Status, r.Body)
	}

	// TAXII: the 400 is TAXII's error message.
	coll := "/taxii2/tearline/collections/" + tn.n.TAXII.HoldingsID() + "/objects/"
	taxiiGet := func(tok, query string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, tn.srv.URL+coll+"?"+query, nil)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := tn.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	st, env := taxiiGet(low, "limit=1")
	tnext, _ := env["next"].(string)
	if st != 200 || env["more"] != true || len(tnext) != cursor.EncodedLen {
		t.Fatalf("TAXII first page: %d %v", st, env)
	}
	for what, q := range map[string]string{
		"replayed by high": "limit=1&next=" + tnext,
		"another type":     "limit=1&match[type]=malware&next=" + tnext,
		"old format":       "limit=1&next=My4w",
		"altered":          "limit=1&next=" + flip(tnext),
		"API cursor":       "limit=1&next=" + lowNext,
	} {
		tok := low
		if what == "replayed by high" {
			tok = high
		}
		st, m := taxiiGet(tok, q)
		if st != http.StatusBadRequest || m["http_status"] != "400" || m["title"] == nil || m["objects"] != nil {
			t.Errorf("TAXII %s: %d %v; want a TAXII 400 error", what, st, m)
		}
	}
	if st, m := taxiiGet(low, "limit=5&next="+tnext); st != 200 || len(m["objects"].([]any)) == 0 {
		t.Errorf("TAXII cursor with another limit: %d %v", st, m)
	}
}

// flip changes one character in the middle of a cursor.
func flip(c string) string {
	b := []byte(c)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/taxii"
)

// Polyinstantiation over the API, from the attacker's side: a NATO
// RESTRICTED analyst publishes ids that exist at NATO SECRET. Each answer
// (status and body) is byte for byte the answer for a fresh id; the SECRET
// reader's GET still returns the SECRET object.
func TestInstancesPublishAnswersAsFresh(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	high := tn.user(t, users.UserSpec{Name: "sam", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "SECRET"}})
	low := tn.user(t, users.UserSpec{Name: "rita", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "RESTRICTED"}, DefaultLabel: "NATO RESTRICTED"})
	const secret, restricted = "NATO SECRET", "NATO RESTRICTED"
	const t2 = "2026-01-12T10:00:00.000Z"

	publishRaw := func(token string, data []byte, banner string) response {
		t.Helper()
		return tn.do(t, "POST", "/api/v1/objects?label="+strings.ReplaceAll(banner, " ", "+"), token, data)
	}
	landHigh := func(id, modified string, extra string) {
		t.Helper()
		obj := sdo(id, t0, modified, "sam's")
		if extra != "" {
			obj = []byte(strings.TrimSuffix(string(obj), "}") + "," + extra + "}")
		}
		if st, res := tn.publish(t, high, bundle(obj), secret); st != 200 {
			t.Fatalf("sam publishes %s: %d %+v", id, st, res)
		}
	}
	// asFresh publishes obj(id) and obj(fresh) as rita and compares the
	// two answers with each id written as ID.
	asFresh := func(what, id string, obj func(id string) []byte) {
		t.Helper()
		fresh := newID("threat-actor")
		got := publishRaw(low, bundle(obj(id)), restricted)
		want := publishRaw(low, bundle(obj(fresh)), restricted)
		g := strings.ReplaceAll(string(got.Body), id, "ID")
		w := strings.ReplaceAll(string(want.Body), fresh, "ID")
		if got.Status != want.Status || g != w {
			t.Errorf("%s: an existing id answers %d %s, a fresh one %d %s", what, got.Status, g, want.Status, w)
		}
		if got.Status != 200 {
			t.Errorf("%s: status %d, want 200", what, got.Status)
		}
	}

	// Over TAXII: the status resource, with its own id and timestamp
	// written alike.
	coll := "/taxii2/tearline/collections/" + tn.n.TAXII.HoldingsID() + "/objects/"
	taxiiPost := func(id string, data []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, tn.url+coll, bytes.NewReader(data))
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
		req.Header.Set("Authorization", "Bearer "+low)
		resp, err := tn.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st taxii.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatalf("TAXII status: %v", err)
		}
		st.ID, st.RequestTimestamp = "STATUS", "TIME"
		b, _ := json.Marshal(st)
		return resp.StatusCode, strings.ReplaceAll(string(b), id, "ID")
	}
	overTAXII := func(what, id string, obj func(id string) []byte) {
		t.Helper()
		fresh := newID("threat-actor")
		gs, g := taxiiPost(id, bundle(obj(id)))
		ws, w := taxiiPost(fresh, bundle(obj(fresh)))
		if gs != ws || g != w {
			t.Errorf("TAXII %s: an existing id answers %d %s, a fresh one %d %s", what, gs, g, ws, w)
		}
	}

	same := newID("threat-actor")
	landHigh(same, t1, "")
	viaTAXII := newID("threat-actor")
	landHigh(viaTAXII, t1, "")
	// rita's default label is her level: TAXII takes no label parameter.
	overTAXII("same modified", viaTAXII, func(id string) []byte { return sdo(id, t0, t1, "rita's") })
	asFresh("same modified, other content", same, func(id string) []byte { return sdo(id, t0, t1, "rita's") })
	asFresh("newer modified", same, func(id string) []byte { return sdo(id, t0, t2, "rita's newer") })

	revoked := newID("threat-actor")
	landHigh(revoked, t0, "")
	landHigh(revoked, t1, `"revoked":true`)
	asFresh("after a revocation at SECRET", revoked, func(id string) []byte { return sdo(id, t0, t2, "rita's") })

	purged := newID("threat-actor")
	landHigh(purged, t0, "")
	if _, err := tn.n.Purge(t.Context(), node.ConsoleAdmin(), node.PurgeTarget{ID: purged, Reason: "test"}); err != nil {
		t.Fatalf("purge: %v", err)
	}
	asFresh("after a purge at SECRET", purged, func(id string) []byte { return sdo(id, t0, t0, "rita's") })

	// Sam's GET is his own object; he alone is told of two instances.
	r := tn.get(t, "/api/v1/objects/"+same, high)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"name":"sam's"`) {
		t.Fatalf("sam's GET: %d %s", r.Status, r.Body)
	}
	if h := r.Header.Get(api.InstancesHeader); h != "2" {
		t.Errorf("sam's GET: %s %q, want 2", api.InstancesHeader, h)
	}
	r = tn.get(t, "/api/v1/objects/"+same, low)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"name":"rita's newer"`) || r.Header.Get(api.InstancesHeader) != "" {
		t.Fatalf("rita's GET: %d %s %v", r.Status, r.Body, r.Header)
	}
	var vs struct {
		Versions  []json.RawMessage `json:"versions"`
		Instances []int64           `json:"instances"`
	}
	r = tn.get(t, "/api/v1/objects/"+same+"/versions", high)
	if err := json.Unmarshal(r.Body, &vs); err != nil || len(vs.Versions) != 3 || len(vs.Instances) != 3 {
		t.Fatalf("sam's versions: %s (%v)", r.Body, err)
	}
	r = tn.get(t, "/api/v1/objects/"+same+"/versions", low)
	if strings.Contains(string(r.Body), `"instances"`) {
		t.Errorf("rita's versions tell her of instances: %s", r.Body)
	}
}

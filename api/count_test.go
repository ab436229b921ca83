package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/users"
)

// TestCountCapped: GET /api/v1/count counts up to api.CountCap objects
// (each is read and checked), says "capped" past it, and counts exactly
// up to at_most when asked, never beyond api.MaxCountCap; the cap counts
// what the caller may read, nothing hidden from it.
func TestCountCapped(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	low := tn.user(t, users.UserSpec{Name: "low", Role: node.RoleAnalyst, Nationality: "GBR", Clearances: map[string]string{"NATO": "UNCLASSIFIED"}})
	objs := make([][]byte, api.CountCap+1)
	for i := range objs {
		objs[i] = sdo(newID("threat-actor"), t0, t0, "n"+strconv.Itoa(i))
	}
	if status, res := tn.publish(t, admin, bundle(objs...), "NATO UNCLASSIFIED"); status != 200 || len(res.Landed) != len(objs) {
		t.Fatalf("publish %d objects: %d, %d landed", len(objs), status, len(res.Landed))
	}
	for range 3 {
		if status, _ := tn.publish(t, admin, sdo(newID("threat-actor"), t0, t0, "secret"), "NATO SECRET"); status != 200 {
			t.Fatalf("publish SECRET: %d", status)
		}
	}
	all := api.CountCap + 1 + 3
	for _, tc := range []struct {
		tok, query, want string
	}{
		{admin, "", fmt.Sprintf(`{"count":%d,"capped":true}`, api.CountCap)},
		{low, "", fmt.Sprintf(`{"count":%d,"capped":true}`, api.CountCap)},
		{admin, "?at_most=5", `{"count":5,"capped":true}`},
		{admin, "?type=threat-actor&at_most=" + strconv.Itoa(all), fmt.Sprintf(`{"count":%d}`, all)},
		{admin, "?at_most=" + strconv.Itoa(all-1), fmt.Sprintf(`{"count":%d,"capped":true}`, all-1)},
		{admin, "?at_most=" + strconv.Itoa(api.MaxCountCap), fmt.Sprintf(`{"count":%d}`, all)},
		// The SECRET objects are not counted for low, capped or not.
		{low, "?at_most=" + strconv.Itoa(api.CountCap+1), fmt.Sprintf(`{"count":%d}`, api.CountCap+1)},
		{low, "?at_most=" + strconv.Itoa(all), fmt.Sprintf(`{"count":%d}`, api.CountCap+1)},
		{admin, "?type=indicator", `{"count":0}`},
	} {
		r := tn.get(t, "/api/v1/count"+tc.query, tc.tok)
		if got := string(bytes.TrimSpace(r.Body)); r.Status != 200 || got != tc.want {
			t.Errorf("count%s: %d %s, want %s", tc.query, r.Status, got, tc.want)
		}
	}
	for _, bad := range []string{"0", "-1", "x", strconv.Itoa(api.MaxCountCap + 1)} {
		if r := tn.get(t, "/api/v1/count?at_most="+bad, admin); r.Status != http.StatusBadRequest {
			t.Errorf("count?at_most=%s: %d %s, want 400", bad, r.Status, r.Body)
		}
	}
}

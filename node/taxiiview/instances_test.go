package taxiiview_test

import (
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/taxii"
)

// A partner's pull carries no instance (the profile partners of the
// previous version read), and its receiver takes what it pulls as the
// originator's instance 0: so the partner view serves the default instance
// alone, by listing and by id, and a low instance of an id (same node,
// same modified or a newer one) is never served in the high one's place.
func TestPartnerViewServesTheDefaultInstanceOnly(t *testing.T) {
	ctx := t.Context()
	f := newRelFixture(t)
	id := f.ingestLabelled(t, actor(nodetest.NewID("threat-actor"), map[string]any{"name": "high"}), okBanner)
	lola, _ := nodetest.AddUser(t, f.n, users.UserSpec{Name: "lola", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	low := "NATO RESTRICTED // DISC SIGINT // TOPIC CYBER"
	nodetest.MustLand(t, f.n, lola, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T2, map[string]any{"name": "low newer"})), low)
	vs, err := f.n.Store().Versions(ctx, id)
	if err != nil || len(vs) != 2 || vs[1].Instance == 0 {
		t.Fatalf("versions: %+v, %v; want the low one in an instance of its own", vs, err)
	}
	for _, q := range []taxii.Query{{}, {Object: id}} {
		pg, err := partnerRead(ctx, f.n, &node.Peer{Name: "usa"}, q)
		if err != nil {
			t.Fatal(err)
		}
		served := 0
		for _, it := range pg.Items {
			s := string(it.Object)
			if strings.Contains(s, `"id":"`+id+`"`) {
				served++
				if !strings.Contains(s, `"name":"high"`) {
					t.Errorf("query %+v: served %s, want the default instance's version", q, s)
				}
			}
		}
		if served != 1 {
			t.Errorf("query %+v: %s served %d times, want once", q, id, served)
		}
	}
}

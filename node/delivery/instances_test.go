package delivery_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store"
)

// The envelope of a released object names its instance as the originator
// numbers it (docs/FEDERATION.md, "Instances on the wire"), and only for an
// instance other than the default: the default instance's bundle is what a
// partner of the previous version knows, without the field.
func TestEnvelopeNamesInstance(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	fra.Stop() // the batch is built here, not delivered
	lola, _ := nodetest.AddUser(t, gbr.N, users.UserSpec{Name: "lola", Role: node.RoleReleaser, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "RESTRICTED"}})
	id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	nodetest.MustLand(t, gbr.N, lola, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T0, map[string]any{"name": "low"})),
		"NATO RESTRICTED // DISC SIGINT // TOPIC CYBER")
	vs, err := gbr.N.Store().Versions(ctx, id)
	if err != nil || len(vs) != 2 || vs[0].Modified != vs[1].Modified || vs[0].Instance == vs[1].Instance {
		t.Fatalf("versions at gbr: %+v, %v; want two instances sharing a modified", vs, err)
	}
	var items []store.OutboxItem
	for i, v := range vs {
		p, _ := json.Marshal(node.ObjectsRef{Ledger: int64(i + 1), Object: id, Modified: v.Modified, Agreement: "gbr-fra", Version: 1, Instance: v.Instance})
		items = append(items, store.OutboxItem{ID: int64(100 + i), Peer: "fra", Kind: store.OutboxObjects, Payload: p})
	}
	bb, err := gbr.N.Deliveries.Sender().BuildBatch(ctx, delivery.WirePeer(gbr.Peer(t, "fra")), items)
	if err != nil {
		t.Fatal(err)
	}
	if len(bb.Messages) != 2 {
		t.Fatalf("%d messages, want 2", len(bb.Messages))
	}
	for i, m := range bb.Messages {
		var b federation.ObjectsBundle
		if err := json.Unmarshal(m.Payload, &b); err != nil {
			t.Fatal(err)
		}
		inst := vs[i].Instance
		if b.Release.OriginatorInstance != inst || (inst == 0) == strings.Contains(string(m.Payload), `"originator_instance"`) {
			t.Errorf("instance %d: envelope %+v", inst, b.Release)
		}
		// The version sent is the instance's own, not the other's.
		if !strings.Contains(string(m.Payload), `"name":"low"`) == (inst != 0) {
			t.Errorf("instance %d: sent %.300s", inst, m.Payload)
		}
	}
}

package recalls_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/node/recalls"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/recall"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/taxii"
)

func recallState(t *testing.T, f *nodetest.FedNode, q store.RecallQuery) map[string]recalls.RecallStatus {
	t.Helper()
	rs, err := f.N.Recalls.RecallStatus(context.Background(), f.Admin, q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]recalls.RecallStatus{}
	for _, r := range rs {
		out[r.Party] = r
	}
	return out
}

// taxiiIDs lists the ids (and revoked flags) in f's holdings collection
// through the TAXII API, as a stock client reads it.
func taxiiIDs(t *testing.T, f *nodetest.FedNode) map[string]bool {
	t.Helper()
	_, tok, err := f.N.Users.AddUser(context.Background(), node.ConsoleAdmin(), users.UserSpec{Name: "taxii-" + strings.ReplaceAll(nodetest.NewID("u")[3:11], "-", ""), Role: node.RoleAnalyst,
		Nationality: f.Admin.User.Nationality, Clearances: f.Admin.User.Clearances, Compartments: f.Admin.User.Compartments})
	if err != nil {
		t.Fatal(err)
	}
	h := taxii.New(f.N.TAXII, taxii.Options{Title: "test"})
	req := httptest.NewRequest(http.MethodGet, taxii.Prefix+taxii.DefaultRoot+"/collections/"+f.N.TAXII.HoldingsID()+"/objects/", nil)
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("TAXII objects: %d %s", w.Code, w.Body)
	}
	var env struct {
		Objects []struct {
			ID      string `json:"id"`
			Revoked bool   `json:"revoked"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, o := range env.Objects {
		out[o.ID] = o.Revoked
	}
	return out
}

// TestRecallAcrossNodes: gbr releases an object whole and another as a
// tearline to fra over mutual TLS; gbr recalls both; fra purges the object
// and the tearline, they leave its TAXII collection, and gbr sees fra's
// signed acknowledgements.
func TestRecallAcrossNodes(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")

	whole := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	f := &nodetest.RelFixture{N: gbr.N, Admin: gbr.Admin}
	rep := map[string]any{"type": "report", "spec_version": "2.1", "id": nodetest.NewID("report"), "created": nodetest.T0, "modified": nodetest.T0,
		"name": "Operation Heron", "published": nodetest.T0, "description": "source HERON-7 reports the implant", "object_refs": []any{whole}}
	cut := f.IngestLabelled(t, rep, nodetest.OKBanner, map[string]string{"description": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})

	if res := nodetest.MustRelease(t, gbr.N, gbr.Admin, whole, "fra"); res.Outcome != "release" {
		t.Fatalf("release: %+v", res)
	}
	tl := nodetest.MustRelease(t, gbr.N, gbr.Admin, cut, "fra")
	if tl.Outcome != "tearline" {
		t.Fatalf("tearline: %+v", tl)
	}
	nodetest.Eventually(t, "fra holds both", func() bool { return nodetest.Held(fra.N, whole) && nodetest.Held(fra.N, tl.Tearline) })
	if ids := taxiiIDs(t, fra); !hasKey(ids, whole) || !hasKey(ids, tl.Tearline) {
		t.Fatalf("fra's TAXII collection before the recall: %v", ids)
	}

	// fra made a tearline of what it received for a third party: it goes
	// with the recall too. (The ledger row stands for fra's own release.)
	onward := fra.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	if err := fra.N.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: whole, Party: "usa", Agreement: "fra-usa", AgreementVersion: 1,
			Outcome: store.LedgerTearline, TearlineID: onward, State: store.LedgerReady, By: "test", At: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Only the originator recalls, and only what went somewhere.
	if _, err := fra.N.Recalls.Recall(ctx, fra.Admin, whole, "not ours"); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("recall by a recipient: %v, want ErrForbidden", err)
	}
	// Out of every agreement's scope, so automatic release sends it nowhere.
	unsent := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO SECRET // DISC SIGINT // TOPIC ORGANISED-CRIME")
	if _, err := gbr.N.Recalls.Recall(ctx, gbr.Admin, unsent, "x"); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("recall of an object never released: %v, want ErrInvalid", err)
	}
	if _, err := gbr.N.Recalls.Recall(ctx, gbr.Admin, whole, " "); !errors.Is(err, node.ErrInvalid) {
		t.Fatalf("recall without a reason: %v, want ErrInvalid", err)
	}

	r1, err := gbr.N.Recalls.Recall(ctx, gbr.Admin, whole, "source compromised")
	if err != nil {
		t.Fatal(err)
	}
	if len(r1) != 1 || r1[0].Party != "fra" || r1[0].State != store.RecallPending || !slices.Equal(r1[0].Objects, []string{whole}) {
		t.Fatalf("recall: %+v", r1)
	}
	r2, err := gbr.N.Recalls.Recall(ctx, gbr.Admin, cut, "source compromised")
	if err != nil {
		t.Fatal(err)
	}
	if len(r2) != 1 || !slices.Equal(r2[0].Objects, []string{tl.Tearline}) {
		t.Fatalf("recall of a tearlined object names the tearline: %+v", r2)
	}
	nodetest.Eventually(t, "both acknowledged", func() bool {
		return recallState(t, gbr, store.RecallQuery{ID: r1[0].Recall})["fra"].State == store.RecallAcknowledged &&
			recallState(t, gbr, store.RecallQuery{ObjectID: cut})["fra"].State == store.RecallAcknowledged
	})
	st := recallState(t, gbr, store.RecallQuery{ObjectID: whole})["fra"]
	if st.AckedAt == nil || len(st.NotHeld) != 0 {
		t.Fatalf("status: %+v", st)
	}
	if _, err := recall.VerifyAck(nodetest.Keyring(t, gbr.N), st.Ack); err != nil {
		t.Fatalf("stored ack does not verify: %v", err)
	}

	// fra purged the object and the tearline, for good.
	if nodetest.Held(fra.N, whole) || nodetest.Held(fra.N, tl.Tearline) || nodetest.Held(fra.N, onward) {
		t.Fatal("fra still holds recalled objects")
	}
	if !slices.Equal(st.Purged, []string{whole, onward}) {
		t.Fatalf("purged: %v, want the object and fra's own tearline of it", st.Purged)
	}
	lr, err := gbr.N.Recalls.LedgerRecalls(ctx, gbr.Admin, []store.LedgerEntry{{ObjectID: whole, Party: "fra"}})
	if err != nil || lr[recalls.LedgerRecallKey(whole, 0, "fra")].State != store.RecallAcknowledged {
		t.Fatalf("ledger recalls: %+v, %v", lr, err)
	}
	ts, err := fra.N.Store().Tombstones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{whole, tl.Tearline} {
		if !slices.ContainsFunc(ts, func(x store.Tombstone) bool { return x.ID == id && x.Reason == node.PurgeRecall }) {
			t.Errorf("no recall tombstone for %s: %+v", id, ts)
		}
	}
	if ids := taxiiIDs(t, fra); hasKey(ids, whole) || hasKey(ids, tl.Tearline) {
		t.Fatalf("recalled objects still in fra's TAXII collection: %v", ids)
	}
	// gbr keeps its own copy: a recall is not a purge at the origin.
	if !nodetest.Held(gbr.N, whole) {
		t.Fatal("the originator lost its object")
	}
	// fra's side: the recall it received, acknowledged.
	if in := recallState(t, fra, store.RecallQuery{ID: r1[0].Recall})["gbr"]; !in.Inbound || in.State != store.RecallAcknowledged {
		t.Fatalf("fra's record of the recall: %+v", in)
	}

	// A repeated notice is acknowledged again, and the repeated
	// acknowledgement changes nothing at gbr.
	rows, err := gbr.N.Store().Recalls(ctx, store.RecallQuery{ID: r1[0].Recall})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows: %v %v", rows, err)
	}
	if err := fra.N.Recalls.ReceiveRecall(ctx, fra.Peer(t, "gbr"), rows[0].Notice); err != nil {
		t.Fatalf("repeated notice: %v", err)
	}
	acked := *st.AckedAt
	time.Sleep(100 * time.Millisecond)
	if again := recallState(t, gbr, store.RecallQuery{ID: r1[0].Recall})["fra"]; !again.AckedAt.Equal(acked) {
		t.Fatalf("repeated ack changed the record: %+v", again)
	}
	// A release after the recall is refused by fra: the object is purged.
	if res := nodetest.MustRelease(t, gbr.N, gbr.Admin, whole, "fra"); res.Outcome != "release" {
		t.Fatalf("release again: %+v", res)
	}
	time.Sleep(300 * time.Millisecond)
	if nodetest.Held(fra.N, whole) {
		t.Fatal("a purged object came back")
	}

	evs := nodetest.AuditLog(t, gbr.N.Store())
	for _, a := range []string{audit.ActionRecallIssue, audit.ActionRecallAck, audit.ActionRecallRead} {
		if len(nodetest.FindEvents(evs, func(e audit.Event) bool { return e.Action == a })) == 0 {
			t.Errorf("gbr: no %s audit entry", a)
		}
	}
	fevs := nodetest.AuditLog(t, fra.N.Store())
	if len(nodetest.FindEvents(fevs, func(e audit.Event) bool {
		return e.Action == audit.ActionObjectPurge && e.Object == whole && slices.Contains(e.Reasons, node.PurgeRecall)
	})) != 1 {
		t.Error("fra: no object.purge entry with reason recall")
	}
	if len(nodetest.FindEvents(fevs, func(e audit.Event) bool { return e.Action == audit.ActionRecallReceive })) < 3 {
		t.Error("fra: want recall.receive entries for two recalls and the repeat")
	}
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

// TestRecallPartnerDown: a recall to a partner that is down waits in the
// outbox and is delivered, purged and acknowledged when it returns.
func TestRecallPartnerDown(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
	nodetest.Eventually(t, "fra holds it", func() bool { return nodetest.Held(fra.N, id) })

	fra.Stop()
	rs, err := gbr.N.Recalls.Recall(ctx, gbr.Admin, id, "wrong attribution")
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, "a failed delivery attempt", func() bool {
		items, err := gbr.N.Store().OutboxItems(ctx, "fra", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(items, func(it store.OutboxItem) bool {
			return it.Kind == store.OutboxRecall && it.Attempts > 0 && it.Delivered.IsZero()
		})
	})
	if s := recallState(t, gbr, store.RecallQuery{ID: rs[0].Recall})["fra"]; s.State != store.RecallPending {
		t.Fatalf("acknowledged while fra is down: %+v", s)
	}
	if !nodetest.Held(fra.N, id) {
		t.Fatal("purged while down?")
	}
	fra.Start(t)
	nodetest.Eventually(t, "acknowledged after fra returns", func() bool {
		return recallState(t, gbr, store.RecallQuery{ID: rs[0].Recall})["fra"].State == store.RecallAcknowledged
	})
	if nodetest.Held(fra.N, id) {
		t.Fatal("fra still holds the recalled object")
	}
}

// TestRecallRefused: fra refuses a forged notice, a notice from a node that
// is not the object's originator, one sent by another peer than its
// signer, and one addressed to another node; nothing is purged.
func TestRecallRefused(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
	// fra's own object, which gbr also received.
	own := fra.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	nodetest.MustRelease(t, fra.N, fra.Admin, own, "gbr")
	nodetest.Eventually(t, "deliveries", func() bool { return nodetest.Held(fra.N, id) && nodetest.Held(gbr.N, own) })

	// gbr may not recall fra's object: it is not the originator.
	if _, err := gbr.N.Recalls.Recall(ctx, gbr.Admin, own, "mine now"); !errors.Is(err, node.ErrForbidden) {
		t.Fatalf("recall of a partner's object: %v, want ErrForbidden", err)
	}

	notice := func(s *binding.Signer, to string, objects ...string) []byte {
		raw, err := recall.SignNotice(s, &recall.Notice{ID: recall.NewID(), ObjectRef: objects[0], Objects: objects, To: to, Reason: "r"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	forger := binding.NewSigner("gbr", gbr.N.Config().Identity, nodetest.PartnerKey("forger"))
	good := notice(nodetest.Signer(t, gbr.N), "fra", id)
	tampered := []byte(strings.Replace(string(good), `"reason":"r"`, `"reason":"s"`, 1))
	fromGBR := fra.Peer(t, "gbr")
	other := &node.Peer{Name: "usa"}
	cases := []struct {
		name string
		peer *node.Peer
		raw  []byte
	}{
		{"forged signature", fromGBR, notice(forger, "fra", id)},
		{"tampered", fromGBR, tampered},
		{"not the originator", fromGBR, notice(nodetest.Signer(t, gbr.N), "fra", own)},
		{"originator's object and another's", fromGBR, notice(nodetest.Signer(t, gbr.N), "fra", id, own)},
		{"sent by another peer", other, good},
		{"addressed to another node", fromGBR, notice(nodetest.Signer(t, gbr.N), "usa", id)},
		{"not a notice", fromGBR, []byte(`{"type":"tearline-recall"}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fra.N.Recalls.ReceiveRecall(ctx, c.peer, c.raw)
			if !errors.Is(err, node.ErrRefused) {
				t.Fatalf("err = %v, want ErrRefused", err)
			}
			if !nodetest.Held(fra.N, id) || !nodetest.Held(fra.N, own) {
				t.Fatal("a refused notice purged something")
			}
		})
	}
	if n := len(nodetest.FindEvents(nodetest.AuditLog(t, fra.N.Store()), func(e audit.Event) bool { return e.Action == audit.ActionRecallRefuse })); n != len(cases) {
		t.Errorf("%d recall.refuse entries, want %d", n, len(cases))
	}
	// An acknowledgement of a recall that never went to fra is refused.
	ack, err := recall.SignAck(nodetest.Signer(t, fra.N), &recall.Ack{RecallRef: recall.NewID(), ObjectRef: id}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := gbr.N.Recalls.ReceiveRecallAck(ctx, gbr.Peer(t, "fra"), ack); !errors.Is(err, node.ErrRefused) {
		t.Fatalf("ack of an unknown recall: %v", err)
	}
}

// TestRecallProbeAnsweredAsNotHeld is written from a partner's side: gbr
// signs a recall notice naming, beside its own object, an object fra holds
// that never went to gbr and an id fra never held. The acknowledgement
// lists both alike as not held, and fra keeps what it holds: a notice
// cannot probe what a node holds from others, nor purge it.
func TestRecallProbeAnsweredAsNotHeld(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
	nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
	nodetest.Eventually(t, "fra holds it", func() bool { return nodetest.Held(fra.N, id) })
	private := fra.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO SECRET // DISC HUMINT // TOPIC CYBER") // outside the terms: never released to gbr
	for i := range 2 {
		missing := nodetest.NewID("threat-actor") // each time new: a recalled id not held is tombstoned
		order := []string{id, private, missing}
		if i == 1 {
			order = []string{id, missing, private}
		}
		rid := recall.NewID()
		raw, err := recall.SignNotice(nodetest.Signer(t, gbr.N), &recall.Notice{ID: rid, ObjectRef: id, Objects: order, To: "fra", Reason: "r"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := fra.N.Recalls.ReceiveRecall(ctx, fra.Peer(t, "gbr"), raw); err != nil {
			t.Fatalf("notice naming %v: %v", order, err)
		}
		rows, err := fra.N.Store().Recalls(ctx, store.RecallQuery{ID: rid})
		if err != nil || len(rows) != 1 {
			t.Fatalf("recall rows: %+v %v", rows, err)
		}
		var ack recall.Ack
		if err := json.Unmarshal(rows[0].Ack, &ack); err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(slices.Clone(order), func(s string) bool { return s == id })
		if !slices.Equal(ack.NotHeld, want) || slices.Contains(ack.Purged, private) {
			t.Fatalf("ack: purged %v, not held %v; want not held %v, in the notice's order", ack.Purged, ack.NotHeld, want)
		}
		if !nodetest.Held(fra.N, private) {
			t.Fatal("a partner's notice purged an object that never went to it")
		}
	}
	// Not tombstoned either: the object keeps its versions and takes new ones.
	ts, err := fra.N.Store().Tombstones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(ts, func(tb store.Tombstone) bool { return tb.ID == private }) {
		t.Fatal("the object held from another originator was tombstoned")
	}
}

// TestSightingProbeAnsweredAlike is written from a partner's side: fra
// sends gbr sightings of a gbr object that never went to fra and of an id
// gbr never held, and reports each as sighted. gbr refuses both with the
// same answer (the ids aside), so a partner cannot learn what gbr holds;
// gbr's audit log keeps the reasons apart.
func TestSightingProbeAnsweredAlike(t *testing.T) {
	ctx := context.Background()
	gbr, fra := nodetest.NewFedPair(t, "analysis")
	hidden := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), "NATO SECRET // DISC HUMINT // TOPIC CYBER") // outside the terms: never sent
	missing := nodetest.NewID("threat-actor")
	errs := map[string]string{}
	for _, target := range []string{hidden, missing} {
		sid := fra.IngestAs(t, map[string]any{"type": "sighting", "spec_version": "2.1", "id": nodetest.NewID("sighting"), "created": nodetest.T0,
			"modified": nodetest.T0, "sighting_of_ref": target}, nodetest.OKBanner)
		if res := nodetest.MustRelease(t, fra.N, fra.Admin, sid, "gbr"); res.Outcome != "release" {
			t.Fatalf("release of the sighting to gbr: %+v", res)
		}
		nodetest.Eventually(t, "gbr holds the sighting", func() bool { return nodetest.Held(gbr.N, sid) })
		raw, _ := json.Marshal(release.SightingNote{Sighting: sid, Modified: nodetest.T0, SightingOf: target})
		_, err := gbr.N.Inbox.HandleInbox(ctx, gbr.Peer(t, "fra"), store.OutboxSighting, raw)
		if !errors.Is(err, node.ErrRefused) {
			t.Fatalf("sighting of %s: %v, want ErrRefused", target, err)
		}
		errs[target] = strings.NewReplacer(target, "TARGET", sid, "SIGHTING").Replace(err.Error())
	}
	if errs[hidden] != errs[missing] {
		t.Fatalf("a sighting of a hidden object is answered %q, of a missing one %q", errs[hidden], errs[missing])
	}
	reasons := map[string]bool{}
	for _, e := range nodetest.FindEvents(nodetest.AuditLog(t, gbr.N.Store()), func(e audit.Event) bool {
		return e.Action == audit.ActionSightingRecv && e.Decision == audit.Refuse
	}) {
		reasons[strings.NewReplacer(hidden, "TARGET", missing, "TARGET").Replace(e.Detail)] = true
	}
	if len(reasons) != 2 {
		t.Fatalf("audited refusals: %v, want the two reasons apart", reasons)
	}
}

// TestRecallRevokedTAXII: an originator's STIX revocation is served to
// TAXII clients as the object's latest version, revoked.
func TestRecallRevokedTAXII(t *testing.T) {
	gbr, _ := nodetest.NewFedPair(t, "analysis")
	id := nodetest.NewID("threat-actor")
	obj := nodetest.Actor(id, nil)
	gbr.IngestAs(t, obj, nodetest.OKBanner)
	rev := nodetest.Actor(id, map[string]any{"modified": "2026-02-01T00:00:00.000Z", "revoked": true})
	gbr.IngestAs(t, rev, nodetest.OKBanner)
	ids := taxiiIDs(t, gbr)
	if revoked, ok := ids[id]; !ok || !revoked {
		t.Fatalf("TAXII: %s present=%v revoked=%v, want the revoked version", id, ok, revoked)
	}
}

// TestSightingsBack: fra's sighting of an object gbr sent it goes back to
// gbr when the agreement has the purpose "sighting", and not otherwise.
func TestSightingsBack(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		name := "allowed"
		purposes := []string{"analysis", release.PurposeSighting}
		if !allowed {
			name, purposes = "not allowed", []string{"analysis"}
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			gbr, fra := nodetest.NewFedPair(t, purposes...)
			id := gbr.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
			nodetest.MustRelease(t, gbr.N, gbr.Admin, id, "fra")
			nodetest.Eventually(t, "fra holds it", func() bool { return nodetest.Held(fra.N, id) })

			sid := nodetest.NewID("sighting")
			fra.IngestAs(t, map[string]any{"type": "sighting", "spec_version": "2.1", "id": sid, "created": nodetest.T0, "modified": nodetest.T0,
				"sighting_of_ref": id, "count": 3}, nodetest.OKBanner)
			// A sighting of fra's own object stays home.
			own := fra.IngestAs(t, nodetest.Actor(nodetest.NewID("threat-actor"), nil), nodetest.OKBanner)
			local := nodetest.NewID("sighting")
			fra.IngestAs(t, map[string]any{"type": "sighting", "spec_version": "2.1", "id": local, "created": nodetest.T0, "modified": nodetest.T0,
				"sighting_of_ref": own}, nodetest.OKBanner)

			if allowed {
				nodetest.Eventually(t, "gbr holds the sighting", func() bool { return nodetest.Held(gbr.N, sid) })
				prov, err := gbr.N.Store().Provenance(ctx, sid)
				if err != nil || prov.Originator != "fra" {
					t.Fatalf("provenance at gbr: %+v, %v", prov, err)
				}
				nodetest.Eventually(t, "sighting.received", func() bool {
					return len(nodetest.FindEvents(nodetest.AuditLog(t, gbr.N.Store()), func(e audit.Event) bool {
						return e.Action == audit.ActionSightingRecv && e.Object == sid && e.Decision == audit.Accept
					})) == 1
				})
				// The originator refuses a sighting message that does not hold up.
				for name, note := range map[string]release.SightingNote{
					"unknown sighting": {Sighting: nodetest.NewID("sighting"), Modified: nodetest.T0, SightingOf: id},
					"wrong target":     {Sighting: sid, Modified: nodetest.T0, SightingOf: nodetest.NewID("threat-actor")},
					"not a sighting":   {Sighting: id, Modified: nodetest.T0, SightingOf: id},
				} {
					raw, _ := json.Marshal(note)
					if _, err := gbr.N.Inbox.HandleInbox(ctx, gbr.Peer(t, "fra"), store.OutboxSighting, raw); !errors.Is(err, node.ErrRefused) {
						t.Errorf("%s: %v, want ErrRefused", name, err)
					}
				}
				led, err := fra.N.Store().Ledger(ctx, store.LedgerQuery{ObjectID: sid})
				if err != nil || len(led) != 1 || led[0].Party != "gbr" || led[0].Outcome != store.LedgerRelease {
					t.Fatalf("fra's ledger for the sighting: %+v, %v", led, err)
				}
			} else {
				time.Sleep(300 * time.Millisecond)
				if nodetest.Held(gbr.N, sid) {
					t.Fatal("a sighting went back without the agreement allowing it")
				}
				denied := nodetest.FindEvents(nodetest.AuditLog(t, fra.N.Store()), func(e audit.Event) bool {
					return e.Action == audit.ActionSightingSend && e.Object == sid && e.Decision == audit.Deny
				})
				if len(denied) != 1 || !slices.Contains(denied[0].Reasons, "purpose") {
					t.Fatalf("sighting.send deny: %+v", denied)
				}
			}
			if nodetest.Held(gbr.N, local) {
				t.Fatal("a sighting of fra's own object went to gbr")
			}
			items, err := fra.N.Store().OutboxItems(ctx, "gbr", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			sent := slices.ContainsFunc(items, func(it store.OutboxItem) bool { return it.Kind == store.OutboxSighting })
			if sent != allowed {
				t.Fatalf("sighting message queued = %v, want %v", sent, allowed)
			}
		})
	}
}

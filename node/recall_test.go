package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/recall"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
	"github.com/tearline/tearline/trust"
)

// fedNode is a real node serving its inbox over mutual TLS on a loopback
// listener, with its outbox delivery loop running.
type fedNode struct {
	n     *Node
	dir   string
	addr  string
	admin *Principal

	mu  sync.Mutex
	srv *http.Server
}

// newFedPair makes nodes gbr and fra, peers of each other (pinned
// self-signed certificates, each other's signing key), with an active
// agreement gbr-fra signed by both under terms that allow purposes both
// ways, and serves and delivers for both until the test ends.
func newFedPair(t *testing.T, purposes ...string) (*fedNode, *fedNode) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	nodes := []*fedNode{{dir: filepath.Join(root, "gbr")}, {dir: filepath.Join(root, "fra")}}
	names, countries := []string{"gbr", "fra"}, []string{"GBR", "FRA"}
	for i, f := range nodes {
		if err := Init(ctx, f.dir, InitOptions{Name: names[i], Country: countries[i], CreateStore: backend.Creator("")}); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f.addr = ln.Addr().String()
		ln.Close()
	}
	for i, f := range nodes {
		other := nodes[1-i]
		id, err := ReadIdentity(other.dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trust.AddPeer(f.dir, trust.PeerSpec{Name: id.Name, Country: id.Country, CertPEM: []byte(id.CertPEM), SigningKey: id.SigningKey,
			URL: "https://" + other.addr}, time.Now().Add(-time.Hour)); err != nil {
			t.Fatalf("peer add: %v", err)
		}
	}
	for i, f := range nodes {
		n, err := Open(ctx, f.dir, Options{OpenStore: backend.Opener("")})
		if err != nil {
			t.Fatal(err)
		}
		f.n = n
		t.Cleanup(func() { n.Close() })
		spec := adminSpec()
		spec.Nationality = countries[i]
		f.admin, _ = addUser(t, n, spec)
	}

	terms := relTerms([]string{"gbr", "fra"}, []string{"gbr", "fra"})
	terms.Purposes = purposes
	d := &agreement.Document{ID: "gbr-fra", Title: "test gbr-fra", Version: 1, Effective: "2026-01-01T00:00:00Z", Expires: "2036-01-01T00:00:00Z",
		Equivalence: relTable("GBR", "FRA"), Terms: []agreement.Terms{terms}}
	for i, f := range nodes {
		d.Parties = append(d.Parties, agreement.Party{Name: names[i], PublicKey: binding.MarshalPublicKey(testSigner(t, f.n).PublicKey()),
			Country: countries[i], Organisation: names[i] + " agency"})
	}
	for i, f := range nodes {
		other := nodes[1-i]
		if _, err := f.n.ImportAgreement(ctx, f.admin, docJSON(t, d)); err != nil {
			t.Fatalf("import: %v", err)
		}
		if _, err := f.n.SignAgreement(ctx, f.admin, d.ID, 1); err != nil {
			t.Fatalf("sign: %v", err)
		}
		key, err := datadir.ReadSigningKey(other.dir)
		if err != nil {
			t.Fatal(err)
		}
		signed := *d
		signed.Signatures = nil
		s, err := signed.Sign(other.n.cfg.Name, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := signed.AddSignature(s); err != nil {
			t.Fatal(err)
		}
		if _, err := f.n.AddAgreementSignatures(ctx, f.admin, d.ID, 1, docJSON(t, &signed)); err != nil {
			t.Fatalf("add signatures: %v", err)
		}
		for _, st := range []agreement.State{agreement.StateProposed, agreement.StateActive} {
			if _, err := f.n.TransitionAgreement(ctx, f.admin, d.ID, 1, st, ""); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
	}
	for _, f := range nodes {
		f.start(t)
		octx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			f.n.RunOutbox(octx, OutboxOptions{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: 5 * time.Second})
		}()
		t.Cleanup(func() { cancel(); <-done; f.stop() })
	}
	return nodes[0], nodes[1]
}

// start serves POST /federation/v1/inbox over mutual TLS, as the API does:
// the peer is the one the client certificate names.
func (f *fedNode) start(t *testing.T) {
	t.Helper()
	cert, err := trust.LoadTLSCertificate(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := trust.NewStore(f.dir)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+federation.InboxPath, func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		peer, err := ts.Identify(r.TLS.PeerCertificates)
		if err != nil || peer == nil {
			http.Error(w, "not a peer", http.StatusForbidden)
			return
		}
		var req federation.InboxRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, federation.MaxInboxBody)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(federation.InboxResponse{Results: f.n.HandleInboxBatch(r.Context(), peer, req.Messages)})
	})
	var ln net.Listener
	for range 50 { // the port may linger briefly after a stop
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(tls.NewListener(ln, ts.ServerConfig(cert)))
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
}

// stop takes the node's listener down: the partner's deliveries fail.
func (f *fedNode) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// peer returns f's record of its peer name.
func (f *fedNode) peer(t *testing.T, name string) *Peer {
	t.Helper()
	ps, err := trust.LoadPeers(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	t.Fatalf("no peer %s", name)
	return nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func held(n *Node, id string) bool {
	vs, err := n.st.Versions(context.Background(), id)
	return err == nil && len(vs) > 0
}

// ingestAs ingests obj at f labelled banner and returns its id.
func (f *fedNode) ingestAs(t *testing.T, obj map[string]any, banner string) string {
	t.Helper()
	l := mustLabel(t, f.n, banner)
	obj["object_marking_refs"] = []any{l.ID()}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	mustLand(t, f.n, f.admin, bundle(f.n.reg.MarkingDefinition(l), raw), "")
	return obj["id"].(string)
}

func recallState(t *testing.T, f *fedNode, q store.RecallQuery) map[string]RecallStatus {
	t.Helper()
	rs, err := f.n.RecallStatus(context.Background(), f.admin, q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]RecallStatus{}
	for _, r := range rs {
		out[r.Party] = r
	}
	return out
}

// taxiiIDs lists the ids (and revoked flags) in f's holdings collection
// through the TAXII API, as a stock client reads it.
func taxiiIDs(t *testing.T, f *fedNode) map[string]bool {
	t.Helper()
	_, tok, err := f.n.AddUser(context.Background(), ConsoleAdmin(), UserSpec{Name: "taxii-" + strings.ReplaceAll(newID("u")[3:11], "-", ""), Role: RoleAnalyst,
		Nationality: f.admin.User.Nationality, Clearances: f.admin.User.Clearances, Compartments: f.admin.User.Compartments})
	if err != nil {
		t.Fatal(err)
	}
	h := taxii.New(f.n.TAXII(), taxii.Options{Title: "test"})
	req := httptest.NewRequest(http.MethodGet, taxii.Prefix+taxii.DefaultRoot+"/collections/"+f.n.HoldingsID()+"/objects/", nil)
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
	gbr, fra := newFedPair(t, "analysis")

	whole := gbr.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
	f := &relFixture{n: gbr.n, admin: gbr.admin}
	rep := map[string]any{"type": "report", "spec_version": "2.1", "id": newID("report"), "created": t0, "modified": t0,
		"name": "Operation Heron", "published": t0, "description": "source HERON-7 reports the implant", "object_refs": []any{whole}}
	cut := f.ingestLabelled(t, rep, okBanner, map[string]string{"description": "COSMIC TOP SECRET // DISC SIGINT // TOPIC CYBER"})

	if res := mustRelease(t, gbr.n, gbr.admin, whole, "fra"); res.Outcome != "release" {
		t.Fatalf("release: %+v", res)
	}
	tl := mustRelease(t, gbr.n, gbr.admin, cut, "fra")
	if tl.Outcome != "tearline" {
		t.Fatalf("tearline: %+v", tl)
	}
	eventually(t, "fra holds both", func() bool { return held(fra.n, whole) && held(fra.n, tl.Tearline) })
	if ids := taxiiIDs(t, fra); !hasKey(ids, whole) || !hasKey(ids, tl.Tearline) {
		t.Fatalf("fra's TAXII collection before the recall: %v", ids)
	}

	// fra made a tearline of what it received for a third party: it goes
	// with the recall too. (The ledger row stands for fra's own release.)
	onward := fra.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
	if err := fra.n.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AppendLedger(ctx, store.LedgerEntry{ObjectID: whole, Party: "usa", Agreement: "fra-usa", AgreementVersion: 1,
			Outcome: store.LedgerTearline, TearlineID: onward, State: store.LedgerReady, By: "test", At: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Only the originator recalls, and only what went somewhere.
	if _, err := fra.n.Recall(ctx, fra.admin, whole, "not ours"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("recall by a recipient: %v, want ErrForbidden", err)
	}
	// Out of every agreement's scope, so automatic release sends it nowhere.
	unsent := gbr.ingestAs(t, actor(newID("threat-actor"), nil), "NATO SECRET // DISC SIGINT // TOPIC ORGANISED-CRIME")
	if _, err := gbr.n.Recall(ctx, gbr.admin, unsent, "x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("recall of an object never released: %v, want ErrInvalid", err)
	}
	if _, err := gbr.n.Recall(ctx, gbr.admin, whole, " "); !errors.Is(err, ErrInvalid) {
		t.Fatalf("recall without a reason: %v, want ErrInvalid", err)
	}

	r1, err := gbr.n.Recall(ctx, gbr.admin, whole, "source compromised")
	if err != nil {
		t.Fatal(err)
	}
	if len(r1) != 1 || r1[0].Party != "fra" || r1[0].State != store.RecallPending || !slices.Equal(r1[0].Objects, []string{whole}) {
		t.Fatalf("recall: %+v", r1)
	}
	r2, err := gbr.n.Recall(ctx, gbr.admin, cut, "source compromised")
	if err != nil {
		t.Fatal(err)
	}
	if len(r2) != 1 || !slices.Equal(r2[0].Objects, []string{tl.Tearline}) {
		t.Fatalf("recall of a tearlined object names the tearline: %+v", r2)
	}
	eventually(t, "both acknowledged", func() bool {
		return recallState(t, gbr, store.RecallQuery{ID: r1[0].Recall})["fra"].State == store.RecallAcknowledged &&
			recallState(t, gbr, store.RecallQuery{ObjectID: cut})["fra"].State == store.RecallAcknowledged
	})
	st := recallState(t, gbr, store.RecallQuery{ObjectID: whole})["fra"]
	if st.AckedAt == nil || len(st.NotHeld) != 0 {
		t.Fatalf("status: %+v", st)
	}
	if _, err := recall.VerifyAck(testKeyring(t, gbr.n), st.Ack); err != nil {
		t.Fatalf("stored ack does not verify: %v", err)
	}

	// fra purged the object and the tearline, for good.
	if held(fra.n, whole) || held(fra.n, tl.Tearline) || held(fra.n, onward) {
		t.Fatal("fra still holds recalled objects")
	}
	if !slices.Equal(st.Purged, []string{whole, onward}) {
		t.Fatalf("purged: %v, want the object and fra's own tearline of it", st.Purged)
	}
	lr, err := gbr.n.LedgerRecalls(ctx, gbr.admin, []store.LedgerEntry{{ObjectID: whole, Party: "fra"}})
	if err != nil || lr[LedgerRecallKey(whole, "fra")].State != store.RecallAcknowledged {
		t.Fatalf("ledger recalls: %+v, %v", lr, err)
	}
	ts, err := fra.n.st.Tombstones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{whole, tl.Tearline} {
		if !slices.ContainsFunc(ts, func(x store.Tombstone) bool { return x.ID == id && x.Reason == PurgeRecall }) {
			t.Errorf("no recall tombstone for %s: %+v", id, ts)
		}
	}
	if ids := taxiiIDs(t, fra); hasKey(ids, whole) || hasKey(ids, tl.Tearline) {
		t.Fatalf("recalled objects still in fra's TAXII collection: %v", ids)
	}
	// gbr keeps its own copy: a recall is not a purge at the origin.
	if !held(gbr.n, whole) {
		t.Fatal("the originator lost its object")
	}
	// fra's side: the recall it received, acknowledged.
	if in := recallState(t, fra, store.RecallQuery{ID: r1[0].Recall})["gbr"]; !in.Inbound || in.State != store.RecallAcknowledged {
		t.Fatalf("fra's record of the recall: %+v", in)
	}

	// A repeated notice is acknowledged again, and the repeated
	// acknowledgement changes nothing at gbr.
	rows, err := gbr.n.st.Recalls(ctx, store.RecallQuery{ID: r1[0].Recall})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows: %v %v", rows, err)
	}
	if err := fra.n.receiveRecall(ctx, fra.peer(t, "gbr"), rows[0].Notice); err != nil {
		t.Fatalf("repeated notice: %v", err)
	}
	acked := *st.AckedAt
	time.Sleep(100 * time.Millisecond)
	if again := recallState(t, gbr, store.RecallQuery{ID: r1[0].Recall})["fra"]; !again.AckedAt.Equal(acked) {
		t.Fatalf("repeated ack changed the record: %+v", again)
	}
	// A release after the recall is refused by fra: the object is purged.
	if res := mustRelease(t, gbr.n, gbr.admin, whole, "fra"); res.Outcome != "release" {
		t.Fatalf("release again: %+v", res)
	}
	time.Sleep(300 * time.Millisecond)
	if held(fra.n, whole) {
		t.Fatal("a purged object came back")
	}

	evs := auditLog(t, gbr.n.st)
	for _, a := range []string{audit.ActionRecallIssue, audit.ActionRecallAck, audit.ActionRecallRead} {
		if len(findEvents(evs, func(e audit.Event) bool { return e.Action == a })) == 0 {
			t.Errorf("gbr: no %s audit entry", a)
		}
	}
	fevs := auditLog(t, fra.n.st)
	if len(findEvents(fevs, func(e audit.Event) bool {
		return e.Action == audit.ActionObjectPurge && e.Object == whole && slices.Contains(e.Reasons, PurgeRecall)
	})) != 1 {
		t.Error("fra: no object.purge entry with reason recall")
	}
	if len(findEvents(fevs, func(e audit.Event) bool { return e.Action == audit.ActionRecallReceive })) < 3 {
		t.Error("fra: want recall.receive entries for two recalls and the repeat")
	}
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

// TestRecallPartnerDown: a recall to a partner that is down waits in the
// outbox and is delivered, purged and acknowledged when it returns.
func TestRecallPartnerDown(t *testing.T) {
	ctx := context.Background()
	gbr, fra := newFedPair(t, "analysis")
	id := gbr.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
	mustRelease(t, gbr.n, gbr.admin, id, "fra")
	eventually(t, "fra holds it", func() bool { return held(fra.n, id) })

	fra.stop()
	rs, err := gbr.n.Recall(ctx, gbr.admin, id, "wrong attribution")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "a failed delivery attempt", func() bool {
		items, err := gbr.n.st.OutboxItems(ctx, "fra", 0, 100)
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
	if !held(fra.n, id) {
		t.Fatal("purged while down?")
	}
	fra.start(t)
	eventually(t, "acknowledged after fra returns", func() bool {
		return recallState(t, gbr, store.RecallQuery{ID: rs[0].Recall})["fra"].State == store.RecallAcknowledged
	})
	if held(fra.n, id) {
		t.Fatal("fra still holds the recalled object")
	}
}

// TestRecallRefused: fra refuses a forged notice, a notice from a node that
// is not the object's originator, one sent by another peer than its
// signer, and one addressed to another node; nothing is purged.
func TestRecallRefused(t *testing.T) {
	ctx := context.Background()
	gbr, fra := newFedPair(t, "analysis")
	id := gbr.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
	mustRelease(t, gbr.n, gbr.admin, id, "fra")
	// fra's own object, which gbr also received.
	own := fra.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
	mustRelease(t, fra.n, fra.admin, own, "gbr")
	eventually(t, "deliveries", func() bool { return held(fra.n, id) && held(gbr.n, own) })

	// gbr may not recall fra's object: it is not the originator.
	if _, err := gbr.n.Recall(ctx, gbr.admin, own, "mine now"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("recall of a partner's object: %v, want ErrForbidden", err)
	}

	notice := func(s *binding.Signer, to string, objects ...string) []byte {
		raw, err := recall.SignNotice(s, &recall.Notice{ID: recall.NewID(), ObjectRef: objects[0], Objects: objects, To: to, Reason: "r"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	forger := binding.NewSigner("gbr", gbr.n.cfg.Identity, partnerKey("forger"))
	good := notice(testSigner(t, gbr.n), "fra", id)
	tampered := []byte(strings.Replace(string(good), `"reason":"r"`, `"reason":"s"`, 1))
	fromGBR := fra.peer(t, "gbr")
	other := &Peer{Name: "usa"}
	cases := []struct {
		name string
		peer *Peer
		raw  []byte
	}{
		{"forged signature", fromGBR, notice(forger, "fra", id)},
		{"tampered", fromGBR, tampered},
		{"not the originator", fromGBR, notice(testSigner(t, gbr.n), "fra", own)},
		{"originator's object and another's", fromGBR, notice(testSigner(t, gbr.n), "fra", id, own)},
		{"sent by another peer", other, good},
		{"addressed to another node", fromGBR, notice(testSigner(t, gbr.n), "usa", id)},
		{"not a notice", fromGBR, []byte(`{"type":"tearline-recall"}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fra.n.receiveRecall(ctx, c.peer, c.raw)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want ErrRefused", err)
			}
			if !held(fra.n, id) || !held(fra.n, own) {
				t.Fatal("a refused notice purged something")
			}
		})
	}
	if n := len(findEvents(auditLog(t, fra.n.st), func(e audit.Event) bool { return e.Action == audit.ActionRecallRefuse })); n != len(cases) {
		t.Errorf("%d recall.refuse entries, want %d", n, len(cases))
	}
	// An acknowledgement of a recall that never went to fra is refused.
	ack, err := recall.SignAck(testSigner(t, fra.n), &recall.Ack{RecallRef: recall.NewID(), ObjectRef: id}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := gbr.n.receiveRecallAck(ctx, gbr.peer(t, "fra"), ack); !errors.Is(err, ErrRefused) {
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
	gbr, fra := newFedPair(t, "analysis")
	id := gbr.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
	mustRelease(t, gbr.n, gbr.admin, id, "fra")
	eventually(t, "fra holds it", func() bool { return held(fra.n, id) })
	private := fra.ingestAs(t, actor(newID("threat-actor"), nil), "NATO SECRET // DISC HUMINT // TOPIC CYBER") // outside the terms: never released to gbr
	for i := range 2 {
		missing := newID("threat-actor") // each time new: a recalled id not held is tombstoned
		order := []string{id, private, missing}
		if i == 1 {
			order = []string{id, missing, private}
		}
		rid := recall.NewID()
		raw, err := recall.SignNotice(testSigner(t, gbr.n), &recall.Notice{ID: rid, ObjectRef: id, Objects: order, To: "fra", Reason: "r"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := fra.n.receiveRecall(ctx, fra.peer(t, "gbr"), raw); err != nil {
			t.Fatalf("notice naming %v: %v", order, err)
		}
		rows, err := fra.n.st.Recalls(ctx, store.RecallQuery{ID: rid})
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
		if !held(fra.n, private) {
			t.Fatal("a partner's notice purged an object that never went to it")
		}
	}
	// Not tombstoned either: the object keeps its versions and takes new ones.
	ts, err := fra.n.st.Tombstones(ctx)
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
	gbr, fra := newFedPair(t, "analysis")
	hidden := gbr.ingestAs(t, actor(newID("threat-actor"), nil), "NATO SECRET // DISC HUMINT // TOPIC CYBER") // outside the terms: never sent
	missing := newID("threat-actor")
	errs := map[string]string{}
	for _, target := range []string{hidden, missing} {
		sid := fra.ingestAs(t, map[string]any{"type": "sighting", "spec_version": "2.1", "id": newID("sighting"), "created": t0, "modified": t0,
			"sighting_of_ref": target}, okBanner)
		if res := mustRelease(t, fra.n, fra.admin, sid, "gbr"); res.Outcome != "release" {
			t.Fatalf("release of the sighting to gbr: %+v", res)
		}
		eventually(t, "gbr holds the sighting", func() bool { return held(gbr.n, sid) })
		raw, _ := json.Marshal(sightingNote{Sighting: sid, Modified: t0, SightingOf: target})
		err := gbr.n.receiveSighting(ctx, gbr.peer(t, "fra"), raw)
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("sighting of %s: %v, want ErrRefused", target, err)
		}
		errs[target] = strings.NewReplacer(target, "TARGET", sid, "SIGHTING").Replace(err.Error())
	}
	if errs[hidden] != errs[missing] {
		t.Fatalf("a sighting of a hidden object is answered %q, of a missing one %q", errs[hidden], errs[missing])
	}
	reasons := map[string]bool{}
	for _, e := range findEvents(auditLog(t, gbr.n.st), func(e audit.Event) bool {
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
	gbr, _ := newFedPair(t, "analysis")
	id := newID("threat-actor")
	obj := actor(id, nil)
	gbr.ingestAs(t, obj, okBanner)
	rev := actor(id, map[string]any{"modified": "2026-02-01T00:00:00.000Z", "revoked": true})
	gbr.ingestAs(t, rev, okBanner)
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
		purposes := []string{"analysis", PurposeSighting}
		if !allowed {
			name, purposes = "not allowed", []string{"analysis"}
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			gbr, fra := newFedPair(t, purposes...)
			id := gbr.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
			mustRelease(t, gbr.n, gbr.admin, id, "fra")
			eventually(t, "fra holds it", func() bool { return held(fra.n, id) })

			sid := newID("sighting")
			fra.ingestAs(t, map[string]any{"type": "sighting", "spec_version": "2.1", "id": sid, "created": t0, "modified": t0,
				"sighting_of_ref": id, "count": 3}, okBanner)
			// A sighting of fra's own object stays home.
			own := fra.ingestAs(t, actor(newID("threat-actor"), nil), okBanner)
			local := newID("sighting")
			fra.ingestAs(t, map[string]any{"type": "sighting", "spec_version": "2.1", "id": local, "created": t0, "modified": t0,
				"sighting_of_ref": own}, okBanner)

			if allowed {
				eventually(t, "gbr holds the sighting", func() bool { return held(gbr.n, sid) })
				prov, err := gbr.n.st.Provenance(ctx, sid)
				if err != nil || prov.Originator != "fra" {
					t.Fatalf("provenance at gbr: %+v, %v", prov, err)
				}
				eventually(t, "sighting.received", func() bool {
					return len(findEvents(auditLog(t, gbr.n.st), func(e audit.Event) bool {
						return e.Action == audit.ActionSightingRecv && e.Object == sid && e.Decision == audit.Accept
					})) == 1
				})
				// The originator refuses a sighting message that does not hold up.
				for name, note := range map[string]sightingNote{
					"unknown sighting": {Sighting: newID("sighting"), Modified: t0, SightingOf: id},
					"wrong target":     {Sighting: sid, Modified: t0, SightingOf: newID("threat-actor")},
					"not a sighting":   {Sighting: id, Modified: t0, SightingOf: id},
				} {
					raw, _ := json.Marshal(note)
					if err := gbr.n.receiveSighting(ctx, gbr.peer(t, "fra"), raw); !errors.Is(err, ErrRefused) {
						t.Errorf("%s: %v, want ErrRefused", name, err)
					}
				}
				led, err := fra.n.st.Ledger(ctx, store.LedgerQuery{ObjectID: sid})
				if err != nil || len(led) != 1 || led[0].Party != "gbr" || led[0].Outcome != store.LedgerRelease {
					t.Fatalf("fra's ledger for the sighting: %+v, %v", led, err)
				}
			} else {
				time.Sleep(300 * time.Millisecond)
				if held(gbr.n, sid) {
					t.Fatal("a sighting went back without the agreement allowing it")
				}
				denied := findEvents(auditLog(t, fra.n.st), func(e audit.Event) bool {
					return e.Action == audit.ActionSightingSend && e.Object == sid && e.Decision == audit.Deny
				})
				if len(denied) != 1 || !slices.Contains(denied[0].Reasons, "purpose") {
					t.Fatalf("sighting.send deny: %+v", denied)
				}
			}
			if held(gbr.n, local) {
				t.Fatal("a sighting of fra's own object went to gbr")
			}
			items, err := fra.n.st.OutboxItems(ctx, "gbr", 0, 100)
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

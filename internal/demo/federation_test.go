package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tearline/tearline/federation"
	"github.com/tearline/tearline/node/delivery"
	"github.com/tearline/tearline/node/release"
	"github.com/tearline/tearline/pki"
	"github.com/tearline/tearline/store"
	"github.com/tearline/tearline/trust"
)

// newScenario starts the four scenario nodes on loopback (or those named),
// each serving over mutual TLS with its store on b, with the scenario's
// agreements active everywhere.
func newScenario(t testing.TB, b backend, names ...string) *Cluster {
	t.Helper()
	ctx := context.Background()
	specs := ScenarioMembers()
	if len(names) > 0 {
		var keep []MemberSpec
		for _, s := range specs {
			for _, n := range names {
				if s.Name == n {
					keep = append(keep, s)
				}
			}
		}
		specs = keep
	}
	c, err := NewCluster(ctx, t.TempDir(), onBackend(t, b, specs), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Outbox = delivery.OutboxOptions{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	docs, err := ScenarioAgreements(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := c.Agree(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.Members {
		if err := c.Start(m); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// versions returns what m stores of id (none: nil).
func versions(t testing.TB, m *Member, id string) []store.ObjectVersion {
	t.Helper()
	vs, err := m.Node.Store().Versions(context.Background(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return vs
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func auditActions(t testing.TB, m *Member) map[string]int {
	t.Helper()
	ctx := context.Background()
	size, err := m.Node.Store().AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	es, err := m.Node.Store().AuditEntries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range es {
		var ev struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(e.Data, &ev)
		out[ev.Action]++
	}
	return out
}

func TestFederationEndToEnd(t *testing.T) { eachBackend(t, testFederationEndToEnd) }

func testFederationEndToEnd(t *testing.T, b backend) {
	ctx := context.Background()
	c := newScenario(t, b)
	gbr, usa, fra, agency := c.Member("gbr"), c.Member("usa"), c.Member("fra"), c.Member("agency")

	// One object, three partners, three outcomes.
	id, err := Publish(ctx, gbr, ScenarioReport())
	if err != nil {
		t.Fatal(err)
	}
	outcome := map[string]release.ReleaseResult{}
	for _, to := range []string{"usa", "fra", "agency"} {
		res, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, id, to, "analysis")
		if err != nil {
			t.Fatalf("release to %s: %v", to, err)
		}
		outcome[to] = res
	}
	if o := outcome["usa"].Outcome; o != "release" {
		t.Fatalf("to usa: %s %v, want release", o, outcome["usa"].Reasons)
	}
	if o := outcome["fra"].Outcome; o != "tearline" {
		t.Fatalf("to fra: %s %v, want tearline", o, outcome["fra"].Reasons)
	}
	if o := outcome["agency"].Outcome; o != "refuse" {
		t.Fatalf("to agency: %s, want refuse", o)
	}
	tl := outcome["fra"].Tearline

	waitFor(t, "usa to receive the report", func() bool { return len(versions(t, usa, id)) == 1 })
	waitFor(t, "fra to receive the tearline", func() bool { return len(versions(t, fra, tl)) == 1 })
	if got := versions(t, usa, id)[0].Raw; !bytes.Contains(got, []byte("ferry operator")) {
		t.Errorf("usa's copy lacks the description: %s", got)
	}
	if got := versions(t, fra, tl)[0].Raw; bytes.Contains(got, []byte("ferry operator")) || !bytes.Contains(got, []byte("HARBOUR SWIFT")) {
		t.Errorf("fra's tearline should keep the name and lose the description: %s", got)
	}
	if vs := versions(t, fra, id); len(vs) != 0 {
		t.Errorf("fra holds the original")
	}
	if vs := versions(t, agency, id); len(vs) != 0 {
		t.Errorf("the agency holds the report")
	}
	// Provenance and retention at the receiver.
	prov, err := usa.Node.Store().Provenance(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if prov.Originator != "gbr" || prov.ReceivedFrom != "gbr" || len(prov.Hops) != 1 || prov.Hops[0].Agreement != "gbr-usa" || prov.Hops[0].To != "usa" {
		t.Errorf("usa provenance = %+v", prov)
	}
	exp, err := usa.Node.Store().Expired(ctx, time.Now().Add(366*24*time.Hour), 10)
	if err != nil || !slices.ContainsFunc(exp, func(r store.Retained) bool { return r.ID == id }) {
		t.Errorf("usa retention: %v %v, want %s due within 366 days", exp, err, id)
	}

	// Held for two approvals, then released.
	secret := Labelled{Object: map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--0d9f6c2e-1b7a-4c3e-8f21-5a6b7c8d9e01",
		"created": "2026-03-02T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z", "name": "HARBOUR SWIFT C2",
		"pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": "2026-03-02T10:00:00Z"},
		Banner: "NATO SECRET // DISC SIGINT // TOPIC CYBER"}
	sid, err := Publish(ctx, gbr, secret)
	if err != nil {
		t.Fatal(err)
	}
	held, err := gbr.Node.Releases.Release(ctx, gbr.Analyst, sid, "fra", "analysis")
	if err != nil || held.Outcome != "hold" {
		t.Fatalf("release secret to fra: %+v %v, want hold", held, err)
	}
	if r, err := gbr.Node.Releases.ApproveRelease(ctx, gbr.Releaser1, held.Request); err != nil || r.Outcome != "hold" {
		t.Fatalf("first approval: %+v %v", r, err)
	}
	time.Sleep(50 * time.Millisecond)
	if len(versions(t, fra, sid)) != 0 {
		t.Fatal("fra received a release with one approval of two")
	}
	if r, err := gbr.Node.Releases.ApproveRelease(ctx, gbr.Releaser2, held.Request); err != nil || r.Outcome != "release" {
		t.Fatalf("second approval: %+v %v", r, err)
	}
	waitFor(t, "fra to receive the approved release", func() bool { return len(versions(t, fra, sid)) == 1 })

	t.Run("stranger", func(t *testing.T) {
		// A certificate from another CA fails the handshake.
		other, err := pki.NewCA(pki.Subject{Name: "Other CA", Country: "XXX"}, time.Hour, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := postAs(t, other, "gbr", usa.URL, []byte(`{"messages":[]}`)); err == nil {
			t.Error("a certificate of an unknown CA was accepted")
		}
		// The alliance's certificate of a node that is not a peer: 403.
		code, err := postAs(t, c.CA, "stranger", usa.URL, []byte(`{"messages":[{"id":1,"kind":"objects","payload":{}}]}`))
		if err != nil || code != http.StatusForbidden {
			t.Errorf("stranger: %d %v, want 403", code, err)
		}
	})

	t.Run("forged and relabelled", func(t *testing.T) {
		third := Labelled{Object: map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
			"created": "2026-03-03T10:00:00.000Z", "modified": "2026-03-03T10:00:00.000Z", "name": "QUIET HERON"},
			Banner: "NATO RESTRICTED // DISC OSINT // TOPIC CYBER"}
		tid, err := Publish(ctx, gbr, third)
		if err != nil {
			t.Fatal(err)
		}
		v := versions(t, gbr, tid)[0]
		var bs []json.RawMessage
		if err := json.Unmarshal(v.Bindings, &bs); err != nil {
			t.Fatal(err)
		}
		var b struct {
			Labels []struct {
				Ref string `json:"marking_ref"`
			} `json:"object_labels"`
		}
		_ = json.Unmarshal(bs[0], &b)
		if len(b.Labels) != 1 {
			t.Fatalf("binding labels: %s", bs[0])
		}
		lraw, err := gbr.Node.Store().Label(ctx, b.Labels[0].Ref)
		if err != nil {
			t.Fatal(err)
		}
		send := func(objRaw, labelRaw []byte) federation.InboxMessageResult {
			t.Helper()
			payload, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
				"objects": []json.RawMessage{labelRaw, objRaw, bs[0]}, "x_tearline_release": map[string]any{"agreement": "gbr-usa", "agreement_version": 1, "originator": "gbr"}})
			body, _ := json.Marshal(federation.InboxRequest{Messages: []federation.InboxMessage{{ID: 1, Kind: "objects", Payload: payload}}})
			cl, err := trust.FederationClient(gbr.Dir, "usa")
			if err != nil {
				t.Fatal(err)
			}
			res, err := cl.Post(usa.URL+federation.InboxPath, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out federation.InboxResponse
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Results) != 1 {
				t.Fatalf("inbox answer: %v %+v", err, out)
			}
			return out.Results[0]
		}
		before := auditActions(t, usa)["federation.refuse"]
		forged := bytes.Replace(v.Raw, []byte("QUIET HERON"), []byte("LOUD HERON"), 1)
		if r := send(forged, lraw); r.Status != federation.InboxRefused || !strings.Contains(r.Error, "verify") {
			t.Errorf("forged object: %+v, want refused for the signature", r)
		}
		relabelled := bytes.Replace(lraw, []byte("RESTRICTED"), []byte("UNCLASSIFIED"), -1)
		if r := send(v.Raw, relabelled); r.Status != federation.InboxRefused {
			t.Errorf("relabelled object: %+v, want refused", r)
		}
		if len(versions(t, usa, tid)) != 0 {
			t.Error("a refused object was stored")
		}
		if _, err := usa.Node.Store().Provenance(ctx, tid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("provenance of a refused object: %v", err)
		}
		if got := auditActions(t, usa)["federation.refuse"] - before; got != 2 {
			t.Errorf("usa audited %d refusals, want 2", got)
		}
		// The genuine object, sent the same way, is accepted.
		if r := send(v.Raw, lraw); r.Status != federation.InboxAccepted {
			t.Errorf("genuine object: %+v", r)
		}
	})
}

// postAs POSTs body to the inbox at url presenting a certificate named
// name issued by ca, and returns the status.
func postAs(t testing.TB, ca *pki.CA, name, url string, body []byte) (int, error) {
	t.Helper()
	k, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dns, ips := pki.DefaultHosts(name)
	cert, err := ca.Issue(pki.Leaf{Subject: pki.Subject{Name: name, Country: "GBR"}, DNSNames: dns, IPs: ips, NotAfter: time.Now().Add(time.Hour)}, k.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, // the server is not what this tests
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: k, Leaf: cert}, nil
		}}
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
	res, err := cl.Post(url+federation.InboxPath, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

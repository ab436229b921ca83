package opa

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	_ "embed"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
)

//go:embed release.rego
var releaseRego string

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func key(name string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("opa bench key " + name))
	return ed25519.NewKeyFromSeed(s[:])
}

// fixture is the benchmark case of policy.BenchmarkDecide: a bilateral
// GBR-USA agreement, no CEL condition, and a typical in-scope object.
func fixture(tb testing.TB) (*policy.Agreement, *agreement.Document, *label.Registry) {
	tb.Helper()
	reg, err := label.NewRegistry(label.DefaultConfig("GBR"))
	if err != nil {
		tb.Fatal(err)
	}
	var rows []agreement.Equivalence
	for _, p := range [][2]string{{"UNCLASSIFIED", "OFFICIAL"}, {"RESTRICTED", "RESTRICTED"}, {"CONFIDENTIAL", "CONFIDENTIAL"}, {"SECRET", "SECRET"}, {"TOP-SECRET", "TOP-SECRET"}} {
		rows = append(rows, agreement.Equivalence{Levels: []agreement.Level{
			{Policy: "NATO", Level: p[0]}, {Policy: "NATIONAL", Owner: "GBR", Level: p[1]}, {Policy: "NATIONAL", Owner: "USA", Level: p[1]},
		}})
	}
	doc := &agreement.Document{
		ID: "gbr-usa", Title: "bench", Version: 1,
		Effective: "2026-01-01T00:00:00Z", Expires: "2027-01-01T00:00:00Z",
		Equivalence: rows,
		Terms: []agreement.Terms{{
			From: []string{"gbr", "usa"}, To: []string{"gbr", "usa"},
			Topics: []string{"CYBER", "COUNTER-TERRORISM"}, Disciplines: []string{"SIGINT", "OSINT"},
			MaxClassification: agreement.Level{Policy: "NATO", Level: "SECRET"},
			Purposes:          []string{"analysis"}, RetentionDays: 365,
			Onward: agreement.OnwardParties, Release: agreement.Release{Mode: agreement.ModeAutomatic},
		}},
	}
	for _, n := range []struct{ name, country string }{{"gbr", "GBR"}, {"usa", "USA"}} {
		doc.Parties = append(doc.Parties, agreement.Party{Name: n.name, Country: n.country, Organisation: n.name,
			PublicKey: binding.MarshalPublicKey(key(n.name).Public().(ed25519.PublicKey))})
	}
	for _, p := range doc.Parties {
		s, err := doc.Sign(p.Name, key(p.Name))
		if err != nil {
			tb.Fatal(err)
		}
		if err := doc.AddSignature(s); err != nil {
			tb.Fatal(err)
		}
	}
	a, err := policy.CompileAgreement(doc, reg, "gbr", agreement.Status{State: agreement.StateActive, Since: now})
	if err != nil {
		tb.Fatal(err)
	}
	return a, doc, reg
}

func typical(tb testing.TB, reg *label.Registry) policy.ObjectFacts {
	l, err := reg.ParseBanner("NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER")
	if err != nil {
		tb.Fatal(err)
	}
	return policy.ObjectFacts{Type: "indicator", Labels: []label.Label{l}}
}

// regoData is the agreement compiled into the data document the Rego rules
// read: what CompileAgreement precomputes, in OPA's terms.
func regoData(doc *agreement.Document, reg *label.Registry) map[string]any {
	ranks := map[string]any{}
	for k, r := range doc.Ranks() {
		ranks[k.Policy+"/"+k.Owner+"/"+k.Level] = r
	}
	t := doc.Terms[0]
	terms := map[string]any{
		"purposes": strs(t.Purposes), "topics": strs(t.Topics), "disciplines": strs(t.Disciplines),
		"compartments": strs(t.Compartments), "any_topic": false, "any_discipline": false,
		"max_rank": doc.Ranks()[t.MaxClassification.Key()], "max_tlp": label.TLPRank("AMBER"),
		"require_rel_to": t.RequireReleasableTo, "approvals": 0, "approve_above": -1,
	}
	members := map[string]any{}
	for _, c := range []string{"GBR", "USA", "FRA", "DEU", "AUS", "CAN", "NZL"} {
		members[c] = []any{c}
	}
	for _, g := range []string{"FVEY", "NATO"} {
		m, _ := reg.Group(g)
		members[g] = strs(m)
	}
	audience := map[string]any{}
	for _, p := range reg.Policies() {
		audience[p] = strs(reg.Audience(p))
	}
	return map[string]any{"agreement": map[string]any{
		"state":        "active",
		"effective_ns": doc.EffectiveTime().UnixNano(), "expires_ns": doc.ExpiryTime().UnixNano(),
		"terms":     map[string]any{"usa": terms},
		"countries": map[string]any{"gbr": "GBR", "usa": "USA"},
		"ranks":     ranks, "owned_policies": []any{"NATIONAL"},
		"members": members, "audience": audience,
	}}
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func labelInput(l label.Label) map[string]any {
	return map[string]any{
		"policy": l.Policy, "classification": l.Classification, "originator": l.Originator,
		"releasable_to": strs(l.ReleasableTo), "compartments": strs(l.Compartments), "caveats": strs(l.Caveats),
		"tlp": l.TLP, "topics": strs(l.Topics), "disciplines": strs(l.Disciplines),
	}
}

// input is built per decision, as a node would: the object's facts as a
// JSON-like value.
func input(obj policy.ObjectFacts, recipient, purpose string) map[string]any {
	ls := make([]any, len(obj.Labels))
	for i, l := range obj.Labels {
		ls[i] = labelInput(l)
	}
	return map[string]any{
		"recipient": recipient, "purpose": purpose, "now_ns": now.UnixNano(),
		"labels": ls, "originator": obj.Originator, "provenance": []any{}, "consents": []any{},
	}
}

func prepare(tb testing.TB, doc *agreement.Document, reg *label.Registry) rego.PreparedEvalQuery {
	tb.Helper()
	q, err := rego.New(
		rego.Query("data.tearline.release.decision"),
		rego.Module("release.rego", releaseRego),
		rego.Store(inmemStore(regoData(doc, reg))),
	).PrepareForEval(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

func evalOPA(tb testing.TB, q rego.PreparedEvalQuery, in map[string]any) map[string]any {
	rs, err := q.Eval(context.Background(), rego.EvalInput(in))
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		tb.Fatalf("opa: %v %v", rs, err)
	}
	return rs[0].Expressions[0].Value.(map[string]any)
}

// Both engines agree on the benchmark case and on a few refusals, so the
// benchmark compares the same rules.
func TestSameDecisions(t *testing.T) {
	a, doc, reg := fixture(t)
	q := prepare(t, doc, reg)
	for _, c := range []struct{ banner, purpose, want string }{
		{"NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", "analysis", "release"},
		{"NATO SECRET // REL TO FVEY // DISC SIGINT // TOPIC CYBER", "analysis", "release"},
		{"COSMIC TOP SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", "analysis", "refuse"},
		{"NATO SECRET // REL TO GBR, FRA // DISC SIGINT // TOPIC CYBER", "analysis", "refuse"},
		{"NATO SECRET // REL TO GBR, USA // DISC HUMINT // TOPIC CYBER", "analysis", "refuse"},
		{"NATO SECRET // REL TO GBR, USA // TLP:RED // DISC SIGINT // TOPIC CYBER", "analysis", "refuse"},
		{"NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER", "military-operations", "refuse"},
		{"GBR SECRET // DISC SIGINT // TOPIC CYBER", "analysis", "refuse"},
	} {
		l, err := reg.ParseBanner(c.banner)
		if err != nil {
			t.Fatal(err)
		}
		obj := policy.ObjectFacts{Labels: []label.Label{l}}
		ours := policy.Decide(a, obj, policy.Recipient{Party: "usa"}, c.purpose, now)
		theirs := evalOPA(t, q, input(obj, "usa", c.purpose))
		if ours.Outcome.String() != c.want || theirs["outcome"] != c.want {
			t.Errorf("%s / %s: tearline %s %v, opa %v", c.banner, c.purpose, ours.Outcome, ours.Reasons.Reasons(), theirs)
		}
	}
}

func BenchmarkTearline(b *testing.B) {
	a, _, reg := fixture(b)
	obj := typical(b, reg)
	to := policy.Recipient{Party: "usa"}
	b.ReportAllocs()
	for b.Loop() {
		if policy.Decide(a, obj, to, "analysis", now).Outcome != policy.Release {
			b.Fatal("not released")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func BenchmarkOPA(b *testing.B) {
	_, doc, reg := fixture(b)
	q := prepare(b, doc, reg)
	obj := typical(b, reg)
	b.ReportAllocs()
	for b.Loop() {
		if evalOPA(b, q, input(obj, "usa", "analysis"))["outcome"] != "release" {
			b.Fatal("not released")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// TestRatio, when benchmarks run (go test -bench . -cpu 1), measures both
// engines and prints how many times faster Tearline's is; the issue asks for
// at least 30 without CEL. (A benchmark cannot call testing.Benchmark: it
// would wait on the lock its caller holds.)
func TestRatio(t *testing.T) {
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" || testing.Short() {
		t.Skip("runs with -bench")
	}
	ours := testing.Benchmark(BenchmarkTearline)
	theirs := testing.Benchmark(BenchmarkOPA)
	ratio := float64(theirs.NsPerOp()) / float64(max(ours.NsPerOp(), 1))
	fmt.Printf("tearline %d ns/decision, opa %d ns/decision: tearline is %.0fx faster\n", ours.NsPerOp(), theirs.NsPerOp(), ratio)
	if ratio < 30 {
		t.Errorf("only %.1fx faster than OPA, want at least 30x", ratio)
	}
}

package policy

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecide is the target of the issue: a typical object and
// agreement without a CEL condition, at least 1,000,000 decisions/s on one
// core (go test -bench Decide -cpu 1).
func BenchmarkDecide(b *testing.B) {
	reg := testRegistry(b)
	a := mustCompile(b, bilateral(), reg, "gbr")
	benchDecide(b, a, typical(b, reg))
}

// BenchmarkDecideCEL adds a CEL condition over the object, decoded once
// (ObjectFacts.Decoded) as the node does when it decides for many partners.
func BenchmarkDecideCEL(b *testing.B) {
	reg := testRegistry(b)
	doc := bilateral()
	doc.Terms[0].Condition = `object.type in ["indicator", "malware"] && object.confidence >= 50`
	a := mustCompile(b, doc, reg, "gbr")
	obj := typical(b, reg)
	if err := json.Unmarshal(obj.Raw, &obj.Decoded); err != nil {
		b.Fatal(err)
	}
	benchDecide(b, a, obj)
}

func benchDecide(b *testing.B, a *Agreement, obj ObjectFacts) {
	to := Recipient{Party: "usa"}
	if d := Decide(a, obj, to, "analysis", t0); d.Outcome != Release {
		b.Fatalf("benchmark case does not release: %v", d.Reasons.Reasons())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Decide(a, obj, to, "analysis", t0)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

package accessmac

import (
	"bytes"
	"testing"
)

func facts() Facts {
	return Facts{Seq: 7, ID: "indicator--1", ModifiedUS: 1700000000000000, Class: 3,
		LabelIDs: []string{"marking-definition--a", "marking-definition--b"}, Digest: "ab", Originator: "gbr", Bindings: []byte(`[{}]`)}
}

// Every fact is covered: changing any one of them, or moving bytes from one
// field to the next, changes the MAC; another key gives another MAC.
func TestEveryFactCovered(t *testing.T) {
	s, err := New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := facts()
	mac := s.Sum(f)
	if !s.Check(f, mac) {
		t.Fatal("Check of its own Sum failed")
	}
	for name, change := range map[string]func(*Facts){
		"seq":            func(f *Facts) { f.Seq++ },
		"id":             func(f *Facts) { f.ID += "x" },
		"modified":       func(f *Facts) { f.ModifiedUS++ },
		"instance":       func(f *Facts) { f.Instance = 1 },
		"class":          func(f *Facts) { f.Class++ },
		"label dropped":  func(f *Facts) { f.LabelIDs = f.LabelIDs[:1] },
		"labels joined":  func(f *Facts) { f.LabelIDs = []string{"marking-definition--amarking-definition--b"} },
		"digest":         func(f *Facts) { f.Digest = "ac" },
		"revoked":        func(f *Facts) { f.Revoked = true },
		"originator":     func(f *Facts) { f.Originator = "usa" },
		"bindings":       func(f *Facts) { f.Bindings = []byte(`[{ }]`) },
		"id into digest": func(f *Facts) { f.ID, f.Digest = "indicator--", "1ab" },
	} {
		g := facts()
		g.LabelIDs = append([]string(nil), g.LabelIDs...)
		change(&g)
		if s.Check(g, mac) {
			t.Errorf("%s changed, MAC still matches", name)
		}
	}
	other, _ := New(bytes.Repeat([]byte{2}, 32))
	if other.Check(f, mac) {
		t.Error("another key's sealer accepts the MAC")
	}
	if s.Check(f, mac[:31]) || s.Check(f, nil) {
		t.Error("a short or missing MAC matches")
	}
}

func BenchmarkCheck(b *testing.B) {
	s, _ := New(bytes.Repeat([]byte{1}, 32))
	f := facts()
	f.Bindings = bytes.Repeat([]byte("x"), 700) // about a binding's size
	mac := s.Sum(f)
	b.ReportAllocs()
	for b.Loop() {
		if !s.Check(f, mac) {
			b.Fatal("no match")
		}
	}
}

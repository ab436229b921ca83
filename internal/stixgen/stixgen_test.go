package stixgen_test

import (
	"testing"
	"time"

	"github.com/tearline/tearline/internal/stixgen"
	"github.com/tearline/tearline/stix"
)

// TestValid checks that every generated object is valid STIX, as the node
// would parse it, within the sizes the package promises, and that Version
// keeps the id and moves modified forward.
func TestValid(t *testing.T) {
	g := stixgen.New(1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	objs := make([]stixgen.Object, 0, 2001)
	types := map[string]int{}
	for range 2000 {
		o := g.Next()
		if len(o.JSON) < 400 || len(o.JSON) > 4200 {
			t.Errorf("%s: %d bytes, want 0.4-4.2 KB", o.ID, len(o.JSON))
		}
		types[o.Type]++
		objs = append(objs, o)
	}
	v := g.Version(objs[0])
	if v.ID != objs[0].ID || !v.Modified.After(objs[0].Modified) || v.ModifiedString() == objs[0].ModifiedString() {
		t.Errorf("Version: got %s %s, after %s %s", v.ID, v.ModifiedString(), objs[0].ID, objs[0].ModifiedString())
	}
	objs = append(objs, v)
	parsed, bad, err := stix.Parse(stixgen.Bundle(g, objs), stix.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("invalid object %d %s: %s: %s", b.Index, b.ID, b.Property, b.Reason)
	}
	if len(parsed) != len(objs) {
		t.Errorf("parsed %d objects, want %d", len(parsed), len(objs))
	}
	if len(types) != 6 {
		t.Errorf("types %v, want all six of the mix", types)
	}
}

package inbox

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/tearline/tearline/label"
)

func testLabelRaws(t *testing.T, banners ...string) [][]byte {
	t.Helper()
	reg, err := label.NewRegistry(label.DefaultConfig("GBR"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, b := range banners {
		l, err := reg.ParseBanner(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, reg.MarkingDefinition(l))
	}
	return out
}

// The cache answers exactly what parsing answers, on a miss and on a hit,
// for labels, for other marking-definitions and for bytes that are not one.
func TestLabelParseCacheMatchesUncached(t *testing.T) {
	raws := testLabelRaws(t, "NATO RESTRICTED // DISC OSINT // TOPIC CYBER", "NATO SECRET // REL TO USA, GBR // ORCON", "NATO UNCLASSIFIED")
	// Not canonical (members reordered, spaces): parses, canonical form differs.
	spaced := bytes.Replace(raws[0], []byte(`,"`), []byte(`, "`), 1)
	raws = append(raws, spaced,
		[]byte(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`),
		[]byte(`{"type":"marking-definition","id":1}`),
		[]byte(`not json`))
	var c labelParseCache
	for round := range 3 {
		for i, raw := range raws {
			wl, wc, werr := parseLabel(raw)
			gl, gc, gerr := c.parse(raw)
			if !reflect.DeepEqual(gl, wl) || !bytes.Equal(gc, wc) || !reflect.DeepEqual(gerr, werr) {
				t.Fatalf("round %d, raw %d: cache = %+v %q %v; uncached = %+v %q %v", round, i, gl, gc, gerr, wl, wc, werr)
			}
			if round == 0 && i < 3 && werr != nil {
				t.Fatalf("raw %d: %v", i, werr.err)
			}
		}
	}
	// Only labels that parse are kept.
	if len(c.entries) != 4 {
		t.Fatalf("%d entries, want 4", len(c.entries))
	}
	// A caller changing what it got does not change the cache.
	l, _, _ := c.parse(raws[1])
	l.ReleasableTo[0], l.Caveats = "XXX", nil
	if again, _, _ := c.parse(raws[1]); again.ReleasableTo[0] == "XXX" || len(again.Caveats) == 0 {
		t.Fatalf("cache entry changed by a caller: %+v", again)
	}
}

// A label whose bytes changed is parsed afresh, never answered from the
// entry of the label it was.
func TestLabelParseCacheChangedLabel(t *testing.T) {
	raws := testLabelRaws(t, "NATO RESTRICTED // DISC OSINT", "NATO SECRET // DISC OSINT")
	var c labelParseCache
	first, _, err := c.parse(raws[0])
	if err != nil {
		t.Fatal(err.err)
	}
	// The same label id with other content (the classification raised in
	// place, id kept): the content no longer gives the id, so it is refused.
	changed := bytes.Replace(raws[0], []byte(`"RESTRICTED"`), []byte(`"SECRET"`), 1)
	if bytes.Equal(changed, raws[0]) {
		t.Fatal("test label did not change")
	}
	if _, _, err := c.parse(changed); err == nil {
		t.Fatal("a label changed under its id was served from the cache")
	}
	if _, _, werr := parseLabel(changed); werr == nil {
		t.Fatal("uncached parse accepted the changed label")
	}
	// A really different label gets its own answer.
	second, _, err := c.parse(raws[1])
	if err != nil {
		t.Fatal(err.err)
	}
	if second.Equal(first) || second.Classification != "SECRET" || first.Classification != "RESTRICTED" {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if got, _, _ := c.parse(raws[0]); !got.Equal(first) {
		t.Fatalf("first again = %+v, want %+v", got, first)
	}
}

// The cache stays within its bound and is safe for concurrent use.
func TestLabelParseCacheBoundedConcurrent(t *testing.T) {
	reg, err := label.NewRegistry(label.DefaultConfig("GBR"))
	if err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	for i := 0; len(raws) < labelParseCacheSize+200; i++ {
		members := label.NATOMembers()
		banner := fmt.Sprintf("NATO %s // GRADE %c%d // ORIG %s", []string{"RESTRICTED", "CONFIDENTIAL"}[i%2],
			'A'+rune(i/2%6), 1+i/12%6, members[i/72%len(members)])
		l, err := reg.ParseBanner(banner)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, reg.MarkingDefinition(l))
	}
	distinct := map[string]bool{}
	for _, r := range raws {
		distinct[string(r)] = true
	}
	if len(distinct) != len(raws) {
		t.Fatalf("%d distinct labels of %d", len(distinct), len(raws))
	}
	var c labelParseCache
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range raws {
				raw := raws[(i+w*97)%len(raws)]
				l, canon, err := c.parse(raw)
				wl, wc, _ := parseLabel(raw)
				if err != nil || !l.Equal(wl) || !bytes.Equal(canon, wc) {
					t.Errorf("parse %d: %+v %v", i, l, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(c.entries); n > labelParseCacheSize {
		t.Fatalf("%d entries, bound %d", n, labelParseCacheSize)
	}
}

package stix

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	refjcs "github.com/gowebpki/jcs"
	"github.com/tearline/tearline/jcs"
	"github.com/ulikunitz/xz"
)

// The ATT&CK bundles live outside the repository (../shared/data, relative
// to the module root), except the ICS one, which the repository carries in
// testdata/attack (with its licence) so these tests run on a fresh clone;
// tests that need another bundle skip when it is absent.
var attackFiles = []string{
	"enterprise-attack-18.1-rebuilt.json.xz",
	"mobile-attack-18.1-rebuilt.json.xz",
	"ics-attack-18.1.json.xz",
}

func readAttack(tb testing.TB, name string) []byte {
	tb.Helper()
	path := filepath.Join("..", "testdata", "attack", name)
	f, err := os.Open(path)
	if err != nil {
		path = filepath.Join("..", "..", "shared", "data", name)
		f, err = os.Open(path)
	}
	if err != nil {
		tb.Skipf("ATT&CK data not available (%v); skipping", err)
	}
	defer f.Close()
	r, err := xz.NewReader(bufio.NewReader(f))
	if err != nil {
		tb.Fatalf("xz %s: %v", path, err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return data
}

// attackObjects splits a bundle with plain jsontext, independently of Parse.
func attackObjects(tb testing.TB, data []byte) []jsontext.Value {
	tb.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	var out []jsontext.Value
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			tb.Fatalf("split: %v", err)
		}
		if tok.Kind() == '"' && tok.String() == "objects" && dec.StackDepth() == 1 {
			break
		}
		if tok.Kind() == '"' {
			if err := dec.SkipValue(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		tb.Fatal(err)
	}
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, v.Clone())
	}
	return out
}

func TestParseATTACK(t *testing.T) {
	for _, name := range attackFiles {
		t.Run(name, func(t *testing.T) {
			data := readAttack(t, name)
			objs, bad, err := Parse(data, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for i, e := range bad {
				if i < 20 {
					t.Errorf("refused: %v", e)
				}
			}
			want := attackObjects(t, data)
			if len(objs) != len(want) {
				t.Fatalf("got %d objects, want %d", len(objs), len(want))
			}
			for i, o := range objs {
				w := want[i].Clone()
				if err := w.Compact(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(o.Raw, w) {
					t.Fatalf("object %d (%s): Raw differs from the re-compacted original", i, o.ID)
				}
				if o.SpecVersion != "2.1" || o.Created == "" || o.CreatedAt.IsZero() {
					t.Fatalf("object %d (%s): common properties not extracted: %+v", i, o.ID, o)
				}
			}
		})
	}
}

func BenchmarkParseATTACK(b *testing.B) {
	data := readAttack(b, attackFiles[0])
	objs, _, err := Parse(data, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	n := len(objs)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Parse(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N)/1e3, "µs/object")
}

// TestCanonicalizeATTACK checks jcs on the real corpus against an independent
// RFC 8785 implementation: every object we parse canonicalises the same way.
func TestCanonicalizeATTACK(t *testing.T) {
	for _, name := range attackFiles {
		t.Run(name, func(t *testing.T) {
			objs, _, err := Parse(readAttack(t, name), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				got, err := jcs.Canonicalize(o.Raw)
				if err != nil {
					t.Fatalf("%s: %v", o.ID, err)
				}
				want, err := refjcs.Transform(o.Raw)
				if err != nil {
					t.Fatalf("%s: jcs: %v", o.ID, err)
				}
				if string(got) != string(want) {
					t.Fatalf("%s: canonical forms differ:\n ours %s\n jcs  %s", o.ID, got, want)
				}
			}
		})
	}
}

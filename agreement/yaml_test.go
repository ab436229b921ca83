package agreement

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
)

// The YAML form reads back as the same document, signatures and all, for
// every example: show --format yaml feeds add-signature.
func TestYAMLRoundTrip(t *testing.T) {
	docs := []*Document{signedExample(t)}
	for _, f := range exampleFiles(t) {
		docs = append(docs, load(t, f))
	}
	for _, d := range docs {
		y, err := d.YAML()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(y)
		if err != nil {
			t.Fatalf("%s: parse of its YAML: %v\n%s", d.ID, err, y)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("%s: YAML round trip changed the document:\n%s", d.ID, y)
		}
		j1, _ := d.JSON()
		j2, _ := d2.JSON()
		if !bytes.Equal(j1, j2) {
			t.Fatalf("%s: JSON differs after the YAML round trip", d.ID)
		}
		if len(d.Signatures) > 0 {
			if _, err := d2.VerifySignatures(); err != nil {
				t.Fatalf("%s: signatures after YAML: %v", d.ID, err)
			}
		}
	}
}

// Strings that YAML would read as other types stay strings.
func TestYAMLQuotesAmbiguousStrings(t *testing.T) {
	d := load(t, filepath.Join(examples, "gbr-usa-bilateral.yaml"))
	d.Title = "yes"
	d.Terms[0].Purposes = []string{"2026-01-10", "1e3", "null", "~", "0x10", "- a", "a: b"}
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Parse(y)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(d, d2) {
		t.Fatalf("changed:\n%s", y)
	}
}

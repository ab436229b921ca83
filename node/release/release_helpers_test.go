package release_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The release fixture (nodetest.RelFixture and the agreements it
// activates) is in package nodetest, shared with the tests of agreements,
// recalls, delivery and the authority table.

func containsAny(s string, subs ...string) string {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return x
		}
	}
	return ""
}

// relSchema compiles one OASIS STIX 2.1 schema from testdata (as
// node's schema_test.go does).
func relSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	const base = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
	root := filepath.Join("..", "..", "testdata", "stix", "oasis-schemas")
	c := jsonschema.NewCompiler()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		return c.AddResource(base+filepath.ToSlash(rel), doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(base + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func relValidate(t *testing.T, s *jsonschema.Schema, what string, raw []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not validate against the OASIS STIX 2.1 schema: %v\n%s", what, err, raw)
	}
}

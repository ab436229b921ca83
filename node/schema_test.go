package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/internal/demo"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store/backend"
)

const oasisBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// oasisSchemas compiles the OASIS STIX 2.1 JSON schemas kept in testdata,
// resolving their $refs locally.
func oasisSchemas(t *testing.T) func(name string) *jsonschema.Schema {
	t.Helper()
	root := filepath.Join("..", "testdata", "stix", "oasis-schemas")
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
		return c.AddResource(oasisBase+filepath.ToSlash(rel), doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(name string) *jsonschema.Schema {
		s, err := c.Compile(oasisBase + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		return s
	}
}

func validate(t *testing.T, s *jsonschema.Schema, what string, raw []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not validate against the OASIS STIX 2.1 schema: %v\n%s", what, err, raw)
	}
}

// TestOutputValidatesAgainstOASISSchemas checks that what Tearline itself
// writes in STIX (label marking-definitions, bindings, extension
// definitions, TLP markings) validates against the OASIS STIX 2.1 schemas.
func TestOutputValidatesAgainstOASISSchemas(t *testing.T) {
	schema := oasisSchemas(t)
	marking := schema("common/marking-definition.json")
	extdef := schema("common/extension-definition.json")
	core := schema("common/core.json")
	identity := schema("sdos/identity.json")

	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	users, err := demo.Setup(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	admin, err := n.Authenticate(ctx, users[0].Token)
	if err != nil {
		t.Fatal(err)
	}
	page, err := n.List(ctx, admin, node.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) == 0 {
		t.Fatal("demo node lists nothing")
	}
	seenLabels := map[string]bool{}
	for _, o := range page.Objects {
		var bs []json.RawMessage
		if err := json.Unmarshal(o.Bindings, &bs); err != nil {
			t.Fatal(err)
		}
		if len(bs) == 0 {
			t.Fatalf("%s has no binding", o.ID)
		}
		for _, b := range bs {
			validate(t, core, "binding of "+o.ID, b)
		}
		for _, id := range o.Labels {
			if seenLabels[id] {
				continue
			}
			seenLabels[id] = true
			raw, err := n.Label(ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, marking, "label "+id, raw)
		}
	}
	if len(seenLabels) < 4 {
		t.Errorf("expected the demo's four labels, saw %d", len(seenLabels))
	}
	validate(t, extdef, "label extension-definition", label.ExtensionDefinition())
	validate(t, extdef, "binding extension-definition", binding.ExtensionDefinition())
	validate(t, identity, "Tearline identity", binding.TearlineIdentity())
	for _, lvl := range []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"} {
		validate(t, marking, "TLP:"+lvl, label.TLPMarking(lvl))
	}
	// The validator must be able to say no.
	var bad map[string]any
	_ = json.Unmarshal(label.TLPMarking("RED"), &bad)
	delete(bad, "created")
	raw, _ := json.Marshal(bad)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if marking.Validate(v) == nil {
		t.Error("a marking-definition without created validated: the schema check is not working")
	}
}

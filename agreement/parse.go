package agreement

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v3"

	"github.com/tearline/tearline/jcs"
)

// MaxDocumentBytes bounds what Parse reads: agreements are small, and a
// bound keeps a hostile file from costing memory.
const MaxDocumentBytes = 1 << 20

// Parse reads an agreement written in JSON or YAML. It is strict: unknown
// fields, duplicate keys, wrong types and (in YAML) anchors and aliases are
// refused, and the error names the field path, so a typo in a restriction
// never silently drops it. Parse checks form only; call Validate.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("agreement: document of %d bytes exceeds %d", len(data), MaxDocumentBytes)
	}
	raw := data
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		var err error
		if raw, err = yamlToJSON(data); err != nil {
			return nil, err
		}
	}
	// Canonicalize refuses duplicate members and invalid UTF-8 before the
	// typed decode, so two readers can never see two different documents.
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil, fmt.Errorf("agreement: %w", err)
	}
	var d Document
	if err := jsonv2.Unmarshal(canon, &d, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, decodeError(err)
	}
	return &d, nil
}

func decodeError(err error) error {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		path := pointerPath(string(se.JSONPointer))
		switch {
		case se.Err != nil && errors.Is(se.Err, jsonv2.ErrUnknownName):
			return fieldErr(path, "unknown field")
		case se.GoType != nil:
			return fieldErr(path, "wrong type: %s cannot hold JSON %s", se.GoType, kindName(se.JSONKind))
		}
		return fieldErr(path, "%v", err)
	}
	return fmt.Errorf("agreement: %w", err)
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

// yamlToJSON converts a YAML document to JSON by walking the node tree, so
// that JSON and YAML documents go through one strict decoder. Scalars keep
// the text as written: a timestamp stays the string the author typed.
func yamlToJSON(data []byte) ([]byte, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("agreement: yaml: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("agreement: yaml: more than one document")
	}
	var buf []byte
	buf, err := appendNode(buf, &root, "", 0)
	if err != nil {
		return nil, err
	}
	return buf, nil
}

const maxDepth = 32

func appendNode(buf []byte, n *yaml.Node, path string, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fieldErr(path, "nested too deeply")
	}
	where := func() string {
		if path == "" {
			return "line " + strconv.Itoa(n.Line)
		}
		return path
	}
	if n.Anchor != "" {
		return nil, fieldErr(where(), "YAML anchors are not allowed")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, errors.New("agreement: yaml: empty document")
		}
		return appendNode(buf, n.Content[0], path, depth+1)
	case yaml.AliasNode:
		return nil, fieldErr(where(), "YAML aliases are not allowed")
	case yaml.MappingNode:
		buf = append(buf, '{')
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, fieldErr(where(), "mapping keys must be plain strings (line %d)", k.Line)
			}
			if seen[k.Value] {
				return nil, fieldErr(join(path, k.Value), "duplicate key (line %d)", k.Line)
			}
			seen[k.Value] = true
			if i > 0 {
				buf = append(buf, ',')
			}
			buf, _ = jsontext.AppendQuote(buf, k.Value)
			buf = append(buf, ':')
			var err error
			if buf, err = appendNode(buf, v, join(path, k.Value), depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	case yaml.SequenceNode:
		buf = append(buf, '[')
		for i, c := range n.Content {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendNode(buf, c, idx(path, i), depth+1); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return append(buf, "null"...), nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fieldErr(where(), "%v", err)
			}
			return strconv.AppendBool(buf, b), nil
		case "!!int":
			v, err := strconv.ParseInt(n.Value, 0, 64)
			if err != nil {
				return nil, fieldErr(where(), "integer %q not understood", n.Value)
			}
			return strconv.AppendInt(buf, v, 10), nil
		case "!!float":
			return nil, fieldErr(where(), "fractional numbers are not used in agreements (%q)", n.Value)
		default: // !!str, !!timestamp, !!binary: the text as written
			b, err := jsontext.AppendQuote(buf, n.Value)
			if err != nil {
				return nil, fieldErr(where(), "invalid UTF-8")
			}
			return b, nil
		}
	}
	return nil, fieldErr(where(), "unsupported YAML node")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

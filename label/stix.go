package label

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/tearline/tearline/jcs"
)

// Fixed identifiers of the Tearline label extension. Partners depend on
// them: never change them.
const (
	// ExtensionID is the STIX extension-definition id of the Tearline
	// confidentiality label property extension.
	ExtensionID = "extension-definition--7aef0713-f878-4cfb-a814-ad3665412046"
	// TearlineIdentityID is the identity that created the extension
	// definition (the Tearline project, not a node).
	TearlineIdentityID = "identity--f016abdd-46a9-4f8f-a090-9eb2dbfcaaa4"
	// LabelEpoch is the created timestamp of every label marking-definition.
	// Labels are content-addressed and immutable, so a creation time would
	// only make equal labels differ; the ADatP-4774 CreationDateTime of a
	// labelling act is carried by the binding that attaches the label.
	LabelEpoch = "2026-01-01T00:00:00.000Z"
	// ExtensionVersion is the semantic version of the extension schema.
	ExtensionVersion = "1.0.0"
)

// ErrIDMismatch reports a label marking-definition whose id is not the id of
// its content: it was altered after it was made, or made wrongly.
var ErrIDMismatch = errors.New("label: marking-definition id does not match its label content")

//go:embed extension.schema.json
var extensionSchema string

// MarkingDefinition returns the STIX 2.1 marking-definition object for l
// (normalised first) as RFC 8785 canonical JSON: identical bytes on every
// node with the same banners. The name is the local banner and is not covered
// by the id. MarkingDefinition does not validate: call Validate first.
func (r *Registry) MarkingDefinition(l Label) []byte {
	l = r.Normalize(l)
	body := canonicalBody(l)
	obj := struct {
		Type        string                     `json:"type"`
		SpecVersion string                     `json:"spec_version"`
		ID          string                     `json:"id"`
		Created     string                     `json:"created"`
		Name        string                     `json:"name"`
		Extensions  map[string]json.RawMessage `json:"extensions"`
	}{
		Type:        "marking-definition",
		SpecVersion: "2.1",
		ID:          "marking-definition--" + uuidV5(idNamespace, body),
		Created:     LabelEpoch,
		Name:        r.Banner(l),
		Extensions:  map[string]json.RawMessage{ExtensionID: body},
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil // unreachable: strings and a canonical raw message
	}
	out, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil // unreachable, as above
	}
	return out
}

// ParseMarkingDefinition reads a STIX marking-definition. ours is false (and
// err nil) for a marking-definition that does not carry the Tearline label
// extension, such as a TLP marking. For ours, the extension must be exactly
// the canonical form of a normalised label (no unknown, null or empty
// members: an unknown restriction must never be silently dropped), and the
// id must equal l.ID(), so any change to the label content is detected.
// The vocabulary is not checked here (there is no registry): call Validate.
func ParseMarkingDefinition(raw []byte) (l Label, ours bool, err error) {
	// Canonicalize refuses duplicate members and invalid UTF-8, which would
	// otherwise let two readers see two different labels in one object.
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		return Label{}, false, fmt.Errorf("label: marking-definition: %w", err)
	}
	var obj struct {
		Type        string                    `json:"type"`
		SpecVersion string                    `json:"spec_version"`
		ID          string                    `json:"id"`
		Created     string                    `json:"created"`
		Extensions  map[string]jsontext.Value `json:"extensions"`
	}
	// jsonv2 matches member names case-sensitively, unlike encoding/json.
	if err := jsonv2.Unmarshal(canon, &obj); err != nil {
		return Label{}, false, fmt.Errorf("label: marking-definition: %w", err)
	}
	if obj.Type != "marking-definition" {
		return Label{}, false, fmt.Errorf("label: marking-definition: type %q is not marking-definition", obj.Type)
	}
	ext, ok := obj.Extensions[ExtensionID]
	if !ok {
		return Label{}, false, nil
	}
	if obj.SpecVersion != "2.1" {
		return Label{}, true, fmt.Errorf("label: marking-definition: spec_version %q, want 2.1", obj.SpecVersion)
	}
	if obj.Created != LabelEpoch {
		return Label{}, true, fmt.Errorf("label: marking-definition: created %q, want the label epoch %s", obj.Created, LabelEpoch)
	}
	var body extensionBody
	if err := jsonv2.Unmarshal(ext, &body, jsonv2.RejectUnknownMembers(true)); err != nil {
		return Label{}, true, fmt.Errorf("label: marking-definition: extension %s: %w", ExtensionID, err)
	}
	if body.ExtensionType != "property-extension" {
		return Label{}, true, fmt.Errorf("label: marking-definition: extension %s: extension_type %q, want property-extension", ExtensionID, body.ExtensionType)
	}
	l = body.label()
	if !l.Equal(normalize(l)) {
		return Label{}, true, fmt.Errorf("label: marking-definition: extension %s: label is not in normal form", ExtensionID)
	}
	if !bytes.Equal(ext, canonicalBody(l)) {
		return Label{}, true, fmt.Errorf("label: marking-definition: extension %s: not the canonical label form (null or empty members?)", ExtensionID)
	}
	if obj.ID != l.ID() {
		return Label{}, true, fmt.Errorf("%w: id %s, content gives %s", ErrIDMismatch, obj.ID, l.ID())
	}
	return l, true, nil
}

// ExtensionDefinition returns the STIX 2.1 extension-definition object for
// the label extension, as RFC 8785 canonical JSON. Its schema property holds
// the canonical text of the JSON Schema in label/extension.schema.json.
func ExtensionDefinition() []byte {
	schema, err := jcs.Canonicalize([]byte(extensionSchema))
	if err != nil {
		return nil // unreachable: the embedded schema is tested
	}
	obj := map[string]any{
		"type":            "extension-definition",
		"spec_version":    "2.1",
		"id":              ExtensionID,
		"created_by_ref":  TearlineIdentityID,
		"created":         LabelEpoch,
		"modified":        LabelEpoch,
		"name":            "Tearline confidentiality label",
		"description":     "A confidentiality label modelled on NATO ADatP-4774 (policy, classification, Releasable To, compartments, caveats, TLP, disciplines, topics, Admiralty grading, originator), carried as a property extension of a marking-definition. The marking-definition id is marking-definition-- followed by the UUIDv5, in namespace " + IDNamespace + ", of the RFC 8785 canonical JSON of this extension object; created is always " + LabelEpoch + ".",
		"schema":          string(schema),
		"version":         ExtensionVersion,
		"extension_types": []string{"property-extension"},
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	out, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil
	}
	return out
}

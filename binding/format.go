package binding

// Fixed values of binding format version 1. Everything here is part of the
// wire contract described in docs/BINDING.md: changing any of it breaks the
// verification of every binding already issued.
const (
	// Type is the STIX type of a binding object (a new SDO).
	Type = "tearline-binding"

	// FormatVersion is the value of the format_version property. A verifier
	// refuses any other value: a new version may change what a binding means,
	// and an old verifier must fail closed rather than misread it.
	FormatVersion = "1"

	// ExtensionID declares the tearline-binding object type. Its UUID is
	// also the UUIDv5 namespace of binding ids.
	ExtensionID = "extension-definition--bc9e1672-e3d1-4ebf-ac20-b0b3000ccdbb"

	// TearlineIdentityID is the identity that publishes the extension
	// definition (the Tearline project, not a node).
	TearlineIdentityID = "identity--8dbf33b5-4b93-4d89-83e4-803283664d00"

	// KindOriginator marks the binding made by the node that labelled the
	// object first. KindAlternative marks a binding added later (a label
	// translated to another policy, or a tearline) that derives from another
	// binding and never replaces it.
	KindOriginator  = "originator"
	KindAlternative = "alternative"

	// Algorithm names written into every binding.
	DigestAlgorithm    = "SHA-256"
	SignatureAlgorithm = "Ed25519"
	Canonicalization   = "RFC8785"

	// TimeLayout is the only accepted form of created/modified in a binding:
	// UTC, exactly millisecond precision, so a time has one spelling.
	TimeLayout = "2006-01-02T15:04:05.000Z"
)

// extensionUUID is the UUID part of ExtensionID, used as the UUIDv5
// namespace for binding ids.
var extensionUUID = [16]byte{0xbc, 0x9e, 0x16, 0x72, 0xe3, 0xd1, 0x4e, 0xbf, 0xac, 0x20, 0xb0, 0xb3, 0x00, 0x0c, 0xcd, 0xbb}

// The published objects, already in RFC 8785 canonical form (a test checks
// this), so partners can hash or store them as given.
const (
	extensionDefinitionJSON = `{"created":"2026-01-01T00:00:00.000Z",` +
		`"created_by_ref":"` + TearlineIdentityID + `",` +
		`"description":"Declares the tearline-binding SDO: an Ed25519 signature over RFC 8785 canonical JSON that binds confidentiality labels (marking-definitions) to one version of one STIX object, after the model of ADatP-4778 (not its XML profile). Format version 1.",` +
		`"extension_types":["new-sdo"],` +
		`"id":"` + ExtensionID + `",` +
		`"modified":"2026-01-01T00:00:00.000Z",` +
		`"name":"Tearline label binding",` +
		`"schema":"https://github.com/tearline/tearline/blob/main/docs/BINDING.md",` +
		`"spec_version":"2.1",` +
		`"type":"extension-definition",` +
		`"version":"1.0.0"}`

	tearlineIdentityJSON = `{"created":"2026-01-01T00:00:00.000Z",` +
		`"description":"The Tearline project, publisher of Tearline STIX extension definitions.",` +
		`"id":"` + TearlineIdentityID + `",` +
		`"identity_class":"organization",` +
		`"modified":"2026-01-01T00:00:00.000Z",` +
		`"name":"Tearline",` +
		`"spec_version":"2.1",` +
		`"type":"identity"}`
)

// ExtensionDefinition returns the STIX 2.1 extension-definition object that
// declares the tearline-binding type, in canonical JSON. Publish it with
// bindings so that consumers can resolve the extension.
func ExtensionDefinition() []byte { return []byte(extensionDefinitionJSON) }

// TearlineIdentity returns the identity object referenced by the extension
// definition's created_by_ref, in canonical JSON.
func TearlineIdentity() []byte { return []byte(tearlineIdentityJSON) }

package label

import "strings"

// TLP 2.0 marking-definition ids (FIRST TLP 2.0 as published by OASIS in
// cti-stix-common-objects, extension-definition-specifications/tlp-2.0).
const (
	TLPClearID       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLPGreenID       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLPAmberID       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLPAmberStrictID = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLPRedID         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

	// TLP2ExtensionID is the OASIS extension carrying "tlp_2_0".
	TLP2ExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
)

// STIX 2.1 core-specification TLP 1.0 marking ids (§7.2.1.4), accepted on
// input only.
const (
	TLP1WhiteID = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLP1GreenID = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLP1AmberID = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLP1RedID   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// tlpUnknownRank is the rank of an unrecognised TLP level: above RED.
const tlpUnknownRank = 5

func tlpIndex(level string) int {
	switch level {
	case "CLEAR":
		return 0
	case "GREEN":
		return 1
	case "AMBER":
		return 2
	case "AMBER+STRICT":
		return 3
	case "RED":
		return 4
	}
	return -1
}

// TLPRank orders TLP levels: "" (no TLP) = -1 < CLEAR = 0 < GREEN < AMBER <
// AMBER+STRICT < RED = 4. Case and a "TLP:" prefix are ignored; WHITE counts
// as CLEAR. An unrecognised level ranks 5, above RED, so that taking the
// maximum fails closed.
func TLPRank(level string) int {
	if i := tlpIndex(level); i >= 0 { // fast path for normal-form input
		return i
	}
	n := normTLP(level)
	if n == "" {
		return -1
	}
	if i := tlpIndex(n); i >= 0 {
		return i
	}
	return tlpUnknownRank
}

// tlpMarkings are the five official TLP 2.0 marking-definition objects in
// RFC 8785 canonical form. The OASIS repository publishes them as
// pretty-printed examples; these are the same members and values, serialised
// canonically so that every Tearline node emits identical bytes.
const (
	tlpClearJSON       = `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}},"id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","name":"TLP:CLEAR","spec_version":"2.1","type":"marking-definition"}`
	tlpGreenJSON       = `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}},"id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","name":"TLP:GREEN","spec_version":"2.1","type":"marking-definition"}`
	tlpAmberJSON       = `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}},"id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","name":"TLP:AMBER","spec_version":"2.1","type":"marking-definition"}`
	tlpAmberStrictJSON = `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}},"id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","name":"TLP:AMBER+STRICT","spec_version":"2.1","type":"marking-definition"}`
	tlpRedJSON         = `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}},"id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","name":"TLP:RED","spec_version":"2.1","type":"marking-definition"}`
)

// TLPMarking returns the official TLP 2.0 marking-definition object for
// level (case-insensitive, "TLP:" prefix optional, WHITE = CLEAR), or nil for
// an unknown level. The caller owns the returned slice.
func TLPMarking(level string) []byte {
	var s string
	switch normTLP(level) {
	case "CLEAR":
		s = tlpClearJSON
	case "GREEN":
		s = tlpGreenJSON
	case "AMBER":
		s = tlpAmberJSON
	case "AMBER+STRICT":
		s = tlpAmberStrictJSON
	case "RED":
		s = tlpRedJSON
	default:
		return nil
	}
	return []byte(s)
}

// TLPID returns the TLP 2.0 marking-definition id for level, or "".
func TLPID(level string) string {
	switch normTLP(level) {
	case "CLEAR":
		return TLPClearID
	case "GREEN":
		return TLPGreenID
	case "AMBER":
		return TLPAmberID
	case "AMBER+STRICT":
		return TLPAmberStrictID
	case "RED":
		return TLPRedID
	}
	return ""
}

// TLPFromRef maps a marking-definition id to its TLP 2.0 level. It accepts
// the TLP 2.0 ids and the STIX 2.1 TLP 1.0 ids (WHITE maps to CLEAR). Ids are
// compared case-insensitively, as STIX UUIDs are hex.
func TLPFromRef(id string) (string, bool) {
	switch strings.ToLower(id) {
	case TLPClearID, TLP1WhiteID:
		return "CLEAR", true
	case TLPGreenID, TLP1GreenID:
		return "GREEN", true
	case TLPAmberID, TLP1AmberID:
		return "AMBER", true
	case TLPAmberStrictID:
		return "AMBER+STRICT", true
	case TLPRedID, TLP1RedID:
		return "RED", true
	}
	return "", false
}

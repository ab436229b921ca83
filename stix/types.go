package stix

import (
	"strconv"
	"time"

	"github.com/tearline/tearline/stixpattern"
)

// typeRules applies the per-type rules of STIX 2.1 §4-§7 and the OASIS
// schemas: required properties and the constraints between them. Custom
// types get none; their common properties were checked already.
func (v *validator) typeRules() *ObjectError {
	switch v.obj.Type {
	case "attack-pattern", "campaign", "course-of-action", "identity", "incident",
		"infrastructure", "intrusion-set", "threat-actor", "tool", "vulnerability":
		return v.needString("name")
	case "grouping":
		return v.first(v.needString("context"), v.needRefs("object_refs", typeFilter{}))
	case "note":
		return v.first(v.needString("content"), v.needRefs("object_refs", typeFilter{}))
	case "report":
		if err := v.first(v.needString("name"), v.needRefs("object_refs", typeFilter{})); err != nil {
			return err
		}
		_, err := v.needTime("published")
		return err
	case "opinion":
		return v.opinion()
	case "indicator":
		return v.indicator()
	case "location":
		return v.location()
	case "malware":
		return v.malware()
	case "malware-analysis":
		return v.malwareAnalysis()
	case "observed-data":
		return v.observedData()
	case "relationship":
		return v.relationship()
	case "sighting":
		return v.sighting()
	case "marking-definition":
		return v.markingDefinition()
	case "extension-definition":
		return v.extensionDefinition()
	case "language-content":
		return v.languageContent()
	}
	if v.cls == classSCO {
		return v.sco()
	}
	return nil
}

// first returns the first non-nil error; the checks have no side effects
// that matter when an earlier one fails.
func (v *validator) first(errs ...*ObjectError) *ObjectError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (v *validator) need(name string) ([]byte, *ObjectError) {
	val := v.f.get(name)
	if val == nil {
		return nil, propErr(name, "required property is missing")
	}
	return val, nil
}

func (v *validator) needString(name string) *ObjectError {
	val, err := v.need(name)
	if err != nil {
		return err
	}
	if kind(val) != '"' {
		return propErr(name, "must be a string")
	}
	return nil
}

func (v *validator) needRefs(name string, filter typeFilter) *ObjectError {
	val, err := v.need(name)
	if err != nil {
		return err
	}
	_, err = refList(name, val, filter)
	return err
}

func (v *validator) needRef(name string, filter typeFilter) *ObjectError {
	val, err := v.need(name)
	if err != nil {
		return err
	}
	_, err = refValue(name, val, filter)
	return err
}

func (v *validator) needTime(name string) (time.Time, *ObjectError) {
	val, err := v.need(name)
	if err != nil {
		return time.Time{}, err
	}
	return v.optTime(name, val)
}

func (v *validator) optTime(name string, val []byte) (time.Time, *ObjectError) {
	_, t, ok := timestampValue(val, 0)
	if !ok {
		return t, propErr(name, "not an RFC 3339 UTC timestamp")
	}
	return t, nil
}

// optRef checks an optional reference's target type.
func (v *validator) optRef(name string, filter typeFilter) *ObjectError {
	if val := v.f.get(name); val != nil {
		_, err := refValue(name, val, filter)
		return err
	}
	return nil
}

func (v *validator) optRefs(name string, filter typeFilter) *ObjectError {
	if val := v.f.get(name); val != nil {
		_, err := refList(name, val, filter)
		return err
	}
	return nil
}

func (v *validator) optBool(name string) *ObjectError {
	if val := v.f.get(name); val != nil && kind(val) != 't' && kind(val) != 'f' {
		return propErr(name, "must be a boolean")
	}
	return nil
}

func (v *validator) optIntRange(name string, lo, hi int64) *ObjectError {
	if val := v.f.get(name); val != nil {
		if n, ok := intValue(val); !ok || n < lo || n > hi {
			return propErr(name, "must be an integer from %d to %d", lo, hi)
		}
	}
	return nil
}

func (v *validator) has(name string) bool { return v.f.get(name) != nil }

func (v *validator) opinion() *ObjectError {
	if err := v.needRefs("object_refs", typeFilter{}); err != nil {
		return err
	}
	val, err := v.need("opinion")
	if err != nil {
		return err
	}
	switch s, _ := stringValue(val); s {
	case "strongly-disagree", "disagree", "neutral", "agree", "strongly-agree":
		return nil
	}
	return propErr("opinion", "must be one of strongly-disagree, disagree, neutral, agree, strongly-agree")
}

func (v *validator) indicator() *ObjectError {
	if err := v.first(v.needString("pattern"), v.needString("pattern_type")); err != nil {
		return err
	}
	if err := v.stixPattern(); err != nil {
		return err
	}
	from, err := v.needTime("valid_from")
	if err != nil {
		return err
	}
	if val := v.f.get("valid_until"); val != nil {
		until, err := v.optTime("valid_until", val)
		if err != nil {
			return err
		}
		if !until.After(from) {
			return propErr("valid_until", "must be later than valid_from")
		}
	}
	return nil
}

// stixPattern parses a pattern in the STIX language and refuses one that is
// not, with the parser's message (where, and what was expected): an indicator
// whose pattern no consumer can run is refused at the door rather than found
// broken at a partner. Other pattern languages (sigma, snort, yara...) and
// STIX pattern versions other than 2.1 (whose grammar differs) are not
// checked here.
func (v *validator) stixPattern() *ObjectError {
	if typ, _ := stringValue(v.f.get("pattern_type")); typ != "stix" {
		return nil
	}
	if val := v.f.get("pattern_version"); val != nil {
		if ver, _ := stringValue(val); ver != "2.1" {
			return nil
		}
	}
	pattern, _ := stringValue(v.f.get("pattern"))
	if _, err := stixpattern.Parse(pattern); err != nil {
		return propErr("pattern", "%v", err)
	}
	return nil
}

func (v *validator) location() *ObjectError {
	lat, lon := v.f.get("latitude"), v.f.get("longitude")
	if (lat == nil) != (lon == nil) {
		if lat == nil {
			return propErr("latitude", "required when longitude is present")
		}
		return propErr("longitude", "required when latitude is present")
	}
	if lat == nil && !v.has("region") && !v.has("country") {
		return propErr("", "a location needs region, country, or latitude and longitude")
	}
	if lat != nil {
		if err := numberRange("latitude", lat, -90, 90); err != nil {
			return err
		}
		if err := numberRange("longitude", lon, -180, 180); err != nil {
			return err
		}
	} else if v.has("precision") {
		return propErr("precision", "only allowed with latitude and longitude")
	}
	return nil
}

func numberRange(name string, val []byte, lo, hi float64) *ObjectError {
	if kind(val) != '0' {
		return propErr(name, "must be a number")
	}
	f, err := strconv.ParseFloat(string(val), 64)
	if err != nil || f < lo || f > hi {
		return propErr(name, "must be a number from %g to %g", lo, hi)
	}
	return nil
}

func (v *validator) malware() *ObjectError {
	val, err := v.need("is_family")
	if err != nil {
		return err
	}
	switch string(val) {
	case "true":
		// §4.11: name is required when the malware is a family.
		if err := v.needString("name"); err != nil {
			return err
		}
	case "false":
	default:
		return propErr("is_family", "must be a boolean")
	}
	return v.first(
		v.optRefs("operating_system_refs", softwareOnly()),
		v.optRefs("sample_refs", typesOnly("an artifact or file", "artifact", "file")),
	)
}

func (v *validator) malwareAnalysis() *ObjectError {
	if err := v.needString("product"); err != nil {
		return err
	}
	if !v.has("result") && !v.has("analysis_sco_refs") {
		return propErr("", "a malware-analysis needs result or analysis_sco_refs")
	}
	return v.first(
		v.optRef("host_vm_ref", softwareOnly()),
		v.optRef("operating_system_ref", softwareOnly()),
		v.optRefs("installed_software_refs", softwareOnly()),
		v.optRef("sample_ref", typesOnly("an artifact, file or network-traffic", "artifact", "file", "network-traffic")),
	)
}

func (v *validator) observedData() *ObjectError {
	first, err := v.needTime("first_observed")
	if err != nil {
		return err
	}
	last, err := v.needTime("last_observed")
	if err != nil {
		return err
	}
	if last.Before(first) {
		return propErr("last_observed", "earlier than first_observed")
	}
	if _, err := v.need("number_observed"); err != nil {
		return err
	}
	if err := v.optIntRange("number_observed", 1, 999_999_999); err != nil {
		return err
	}
	objs, refs := v.f.get("objects"), v.f.get("object_refs")
	switch {
	case objs != nil && refs != nil:
		return propErr("objects", "objects and object_refs are mutually exclusive")
	case objs != nil:
		if kind(objs) != '{' {
			return propErr("objects", "must be an object")
		}
	case refs == nil:
		return propErr("object_refs", "required property is missing (or the deprecated objects)")
	}
	return nil
}

// relationship: source and target are SDOs, SCOs or custom objects.
func (v *validator) relationship() *ObjectError {
	val, err := v.need("relationship_type")
	if err != nil {
		return err
	}
	s, ok := stringValue(val)
	if !ok || s == "" {
		return propErr("relationship_type", "must be a non-empty string")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return propErr("relationship_type", "may only contain a-z, 0-9 and '-'")
		}
	}
	ends := typeFilter{func(t string) bool {
		switch classOf(t) {
		case classSDO, classSCO, classCustom:
			return true
		}
		return false
	}, "an SDO, SCO or custom object"}
	return v.first(v.needRef("source_ref", ends), v.needRef("target_ref", ends))
}

func (v *validator) sighting() *ObjectError {
	sdo := typeFilter{func(t string) bool {
		c := classOf(t)
		return c == classSDO || c == classCustom
	}, "an SDO or custom object"}
	if err := v.needRef("sighting_of_ref", sdo); err != nil {
		return err
	}
	if err := v.first(
		v.optIntRange("count", 0, 999_999_999),
		v.optBool("summary"),
		v.optRefs("observed_data_refs", typesOnly("observed-data", "observed-data")),
		v.optRefs("where_sighted_refs", typesOnly("an identity or location", "identity", "location")),
	); err != nil {
		return err
	}
	var first, last time.Time
	var err *ObjectError
	fv, lv := v.f.get("first_seen"), v.f.get("last_seen")
	if fv != nil {
		if first, err = v.optTime("first_seen", fv); err != nil {
			return err
		}
	}
	if lv != nil {
		if last, err = v.optTime("last_seen", lv); err != nil {
			return err
		}
	}
	if fv != nil && lv != nil && last.Before(first) {
		return propErr("last_seen", "earlier than first_seen")
	}
	return nil
}

// markingDefinition: either the deprecated definition_type + definition
// pair, or an extension (§7.2.1).
func (v *validator) markingDefinition() *ObjectError {
	dt, def := v.f.get("definition_type"), v.f.get("definition")
	switch {
	case dt == nil && def == nil:
		if !v.has("extensions") {
			return propErr("", "needs definition_type and definition, or extensions")
		}
		return nil
	case dt == nil:
		return propErr("definition_type", "required when definition is present")
	case def == nil:
		return propErr("definition", "required when definition_type is present")
	}
	if kind(dt) != '"' {
		return propErr("definition_type", "must be a string")
	}
	if kind(def) != '{' {
		return propErr("definition", "must be an object")
	}
	return nil
}

func (v *validator) extensionDefinition() *ObjectError {
	if err := v.first(
		v.needString("name"),
		v.needString("schema"),
		v.needString("version"),
		v.needRef("created_by_ref", identityOnly()),
	); err != nil {
		return err
	}
	val, err := v.need("extension_types")
	if err != nil {
		return err
	}
	if err := stringList("extension_types", val); err != nil {
		return err
	}
	toplevel := false
	it := newArrIter(val)
	for n := 0; ; n++ {
		e, ok := it.next()
		if !ok {
			break
		}
		switch s, _ := stringValue(e); s {
		case "toplevel-property-extension":
			toplevel = true
		case "new-sdo", "new-sco", "new-sro", "property-extension":
		default:
			return propErr("extension_types["+strconv.Itoa(n)+"]", "unknown extension type %q", s)
		}
	}
	if ep := v.f.get("extension_properties"); ep != nil {
		if !toplevel {
			return propErr("extension_properties", "only allowed with a toplevel-property-extension")
		}
		return stringList("extension_properties", ep)
	}
	return nil
}

func (v *validator) languageContent() *ObjectError {
	target := typeFilter{func(t string) bool {
		return t != "bundle" && t != "language-content"
	}, "an object other than a bundle or language-content"}
	if err := v.needRef("object_ref", target); err != nil {
		return err
	}
	val, err := v.need("contents")
	if err != nil {
		return err
	}
	if kind(val) != '{' {
		return propErr("contents", "must be an object")
	}
	if om := v.f.get("object_modified"); om != nil {
		if _, ok := stringValue(om); !ok {
			return propErr("object_modified", "must be a timestamp")
		}
		if _, _, ok := timestampValue(om, 0); !ok {
			return propErr("object_modified", "not an RFC 3339 UTC timestamp")
		}
	}
	return nil
}

// sco applies the required properties of the STIX 2.1 cyber-observable
// objects (§6).
func (v *validator) sco() *ObjectError {
	switch v.obj.Type {
	case "domain-name", "email-addr", "ipv4-addr", "ipv6-addr", "mac-addr", "url":
		return v.needString("value")
	case "mutex", "software":
		return v.needString("name")
	case "directory":
		return v.needString("path")
	case "autonomous-system":
		val, err := v.need("number")
		if err != nil {
			return err
		}
		if _, ok := intValue(val); !ok {
			return propErr("number", "must be an integer")
		}
	case "email-message":
		if _, err := v.need("is_multipart"); err != nil {
			return err
		}
		return v.optBool("is_multipart")
	case "file":
		if !v.has("hashes") && !v.has("name") {
			return propErr("", "a file needs hashes or name")
		}
	case "artifact":
		payload, url := v.has("payload_bin"), v.has("url")
		switch {
		case payload && url:
			return propErr("url", "payload_bin and url are mutually exclusive")
		case url && !v.has("hashes"):
			return propErr("hashes", "required when url is present")
		}
	case "network-traffic":
		val, err := v.need("protocols")
		if err != nil {
			return err
		}
		if err := stringList("protocols", val); err != nil {
			return err
		}
		if !v.has("src_ref") && !v.has("dst_ref") {
			return propErr("", "a network-traffic needs src_ref or dst_ref")
		}
	case "process", "user-account", "windows-registry-key", "x509-certificate":
		// These need at least one property of their own (§6).
		for _, m := range v.f {
			switch string(m.name) {
			case "type", "id", "spec_version", "object_marking_refs",
				"granular_markings", "defanged":
			default:
				return nil
			}
		}
		return propErr("", "a %s needs at least one of its own properties", v.obj.Type)
	}
	return nil
}

func softwareOnly() typeFilter { return typesOnly("a software", "software") }

func typesOnly(want string, types ...string) typeFilter {
	return typeFilter{func(t string) bool {
		for _, x := range types {
			if t == x {
				return true
			}
		}
		return false
	}, want}
}

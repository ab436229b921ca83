package stix

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// fields holds the top-level members of one object, in input order. STIX
// objects have a few dozen members at most, so a linear search beats a map.
type fields []member

func (f fields) get(name string) []byte {
	for i := range f {
		if string(f[i].name) == name {
			return f[i].val
		}
	}
	return nil
}

// validator carries one object through the rules.
type validator struct {
	raw []byte // compact, syntactically valid JSON object
	f   fields
	obj *Object
	cls class
}

// validate checks one object whose raw JSON has already passed jsontext and
// been compacted. On success obj.Raw is left for the caller to set.
func validate(raw []byte) (Object, *ObjectError) {
	var obj Object
	if kind(raw) != '{' {
		return obj, &ObjectError{Reason: "not a JSON object"}
	}
	var buf [48]member
	fs := buf[:0]
	it := newObjIter(raw)
	for {
		name, val, ok := it.next()
		if !ok {
			break
		}
		fs = append(fs, member{name, val})
	}
	v := validator{raw: raw, f: fs, obj: &obj}
	if err := v.run(); err != nil {
		// Name the object in the error even when its id was refused.
		if id, ok := stringValue(v.f.get("id")); ok {
			err.ID = id
		}
		return Object{}, err
	}
	return obj, nil
}

func (v *validator) run() *ObjectError {
	// Plain calls, not a table of method values: those would make the
	// validator, and the member array behind it, escape to the heap.
	if err := v.identity(); err != nil {
		return err
	}
	if err := v.specVersion(); err != nil {
		return err
	}
	if err := v.timestamps(); err != nil {
		return err
	}
	if err := v.common(); err != nil {
		return err
	}
	if err := v.markings(); err != nil {
		return err
	}
	if err := v.refs(); err != nil {
		return err
	}
	return v.typeRules()
}

// identity checks type and id.
func (v *validator) identity() *ObjectError {
	tv := v.f.get("type")
	if tv == nil {
		return propErr("type", "required property is missing")
	}
	t, ok := stringValue(tv)
	if !ok {
		return propErr("type", "must be a string")
	}
	if !validTypeName(t) {
		return propErr("type", "%q is not a valid type name (3-250 characters a-z, 0-9, '-', starting with a letter)", t)
	}
	v.obj.Type = t
	v.cls = classOf(t)
	if v.cls == classBundle {
		return propErr("type", "a bundle cannot be nested as an object")
	}
	iv := v.f.get("id")
	if iv == nil {
		return propErr("id", "required property is missing")
	}
	id, ok := stringValue(iv)
	if !ok {
		return propErr("id", "must be a string")
	}
	if !IsValidID(id) {
		return propErr("id", "%q is not a STIX identifier (<type>--<RFC 4122 UUID>)", id)
	}
	if IDType(id) != t {
		return propErr("id", "prefix %q does not match type %q", IDType(id), t)
	}
	v.obj.ID = id
	return nil
}

func (v *validator) specVersion() *ObjectError {
	sv := v.f.get("spec_version")
	if sv == nil {
		switch v.cls {
		case classSCO:
			return nil
		case classCustom:
			// Custom SCOs carry no created; custom SDOs and SROs must
			// say which specification they follow.
			if v.f.get("created") == nil {
				return nil
			}
		}
		return propErr("spec_version", "required property is missing")
	}
	s, ok := stringValue(sv)
	if !ok || s != "2.1" {
		return propErr("spec_version", "must be \"2.1\", got %s", sv)
	}
	v.obj.SpecVersion = s
	return nil
}

func (v *validator) timestamps() *ObjectError {
	cv, mv := v.f.get("created"), v.f.get("modified")
	switch v.cls {
	case classSDO, classSRO, classMeta:
		if cv == nil {
			return propErr("created", "required property is missing")
		}
		if mv == nil {
			return propErr("modified", "required property is missing")
		}
	case classMarking:
		if cv == nil {
			return propErr("created", "required property is missing")
		}
		if mv != nil {
			return propErr("modified", "marking definitions cannot be versioned (STIX 2.1 §7.2.1)")
		}
	}
	if cv == nil {
		if mv != nil {
			return propErr("modified", "present without created")
		}
		return nil
	}
	var ok bool
	o := v.obj
	if o.Created, o.CreatedAt, ok = timestampValue(cv, 3); !ok {
		return propErr("created", "not an RFC 3339 UTC timestamp with millisecond precision")
	}
	o.ModifiedAt = o.CreatedAt
	if mv == nil {
		return nil
	}
	if o.Modified, o.ModifiedAt, ok = timestampValue(mv, 3); !ok {
		return propErr("modified", "not an RFC 3339 UTC timestamp with millisecond precision")
	}
	if o.ModifiedAt.Before(o.CreatedAt) {
		return propErr("modified", "earlier than created")
	}
	return nil
}

// common checks the common properties other than markings (STIX 2.1 §3.2).
func (v *validator) common() *ObjectError {
	f := v.f
	if r := f.get("created_by_ref"); r != nil {
		id, err := refValue("created_by_ref", r, identityOnly())
		if err != nil {
			return err
		}
		v.obj.CreatedByRef = id
	}
	if r := f.get("revoked"); r != nil {
		switch string(r) {
		case "true":
			v.obj.Revoked = true
		case "false":
		default:
			return propErr("revoked", "must be a boolean")
		}
	}
	if l := f.get("labels"); l != nil {
		if err := stringList("labels", l); err != nil {
			return err
		}
	}
	if c := f.get("confidence"); c != nil {
		if n, ok := intValue(c); !ok || n < 0 || n > 100 {
			return propErr("confidence", "must be an integer from 0 to 100")
		}
	}
	if l := f.get("lang"); l != nil && kind(l) != '"' {
		return propErr("lang", "must be a string")
	}
	if er := f.get("external_references"); er != nil {
		if err := externalRefs(er); err != nil {
			return err.prefix("external_references")
		}
	}
	if ext := f.get("extensions"); ext != nil {
		if err := extensions(ext); err != nil {
			return err.prefix("extensions")
		}
	}
	return nil
}

func externalRefs(v []byte) *ObjectError {
	if kind(v) != '[' {
		return propErr("", "must be a list")
	}
	it := newArrIter(v)
	n := 0
	for ; ; n++ {
		e, ok := it.next()
		if !ok {
			break
		}
		idx := "[" + strconv.Itoa(n) + "]"
		if kind(e) != '{' {
			return propErr(idx, "must be an object")
		}
		if _, ok := stringValue(memberValue(e, "source_name")); !ok {
			return propErr(idx+".source_name", "required string property is missing")
		}
	}
	if n == 0 {
		return propErr("", "must not be an empty list")
	}
	return nil
}

func extensions(v []byte) *ObjectError {
	if kind(v) != '{' {
		return propErr("", "must be an object")
	}
	it := newObjIter(v)
	for {
		name, val, ok := it.next()
		if !ok {
			return nil
		}
		key := string(name)
		if strings.HasPrefix(key, "extension-definition--") && !IsValidID(key) {
			return propErr(key, "not a valid extension-definition identifier")
		}
		if kind(val) != '{' {
			return propErr(key, "must be an object")
		}
	}
}

// markings checks object_marking_refs and granular_markings (§7.2).
func (v *validator) markings() *ObjectError {
	if r := v.f.get("object_marking_refs"); r != nil {
		ids, err := refList("object_marking_refs", r, markingOnly())
		if err != nil {
			return err
		}
		v.obj.ObjectMarkingRefs = ids
	}
	gm := v.f.get("granular_markings")
	if gm == nil {
		return nil
	}
	if kind(gm) != '[' {
		return propErr("granular_markings", "must be a list")
	}
	it := newArrIter(gm)
	for n := 0; ; n++ {
		e, ok := it.next()
		if !ok {
			if n == 0 {
				return propErr("granular_markings", "must not be an empty list")
			}
			return nil
		}
		m, err := v.granularMarking(e)
		if err != nil {
			return err.prefix("granular_markings[" + strconv.Itoa(n) + "]")
		}
		v.obj.GranularMarkings = append(v.obj.GranularMarkings, m)
	}
}

func (v *validator) granularMarking(e []byte) (GranularMarking, *ObjectError) {
	var m GranularMarking
	if kind(e) != '{' {
		return m, propErr("", "must be an object")
	}
	sels := memberValue(e, "selectors")
	if sels == nil {
		return m, propErr("selectors", "required property is missing")
	}
	if kind(sels) != '[' {
		return m, propErr("selectors", "must be a list")
	}
	it := newArrIter(sels)
	for n := 0; ; n++ {
		s, ok := it.next()
		if !ok {
			if n == 0 {
				return m, propErr("selectors", "must not be an empty list")
			}
			break
		}
		prop := "selectors[" + strconv.Itoa(n) + "]"
		sel, ok := stringValue(s)
		if !ok {
			return m, propErr(prop, "must be a string")
		}
		if err := resolveSelector(v.raw, sel); err != nil {
			return m, propErr(prop, "%v", err)
		}
		m.Selectors = append(m.Selectors, sel)
	}
	mr, lang := memberValue(e, "marking_ref"), memberValue(e, "lang")
	switch {
	case mr != nil && lang != nil:
		return m, propErr("", "has both marking_ref and lang; exactly one is allowed")
	case mr != nil:
		id, err := refValue("marking_ref", mr, markingOnly())
		if err != nil {
			return m, err
		}
		m.MarkingRef = id
	case lang != nil:
		s, ok := stringValue(lang)
		if !ok {
			return m, propErr("lang", "must be a string")
		}
		m.Lang = s
	default:
		return m, propErr("", "needs one of marking_ref or lang")
	}
	return m, nil
}

// refs checks that every property named *_ref holds an identifier and every
// *_refs a non-empty list of identifiers, at any depth (§2.7, §11.1). The
// deprecated observed-data "objects" map is skipped: its references are
// local keys such as "0", not identifiers, and so are custom properties
// named x_* (the custom-property convention of §11.1).
func (v *validator) refs() *ObjectError {
	for _, m := range v.f {
		if v.obj.Type == "observed-data" && string(m.name) == "objects" {
			continue
		}
		if err := refMember(m.name, m.val); err != nil {
			return err
		}
	}
	return nil
}

func refMember(name, val []byte) *ObjectError {
	switch {
	case bytes.HasPrefix(name, []byte("x_")):
		// Custom properties are kept as they are: ATT&CK, rated valid by
		// the OASIS validator, has "x_mitre_data_source_ref": "".
	case bytes.HasSuffix(name, []byte("_ref")):
		_, err := refValue(string(name), val, typeFilter{})
		return err
	case bytes.HasSuffix(name, []byte("_refs")):
		_, err := refList(string(name), val, typeFilter{})
		return err
	}
	switch kind(val) {
	case '{', '[':
		if err := nestedRefs(val); err != nil {
			return err.prefix(string(name))
		}
	}
	return nil
}

func nestedRefs(val []byte) *ObjectError {
	if kind(val) == '{' {
		it := newObjIter(val)
		for {
			name, v, ok := it.next()
			if !ok {
				return nil
			}
			if err := refMember(name, v); err != nil {
				return err
			}
		}
	}
	it := newArrIter(val)
	for n := 0; ; n++ {
		e, ok := it.next()
		if !ok {
			return nil
		}
		switch kind(e) {
		case '{', '[':
			if err := nestedRefs(e); err != nil {
				return err.prefix("[" + strconv.Itoa(n) + "]")
			}
		}
	}
}

// typeFilter restricts the object types an identifier may reference; want
// describes the accepted types for error messages. A nil ok accepts any type.
type typeFilter struct {
	ok   func(t string) bool
	want string
}

func identityOnly() typeFilter {
	return typeFilter{func(t string) bool { return t == "identity" }, "an identity"}
}

func markingOnly() typeFilter {
	return typeFilter{func(t string) bool { return t == "marking-definition" }, "a marking-definition"}
}

// refValue checks one identifier value, optionally restricted by type.
func refValue(prop string, v []byte, filter typeFilter) (string, *ObjectError) {
	if kind(v) != '"' {
		return "", propErr(prop, "must be a string identifier")
	}
	raw := unquoteBytes(v)
	if !IsValidID(raw) {
		return "", propErr(prop, "%q is not a STIX identifier", raw)
	}
	id := string(raw)
	if filter.ok != nil && !filter.ok(IDType(id)) {
		return "", propErr(prop, "must reference %s, not %s", filter.want, IDType(id))
	}
	return id, nil
}

// refList checks a non-empty list of identifiers.
func refList(prop string, v []byte, filter typeFilter) ([]string, *ObjectError) {
	if kind(v) != '[' {
		return nil, propErr(prop, "must be a list of identifiers")
	}
	var ids []string
	it := newArrIter(v)
	for n := 0; ; n++ {
		e, ok := it.next()
		if !ok {
			if n == 0 {
				return nil, propErr(prop, "must not be an empty list")
			}
			return ids, nil
		}
		id, err := refValue("", e, filter)
		if err != nil {
			return nil, err.prefix(prop + "[" + strconv.Itoa(n) + "]")
		}
		if filter.ok != nil {
			ids = append(ids, id) // only typed lists are kept by callers
		}
	}
}

// stringList checks a non-empty list of strings.
func stringList(prop string, v []byte) *ObjectError {
	if kind(v) != '[' {
		return propErr(prop, "must be a list of strings")
	}
	it := newArrIter(v)
	for n := 0; ; n++ {
		e, ok := it.next()
		if !ok {
			if n == 0 {
				return propErr(prop, "must not be an empty list")
			}
			return nil
		}
		if kind(e) != '"' {
			return propErr(prop+"["+strconv.Itoa(n)+"]", "must be a string")
		}
	}
}

// memberValue finds one member of an object value, or nil.
func memberValue(obj []byte, name string) []byte {
	it := newObjIter(obj)
	for {
		n, v, ok := it.next()
		if !ok {
			return nil
		}
		if string(n) == name {
			return v
		}
	}
}

// timestampValue parses a timestamp string value.
func timestampValue(v []byte, minFrac int) (string, time.Time, bool) {
	s, ok := stringValue(v)
	if !ok {
		return "", time.Time{}, false
	}
	t, ok := parseTimestamp(s, minFrac)
	return s, t, ok
}

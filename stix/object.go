package stix

import (
	"fmt"
	"time"
)

// Limits bound what a parser accepts. Zero values mean the defaults.
type Limits struct {
	MaxBytes       int // whole input; default 64 MiB
	MaxObjects     int // objects per bundle; default 100_000
	MaxDepth       int // JSON nesting depth; default 64
	MaxObjectBytes int // one object; default 4 MiB
}

// Default limits.
const (
	DefaultMaxBytes       = 64 << 20
	DefaultMaxObjects     = 100_000
	DefaultMaxDepth       = 64
	DefaultMaxObjectBytes = 4 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = DefaultMaxObjects
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxObjectBytes <= 0 {
		l.MaxObjectBytes = DefaultMaxObjectBytes
	}
	return l
}

// Object is one STIX object as received. Raw is the object's JSON exactly as
// it appeared in the input, compacted: whitespace outside strings is removed,
// member order, string escapes and numbers are untouched. Tearline never
// alters Raw.
type Object struct {
	Type, ID, SpecVersion string
	// Created and Modified are the timestamp strings as received ("" if absent).
	Created, Modified string
	// CreatedAt and ModifiedAt are parsed; ModifiedAt == CreatedAt when
	// modified is absent; both are zero if there is no created (SCOs).
	CreatedAt, ModifiedAt time.Time
	CreatedByRef          string
	Revoked               bool
	ObjectMarkingRefs     []string
	GranularMarkings      []GranularMarking
	Raw                   []byte
}

// GranularMarking is one entry of granular_markings. Exactly one of
// MarkingRef and Lang is set.
type GranularMarking struct {
	Selectors  []string
	MarkingRef string
	Lang       string
}

// Version returns the version part of the object's version key: the key of
// one version is (o.ID, o.Version()). It is Modified, or Created when there is
// no modified, or "" for unversioned objects (SCOs and marking definitions,
// STIX 2.1 §3.6).
func (o Object) Version() string {
	switch classOf(o.Type) {
	case classMarking, classSCO:
		return ""
	}
	if o.Modified != "" {
		return o.Modified
	}
	return o.Created
}

// ObjectError says why one object was refused.
type ObjectError struct {
	Index    int    // position in the bundle (0 for a single object)
	ID       string // "" if absent or not a string
	Property string // JSON path such as "granular_markings[0].selectors[1]"; "" for the whole object
	Reason   string // a human sentence
}

func (e *ObjectError) Error() string {
	id := e.ID
	if id == "" {
		id = fmt.Sprintf("object %d", e.Index)
	}
	if e.Property == "" {
		return id + ": " + e.Reason
	}
	return id + ": " + e.Property + ": " + e.Reason
}

// prefix puts a parent path component in front of e.Property, for errors
// found while descending into nested values.
func (e *ObjectError) prefix(parent string) *ObjectError {
	switch {
	case e.Property == "":
		e.Property = parent
	case e.Property[0] == '[':
		e.Property = parent + e.Property
	default:
		e.Property = parent + "." + e.Property
	}
	return e
}

func propErr(prop, format string, args ...any) *ObjectError {
	return &ObjectError{Property: prop, Reason: fmt.Sprintf(format, args...)}
}

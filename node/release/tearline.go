package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
)

// tearlineNS is the UUIDv5 namespace of tearline ids: the same original
// version released to the same party always gives the same id, so a retry
// stores nothing new.
var tearlineNS = uuid.MustParse("6f0b7f7e-4a39-5c1e-9d1a-7465726c696e")

// commonProps are the STIX common properties: an object left with only
// these says nothing.
var commonProps = []string{"type", "spec_version", "id", "created", "modified", "created_by_ref", "revoked", "labels",
	"confidence", "lang", "external_references", "object_marking_refs", "granular_markings", "extensions"}

// makeTearline makes, binds and stores the sanitised version of f for
// party: the cut parts removed, refs to objects the party may not receive
// dropped, a new id, labelled at the dominant level of what remains, with a
// derived-from relationship to the original. It returns the new id and its
// label ids.
func (rs *Service) makeTearline(ctx context.Context, tx store.Tx, p *node.Principal, f *facts, best decision, party, purpose string) (string, []string, error) {
	red, err := stix.Redact(f.v.Raw, best.d.Cut.Selectors(f.obj.Parts))
	if err != nil {
		return "", nil, fmt.Errorf("tearline of %s: %w", f.v.ID, err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(red))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return "", nil, fmt.Errorf("tearline of %s: %w", f.v.ID, err)
	}
	compiled, _, err := rs.n.CompiledAgreements(ctx, tx)
	if err != nil {
		return "", nil, err
	}
	under := compiled[node.AgreementKey(best.Agreement, best.Version)]
	if err := rs.dropRefs(ctx, tx, m, under, party, purpose); err != nil {
		return "", nil, err
	}
	meaningful := false
	for k := range m {
		if !slices.Contains(commonProps, k) {
			meaningful = true
		}
	}
	if !meaningful {
		return "", nil, ErrNothingRemains
	}

	// The label: the dominant level of the whole and the parts that stay.
	remaining := slices.Clone(f.obj.Labels)
	for i, pt := range f.obj.Parts {
		if !best.d.Cut.Has(i) {
			remaining = append(remaining, pt.Label)
		}
	}
	l, err := label.Dominate(rs.n.Registry(), remaining...)
	if err != nil {
		return "", nil, fmt.Errorf("tearline of %s: label: %w", f.v.ID, err)
	}
	lid, lraw := l.ID(), rs.n.Registry().MarkingDefinition(l)

	// Our labels travel in the binding, not as markings: drop every
	// reference to one (the cut parts' included) and name the new label.
	ours := func(ref string) bool {
		return slices.Contains(f.wholeIDs, ref) || slices.Contains(f.partIDs, ref)
	}
	if refs, ok := m["object_marking_refs"].([]any); ok {
		refs = slices.DeleteFunc(refs, func(r any) bool { s, _ := r.(string); return ours(s) })
		m["object_marking_refs"] = append(refs, lid)
	} else {
		m["object_marking_refs"] = []any{lid}
	}
	if gms, ok := m["granular_markings"].([]any); ok {
		gms = slices.DeleteFunc(gms, func(g any) bool {
			gm, _ := g.(map[string]any)
			ref, _ := gm["marking_ref"].(string)
			return ours(ref)
		})
		if len(gms) == 0 {
			delete(m, "granular_markings")
		} else {
			m["granular_markings"] = gms
		}
	}
	typ, _ := m["type"].(string)
	id := TearlineID(typ, f.v.ID, node.KeyOf(f.v), party)
	m["id"] = id

	obj, canon, err := canonicalObject(m)
	if err != nil {
		// A required property was cut or dropped: no valid object remains.
		return "", nil, ErrNothingRemains
	}
	signer, err := rs.n.Signer()
	if err != nil {
		return "", nil, err
	}
	b, err := signer.Bind(binding.BindInput{ObjectID: obj.ID, ObjectModified: obj.Version(), CanonicalObject: canon,
		Labels: []binding.LabelInput{{ID: lid, Canonical: lraw}}, Kind: binding.KindAlternative, DerivedFromRef: f.primary.ID}, rs.n.Now())
	if err != nil {
		return "", nil, fmt.Errorf("tearline of %s: %w", f.v.ID, err)
	}
	if err := tx.PutLabel(ctx, lid, lraw); err != nil {
		return "", nil, err
	}
	class, err := tx.AccessClass(ctx, []string{lid})
	if err != nil {
		return "", nil, err
	}
	detail := "tearline of " + f.v.ID + "@" + f.v.Modified + " for " + party
	if err := rs.putDerived(ctx, tx, p, obj, canon, b, class, lid, detail); err != nil {
		return "", nil, err
	}

	// The derived-from relationship, labelled and bound like the tearline.
	created := obj.Modified
	if created == "" {
		created = rs.n.Now().Format(binding.TimeLayout)
	}
	rel := map[string]any{"type": "relationship", "spec_version": "2.1",
		"id":      DerivedFromID(id),
		"created": created, "modified": created, "relationship_type": "derived-from",
		"source_ref": id, "target_ref": f.v.ID, "object_marking_refs": []any{lid}}
	robj, rcanon, err := canonicalObject(rel)
	if err != nil {
		return "", nil, fmt.Errorf("tearline of %s: relationship: %w", f.v.ID, err)
	}
	rb, err := signer.Bind(binding.BindInput{ObjectID: robj.ID, ObjectModified: robj.Version(), CanonicalObject: rcanon,
		Labels: []binding.LabelInput{{ID: lid, Canonical: lraw}}}, rs.n.Now())
	if err != nil {
		return "", nil, fmt.Errorf("tearline of %s: relationship: %w", f.v.ID, err)
	}
	if err := rs.putDerived(ctx, tx, p, robj, rcanon, rb, class, lid, "derived-from of "+id); err != nil {
		return "", nil, err
	}

	// Provenance: the tearline carries the original's obligations.
	prov := store.Provenance{ObjectID: id, Originator: rs.n.Config().Name, ReceivedAt: rs.n.Now(), DerivedFrom: DerivedFrom(f.v.ID, node.KeyOf(f.v))}
	if op, err := tx.Provenance(ctx, f.v.ID); err == nil {
		prov.Originator, prov.ReceivedFrom, prov.Hops, prov.ReceivedAt = op.Originator, op.ReceivedFrom, op.Hops, op.ReceivedAt
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", nil, err
	}
	if err := tx.PutProvenance(ctx, prov); err != nil && !errors.Is(err, store.ErrExists) {
		return "", nil, err
	}
	return id, []string{lid}, nil
}

// putDerived stores an object this node made, with its audit entry.
func (rs *Service) putDerived(ctx context.Context, tx store.Tx, p *node.Principal, obj stix.Object, canon []byte, b *binding.Binding, class int64, lid, detail string) error {
	v := store.ObjectVersion{ID: obj.ID, Type: obj.Type, Modified: obj.Version(), ModifiedAt: obj.ModifiedAt, Created: obj.Created,
		Revoked: obj.Revoked, Digest: b.ObjectDigest, Raw: canon, Bindings: append(append([]byte("["), b.Raw...), ']'),
		Class: class, Originator: rs.n.Config().Name, DateAdded: rs.n.Now()}
	created, err := tx.PutObject(ctx, &v)
	if err != nil {
		return fmt.Errorf("store %s: %w", obj.ID, err)
	}
	status := "created"
	if !created {
		status = "exists"
	}
	return rs.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionIngest, Object: v.ID, Modified: v.Modified,
		Labels: []string{lid}, Decision: audit.Accept, Detail: clip.String(status+": "+detail, 300)})
}

func canonicalObject(m map[string]any) (stix.Object, []byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return stix.Object{}, nil, err
	}
	obj, err := stix.ValidateObject(raw)
	if err != nil {
		return stix.Object{}, nil, err
	}
	canon, err := jcs.Canonicalize(obj.Raw)
	if err != nil {
		return stix.Object{}, nil, err
	}
	return obj, canon, nil
}

// dropRefs removes from m every reference (a *_ref or *_refs property, at
// the top or nested in an extension or a list of parts) to an object party
// may not receive under a: one this node does not hold, or one whose own
// release would not go whole. Markings and the creator's identity stay.
func (rs *Service) dropRefs(ctx context.Context, tx store.Tx, m map[string]any, a *policy.Agreement, party, purpose string) error {
	ok := map[string]bool{}
	allowed := func(id string) (bool, error) {
		if v, seen := ok[id]; seen {
			return v, nil
		}
		ok[id] = false
		versions, err := tx.Versions(ctx, id)
		if err != nil || len(versions) == 0 || a == nil {
			return false, err
		}
		v := versions[len(versions)-1]
		c, err := rs.n.Classes().Of(ctx, tx, v.Class)
		if err != nil {
			return false, err
		}
		compiled, _, err := rs.n.CompiledAgreements(ctx, tx)
		if err != nil {
			return false, err
		}
		rf, err := rs.buildFacts(ctx, tx, v, c, compiled)
		if err != nil {
			return false, err
		}
		d := policy.Decide(a, rf.obj, policy.Recipient{Party: party}, purpose, rs.n.Now())
		ok[id] = d.Outcome == policy.Release
		return ok[id], nil
	}
	return filterRefs(m, allowed)
}

// filterRefs removes from m, and from every object nested in it (an
// extension, a list of parts), each reference allowed refuses: a *_ref
// property, or an entry of a *_refs list (the list goes when it empties).
// Markings (object_marking_refs, a granular marking's marking_ref) and the
// creator's identity stay: the tearline's labels are set apart.
func filterRefs(m map[string]any, allowed func(id string) (bool, error)) error {
	for k, val := range m {
		switch {
		case k == "object_marking_refs" || k == "created_by_ref" || k == "marking_ref":
		case strings.HasSuffix(k, "_ref"):
			s, _ := val.(string)
			good, err := allowed(s)
			if err != nil {
				return err
			}
			if !good {
				delete(m, k)
			}
		case strings.HasSuffix(k, "_refs"):
			list, _ := val.([]any)
			var keep []any
			for _, r := range list {
				s, _ := r.(string)
				good, err := allowed(s)
				if err != nil {
					return err
				}
				if good {
					keep = append(keep, r)
				}
			}
			if len(keep) == 0 {
				delete(m, k)
			} else {
				m[k] = keep
			}
		default:
			if err := filterNested(val, allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

func filterNested(v any, allowed func(id string) (bool, error)) error {
	switch x := v.(type) {
	case map[string]any:
		return filterRefs(x, allowed)
	case []any:
		for _, e := range x {
			if err := filterNested(e, allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrNothingRemains refuses a tearline that would leave only common
// properties (or not even a valid object): nothing is released instead.
var ErrNothingRemains = errors.New("nothing meaningful remains after the tearline")

// DerivedFromID is the id of the derived-from relationship that ties
// tearline to what it was cut from: recalls purge it with the tearline.
func DerivedFromID(tearline string) string {
	return "relationship--" + uuid.NewSHA1(tearlineNS, []byte(tearline+"\x00derived-from")).String()
}

// TearlineID is the id of the tearline of version k of object id (of STIX
// type typ) for party: the same on every call, so a tearline is made once
// per version and party. Two instances' versions sharing a modified get
// two tearlines; the default instance's ids are those made before
// instances.
func TearlineID(typ, id string, k node.VersionKey, party string) string {
	name := id + "\x00" + k.Modified + "\x00" + party
	if k.Instance != 0 {
		name += "\x00" + strconv.FormatInt(k.Instance, 10)
	}
	return typ + "--" + uuid.NewSHA1(tearlineNS, []byte(name)).String()
}

// DerivedFrom is a tearline's provenance DerivedFrom for version k of id:
// "id@modified", and "@instance" after it for an instance other than the
// default (ParseDerivedFrom reads both).
func DerivedFrom(id string, k node.VersionKey) string {
	s := id + "@" + k.Modified
	if k.Instance != 0 {
		s += "@" + strconv.FormatInt(k.Instance, 10)
	}
	return s
}

// ParseDerivedFrom reads what DerivedFrom writes; ok false for anything
// else.
func ParseDerivedFrom(s string) (id string, k node.VersionKey, ok bool) {
	id, rest, ok := strings.Cut(s, "@")
	if !ok {
		return "", node.VersionKey{}, false
	}
	k.Modified, rest, _ = strings.Cut(rest, "@")
	if rest != "" {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < 0 {
			return "", node.VersionKey{}, false
		}
		k.Instance = n
	}
	return id, k, true
}

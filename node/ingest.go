package node

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/instance"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/jcs"
	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/store"
)

// IngestOptions adjust one ingest.
type IngestOptions struct {
	// Label is a banner bound to objects that carry no classification label
	// of ours. When empty, the submitting user's default label applies.
	Label string
	// Limits bound the parser; zero values are the defaults.
	Limits stix.Limits
	// RetainUntil, when set, is when the objects must be purged (see
	// RunRetention); an object keeps the earliest time any ingest gave it.
	RetainUntil time.Time
}

// IngestResult says what landed and what did not.
type IngestResult struct {
	Landed  []Landed  `json:"landed"`
	Refused []Refusal `json:"refused"`
}

// Landed is one object version that is now stored.
type Landed struct {
	ID       string `json:"id"`
	Modified string `json:"modified,omitempty"`
	// Status is "created", or "exists" for a version already held.
	Status string `json:"status"`
	// instance is the instance the version joined or started: never in
	// the answer, which must read as it would for a fresh id
	// (docs/SECURITY.md), but named in the follow-up rows it leads to.
	instance int64
}

// Refusal is one object that was refused, with why.
type Refusal struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Property string `json:"property,omitempty"`
	Reason   string `json:"reason"`
}

func (r Refusal) String() string {
	id := r.ID
	if id == "" {
		id = fmt.Sprintf("object %d", r.Index)
	}
	if r.Property != "" {
		return id + ": " + r.Property + ": " + r.Reason
	}
	return id + ": " + r.Reason
}

// ingestChunk is how many objects share one write transaction: big enough to
// amortise the commit's fsync, small enough that signing the next chunk
// overlaps writing this one.
const ingestChunk = 2048

// chunkSize is the chunk for a bundle of n objects. A bundle of fewer than
// two full chunks would be one chunk with nothing to overlap (all of it
// signed and sealed, then all of it written): such a bundle, a TAXII
// envelope or an API publish of a thousand objects say, is cut in four so
// that preparing one part overlaps writing the one before, for the price of
// four commits instead of one. Small bundles stay whole.
func chunkSize(n int) int {
	const minChunk = 128
	if n >= 2*ingestChunk {
		return ingestChunk
	}
	return max(minChunk, (n+3)/4)
}

// labelRef is a label known to this ingest: parsed, with the exact bytes its
// digest covers.
type labelRef struct {
	l   label.Label
	raw []byte
}

// item is one object on its way into the store.
type item struct {
	index   int
	obj     stix.Object
	whole   []string            // label ids for the whole object
	parts   []binding.PartInput // stricter labels for parts
	foreign []*binding.Binding  // bindings that arrived with the object
	class   []string            // every label id a reader must satisfy
	version store.ObjectVersion
	entry   []byte // audit leaf for "created"
	refusal *Refusal
}

// Ingest validates, labels, binds and stores a STIX bundle or object.
// Objects are independent: a bad one is refused with a reason and the rest
// land. Each stored object, its binding and its audit entry commit together.
func (n *Node) Ingest(ctx context.Context, p *Principal, data []byte, o IngestOptions) (*IngestResult, error) {
	if err := Authorize(p, ActPublish); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	objs, bad, err := stix.Parse(data, o.Limits)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	res := &IngestResult{Landed: []Landed{}, Refused: []Refusal{}}
	for _, b := range bad {
		res.Refused = append(res.Refused, Refusal{Index: b.Index, ID: b.ID, Property: b.Property, Reason: b.Reason})
	}

	var fallback *labelRef
	banner := o.Label
	if banner == "" {
		banner = p.User.DefaultLabel
	}
	if banner != "" {
		l, err := n.reg.ParseBanner(banner)
		if err == nil {
			l = n.CompleteLabel(l)
			err = n.reg.Validate(l)
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: label %q: %w", banner, err)
		}
		fallback = &labelRef{l: l, raw: n.reg.MarkingDefinition(l)}
	}

	labels := map[string]*labelRef{}
	if fallback != nil {
		labels[fallback.l.ID()] = fallback
	}
	bindings := map[string][]*binding.Binding{} // object id + "\x00" + version
	badBindings := map[string]string{}          // object id -> why its binding was refused
	var items []*item
	for i := range objs {
		ob := &objs[i]
		switch ob.Type {
		case "marking-definition":
			l, ours, err := label.ParseMarkingDefinition(ob.Raw)
			if err == nil && ours {
				err = n.reg.Validate(l)
			}
			if err != nil {
				res.Refused = append(res.Refused, Refusal{Index: i, ID: ob.ID, Property: "extensions", Reason: "label: " + err.Error()})
				continue
			}
			if ours {
				canon, err := jcs.Canonicalize(ob.Raw)
				if err != nil {
					res.Refused = append(res.Refused, Refusal{Index: i, ID: ob.ID, Reason: err.Error()})
					continue
				}
				labels[ob.ID] = &labelRef{l: l, raw: canon}
				continue
			}
		case binding.Type:
			b, err := binding.Parse(ob.Raw)
			if err != nil {
				res.Refused = append(res.Refused, Refusal{Index: i, ID: ob.ID, Reason: err.Error()})
				// The object it claims to bind must not land unbound, under
				// a fallback label instead of the originator's.
				var claim struct {
					ObjectRef string `json:"object_ref"`
				}
				if json.Unmarshal(ob.Raw, &claim) == nil && claim.ObjectRef != "" {
					badBindings[claim.ObjectRef] = ob.ID + ": " + err.Error()
				}
				continue
			}
			k := b.ObjectRef + "\x00" + b.ObjectModified
			bindings[k] = append(bindings[k], b)
			continue
		}
		items = append(items, &item{index: i, obj: *ob})
	}

	// Resolve each object's labels: from its bindings, else from the labels
	// of ours it references, else the fallback.
	lookup := func(id string) *labelRef {
		if l, ok := labels[id]; ok {
			return l
		}
		raw, err := n.st.Label(ctx, id)
		if err != nil {
			labels[id] = nil // remember the miss: most refs are TLP or statements
			return nil
		}
		l, ours, err := label.ParseMarkingDefinition(raw)
		if err != nil || !ours {
			labels[id] = nil
			return nil
		}
		lr := &labelRef{l: l, raw: raw}
		labels[id] = lr
		return lr
	}
	for _, it := range items {
		it.foreign = bindings[it.obj.ID+"\x00"+it.obj.Version()]
		delete(bindings, it.obj.ID+"\x00"+it.obj.Version())
		if why, ok := badBindings[it.obj.ID]; ok {
			it.refusal = &Refusal{Index: it.index, ID: it.obj.ID, Reason: "binding " + why}
			continue
		}
		if len(it.foreign) > 0 {
			continue // labels come from the verified binding
		}
		for _, ref := range it.obj.ObjectMarkingRefs {
			// A label listed twice is one label: the binding names it once.
			if lookup(ref) != nil && !slices.Contains(it.whole, ref) {
				it.whole = append(it.whole, ref)
			}
		}
		for _, g := range it.obj.GranularMarkings {
			if g.MarkingRef != "" && lookup(g.MarkingRef) != nil {
				lr := labels[g.MarkingRef]
				it.parts = append(it.parts, binding.PartInput{Selectors: g.Selectors, Label: binding.LabelInput{ID: g.MarkingRef, Canonical: lr.raw}})
			}
		}
		if len(it.whole) == 0 && fallback != nil {
			it.whole = []string{fallback.l.ID()}
		}
		if len(it.whole) == 0 {
			it.refusal = &Refusal{Index: it.index, ID: it.obj.ID, Property: "object_marking_refs",
				Reason: "no classification label: the object references no Tearline label, and neither --label nor the user's default label applies"}
		}
	}
	for _, bs := range bindings {
		for _, b := range bs {
			res.Refused = append(res.Refused, Refusal{ID: b.ID, Property: "object_ref", Reason: "binding for " + b.ObjectRef + " version " + b.ObjectModified + " arrived without that object"})
		}
	}

	// Canonicalise and sign (or verify) in parallel, one chunk ahead of the
	// writer.
	chunks := make(chan []*item, 4)
	go func() {
		defer close(chunks)
		size := chunkSize(len(items))
		for start := 0; start < len(items); start += size {
			chunk := items[start:min(start+size, len(items))]
			prepare(n, chunk, labels, p.Actor())
			select {
			case chunks <- chunk:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Automatic releases follow the commit, from rows each chunk writes
	// (followup.go). When the look before fails, the rows are written
	// anyway: whoever carries them out looks again.
	targets, terr := n.AutoReleaseTargets(ctx, "")
	if terr != nil {
		n.log.Warn("ingest: automatic release", "err", terr)
	}
	auto := terr != nil || len(targets) > 0
	var follow []store.Followup
	var writeErr error
	for chunk := range chunks {
		if writeErr == nil {
			writeErr = writeChunk(n, ctx, p, chunk, labels, o, auto, res, &follow)
		}
		if writeErr != nil {
			for _, it := range chunk {
				if it.refusal == nil {
					res.Refused = append(res.Refused, Refusal{Index: it.index, ID: it.obj.ID, Reason: "not stored: " + writeErr.Error()})
				}
			}
		}
	}
	if err := ctx.Err(); err != nil && writeErr == nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	// What landed is committed with its follow-up rows: automatic releases
	// and sightings back are carried out now, each in its own transaction.
	// Their failure does not undo the ingest; the rows stay for serve.
	n.Followups().Do(ctx, follow)
	// Refusals are security events too.
	if len(res.Refused) > 0 {
		slices.SortFunc(res.Refused, func(a, b Refusal) int { return a.Index - b.Index })
		events := make([]audit.Event, 0, len(res.Refused))
		for _, r := range res.Refused {
			events = append(events, audit.Event{Actor: p.Actor(), Action: audit.ActionIngestRefuse, Object: r.ID,
				Decision: audit.Refuse, Reasons: []string{r.Property}, Detail: clip.String(r.Reason, 200)})
		}
		if err := n.st.Update(ctx, func(tx store.Tx) error { return n.AppendAudit(ctx, tx, events...) }); err != nil {
			return res, fmt.Errorf("ingest: audit refusals: %w", err)
		}
	}
	return res, nil
}

// prepare canonicalises, digests and binds each item of chunk, in parallel,
// with the node's keys as they are when the chunk starts (one look at the
// key files per chunk, not per object).
func prepare(n *Node, chunk []*item, labels map[string]*labelRef, actor string) {
	ks, kerr := n.keys.Current()
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(chunk))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(chunk) {
					return
				}
				if it := chunk[i]; it.refusal == nil {
					if kerr != nil {
						it.refusal = &Refusal{Index: it.index, ID: it.obj.ID, Reason: "node keys: " + kerr.Error()}
						continue
					}
					prepareOne(n, it, ks, labels, actor)
				}
			}
		}()
	}
	wg.Wait()
}

func prepareOne(n *Node, it *item, ks datadir.KeySet, labels map[string]*labelRef, actor string) {
	refuse := func(prop, reason string) {
		it.refusal = &Refusal{Index: it.index, ID: it.obj.ID, Property: prop, Reason: reason}
	}
	canon, err := jcs.Canonicalize(it.obj.Raw)
	if err != nil {
		refuse("", err.Error())
		return
	}
	var bound []*binding.Binding
	if len(it.foreign) > 0 {
		for _, b := range it.foreign {
			supplied := map[string][]byte{}
			for _, ref := range b.Labels {
				if lr := labels[ref.Ref]; lr != nil {
					supplied[ref.Ref] = lr.raw
				}
			}
			for _, pl := range b.PartLabels {
				if lr := labels[pl.Ref]; lr != nil {
					supplied[pl.Ref] = lr.raw
				}
			}
			if err := ks.Keyring.Verify(b, canon, supplied); err != nil {
				refuse("", "binding "+b.ID+": "+err.Error())
				return
			}
			for _, ref := range b.Labels {
				it.whole = append(it.whole, ref.Ref)
			}
			for _, pl := range b.PartLabels {
				it.parts = append(it.parts, binding.PartInput{Selectors: pl.Selectors, Label: binding.LabelInput{ID: pl.Ref}})
			}
		}
		bound = it.foreign
	} else {
		in := binding.BindInput{ObjectID: it.obj.ID, ObjectModified: it.obj.Version(), CanonicalObject: canon, Parts: it.parts, Kind: "originator"}
		for _, id := range it.whole {
			in.Labels = append(in.Labels, binding.LabelInput{ID: id, Canonical: labels[id].raw})
		}
		b, err := ks.Signer.Bind(in, n.now())
		if err != nil {
			refuse("", "bind: "+err.Error())
			return
		}
		bound = []*binding.Binding{b}
	}
	class := slices.Clone(it.whole)
	for _, pl := range it.parts {
		class = append(class, pl.Label.ID)
	}
	slices.Sort(class)
	it.class = slices.Compact(class)
	var bb bytes.Buffer
	bb.WriteByte('[')
	for i, b := range bound {
		if i > 0 {
			bb.WriteByte(',')
		}
		bb.Write(b.Raw)
	}
	bb.WriteByte(']')
	it.version = store.ObjectVersion{
		ID: it.obj.ID, Type: it.obj.Type, Modified: it.obj.Version(), ModifiedAt: it.obj.ModifiedAt,
		Created: it.obj.Created, Revoked: it.obj.Revoked, Digest: bound[0].ObjectDigest,
		Raw: it.obj.Raw, Bindings: bb.Bytes(), Originator: bound[0].Node,
	}
	// Hashing the search terms (searchindex.go) and sealing here, in the
	// parallel workers, keeps both off the single writer's path.
	if n.index != nil {
		it.version.SearchTerms = n.index.Hasher().Terms(it.obj.Raw)
	}
	if err := n.sealed.Keys().SealVersion(&it.version); err != nil {
		refuse("", "seal: "+err.Error())
		return
	}
	// The audit entry for the usual outcome; a resend is re-stamped by the writer.
	entry, err := stamp(ingestEvent(actor, it, "created"), n.now(), n.cfg.Name)
	if err != nil {
		refuse("", "audit: "+err.Error())
		return
	}
	it.entry = entry
}

func ingestEvent(actor string, it *item, status string) audit.Event {
	return audit.Event{Actor: actor, Action: audit.ActionIngest, Object: it.version.ID, Modified: it.version.Modified,
		Labels: it.class, Decision: audit.Accept, Detail: status}
}

// writeChunk stores one chunk in one transaction, with an audit entry per
// object. An object the store refuses (a conflicting or post-revocation
// version) is reported and the rest of the chunk still lands.
func writeChunk(n *Node, ctx context.Context, p *Principal, chunk []*item, labels map[string]*labelRef, o IngestOptions, auto bool,
	res *IngestResult, follow *[]store.Followup) error {
	var landed []Landed
	var refused []Refusal
	var fs []store.Followup
	err := n.st.Update(ctx, func(tx store.Tx) error {
		landed, refused, fs = landed[:0], refused[:0], fs[:0]
		classes := map[string]int64{}
		putLabels := map[string]bool{}
		entries := make([][]byte, 0, len(chunk))
		batch := make([]*store.ObjectVersion, 0, len(chunk))
		batchItems := make([]*item, 0, len(chunk))
		for _, it := range chunk {
			if it.refusal != nil {
				refused = append(refused, *it.refusal)
				continue
			}
			key := strings.Join(it.class, ",")
			cid, ok := classes[key]
			if !ok {
				for _, id := range it.class {
					if !putLabels[id] {
						lr := labels[id]
						if lr == nil {
							return fmt.Errorf("label %s for %s: %w", id, it.obj.ID, store.ErrNotFound)
						}
						if err := tx.PutLabel(ctx, id, lr.raw); err != nil {
							return err
						}
						putLabels[id] = true
					}
				}
				var err error
				if cid, err = tx.AccessClass(ctx, it.class); err != nil {
					return err
				}
				classes[key] = cid
			}
			v := it.version
			v.Class = cid
			batch = append(batch, &v)
			batchItems = append(batchItems, it)
		}
		// Which instance each version joins is decided in the transaction
		// that stores it, against what is stored now (package instance).
		if err := instance.Assign(ctx, tx, batch, instance.Reads(n.classes, n.reg, tx, p.Subject)); err != nil {
			return err
		}
		created, errs, err := PutObjects(ctx, tx, batch)
		if err != nil {
			return err
		}
		for i, v := range batch {
			it := batchItems[i]
			if err := errs[i]; err != nil {
				refused = append(refused, Refusal{Index: it.index, ID: it.obj.ID, Property: "modified", Reason: err.Error()})
				continue
			}
			status := "created"
			if !created[i] {
				status = "exists"
			}
			if !o.RetainUntil.IsZero() {
				if err := tx.SetRetention(ctx, store.Retained{ID: v.ID, Instance: v.Instance, ModifiedAt: v.ModifiedAt, Until: o.RetainUntil}); err != nil {
					return err
				}
			}
			landed = append(landed, Landed{ID: v.ID, Modified: v.Modified, Status: status, instance: v.Instance})
			if created[i] && v.Type == "sighting" { // sightings back to the originator (sighting.go), after the commit
				f, err := n.Followups().Add(ctx, tx, store.FollowupSighting, p, "", VersionRef{ID: v.ID, Modified: v.Modified, Instance: v.Instance})
				if err != nil {
					return err
				}
				fs = append(fs, f)
			}
			entry := it.entry
			if !created[i] {
				if entry, err = stamp(ingestEvent(p.Actor(), it, status), n.now(), n.cfg.Name); err != nil {
					return err
				}
			}
			entries = append(entries, entry)
		}
		if auto {
			rows, err := n.Followups().AddAutoReleases(ctx, tx, p, "", CreatedOf(landed))
			if err != nil {
				return err
			}
			fs = append(fs, rows...)
		}
		if len(entries) == 0 {
			return nil
		}
		_, err = tx.AppendAudit(ctx, entries...)
		return err
	})
	if err != nil {
		return err
	}
	*follow = append(*follow, fs...)
	res.Landed = append(res.Landed, landed...)
	res.Refused = append(res.Refused, refused...)
	return nil
}

// PutObjects stores vs, in one call where the store can, grouped by type
// and access class (see clusterOrder). Per-object refusals (a conflicting
// or post-revocation version) come back in errs, by vs's index; err means
// the transaction must be abandoned.
func PutObjects(ctx context.Context, tx store.Tx, vs []*store.ObjectVersion) ([]bool, []error, error) {
	order := clusterOrder(vs)
	sorted := make([]*store.ObjectVersion, len(vs))
	for i, j := range order {
		sorted[i] = vs[j]
	}
	c, e, err := store.PutBatch(ctx, tx, sorted)
	if err != nil {
		return nil, nil, err
	}
	created := make([]bool, len(vs))
	errs := make([]error, len(vs))
	for i, j := range order {
		created[j], errs[j] = c[i], e[i]
	}
	return created, errs, nil
}

// clusterOrder is the order in which to store a batch: grouped by type,
// then by access class, otherwise as given. Stores lay rows out in the
// order they are stored (a SQLite table by seq, a PostgreSQL heap by
// insertion), so a bundle's reports, say, then sit on consecutive database
// pages, and a type-filtered page at a large node reads runs of pages
// instead of one scattered page per row. Every version of one object keeps
// the key of its first, so their relative order, which decides outcomes
// (a revoked version refuses later ones), is the order given.
func clusterOrder(vs []*store.ObjectVersion) []int {
	type key struct {
		typ   string
		class int64
	}
	first := make(map[string]key, len(vs))
	keys := make([]key, len(vs))
	for i, v := range vs {
		k, ok := first[v.ID]
		if !ok {
			k = key{v.Type, v.Class}
			first[v.ID] = k
		}
		keys[i] = k
	}
	order := make([]int, len(vs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := strings.Compare(keys[a].typ, keys[b].typ); c != 0 {
			return c
		}
		return cmp.Compare(keys[a].class, keys[b].class)
	})
	return order
}

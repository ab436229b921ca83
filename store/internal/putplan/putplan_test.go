package putplan

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

func version(id string, sec int, digest string, revoked bool) *store.ObjectVersion {
	m := time.Date(2026, 1, 1, 0, 0, sec, 0, time.UTC)
	return &store.ObjectVersion{ID: id, Modified: m.Format(time.RFC3339), ModifiedAt: m, Digest: digest, Revoked: revoked}
}

func us(sec int) int64 { return time.Date(2026, 1, 1, 0, 0, sec, 0, time.UTC).UnixMicro() }

func TestMake(t *testing.T) {
	stored := map[string][]Stored{
		"a": {{Seq: 1, ModUS: us(10), Digest: "a10"}},
		"r": {{Seq: 2, ModUS: us(10), Digest: "r10", Revoked: true}},
	}
	purged := map[string][]store.Tombstone{"p": {{ID: "p", Instance: 0, Whole: true}}}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	vs := []*store.ObjectVersion{
		version("a", 10, "a10", false),   // 0: identical resend
		version("a", 10, "other", false), // 1: same version, other content
		version("a", 5, "a5", false),     // 2: older than stored: inserted, has a newer one
		version("a", 20, "a20", false),   // 3: newer: inserted, marks the older ones
		version("r", 20, "r20", false),   // 4: after a revocation
		version("p", 1, "p1", false),     // 5: purged object
		version("n", 1, "n1", false),     // 6: new
		version("n", 1, "n1", false),     // 7: resend of 6 within the batch
	}
	p := Make(vs, stored, purged, now)
	wantCreated := []bool{false, false, true, true, false, false, true, false}
	if !slices.Equal(p.Created, wantCreated) {
		t.Errorf("Created = %v, want %v", p.Created, wantCreated)
	}
	wantErr := []error{nil, store.ErrConflict, nil, nil, store.ErrRevoked, store.ErrPurged, nil, nil}
	for i, want := range wantErr {
		if (want == nil) != (p.Errs[i] == nil) || (want != nil && !errors.Is(p.Errs[i], want)) {
			t.Errorf("Errs[%d] = %v, want %v", i, p.Errs[i], want)
		}
	}
	if len(p.Insert) != 3 || p.Insert[0] != vs[2] || p.Insert[1] != vs[3] || p.Insert[2] != vs[6] {
		t.Fatalf("Insert = %v, want versions 2, 3 and 6", p.Insert)
	}
	if !slices.Equal(p.Newer, []bool{true, false, false}) {
		t.Errorf("Newer = %v, want [true false false]", p.Newer)
	}
	if len(p.MarkOlder) != 1 || p.MarkOlder[0] != vs[3] {
		t.Errorf("MarkOlder = %v, want version 3", p.MarkOlder)
	}
	// Each inserted version its own date_added, two microseconds apart.
	for i, v := range p.Insert {
		if want := now.Add(time.Duration(2*i) * time.Microsecond); !v.DateAdded.Equal(want) {
			t.Errorf("DateAdded of insert %d: %v, want %v", i, v.DateAdded, want)
		}
	}
	if !vs[0].DateAdded.IsZero() {
		t.Errorf("DateAdded: resend %v (want unset)", vs[0].DateAdded)
	}
	vs[2].Seq, vs[3].Seq = 7, 8
	p.Inserted()
	var older []int64
	for _, k := range p.Older(vs[3]) {
		older = append(older, k.Seq)
	}
	slices.Sort(older)
	if !slices.Equal(older, []int64{1, 7}) {
		t.Errorf("Older(a@20) seqs = %v, want [1 7]", older)
	}
	if n := len(p.Versions[Key{"a", 0}]); n != 3 {
		t.Errorf("Versions[a]: %d, want 3", n)
	}
}

// Instances never meet: a version of another instance of a stored id is
// not a resend, a conflict, after a revocation or purged, and supersedes
// nothing of the other instance.
func TestMakeInstances(t *testing.T) {
	stored := map[string][]Stored{
		"a": {{Seq: 1, ModUS: us(10), Digest: "a10"}},
		"r": {{Seq: 2, ModUS: us(10), Digest: "r10", Revoked: true}},
	}
	purged := map[string][]store.Tombstone{"p": {{ID: "p", Instance: 0, Whole: true}}}
	in := func(v *store.ObjectVersion, inst int64) *store.ObjectVersion { v.Instance = inst; return v }
	vs := []*store.ObjectVersion{
		in(version("a", 10, "other", false), 1), // 0: same version, other content, other instance
		in(version("a", 20, "a20", false), 1),   // 1: newer, other instance: marks nothing of instance 0
		in(version("r", 20, "r20", false), 1),   // 2: after a revocation of instance 0
		in(version("p", 1, "p1", false), 1),     // 3: an instance above the purged ones
		in(version("p", 2, "p2", false), 0),     // 4: the purged instance
	}
	p := Make(vs, stored, purged, time.Now())
	if want := []bool{true, true, true, true, false}; !slices.Equal(p.Created, want) {
		t.Errorf("Created = %v, want %v", p.Created, want)
	}
	for i := 0; i < 4; i++ {
		if p.Errs[i] != nil {
			t.Errorf("Errs[%d] = %v, want nil", i, p.Errs[i])
		}
	}
	if !errors.Is(p.Errs[4], store.ErrPurged) {
		t.Errorf("Errs[4] = %v, want ErrPurged", p.Errs[4])
	}
	if !slices.Equal(p.Newer, []bool{false, false, false, false}) {
		t.Errorf("Newer = %v, want none (a@20 of instance 0 is not newer than a@10 of instance 1)", p.Newer)
	}
	if len(p.MarkOlder) != 1 || p.MarkOlder[0] != vs[1] {
		t.Errorf("MarkOlder = %v, want a@20 (instance 1 only)", p.MarkOlder)
	}
	p.Inserted()
	for _, k := range p.Older(vs[1]) {
		if k.Instance != 1 {
			t.Errorf("Older(a@20 instance 1) holds a version of instance %d", k.Instance)
		}
	}
	if n := len(p.Versions[Key{"a", 1}]); n != 2 {
		t.Errorf("Versions[a instance 1]: %d, want 2 (its own two, none of instance 0)", n)
	}
}

// A tombstone that is not whole refuses the versions it names, in its own
// instance: later versions of that instance, and the same version in
// another instance, are stored.
func TestMakePurgedVersions(t *testing.T) {
	at := func(sec int) time.Time { return time.Date(2026, 1, 1, 0, 0, sec, 0, time.UTC) }
	stored := map[string][]Stored{"p": {{Seq: 1, ModUS: us(20), Digest: "p20"}}}
	purged := map[string][]store.Tombstone{"p": {{ID: "p", Instance: 0, VersionsAt: []time.Time{at(10)}}}}
	in := func(v *store.ObjectVersion, inst int64) *store.ObjectVersion { v.Instance = inst; return v }
	vs := []*store.ObjectVersion{
		version("p", 10, "p10", false),        // 0: the purged version, again
		version("p", 30, "p30", false),        // 1: a later version of the instance
		version("p", 5, "p5", false),          // 2: an earlier one never purged
		in(version("p", 10, "p10", false), 1), // 3: the purged version, in another instance
	}
	p := Make(vs, stored, purged, time.Now())
	if want := []bool{false, true, true, true}; !slices.Equal(p.Created, want) {
		t.Errorf("Created = %v, want %v", p.Created, want)
	}
	if !errors.Is(p.Errs[0], store.ErrPurged) {
		t.Errorf("Errs[0] = %v, want ErrPurged", p.Errs[0])
	}
	for i := 1; i < 4; i++ {
		if p.Errs[i] != nil {
			t.Errorf("Errs[%d] = %v, want nil", i, p.Errs[i])
		}
	}
}

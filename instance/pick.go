package instance

import (
	"context"
	"slices"

	"github.com/tearline/tearline/label"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// Readable is what a reader gets of an id by a read: Version, the latest
// version it may read of the instance of its highest level.
type Readable struct {
	Version store.ObjectVersion
	Class   policy.Class
	// Instances is how many instances the reader may read some version
	// of; 0: none, and Denied holds why.
	Instances int
	Denied    []string
}

// Pick picks, among versions (an id's, oldest first), the version a read
// by s returns: the latest version s may read of each instance; of
// several, the instance of s's highest level (its label dominates the
// other's, label.Dominate), and of labels that cannot be compared, the
// lowest-numbered. A read, and a release, which decides the version a read
// returns, both use it.
func Pick(ctx context.Context, cl Classes, reg *label.Registry, r store.Reader, s policy.Subject, versions []store.ObjectVersion) (Readable, error) {
	var out Readable
	var found []int64 // instances with a readable version; almost always none or one
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if slices.Contains(found, v.Instance) {
			continue
		}
		c, err := cl.Of(ctx, r, v.Class)
		if err != nil {
			return Readable{}, err
		}
		d := policy.CanRead(reg, s, c.Labels)
		if d.Allow {
			found = append(found, v.Instance)
			if len(found) == 1 || higher(reg, c, out.Class) || !higher(reg, out.Class, c) && v.Instance < out.Version.Instance {
				out.Version, out.Class = v, c
			}
			continue
		}
		for _, r := range d.Reasons {
			if !slices.Contains(out.Denied, string(r)) {
				out.Denied = append(out.Denied, string(r))
			}
		}
	}
	out.Instances = len(found)
	return out, nil
}

// higher reports whether class a is above class b: the labels of both
// together dominate to a's labels and not to b's. Classes that cannot be
// compared (other policies, differing originators) are not above each
// other.
func higher(reg *label.Registry, a, b policy.Class) bool {
	if len(a.Labels) == 0 || len(b.Labels) == 0 {
		return false
	}
	both, err := label.Dominate(reg, append(slices.Clone(a.Labels), b.Labels...)...)
	if err != nil {
		return false
	}
	da, err := label.Dominate(reg, a.Labels...)
	if err != nil {
		return false
	}
	db, err := label.Dominate(reg, b.Labels...)
	if err != nil {
		return false
	}
	return both.Equal(da) && !both.Equal(db)
}

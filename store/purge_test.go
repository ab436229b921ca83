package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// Selection.Purges: nothing named is every version of every instance; an
// instance named is that instance whole; versions named are found by
// their Modified in the instances selected, one purge per instance, and
// one not stored there is ErrNotFound.
func TestSelectionPurges(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	v := func(inst int64, s int) ObjectVersion {
		return ObjectVersion{ID: "x", Instance: inst, Modified: at(s).Format(time.RFC3339), ModifiedAt: at(s)}
	}
	all := []ObjectVersion{v(0, 1), v(0, 2), v(1, 2), v(1, 3)}
	now := at(100)
	for _, c := range []struct {
		what string
		sel  Selection
		want []Purge
		err  error
	}{
		{"nothing named", Selection{ID: "x", Reason: "admin"}, []Purge{{ID: "x", Instance: AllInstances, PurgedAt: now, Reason: "admin"}}, nil},
		{"an instance", Selection{ID: "x", Instances: []int64{1}, Reason: "admin"}, []Purge{{ID: "x", Instance: 1, PurgedAt: now, Reason: "admin"}}, nil},
		{"a version of every instance that has it", Selection{ID: "x", Versions: []string{all[1].Modified}, Reason: "admin"},
			[]Purge{{ID: "x", Instance: 0, Versions: []time.Time{at(2)}, PurgedAt: now, Reason: "admin"}, {ID: "x", Instance: 1, Versions: []time.Time{at(2)}, PurgedAt: now, Reason: "admin"}}, nil},
		{"versions of one instance", Selection{ID: "x", Instances: []int64{1}, Versions: []string{all[2].Modified, all[3].Modified}, Reason: "admin"},
			[]Purge{{ID: "x", Instance: 1, Versions: []time.Time{at(2), at(3)}, PurgedAt: now, Reason: "admin"}}, nil},
		{"a version the instance lacks", Selection{ID: "x", Instances: []int64{0}, Versions: []string{all[3].Modified}, Reason: "admin"}, nil, ErrNotFound},
	} {
		got, err := c.sel.Purges(all, now)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.what, got, err, c.want, c.err)
		}
	}
}

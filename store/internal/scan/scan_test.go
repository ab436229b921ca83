package scan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// rows is a result set of single-string rows, as a driver delivers them;
// failAt makes Scan of that row fail, err is what Err reports at the end.
type rows struct {
	vals   []string
	i      int
	failAt int
	err    error
}

func (r *rows) Next() bool { r.i++; return r.i <= len(r.vals) }

func (r *rows) Scan(dest ...any) error {
	if r.i == r.failAt {
		return fmt.Errorf("row %d: bad column", r.i)
	}
	*dest[0].(*string) = r.vals[r.i-1]
	return nil
}

func (r *rows) Err() error { return r.err }

func TestCollect(t *testing.T) {
	got, err := Collect(&rows{vals: []string{"a", "b", "c"}}, String)
	if err != nil || strings.Join(got, ",") != "a,b,c" {
		t.Errorf("Collect = %q, %v; want [a b c]", got, err)
	}
	// A row that does not scan ends it: nothing half read is returned.
	got, err = Collect(&rows{vals: []string{"a", "b", "c"}, failAt: 2}, String)
	if got != nil || err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("Collect with a bad row = %q, %v; want nil and row 2's error", got, err)
	}
	// The driver's error after the last row (a broken connection) is returned.
	broken := errors.New("connection reset")
	if _, err := Collect(&rows{vals: []string{"a"}, err: broken}, String); !errors.Is(err, broken) {
		t.Errorf("Collect with rows.Err = %v, want %v", err, broken)
	}
	if got, err := Collect(&rows{}, String); got != nil || err != nil {
		t.Errorf("Collect of no rows = %q, %v; want nil, nil", got, err)
	}
}

// CollectN reads what Collect reads, whatever its hint says: fewer rows,
// more rows, none, or a hint far above what it reserves.
func TestCollectN(t *testing.T) {
	for _, n := range []int{0, 1, 3, 100, maxReserve * 10} {
		got, err := CollectN(&rows{vals: []string{"a", "b", "c"}}, n, String)
		if err != nil || strings.Join(got, ",") != "a,b,c" {
			t.Errorf("CollectN(n=%d) = %q, %v; want [a b c]", n, got, err)
		}
		if cap(got) > max(min(n, maxReserve), 4) {
			t.Errorf("CollectN(n=%d) reserved %d", n, cap(got))
		}
		if got, err := CollectN(&rows{}, n, String); got != nil || err != nil {
			t.Errorf("CollectN(n=%d) of no rows = %q, %v; want nil, nil", n, got, err)
		}
	}
}

func TestWrapErrors(t *testing.T) {
	_, err := Collect(&rows{vals: []string{"a"}, failAt: 1}, WrapErrors("agreements", String))
	if err == nil || !strings.HasPrefix(err.Error(), "agreements: row 1") {
		t.Errorf("wrapped error = %v, want it to start with %q", err, "agreements: row 1")
	}
	if v, err := WrapErrors("x", String)(&rows{vals: []string{"ok"}, i: 1}); err != nil || v != "ok" {
		t.Errorf("WrapErrors on a good row = %q, %v", v, err)
	}
}

func TestJSONList(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{{nil, "[]"}, {[]string{}, "[]"}, {[]string{"GBR", "USA"}, `["GBR","USA"]`}} {
		if got, err := JSONList(tt.in); err != nil || got != tt.want {
			t.Errorf("JSONList(%#v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFromUS(t *testing.T) {
	if got := FromUS(1_700_000_000_123_456); got.Location().String() != "UTC" || got.UnixMicro() != 1_700_000_000_123_456 {
		t.Errorf("FromUS = %v", got)
	}
	if !fromOptionalUS(0).IsZero() || fromOptionalUS(1).IsZero() {
		t.Error("fromOptionalUS: 0 must be the zero time and only 0")
	}
}

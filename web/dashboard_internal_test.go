package web

import "testing"

func TestCapCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000+", 2_000_000: "1,000+"} {
		if got := capCount(n); got != want {
			t.Errorf("capCount(%d) = %q, want %q", n, got, want)
		}
	}
}

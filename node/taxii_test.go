package node

import (
	"strings"
	"testing"
)

func TestTAXIICursor(t *testing.T) {
	for _, c := range []cursor{{}, {after: 1}, {after: 1 << 40, skip: 7}} {
		got, err := decodeCursor(encodeCursor(c))
		if err != nil || got != c {
			t.Fatalf("round trip %+v: %+v, %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "!!", "eA", encodeCursor(cursor{}) + "x", "LTEuMA", strings.Repeat("A", 40)} {
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}

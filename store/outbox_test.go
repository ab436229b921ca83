package store_test

import (
	"testing"
	"time"

	"github.com/tearline/tearline/store"
)

func TestOutboxBackoff(t *testing.T) {
	base, max := 500*time.Millisecond, 5*time.Minute
	if d := store.OutboxBackoff(1, base, max, 0); d != base/2 {
		t.Errorf("first retry, no jitter: %v", d)
	}
	if d := store.OutboxBackoff(4, base, max, 0.999); d <= 3*time.Second || d > 4*time.Second {
		t.Errorf("fourth retry: %v, want just under 4s", d)
	}
	if d := store.OutboxBackoff(100, base, max, 0.5); d > max {
		t.Errorf("capped: %v", d)
	}
}

package audit

import (
	"bytes"
	"math/rand"
	"testing"
	"time"
)

// TestMarshalMatchesReference checks the direct canonical encoder against
// encoding/json/v2 followed by RFC 8785 canonicalisation, on random events
// with awkward strings (quotes, backslashes, control characters, non-ASCII,
// U+2028, HTML characters) and every optional field present or absent.
func TestMarshalMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"", "a", "object.read", "user:alice", `"`, `\`, "\x00", "\x1f", "\n\t\r\b\f", "\x7f", "é", "日本", "\u2028", "<&>", "😀", "marking-definition--1"}
	str := func() string {
		var s string
		for range rng.Intn(4) {
			s += pieces[rng.Intn(len(pieces))]
		}
		return s
	}
	list := func() []string {
		var l []string
		for range rng.Intn(3) {
			l = append(l, str())
		}
		return l
	}
	for i := range 20000 {
		e := Event{Version: 1 + rng.Intn(2), Node: str(), Actor: str(), Action: str(), Object: str(), Modified: str(),
			Labels: list(), Decision: str(), Reasons: list(), Subject: str(), Detail: str(), Count: rng.Intn(3) * rng.Intn(100000),
			Time: time.Unix(rng.Int63n(4e9), rng.Int63n(1e9)).UTC().Truncate(time.Microsecond)}
		fast, ok := appendCanonical(nil, &e)
		if !ok {
			t.Fatalf("case %d: fast path refused valid UTF-8", i)
		}
		slow, err := e.marshalSlow()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("case %d differs:\nfast %s\nslow %s", i, fast, slow)
		}
	}
}

func TestMarshalInvalidUTF8FallsBack(t *testing.T) {
	e := Event{Action: "object.read", Detail: "\xff", Time: time.Unix(0, 0)}
	if _, ok := appendCanonical(nil, &e); ok {
		t.Fatal("fast path accepted invalid UTF-8")
	}
	if _, err := e.Marshal(); err == nil {
		t.Fatal("invalid UTF-8 marshalled without error")
	}
}

func BenchmarkEventMarshal(b *testing.B) {
	e := Event{Version: 1, Time: time.Now(), Node: "gbr", Actor: "user:alice", Action: ActionRead,
		Object: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Modified: "2026-11-02T10:05:00.000Z",
		Labels: []string{"marking-definition--2de717a8-ebfa-558b-be90-1d990b81a8e2"}, Decision: Allow, Detail: "list"}
	for b.Loop() {
		if _, err := e.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

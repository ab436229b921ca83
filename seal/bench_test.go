package seal

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tearline/tearline/internal/stixgen"
	"github.com/tearline/tearline/store"
)

// BenchmarkOpenVersions opens what a listed page of 1,000 generated objects
// holds, as a read does after the store has scanned its rows: each
// iteration copies the sealed rows first (the scan's allocations), then
// opens them all.
func BenchmarkOpenVersions(b *testing.B) {
	r := NewKeyring(kek(b))
	g := stixgen.New(1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sealed := make([]store.ObjectVersion, 1000)
	plain := 0
	for i := range sealed {
		o := g.Next()
		sum := sha256.Sum256(o.JSON)
		sealed[i] = store.ObjectVersion{ID: o.ID, ModifiedAt: o.Modified, Digest: hex.EncodeToString(sum[:]), Raw: o.JSON}
		plain += len(o.JSON)
		if err := r.SealVersion(&sealed[i]); err != nil {
			b.Fatal(err)
		}
	}
	page := make([]store.ObjectVersion, len(sealed))
	ps := make([]*store.ObjectVersion, len(sealed))
	b.SetBytes(int64(plain))
	for b.Loop() {
		for i, v := range sealed {
			v.Raw, v.Key = append([]byte(nil), v.Raw...), append([]byte(nil), v.Key...)
			page[i], ps[i] = v, &page[i]
		}
		if err := r.OpenVersions(ps); err != nil {
			b.Fatal(err)
		}
	}
}

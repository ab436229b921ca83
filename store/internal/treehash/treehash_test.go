package treehash

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// memory is a stored-hash table, as a backend keeps it.
type memory map[int64]tlog.Hash

func (m memory) read(reads *int) func([]int64) ([][]byte, error) {
	return func(ids []int64) ([][]byte, error) {
		*reads++
		out := make([][]byte, len(ids))
		for i, id := range ids {
			h, ok := m[id]
			if !ok {
				return nil, fmt.Errorf("hash %d not stored", id)
			}
			out[i] = h[:]
		}
		return out, nil
	}
}

// Appending in random batches gives the same stored hashes and root as
// tlog appending one record at a time, with one read per batch at most.
func TestAppendMatchesTlog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	got, want := memory{}, memory{}
	leaf := func(n int64) []byte { return fmt.Appendf(nil, "leaf %d", n) }
	var size int64
	for size < 5000 {
		k := 1 + rng.IntN(1200)
		if rng.IntN(4) == 0 {
			k = 1
		}
		var leaves [][]byte
		for i := range k {
			leaves = append(leaves, leaf(size+int64(i)))
		}
		reads := 0
		ids, hs, err := Append(size, leaves, got.read(&reads))
		if err != nil {
			t.Fatalf("append %d at %d: %v", k, size, err)
		}
		if size > 0 && reads != 1 || size == 0 && reads != 0 {
			t.Fatalf("append %d at %d: %d reads of stored hashes", k, size, reads)
		}
		for i, id := range ids {
			if _, dup := got[id]; dup {
				t.Fatalf("hash %d appended twice", id)
			}
			got[id] = hs[i]
		}
		for i := range leaves {
			n := size + int64(i)
			ref, err := tlog.StoredHashes(n, leaves[i], tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
				out := make([]tlog.Hash, len(ids))
				for i, id := range ids {
					out[i] = want[id]
				}
				return out, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			for j, h := range ref {
				want[tlog.StoredHashIndex(0, n)+int64(j)] = h
			}
		}
		size += int64(k)
		if int64(len(got)) != tlog.StoredHashCount(size) || len(got) != len(want) {
			t.Fatalf("size %d: %d hashes stored, %d by tlog, want %d", size, len(got), len(want), tlog.StoredHashCount(size))
		}
		for id, h := range want {
			if got[id] != h {
				t.Fatalf("size %d: hash %d differs from tlog's", size, id)
			}
		}
	}
}

// A store that lost a frontier hash is an error, not a wrong tree.
func TestAppendMissingFrontier(t *testing.T) {
	m := memory{}
	r := 0
	ids, hs, err := Append(0, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, m.read(&r))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		m[id] = hs[i]
	}
	delete(m, Frontier(3)[0])
	if _, _, err := Append(3, [][]byte{[]byte("d")}, m.read(&r)); err == nil {
		t.Fatal("append over a tree missing a frontier hash succeeded")
	}
}

// Count, Locate, Trees, Hash and Expand agree with tlog's numbering: every
// stored hash of a tree of 3,000 leaves is found in its leaf's tree value,
// at the id tlog gives it.
func TestPerLeafLayout(t *testing.T) {
	const n = 3000
	var leaves [][]byte
	for i := range n {
		leaves = append(leaves, fmt.Appendf(nil, "leaf %d", i))
	}
	ids, hashes, err := Append(0, leaves, nil)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(ids)) != tlog.StoredHashCount(n) {
		t.Fatalf("%d hashes, want %d", len(ids), tlog.StoredHashCount(n))
	}
	trees, err := Trees(0, n, hashes)
	if err != nil {
		t.Fatal(err)
	}
	var expanded []int64
	for leaf, tree := range trees {
		if len(tree) != Count(int64(leaf))*tlog.HashSize {
			t.Fatalf("leaf %d: tree of %d bytes, want %d hashes", leaf, len(tree), Count(int64(leaf)))
		}
		got, _ := Expand(int64(leaf), tree)
		expanded = append(expanded, got...)
	}
	for i, id := range ids {
		if expanded[i] != id {
			t.Fatalf("hash %d: Expand gives id %d, want %d", i, expanded[i], id)
		}
		leaf, _ := Locate(id)
		h, ok := Hash(trees[leaf], id)
		if !ok || string(h) != string(hashes[i][:]) {
			t.Fatalf("hash %d (id %d): Hash from leaf %d = %x, %v", i, id, leaf, h, ok)
		}
	}
	if _, err := Trees(0, n, hashes[:len(hashes)-1]); err == nil {
		t.Error("Trees with a hash missing: no error")
	}
	if ids, _ := Expand(7, append(trees[7], make([]byte, 64)...)); len(ids) != Count(7) {
		t.Errorf("Expand of a lengthened tree: %d ids, want %d", len(ids), Count(7))
	}
}

package bindpack

import (
	"bytes"
	"encoding/hex"
	"sync"
	"testing"
)

// binding is an originator binding as a node stores it.
const binding = `[{"created":"2026-11-23T02:22:47.263Z","created_by_ref":"identity--b0e60c46-d567-4921-84b3-1229792e5816","extensions":{"extension-definition--bc9e1672-e3d1-4ebf-ac20-b0b3000ccdbb":{"extension_type":"new-sdo"}},"format_version":"1","id":"tearline-binding--113a8504-53a3-5f6a-b1fb-d2d290566e07","kind":"originator","modified":"2026-11-23T02:22:47.263Z","node":"scale","object_digest":{"algorithm":"SHA-256","canonicalization":"RFC8785","value":"20ccc1563de2c1bac4909863cab5abdfde34976f0e269b92ef5af8063f43f193"},"object_labels":[{"digest":"1d85a9f6fcc47692b5575fd5a5ab53c8547a2702edfb192abe751e8fd28d0e17","marking_ref":"marking-definition--3feb6714-050e-5f53-870b-5d7a6046c9f8"}],"object_modified":"2026-01-01T00:00:00.015Z","object_ref":"attack-pattern--3ad256e1-68a4-4bb9-bc74-8d8da8472c66","signature":{"algorithm":"Ed25519","canonicalization":"RFC8785","key_id":"ed25519:d90d8a5206b5f82653e86fac8aec6c46","value":"qC34RyWKKD4AySaJTHxV9CynhTPsGJtmmoAMl/Ca8gR45ExmZIjGU5fCrxIxIQWG0Ut/SL2nBP6fflYbLPTxCw=="},"spec_version":"2.1","type":"tearline-binding"}]`

func TestPackRoundTrip(t *testing.T) {
	for name, in := range map[string]string{
		"binding": binding,
		"two":     binding[:len(binding)-1] + "," + binding[1:],
		"empty":   "[]",
		"tiny":    `[{"a":1}]`,
		"none":    "",
	} {
		packed := Pack([]byte(in))
		got, err := Unpack(packed)
		if err != nil || string(got) != in {
			t.Errorf("%s: Unpack(Pack) = %q, %v", name, got, err)
		}
		if len(packed) > len(in) {
			t.Errorf("%s: packed %d bytes, more than the %d given", name, len(packed), len(in))
		}
	}
	packed := Pack([]byte(binding))
	if packed[0] != tagS2 || len(packed) > len(binding)/2 {
		t.Errorf("binding of %d bytes packed to %d (tag %#x): want under half", len(binding), len(packed), packed[0])
	}
}

// Rows written before packing existed hold plain JSON and read as such.
func TestUnpackPlain(t *testing.T) {
	got, err := Unpack([]byte(binding))
	if err != nil || string(got) != binding {
		t.Fatalf("Unpack(plain) = %q, %v", got, err)
	}
}

// The stores hand Unpack the driver's buffer, which the next row
// overwrites: what it returns must not share it, packed or plain.
func TestUnpackOwnsResult(t *testing.T) {
	for _, stored := range [][]byte{[]byte(binding), Pack([]byte(binding))} {
		got, err := Unpack(stored)
		if err != nil || string(got) != binding {
			t.Fatalf("Unpack = %q, %v", got, err)
		}
		for i := range stored {
			stored[i] = 'x'
		}
		if string(got) != binding {
			t.Fatalf("Unpack's result changed with its input: %q", got)
		}
	}
}

// golden was packed when the format was made. It must always unpack: a
// change to the dictionary breaks every packed row already stored.
const golden = "01a00815000a4431312d32335430323a32323a34372e3236337a64048c62306536306334362d643536372d343932312d383462332d31323239373932653538313691181500888c31313361383530342d353361332d356636612d623166622d6432643239303536366530379918727d08563801286e6f6465223a227363616c9118150040f03f32306363633135363364653263316261633439303938363363616235616264666465333439373666306532363962393265663561663830363366343366313933150017f03f3164383561396636666363343736393262353537356664356135616235336338353437613237303265646662313932616265373531653866643238643065313715001d8c33666562363731342d303530652d356635332d383730622d356437613630343663396638150024043135421804cc61747461636b2d7061747465726e2d2d33616432353665312d363861342d346262392d626337342d38643864613834373263363691201500447c64393064386135323036623566383236353365383666616338616563366334369d20f055714333345279574b4b4434417953614a544878563943796e68545073474a746d6d6f414d6c2f4361386752343545786d5a496a475535664372784978495157473055742f534c326e42503666666c59624c50547843778120150028005d"

func TestGolden(t *testing.T) {
	b, err := hex.DecodeString(golden)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unpack(b)
	if err != nil {
		t.Fatalf("Unpack(golden): %v", err)
	}
	if string(got) != binding {
		t.Fatalf("Unpack(golden) = %q, want the binding it was packed from", got)
	}
}

// A stored value claiming a length over MaxBindings is refused before
// anything is allocated for it.
func TestUnpackBounds(t *testing.T) {
	huge := []byte{tagS2, 0xff, 0xff, 0xff, 0xff, 0x0f} // varint length 2^32-1
	if _, err := Unpack(huge); err == nil {
		t.Error("Unpack of a 4 GiB claim: no error")
	}
	if _, err := Unpack([]byte{tagS2, 0x05, 0xff}); err == nil {
		t.Error("Unpack of a truncated block: no error")
	}
}

func FuzzUnpack(f *testing.F) {
	f.Add(Pack([]byte(binding)))
	f.Add([]byte(binding))
	f.Add([]byte{tagS2})
	f.Fuzz(func(t *testing.T, stored []byte) {
		out, err := Unpack(stored)
		if err == nil && len(out) > MaxBindings && stored[0] == tagS2 {
			t.Fatalf("unpacked %d bytes, over the bound", len(out))
		}
	})
}

func FuzzPack(f *testing.F) {
	f.Add([]byte(binding))
	f.Add([]byte("[]"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 0 && in[0] == tagS2 {
			return // not JSON: Pack is given bindings, which start with '['
		}
		got, err := Unpack(Pack(in))
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("Unpack(Pack(%q)) = %q, %v", in, got, err)
		}
	})
}

// BenchmarkPack and BenchmarkUnpack: the cost a stored version's bindings
// add to the writer (Pack) and to every read (Unpack).
func BenchmarkPack(b *testing.B) {
	in := []byte(binding)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Pack(in)
	}
}

func BenchmarkUnpack(b *testing.B) {
	packed := Pack([]byte(binding))
	b.SetBytes(int64(len(binding)))
	for b.Loop() {
		if _, err := Unpack(packed); err != nil {
			b.Fatal(err)
		}
	}
}

// Readers unpack on many connections at once, and the dictionary is
// built by whichever goroutine comes first.
func TestConcurrent(t *testing.T) {
	packed := Pack([]byte(binding))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if got, err := Unpack(packed); err != nil || string(got) != binding {
					t.Errorf("Unpack = %q, %v", got, err)
					return
				}
				if !bytes.Equal(Pack([]byte(binding)), packed) {
					t.Error("Pack differs between goroutines")
					return
				}
			}
		})
	}
	wg.Wait()
}

package audit

import (
	"crypto/rand"
	"fmt"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// GenerateWitnessKey returns a key pair for a witness named name; the
// verifier key is the cosignature/v1 (type 0x04) form. The witness
// protocol itself is package audit/witness.
func GenerateWitnessKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate witness key %q: %w", name, err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		return "", "", fmt.Errorf("generate witness key %q: %w", name, err)
	}
	return skey, vkey, nil
}

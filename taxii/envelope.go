package taxii

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// writeEnvelope sends env as write would (encoding/json, HTML escaping
// off), but with its objects exactly as stored, not re-encoded: a page of
// 1,000 objects is 3-4 MB, and encoding/json's pass over every raw value
// (compacting it) cost more than reading the page from the store. Stored
// objects are compact already, so the bytes are the same. Each object must
// be one JSON value (Backend.Objects): it is not checked here.
func writeEnvelope(w http.ResponseWriter, env Envelope) {
	w.Header().Set("Content-Type", MediaTypeTAXII)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `{"more":%t`, env.More)
	if env.Next != "" {
		// Quoted as write quotes it: U+2028 and U+2029 escaped, HTML not.
		var q bytes.Buffer
		enc := json.NewEncoder(&q)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(env.Next) // a string always encodes
		bw.WriteString(`,"next":`)
		bw.Write(bytes.TrimSuffix(q.Bytes(), []byte("\n")))
	}
	if len(env.Objects) > 0 {
		bw.WriteString(`,"objects":[`)
		for i, o := range env.Objects {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(o)
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}\n")
	_ = bw.Flush()
}

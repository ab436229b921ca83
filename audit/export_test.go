package audit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tearline/tearline/audit"
)

func TestExportVerify(t *testing.T) { eachBackend(t, testExportVerify) }

func testExportVerify(t *testing.T, b backend) {
	l := newTestLog(t, b)
	l.appendN(t, 100, 100, "")
	c1 := l.checkpoint(t)
	l.appendN(t, 150, 50, "")
	c2 := l.checkpoint(t)
	var buf bytes.Buffer
	if err := audit.Export(t.Context(), l.st, &buf, -1); err != nil {
		t.Fatal(err)
	}
	cps := [][]byte{c1.Note, c2.Note}
	r, err := audit.VerifyExport(t.Context(), bytes.NewReader(buf.Bytes()), cps, l.v)
	if err != nil || r.Size != 250 || r.Checkpoints != 2 {
		t.Fatalf("VerifyExport = %+v, %v", r, err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	tests := []struct {
		name string
		log  string
		want int64
	}{
		{"changed after first checkpoint", strings.Join(lines[:120], "") + strings.Replace(lines[120], `"leaf":"`, `"leaf":"AAAA`, 1) + strings.Join(lines[121:], ""), 100},
		{"changed before first checkpoint", strings.Join(lines[:7], "") + strings.Replace(lines[7], `"leaf":"`, `"leaf":"AAAA`, 1) + strings.Join(lines[8:], ""), 0},
		{"line removed", strings.Join(lines[:42], "") + strings.Join(lines[43:], ""), 42},
		{"truncated", strings.Join(lines[:200], ""), 200},
		{"swapped", strings.Join(lines[:150], "") + lines[151] + lines[150] + strings.Join(lines[152:], ""), 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := audit.VerifyExport(t.Context(), strings.NewReader(tt.log), cps, l.v)
			te, ok := audit.IsTamper(err)
			if !ok || te.Index != tt.want {
				t.Errorf("VerifyExport = %v, want a TamperError at %d", err, tt.want)
			}
		})
	}
}

package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestFederateDemo(t *testing.T) {
	var out bytes.Buffer
	c, err := Federate(context.Background(), t.TempDir(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := out.String()
	t.Log("\n" + s)
	for _, want := range []string{"-> usa    WHOLE", "with the description", "-> fra    TEARLINE", "without the description", "-> agency NOTHING"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

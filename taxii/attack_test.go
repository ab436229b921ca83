package taxii_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
	"github.com/tearline/tearline/taxii"
)

// The ICS ATT&CK bundle goes in through TAXII POST as one envelope (taking
// the poster's default label) and comes back through TAXII GET, page by
// page, every object byte for byte.
func TestAttackRoundTripICS(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 1,826 objects")
	}
	f, err := os.Open(filepath.Join("..", "testdata", "attack", "ics-attack-18.1.json.xz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xr, err := xz.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(xr)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, o := range bundle.Objects {
		var s stixObject
		if err := json.Unmarshal(o, &s); err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, o); err != nil {
			t.Fatal(err)
		}
		want[s.ID] = c.Bytes()
	}
	if len(bundle.Objects) != 1826 || len(want) != 1826 {
		t.Fatalf("%d objects, %d ids", len(bundle.Objects), len(want))
	}

	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "gbr")
	if err := node.Init(ctx, dir, node.InitOptions{Name: "gbr", Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	srv := newTLS(t, api.New(n, nil, nil))
	t.Cleanup(func() { n.Close() })
	_, tok, err := n.Users.AddUser(ctx, node.ConsoleAdmin(), users.UserSpec{Name: "analyst", Role: node.RoleAnalyst, Nationality: "GBR",
		Clearances: map[string]string{"NATO": "SECRET"}, DefaultLabel: "NATO UNCLASSIFIED // TLP:CLEAR // DISC OSINT // TOPIC CYBER"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{n: n, srv: srv, tokens: map[string]string{"analyst": tok}, coll: "/taxii2/tearline/collections/" + n.TAXII.HoldingsID() + "/"}

	// Built by hand: json.Marshal would HTML-escape the objects' bytes.
	parts := make([][]byte, len(bundle.Objects))
	for i, o := range bundle.Objects {
		parts[i] = o
	}
	body := append([]byte(`{"objects":[`), bytes.Join(parts, []byte(","))...)
	body = append(body, "]}"...)
	r := e.post(t, "analyst", e.coll+"objects/", body)
	wantTAXII(t, r, http.StatusAccepted)
	st := decode[taxii.Status](t, r)
	if st.SuccessCount != 1826 || st.FailureCount != 0 || st.TotalCount != 1826 {
		t.Fatalf("status: %d successes, %d failures %v", st.SuccessCount, st.FailureCount, st.Failures[:min(3, len(st.Failures))])
	}

	got := 0
	next := ""
	for {
		p := e.coll + "objects/?limit=500"
		if next != "" {
			p += "&next=" + next
		}
		r := e.get(t, "analyst", p)
		wantTAXII(t, r, http.StatusOK)
		env := decode[taxii.Envelope](t, r)
		items, ids, _, _ := split(t, env.Objects)
		for i, id := range ids {
			w, ok := want[id]
			if !ok {
				t.Fatalf("%s was not posted", id)
			}
			if !bytes.Equal(items[i], w) {
				t.Fatalf("%s differs:\n got %.200s\nwant %.200s", id, items[i], w)
			}
			delete(want, id)
			got++
		}
		if !env.More {
			break
		}
		next = env.Next
	}
	if got != 1826 || len(want) != 0 {
		t.Fatalf("read back %d objects, %d missing", got, len(want))
	}
}

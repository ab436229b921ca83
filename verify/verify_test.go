package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/nodetest"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/verify"
)

// An id whose UUID has upper-case hex is a valid STIX identifier (RFC 4122
// reads hex case-insensitively); it is stored, bound, read and verified
// under exactly the bytes it was published with.
func TestUpperCaseUUIDFromIngestToVerify(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "gbr", "GBR")
	admin, _ := nodetest.AddUser(t, n, nodetest.AdminSpec())
	id := "threat-actor--6C1B0A0E-2F1D-4D8E-9D3C-1B4C7A8E9F0A"
	tlp := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","created":"2022-10-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"another producer's marking"},"name":"statement"}`
	res, err := n.Ingest(ctx, admin, nodetest.Bundle(nodetest.SDO(id, nodetest.T0, nodetest.T0, nil)), node.IngestOptions{Label: "NATO SECRET // REL TO GBR"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 0 || len(res.Landed) != 1 {
		t.Fatalf("landed %v, refused %v", res.Landed, res.Refused)
	}
	o, err := n.Get(ctx, admin, id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	if !strings.Contains(string(o.Raw), id) {
		t.Fatalf("stored object lost its id spelling: %s", o.Raw)
	}
	if _, err := n.Get(ctx, admin, strings.ToLower(id)); err == nil {
		t.Fatalf("the lower-case spelling is another id, yet Get found it")
	}
	parts := [][]byte{o.Raw}
	bs, err := o.BindingObjects()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		parts = append(parts, b)
	}
	for _, l := range o.Labels {
		raw, err := n.Label(ctx, admin, l)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, raw)
	}
	parts = append(parts, []byte(tlp))
	ring, err := binding.NewKeyring(nodetest.Keyring(t, n).Keys()...)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := verify.Bundle(nodetest.Bundle(parts...), ring, stix.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var verified, unbound int
	for _, v := range vs {
		switch {
		case v.OK && v.ID == id:
			verified++
		case v.Unbound && strings.HasPrefix(v.ID, "marking-definition--94868c89"):
			unbound++
		case !v.OK:
			t.Errorf("verdict %+v", v)
		}
	}
	if verified != 1 || unbound != 1 {
		t.Fatalf("verified %d (want 1), unbound %d (want 1): %+v", verified, unbound, vs)
	}
}

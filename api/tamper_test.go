package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/stix"
	"github.com/tearline/tearline/verify"
)

const relUSA = "NATO SECRET // REL TO GBR, USA // DISC SIGINT"

// publicKeyOf reads a node's signing key and returns its public half in
// keyring form.
func publicKeyOf(t testing.TB, dir string) string {
	t.Helper()
	pemKey, err := os.ReadFile(filepath.Join(dir, node.SigningKey))
	if err != nil {
		t.Fatal(err)
	}
	k, err := binding.ParsePrivateKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	return binding.MarshalPublicKey(k.Public().(ed25519.PublicKey))
}

// receiver makes a node that trusts the keys of the named nodes (name ->
// dir), with an admin whose default label would apply to unbound objects:
// a tampered object must be refused, not relabelled.
func receiver(t testing.TB, trusts map[string]string) (*testNode, string) {
	t.Helper()
	dir := initNode(t, "usa", "USA")
	var y strings.Builder
	for name, d := range trusts {
		y.WriteString("- node: " + name + "\n  public: " + publicKeyOf(t, d) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, node.KeyringFile), []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	tn := openNode(t, dir)
	tok := tn.user(t, users.UserSpec{Name: "admin", Role: node.RoleAdmin, Nationality: "USA",
		Clearances: map[string]string{"NATO": "TOP-SECRET"}, DefaultLabel: "NATO RESTRICTED"})
	return tn, tok
}

// originator makes a node, publishes objects in it and exports them.
func originator(t testing.TB, name string, objs ...[]byte) (*testNode, []byte) {
	t.Helper()
	tn := newNode(t, name, "GBR")
	tok := tn.user(t, adminSpec())
	if status, res := tn.publish(t, tok, bundle(objs...), relUSA); status != http.StatusOK {
		t.Fatalf("publish: %d %v", status, res.Refused)
	}
	r := tn.get(t, "/api/v1/export", tok)
	if r.Status != http.StatusOK {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	return tn, r.Body
}

// exported is an export bundle split by kind.
type exported struct {
	objects  map[string][]byte // id -> raw
	bindings map[string][]byte // object id -> binding raw
	labels   map[string][]byte
	order    []json.RawMessage
}

func splitExport(t testing.TB, data []byte) exported {
	t.Helper()
	e := exported{objects: map[string][]byte{}, bindings: map[string][]byte{}, labels: map[string][]byte{}}
	e.order = bundleObjects(t, data)
	for _, raw := range e.order {
		id, typ := objectID(t, raw)
		switch typ {
		case binding.Type:
			var b struct {
				ObjectRef string `json:"object_ref"`
			}
			json.Unmarshal(raw, &b)
			e.bindings[b.ObjectRef] = raw
		case "marking-definition":
			e.labels[id] = raw
		default:
			e.objects[id] = raw
		}
	}
	return e
}

// replaceOnce returns data with old replaced by new exactly once.
func replaceOnce(t testing.TB, data []byte, old, new string) []byte {
	t.Helper()
	if c := bytes.Count(data, []byte(old)); c != 1 {
		t.Fatalf("%q occurs %d times", old, c)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

// Requirement 3: an export ingested by a partner that trusts the
// originator's key lands with the originator's binding; each kind of
// tampering is refused with nothing stored, and VerifyBundle catches it.
func TestExportIngestAndTamperRefused(t *testing.T) {
	ctx := context.Background()
	target, other := newID("threat-actor"), newID("campaign")
	objs := [][]byte{sdo(target, t0, t0, "SILVER HERON"), sdo(other, t0, t1, "OPERATION GLASS")}
	gbr, export := originator(t, "gbr", objs...)
	e := splitExport(t, export)
	if len(e.objects) != 2 || len(e.bindings) != 2 || len(e.labels) != 1 {
		t.Fatalf("export holds %d objects, %d bindings, %d labels; want 2, 2, 1", len(e.objects), len(e.bindings), len(e.labels))
	}
	var labelID string
	for id := range e.labels {
		labelID = id
	}

	// The untouched export verifies offline and lands, bindings kept.
	usa, tok := receiver(t, map[string]string{"gbr": gbr.dir})
	verdicts, err := verify.Bundle(export, mustKeyring(t, usa.n), stix.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verdicts {
		if !v.OK {
			t.Errorf("verify untouched export: %+v", v)
		}
	}
	status, res := usa.publish(t, tok, export, "")
	if status != http.StatusOK || len(res.Landed) != 2 {
		t.Fatalf("ingest export: %d landed %v refused %v", status, res.Landed, res.Refused)
	}
	for id, raw := range e.objects {
		got := usa.get(t, "/api/v1/objects/"+url.PathEscape(id), tok)
		if got.Status != 200 || !bytes.Equal(got.Body, raw) {
			t.Errorf("%s on the receiver: %d %s", id, got.Status, got.Body)
		}
		bs := usa.get(t, "/api/v1/objects/"+url.PathEscape(id)+"/bindings", tok)
		var list []json.RawMessage
		if err := json.Unmarshal(bs.Body, &list); err != nil || len(list) != 1 || !bytes.Equal(list[0], e.bindings[id]) {
			t.Errorf("%s bindings on the receiver = %s, want the originator's %s", id, bs.Body, e.bindings[id])
		}
		b, err := binding.Parse(list[0])
		if err != nil || b.Node != "gbr" {
			t.Errorf("binding node = %v, %v; want gbr", b, err)
		}
		p := mustAuth(t, usa, tok)
		o, err := usa.n.Get(ctx, p, id)
		if err != nil || o.Originator != "gbr" || len(o.Labels) != 1 || o.Labels[0] != labelID {
			t.Errorf("%s: originator %q labels %v (%v); want gbr and %s, not the receiver's default label", id, o.Originator, o.Labels, err, labelID)
		}
	}
	// The receiver's own export still carries the originator's binding.
	re := usa.get(t, "/api/v1/export", tok)
	if v, err := verify.Bundle(re.Body, mustKeyring(t, usa.n), stix.Limits{}); err != nil || len(v) != 3 {
		t.Errorf("re-export: %v %v", v, err)
	} else {
		for _, vv := range v {
			if !vv.OK {
				t.Errorf("re-export verdict %+v", vv)
			}
		}
	}

	// A third node the receiver does not trust signs the same objects.
	_, untrusted := originator(t, "fra", objs...)

	targetBinding := e.bindings[target]
	var sig struct {
		Signature struct {
			Value string `json:"value"`
		} `json:"signature"`
	}
	json.Unmarshal(targetBinding, &sig)
	var otherSig struct {
		Signature struct {
			Value string `json:"value"`
		} `json:"signature"`
	}
	json.Unmarshal(e.bindings[other], &otherSig)
	var tb struct {
		Created string `json:"created"`
		Digest  struct {
			Value string `json:"value"`
		} `json:"object_digest"`
	}
	json.Unmarshal(targetBinding, &tb)
	flip := func(s string) string {
		c := s[len(s)-1]
		if c == '0' {
			c = '1'
		} else {
			c = '0'
		}
		return s[:len(s)-1] + string(c)
	}

	cases := []struct {
		name   string
		bundle func(t testing.TB) []byte
		why    string // in the refusal of the target object
	}{
		{"object byte changed", func(t testing.TB) []byte {
			return replaceOnce(t, export, `"name":"SILVER HERON"`, `"name":"SILVER HERAN"`)
		}, "object"},
		{"object member added", func(t testing.TB) []byte {
			return replaceOnce(t, export, `"name":"SILVER HERON"`, `"name":"SILVER HERON","confidence":90`)
		}, "object"},
		{"label marking-definition changed (name)", func(t testing.TB) []byte {
			return replaceOnce(t, export, `"name":"NATO SECRET // REL TO GBR, USA`, `"name":"NATO SECRET // REL TO GBR, USA, FRA`)
		}, "label"},
		{"label marking-definition changed (content)", func(t testing.TB) []byte {
			return replaceOnce(t, export, `"releasable_to":["GBR","USA"]`, `"releasable_to":["FVEY"]`)
		}, "label"},
		{"label marking-definition left out", func(t testing.TB) []byte {
			return replaceOnce(t, export, ","+string(e.labels[labelID]), "")
		}, "label"},
		{"binding digest changed", func(t testing.TB) []byte {
			return replaceOnce(t, export, tb.Digest.Value, flip(tb.Digest.Value))
		}, "binding"},
		{"binding created changed", func(t testing.TB) []byte {
			return targetBindingReplaced(t, export, targetBinding, func(b map[string]any) {
				b["created"], b["modified"] = "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"
			})
		}, "binding"},
		{"binding object_modified changed", func(t testing.TB) []byte {
			return replaceOnce(t, export, `"object_modified":"`+t0+`","object_ref":"`+target, `"object_modified":"`+t1+`","object_ref":"`+target)
		}, "binding"},
		{"binding labels removed", func(t testing.TB) []byte {
			return targetBindingReplaced(t, export, targetBinding, func(b map[string]any) { delete(b, "object_labels") })
		}, "binding"},
		{"signature forged", func(t testing.TB) []byte {
			return replaceOnce(t, export, sig.Signature.Value, otherSig.Signature.Value)
		}, "signature"},
		{"binding by an unknown key", func(t testing.TB) []byte {
			return untrusted
		}, "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.bundle(t)
			if bytes.Equal(data, export) {
				t.Fatal("tampering changed nothing")
			}
			// Offline verification catches it.
			verdicts, err := verify.Bundle(data, mustKeyring(t, usa.n), stix.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			caught := false
			for _, v := range verdicts {
				if !v.OK && (v.ID == target || v.ID == labelID || strings.HasPrefix(v.ID, binding.Type)) {
					caught = true
				}
			}
			if !caught {
				t.Errorf("VerifyBundle did not catch it: %+v", verdicts)
			}

			// A fresh receiver refuses it and stores nothing of it.
			rcv, rtok := receiver(t, map[string]string{"gbr": gbr.dir})
			status, res := rcv.publish(t, rtok, data, "")
			if status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", status)
			}
			var refusal *node.Refusal
			for i := range res.Refused {
				if res.Refused[i].ID == target {
					refusal = &res.Refused[i]
				}
			}
			if refusal == nil {
				t.Fatalf("target not refused: landed %v refused %v", res.Landed, res.Refused)
			}
			if !strings.Contains(strings.ToLower(refusal.Reason), c.why) {
				t.Errorf("refusal %q does not say %q", refusal, c.why)
			}
			if g := rcv.get(t, "/api/v1/objects/"+url.PathEscape(target), rtok); g.Status != http.StatusNotFound {
				t.Errorf("tampered object stored: %d %s", g.Status, g.Body)
			}
			for _, l := range res.Landed {
				if l.ID == target {
					t.Errorf("tampered object landed: %+v", l)
				}
			}
		})
	}
}

// targetBindingReplaced re-encodes one binding with a change: the result is
// no longer canonical or signed as it was.
func targetBindingReplaced(t testing.TB, export, raw []byte, change func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	nb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(export, raw, nb, 1)
}

func mustKeyring(t *testing.T, n *stack.Node) *binding.Keyring {
	t.Helper()
	ring, err := n.Keyring()
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return ring
}

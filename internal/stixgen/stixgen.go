// Package stixgen generates realistic STIX 2.1 objects for load and crash
// tests: a mix of indicators, relationships, reports, malware, attack
// patterns and threat actors, 0.5 to 4 KB each, with references between
// them, reproducibly from a seed.
//
// The mix follows what partners send in practice: mostly indicators and the
// relationships that tie them to malware and actors, fewer but larger
// reports. Sizes matter more than exact prose: the store's cost grows with
// bytes per row, sealing with bytes per object, canonicalisation with the
// number of properties.
package stixgen

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Object is one generated object.
type Object struct {
	ID       string
	Type     string
	Created  time.Time
	Modified time.Time
	JSON     []byte
}

// ModifiedString is the object's modified timestamp as the node keys
// versions by it.
func (o Object) ModifiedString() string { return stamp(o.Modified) }

// Gen generates objects. It is not safe for concurrent use: give each
// goroutine its own, with its own seed.
type Gen struct {
	rng   *rand.Rand
	clock time.Time
	// OrderedIDs makes new ids time-ordered (UUID version 7) instead of
	// random (version 4, what STIX producers mostly send): a benchmark's
	// way to see what random ids cost an index on them.
	OrderedIDs bool
	idClock    uint64

	recent [recentRing]string // ids referenced by relationships and reports
	nRec   int
	sb     strings.Builder
}

// recentRing is how many recent ids references are drawn from: enough for
// reports to cite many distinct objects, small enough to stay local, as a
// partner's report cites what it just sent.
const recentRing = 512

// New returns a generator whose objects depend only on seed and start (the
// first created timestamp; each object is a millisecond later).
func New(seed uint64, start time.Time) *Gen {
	return &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), clock: start.UTC()}
}

// kind is one object type of the mix with its share and size range.
type kind struct {
	typ      string
	weight   int // out of 100
	min, max int // target JSON size in bytes
}

// mix is the type mix. Weights sum to 100.
var mix = [...]kind{
	{"indicator", 45, 600, 2500},
	{"relationship", 30, 450, 900},
	{"report", 8, 2000, 4000},
	{"malware", 7, 1000, 3000},
	{"attack-pattern", 5, 700, 2000},
	{"threat-actor", 5, 700, 2000},
}

// Next returns the next object of the mix.
func (g *Gen) Next() Object {
	r := g.rng.IntN(100)
	k := mix[len(mix)-1]
	for _, m := range mix {
		if r < m.weight {
			k = m
			break
		}
		r -= m.weight
	}
	return g.make(k, g.newID(k.typ), time.Time{})
}

// Indicator returns a new indicator: the crash test uses only indicators,
// which need no references to exist.
func (g *Gen) Indicator() Object {
	return g.make(mix[0], g.newID("indicator"), time.Time{})
}

// Version returns a new version of o: same id, type and created, a
// modified one millisecond later, new content.
func (g *Gen) Version(o Object) Object {
	k := mix[0]
	for _, m := range mix {
		if m.typ == o.Type {
			k = m
		}
	}
	v := g.make(k, o.ID, o.Created)
	if !v.Modified.After(o.Modified) {
		v.Modified = o.Modified.Add(time.Millisecond)
		v.JSON = g.render(k, v.ID, v.Created, v.Modified, len(v.JSON))
	}
	return v
}

// make builds an object of kind k. A zero created means a new object.
func (g *Gen) make(k kind, id string, created time.Time) Object {
	g.clock = g.clock.Add(time.Millisecond)
	mod := g.clock
	if created.IsZero() {
		created = mod
	}
	size := k.min + g.rng.IntN(k.max-k.min+1)
	o := Object{ID: id, Type: k.typ, Created: created, Modified: mod}
	o.JSON = g.render(k, id, created, mod, size)
	if k.typ != "relationship" { // relationships may not point at relationships
		g.remember(id)
	}
	return o
}

// render writes the JSON of one object, padding its description with words
// until it reaches about size bytes.
func (g *Gen) render(k kind, id string, created, modified time.Time, size int) []byte {
	m := map[string]any{
		"type": k.typ, "spec_version": "2.1", "id": id,
		"created": stamp(created), "modified": stamp(modified),
	}
	switch k.typ {
	case "indicator":
		m["name"] = "C2 endpoint " + g.word() + " " + g.word()
		m["indicator_types"] = []string{"malicious-activity"}
		m["pattern"] = g.pattern()
		m["pattern_type"] = "stix"
		m["valid_from"] = stamp(created)
		m["confidence"] = g.rng.IntN(101)
		m["labels"] = []string{g.word(), g.word()}
	case "relationship":
		m["relationship_type"] = [...]string{"indicates", "uses", "attributed-to", "targets"}[g.rng.IntN(4)]
		m["source_ref"] = g.ref()
		m["target_ref"] = g.ref()
	case "report":
		m["name"] = "Assessment " + g.word() + " " + g.word()
		m["published"] = stamp(created)
		m["report_types"] = []string{"threat-report"}
		n := 5 + g.rng.IntN(36)
		refs := make([]string, n)
		for i := range refs {
			refs[i] = g.ref()
		}
		m["object_refs"] = refs
	case "malware":
		m["name"] = strings.ToUpper(g.word()) + g.word()
		m["is_family"] = true
		m["malware_types"] = []string{"remote-access-trojan"}
		m["aliases"] = []string{g.word(), g.word()}
	case "attack-pattern":
		m["name"] = "Technique " + g.word()
		m["external_references"] = []map[string]string{{"source_name": "mitre-attack", "external_id": fmt.Sprintf("T%04d", 1000+g.rng.IntN(600))}}
	case "threat-actor":
		m["name"] = strings.ToUpper(g.word()) + " " + strings.ToUpper(g.word())
		m["threat_actor_types"] = []string{"nation-state"}
		m["sophistication"] = "advanced"
	}
	b, _ := json.Marshal(m) // a map of strings, ints and slices: cannot fail
	if pad := size - len(b) - len(`,"description":""`); pad > 0 {
		m["description"] = g.text(pad)
		b, _ = json.Marshal(m)
	}
	return b
}

// ref returns a recent id, or a new indicator id when there is none yet (a
// dangling reference is well-formed STIX: partners send them all the time).
func (g *Gen) ref() string {
	n := min(g.nRec, recentRing)
	if n == 0 {
		return g.newID("indicator")
	}
	return g.recent[g.rng.IntN(n)]
}

func (g *Gen) remember(id string) {
	g.recent[g.nRec%recentRing] = id
	g.nRec++
}

func (g *Gen) newID(typ string) string {
	var u [16]byte
	for i := range 2 {
		v := g.rng.Uint64()
		for j := range 8 {
			u[i*8+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	if g.OrderedIDs {
		// Version 7: a 48-bit millisecond clock first (here a counter, so
		// ids are strictly increasing), then random bits.
		g.idClock++
		for j := range 6 {
			u[j] = byte(g.idClock >> (8 * (5 - j)))
		}
		u[6] = u[6]&0x0f | 0x70
	}
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(u[:])
	return typ + "--" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (g *Gen) pattern() string {
	switch g.rng.IntN(3) {
	case 0:
		return fmt.Sprintf("[ipv4-addr:value = '%d.%d.%d.%d']", 1+g.rng.IntN(223), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
	case 1:
		return fmt.Sprintf("[domain-name:value = '%s-%s.example']", g.word(), g.word())
	default:
		var h [32]byte
		for i := range h {
			h[i] = byte(g.rng.UintN(256))
		}
		return "[file:hashes.'SHA-256' = '" + hex.EncodeToString(h[:]) + "']"
	}
}

func (g *Gen) word() string { return words[g.rng.IntN(len(words))] }

// text returns about n bytes of words.
func (g *Gen) text(n int) string {
	g.sb.Reset()
	for g.sb.Len() < n {
		if g.sb.Len() > 0 {
			g.sb.WriteByte(' ')
		}
		g.sb.WriteString(g.word())
	}
	return g.sb.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Words is how many words descriptions are made of; Word returns one.
const Words = len(words)

// Word returns word i of the descriptions' vocabulary (benchmarks search
// for them).
func Word(i int) string { return words[i] }

var words = [...]string{
	"actor", "beacon", "campaign", "credential", "domain", "dropper", "exfiltration", "implant",
	"infrastructure", "lateral", "loader", "network", "operator", "payload", "persistence", "phishing",
	"proxy", "reconnaissance", "server", "staging", "tasking", "tunnel", "victim", "wiper",
	"observed", "assessed", "likely", "moderate", "confidence", "reporting", "source", "sector",
	"energy", "maritime", "logistics", "defence", "telecom", "finance", "government", "research",
}

// Bundle wraps objects in a STIX bundle.
func Bundle(g *Gen, objs []Object) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"`)
	b.WriteString(g.newID("bundle"))
	b.WriteString(`","objects":[`)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o.JSON)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

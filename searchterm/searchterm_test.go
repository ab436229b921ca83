package searchterm

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWords(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Fancy Bear uses X-Agent", []string{"fancy", "bear", "uses", "x", "agent"}},
		{"ＡＰＴ２８", []string{"apt28"}},                       // NFKC: full-width
		{"Straße STRASSE", []string{"strasse", "strasse"}}, // case folding
		{"標的型攻撃メール", []string{"標的", "的型", "型攻", "攻撃", "撃メ", "メー", "ール"}},
		{"APT28の攻撃", []string{"apt28", "の攻", "攻撃"}},
		{"一", []string{"一"}},
		{"  ,.;  ", nil},
	} {
		if got := Words(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Words(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		in, kind, text string
	}{
		{"198.51.100.7", KindIP, "198.51.100.7"},
		{"(198.51.100.7).", KindIP, "198.51.100.7"},
		{"::ffff:10.0.0.1", KindIP, "10.0.0.1"},
		{"2001:DB8::1", KindIP, "2001:db8::1"},
		{"10.1.2.3/8", KindCIDR, "10.0.0.0/8"},
		{"10.1.2.3/32", KindIP, "10.1.2.3"},
		{"Evil.Example.COM.", KindDomain, "evil.example.com"},
		{"evil[.]com", KindDomain, "evil.com"},
		{"hxxp://Evil.COM/Path?X=1", KindURL, "http://evil.com/Path?X=1"},
		{"Bob@Example.org", KindEmail, "bob@example.org"},
		{"D41D8CD98F00B204E9800998ECF8427E", KindHash, "d41d8cd98f00b204e9800998ecf8427e"},
		{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", KindID, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
	} {
		v, ok := Classify(c.in)
		if !ok || v.Kind != c.kind || v.Text != c.text {
			t.Errorf("Classify(%q) = %+v %v, want %s %s", c.in, v, ok, c.kind, c.text)
		}
	}
	for _, in := range []string{"malware", "1.2", "a.b1", "x@y", "deadbeef", "indicator--xyz", "2026-01-02"} {
		if v, ok := Classify(in); ok {
			t.Errorf("Classify(%q) = %+v, want no value", in, v)
		}
	}
}

func TestParse(t *testing.T) {
	q, err := Parse("198.51.100.7, evil.com\nbob@example.org 10.0.0.0/8")
	if err != nil || !q.List || len(q.Values) != 4 || len(q.Words) != 0 {
		t.Fatalf("list: %+v %v", q, err)
	}
	q, err = Parse("Fancy BEAR 198.51.100.7")
	if err != nil || q.List || !slices.Equal(q.Words, []string{"fancy", "bear"}) || len(q.Values) != 1 {
		t.Fatalf("text: %+v %v", q, err)
	}
	if len(q.Groups()) != 3 {
		t.Fatalf("groups: %q", q.Groups())
	}
	if _, err := Parse("::/4"); err == nil {
		t.Fatal("an IPv6 /4 was accepted")
	}
	var many []string
	for i := 0; i <= MaxWords; i++ {
		many = append(many, "w"+strings.Repeat("x", i))
	}
	if _, err := Parse(strings.Join(many, " ")); err == nil {
		t.Fatal("too many words accepted")
	}
}

// TestCIDRFindsAddressesInside is the property the prefix terms exist for:
// for random addresses and blocks, a block's query terms meet an address's
// index terms exactly when the address is inside the block.
func TestCIDRFindsAddressesInside(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randAddr := func(v6 bool, near netip.Addr) netip.Addr {
		b := near.AsSlice()
		// Keep a random number of leading bits of near, so that inside and
		// outside both happen.
		keep := r.IntN(len(b)*8 + 1)
		for i := range b {
			for bit := 0; bit < 8; bit++ {
				if i*8+bit >= keep && r.IntN(2) == 1 {
					b[i] ^= 1 << (7 - bit)
				}
			}
		}
		a, _ := netip.AddrFromSlice(b)
		return a
	}
	for i := 0; i < 3000; i++ {
		v6 := i%2 == 1
		base := netip.MustParseAddr("203.0.113.77")
		if v6 {
			base = netip.MustParseAddr("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff")
		}
		bits := r.IntN(base.BitLen() + 1)
		if !v6 && bits < 1 || v6 && bits < 8 {
			bits = base.BitLen() / 2
		}
		block := netip.PrefixFrom(randAddr(v6, base), bits).Masked()
		addr := randAddr(v6, base)
		bv, ok := Classify(block.String())
		if !ok {
			t.Fatalf("block %s not a value", block)
		}
		qt, err := bv.QueryTerms()
		if err != nil {
			t.Fatalf("block %s: %v", block, err)
		}
		av, _ := Classify(addr.String())
		match := false
		for _, it := range av.IndexTerms() {
			if slices.Contains(qt, it) {
				match = true
			}
		}
		if match != block.Contains(addr) {
			t.Fatalf("block %s, address %s: match %v, inside %v", block, addr, match, block.Contains(addr))
		}
		// And the address's query finds a block stated in the data that holds it.
		aq, _ := av.QueryTerms()
		bt := bv.IndexTerms()
		if hit := slices.Contains(aq, bt[0]); hit != block.Contains(addr) {
			t.Fatalf("address %s, stated block %s: hit %v, inside %v", addr, block, hit, block.Contains(addr))
		}
	}
}

// TestParseIsSpellingInvariant: case, Unicode form and separators do not
// change what a query asks.
func TestParseIsSpellingInvariant(t *testing.T) {
	pairs := [][2]string{
		{"Fancy Bear", "FANCY   bear"},
		{"ＡＰＴ２８ 攻撃", "apt28 攻撃"},
		{"10.0.0.1,EVIL.com", "10.0.0.1\nevil.com."},
		{"2001:DB8::1", "2001:db8:0::1"},
	}
	for _, p := range pairs {
		a, err1 := Parse(p[0])
		b, err2 := Parse(p[1])
		if err1 != nil || err2 != nil || !slices.EqualFunc(a.Groups(), b.Groups(), slices.Equal) || a.List != b.List {
			t.Errorf("%q and %q differ: %+v / %+v", p[0], p[1], a, b)
		}
	}
}

func TestExtract(t *testing.T) {
	terms := Extract([]byte(`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-02T03:04:05Z",
		"name":"Fancy Bear C2","description":"Beacons to evil[.]com and 198.51.100.7 daily. 標的型攻撃",
		"pattern":"[ipv4-addr:value = '203.0.113.9'] OR [file:hashes.'SHA-256' = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']","pattern_type":"stix"}`))
	for _, want := range []string{"w:fancy", "w:bear", "dom:evil.com", "ip:198.51.100.7", "net:198.51.0.0/16", "ip:203.0.113.9",
		"hash:" + strings.Repeat("a", 64), "id:indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "w:攻撃", "w:indicator"} {
		if !slices.Contains(terms, want) {
			t.Errorf("no term %s in %q", want, terms)
		}
	}
	for _, t2 := range terms {
		if strings.Contains(t2, "2026") || strings.Contains(t2, "ipv4") {
			t.Errorf("term %q should not be indexed", t2)
		}
	}
	if got := Extract([]byte(`{"type":"domain-name","value":"intranet"}`)); !slices.Contains(got, "dom:intranet") {
		t.Errorf("a one-label domain-name observable: %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"fancy bear", "10.0.0.0/8", "198.51.100.7\nevil.com", "::/0", "標的型攻撃", "hxxp://x[.]com/a", "a@b.cd, e@f.gh", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		// Parsing the canonical spelling works, and gives the same list of
		// values. (A free-text word can be a value once it stands alone:
		// "x!<32 hex digits>" holds the word, not the hash.)
		again, err := Parse(q.String())
		if err != nil {
			t.Fatalf("canonical %q of %q: %v", q.String(), s, err)
		}
		if q.List && !slices.EqualFunc(q.Groups(), again.Groups(), slices.Equal) {
			t.Fatalf("%q: groups %q, canonical %q gives %q", s, q.Groups(), q.String(), again.Groups())
		}
		for _, g := range q.Groups() {
			if len(g) == 0 {
				t.Fatalf("%q: an empty group", s)
			}
			for _, term := range g {
				if !utf8.ValidString(term) && utf8.ValidString(s) {
					t.Fatalf("%q: term %q not UTF-8", s, term)
				}
			}
		}
	})
}

func TestPatternTerms(t *testing.T) {
	terms := PatternTerms(`([ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [process:name = 'Mimikatz.exe']) ` +
		`OR [file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E'] OR [domain-name:value = 'intranet'] ` +
		`OR [ipv4-addr:value NOT = '192.0.2.1'] OR [url:value != 'http://x.example.com/'] OR [file:name LIKE 'evil%.dll']`)
	for _, want := range []string{"cidr:198.51.100.0/24", "net:198.51.0.0/16", "w:mimikatz", "w:exe",
		"hash:d41d8cd98f00b204e9800998ecf8427e", "dom:intranet"} {
		if !slices.Contains(terms, want) {
			t.Errorf("no %s in %q", want, terms)
		}
	}
	for _, not := range []string{"ip:192.0.2.1", "url:http://x.example.com/", "w:evil", "w:ipv4", "w:value"} {
		if slices.Contains(terms, not) {
			t.Errorf("%s should not be a term of the pattern (%q)", not, terms)
		}
	}
	// A pattern that does not parse still gives the values of its literals.
	if got := PatternTerms(`[ipv4-addr:value = '203.0.113.9'`); !slices.Contains(got, "ip:203.0.113.9") {
		t.Errorf("unparsable pattern: %q", got)
	}
}

package searchterm

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Value is one exact value: its kind (KindIP, KindCIDR, KindDomain,
// KindURL, KindEmail, KindHash, KindID) and canonical text.
type Value struct {
	Kind string
	Text string
}

func (v Value) String() string { return v.Text }

// Network prefixes indexed with every IP address (and CIDR block), so that
// a CIDR query finds the addresses inside it with one term per prefix
// length it has to cover:
//   - IPv4: every length from /8 to /31 (the /32 is the address itself):
//     24 terms. A query for a block shorter than /8 is asked as its /8s
//     (at most 256).
//   - IPv6: every fourth length from /16 to /124 (/16, /20, ... /124): 28
//     terms. A query for /N asks for the blocks of the next indexed length
//     (at most 8 of them); a block shorter than /16 as its /16s, down to
//     /8 (256). Shorter IPv6 blocks are refused as too broad.
const (
	v4Min, v4Step     = 8, 1
	v6Min, v6Step     = 16, 4
	maxExpand         = 256
	maxURLBytes       = 2048
	maxDomainBytes    = 253
	maxEmailBytes     = 320
	stixIDUUIDLen     = 36
	stixIDMinTypeSize = 1
)

// refang undoes the usual defanging of indicators in reports: "evil[.]com",
// "hxxp://", "user[@]example.org".
func refang(s string) string {
	if strings.ContainsAny(s, "[(") {
		s = strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".", "[@]", "@", "[:]", ":", "[://]", "://").Replace(s)
	}
	if len(s) > 4 && (strings.HasPrefix(s, "hxxp") || strings.HasPrefix(s, "HXXP")) {
		s = "http" + s[4:]
	}
	return s
}

// trimToken strips the punctuation text puts around a value ("(evil.com).",
// "<user@example.org>", quotes).
func trimToken(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, "\"'`([{<"), "\"'`)]}>.,;:!?")
}

// Classify returns the exact value s names, if it names one (leading and
// trailing punctuation and defanging undone): a STIX id, an IP address, a
// CIDR block, a URL, an e-mail address, a hex digest or a domain name.
func Classify(s string) (Value, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil { // before trimming: "fe80::" ends in a colon
		return Value{KindIP, a.Unmap().WithZone("").String()}, true
	}
	s = refang(trimToken(s))
	if s == "" || len(s) > maxURLBytes {
		return Value{}, false
	}
	if v, ok := stixID(s); ok {
		return v, true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return Value{KindIP, a.Unmap().WithZone("").String()}, true
	}
	if strings.Contains(s, "/") && !strings.Contains(s, "://") {
		if p, ok := prefix(s); ok {
			return p, true
		}
	}
	if strings.Contains(s, "://") {
		return urlValue(s)
	}
	if strings.Contains(s, "@") {
		return email(s)
	}
	if isHexDigest(s) {
		return Value{KindHash, strings.ToLower(s)}, true
	}
	return domain(s)
}

// prefix returns s as a CIDR block, masked; a full-length block is its
// address.
func prefix(s string) (Value, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Value{}, false
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	if p.IsSingleIP() {
		return Value{KindIP, p.Addr().String()}, true
	}
	return Value{KindCIDR, p.String()}, true
}

// stixID returns s as a STIX id: TYPE--UUID, lower case.
func stixID(s string) (Value, bool) {
	i := strings.Index(s, "--")
	if i < stixIDMinTypeSize || len(s)-i-2 != stixIDUUIDLen {
		return Value{}, false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return Value{}, false
		}
	}
	u := s[i+2:]
	for k, r := range u {
		switch k {
		case 8, 13, 18, 23:
			if r != '-' {
				return Value{}, false
			}
		default:
			if !isHexRune(r) {
				return Value{}, false
			}
		}
	}
	return Value{KindID, strings.ToLower(s)}, true
}

func isHexRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

// isHexDigest reports a hex string of a common digest's length (MD5, SHA-1,
// SHA-224, SHA-256, SHA-384, SHA-512).
func isHexDigest(s string) bool {
	switch len(s) {
	case 32, 40, 56, 64, 96, 128:
	default:
		return false
	}
	for _, r := range s {
		if !isHexRune(r) {
			return false
		}
	}
	return true
}

// urlValue returns s as a URL with its scheme and host in lower case.
func urlValue(s string) (Value, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Value{}, false
	}
	i := strings.Index(s, "://")
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	return Value{KindURL, strings.ToLower(s[:i+3]) + strings.ToLower(rest[:end]) + rest[end:]}, true
}

// email returns s as an e-mail address, lower case (its domain must be one).
func email(s string) (Value, bool) {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || len(s) > maxEmailBytes || strings.ContainsAny(s[:at], " \t\"<>()[],;:\\@") {
		return Value{}, false
	}
	if _, ok := domain(s[at+1:]); !ok {
		return Value{}, false
	}
	return Value{KindEmail, Fold(s)}, true
}

// domain returns s as a domain name: at least two labels of letters,
// digits, hyphens and underscores, the last of letters only (two or more),
// lower case, without the trailing dot.
func domain(s string) (Value, bool) {
	s = strings.TrimSuffix(s, ".")
	if len(s) > maxDomainBytes || !strings.Contains(s, ".") {
		return Value{}, false
	}
	s = Fold(s)
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return Value{}, false
		}
		for _, r := range l {
			if !(isWordRune(r) || r == '-' || r == '_') {
				return Value{}, false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len([]rune(tld)) < 2 {
		return Value{}, false
	}
	for _, r := range tld {
		if r >= '0' && r <= '9' || r == '-' || r == '_' {
			return Value{}, false
		}
	}
	return Value{KindDomain, s}, true
}

// indexedLengths returns the prefix lengths indexed for an address of
// bits bits, up to (not including) below.
func indexedLengths(bits, below int) []int {
	min, step := v4Min, v4Step
	if bits == 128 {
		min, step = v6Min, v6Step
	}
	var out []int
	for l := min; l < below && l < bits; l += step {
		out = append(out, l)
	}
	return out
}

// netTerms are the network prefix terms of address a at the indexed
// lengths below below.
func netTerms(a netip.Addr, below int) []string {
	var out []string
	for _, l := range indexedLengths(a.BitLen(), below+1) {
		if l == a.BitLen() {
			break
		}
		out = append(out, Term(KindNet, netip.PrefixFrom(a, l).Masked().String()))
	}
	return out
}

// IndexTerms returns the terms that index v in the data: its own term, and
// for an address or a block the network prefixes it lies in; for a URL or
// an e-mail address, its host as a domain (or address) too.
func (v Value) IndexTerms() []string {
	out := []string{Term(v.Kind, v.Text)}
	switch v.Kind {
	case KindIP:
		a, err := netip.ParseAddr(v.Text)
		if err == nil {
			out = append(out, netTerms(a, a.BitLen()-1)...)
		}
	case KindCIDR:
		p, err := netip.ParsePrefix(v.Text)
		if err == nil {
			out = append(out, netTerms(p.Addr(), p.Bits())...)
		}
	case KindURL:
		if u, err := url.Parse(v.Text); err == nil {
			if h, ok := Classify(u.Hostname()); ok && (h.Kind == KindDomain || h.Kind == KindIP) {
				out = append(out, h.IndexTerms()...)
			}
		}
	case KindEmail:
		if d, ok := domain(v.Text[strings.LastIndexByte(v.Text, '@')+1:]); ok {
			out = append(out, Term(d.Kind, d.Text))
		}
	}
	return out
}

// QueryTerms returns the terms a search for v matches (any of them: OR):
//   - an address: itself, and every CIDR block the data states that holds it;
//   - a CIDR block: the network prefix terms that cover it (the addresses
//     and blocks inside it), and the same block stated as a block;
//   - anything else: its own term.
//
// A block too broad to ask for (an IPv6 block shorter than /8) is an error.
func (v Value) QueryTerms() ([]string, error) {
	switch v.Kind {
	case KindIP:
		a, err := netip.ParseAddr(v.Text)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", v.Text, err)
		}
		out := []string{Term(KindIP, v.Text)}
		for l := 0; l < a.BitLen(); l++ {
			out = append(out, Term(KindCIDR, netip.PrefixFrom(a, l).Masked().String()))
		}
		return out, nil
	case KindCIDR:
		p, err := netip.ParsePrefix(v.Text)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", v.Text, err)
		}
		return blockTerms(p)
	}
	return []string{Term(v.Kind, v.Text)}, nil
}

// blockTerms are the net terms covering block p: p's own when its length
// is indexed, else the blocks of the next indexed length inside it.
func blockTerms(p netip.Prefix) ([]string, error) {
	min, step := v4Min, v4Step
	if p.Addr().Is6() {
		min, step = v6Min, v6Step
	}
	l := p.Bits()
	if l < min {
		l = min
	} else if (l-min)%step != 0 {
		l += step - (l-min)%step
	}
	if l >= p.Addr().BitLen() { // IPv6 /125 and longer: the addresses themselves
		l = p.Addr().BitLen()
	}
	n := 1 << (l - p.Bits())
	if l-p.Bits() > 8 || n > maxExpand {
		return nil, fmt.Errorf("block %s is too broad to search (at most %d blocks of /%d)", p, maxExpand, l)
	}
	out := []string{Term(KindCIDR, p.String())}
	a := p.Addr()
	for i := 0; i < n; i++ {
		sub := netip.PrefixFrom(a, l)
		if l == a.BitLen() {
			out = append(out, Term(KindIP, a.String()))
		} else {
			out = append(out, Term(KindNet, sub.String()))
		}
		a = nextBlock(a, l)
	}
	return out, nil
}

// nextBlock returns the first address of the block of length l after the
// one a starts.
func nextBlock(a netip.Addr, l int) netip.Addr {
	b := a.AsSlice()
	inc := byte(1) << (7 - (l-1)%8)
	for i := (l - 1) / 8; i >= 0; i-- {
		old := b[i]
		b[i] += inc
		if b[i] > old {
			break
		}
		inc = 1 // carry into the byte above
	}
	n, _ := netip.AddrFromSlice(b)
	return n
}

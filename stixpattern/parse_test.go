package stixpattern

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// specExamples are the example patterns of STIX 2.1 §9 (STIX Patterning),
// written as the 2.1 grammar takes them: hyphenated property names quoted,
// START/STOP with timestamp constants.
var specExamples = []string{
	`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
	`[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']`,
	`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']`,
	`[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
	`([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) WITHIN 300 SECONDS`,
	`[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']`,
	`[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']`,
	`[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']`,
	`[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]`,
	`[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']`,
	`[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']`,
	`[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS`,
	`[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']`,
	`[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']`,
	`[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']`,
	`[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']`,
	`[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']`,
	`[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']`,
	`[x-usb-device:usbdrive.serial_number = '575833314133343231313937']`,
	`[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS`,
	`[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']`,
	`([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']`,
	`[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']`,
	`[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'`,
	`[ipv4-addr:value = '203.0.113.1' OR ipv4-addr:value = '203.0.113.2']`,
	`([ipv4-addr:value = '198.51.100.5'] AND [ipv4-addr:value = '198.51.100.10']) WITHIN 300 SECONDS`,
	`[ipv4-addr:value = '198.51.100.5' ] AND [ ipv4-addr:value = '198.51.100.10']`,
	`[file:size = 25536]`,
	`[process:name IN ('proccy', 'proximus', 'badproc')]`,
	`[directory:path LIKE 'C:\\Windows\\%\\foo']`,
	`[ipv4-addr:value ISSUBSET '198.51.100.0/24']`,
	`[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'second.stream']`,
	`[network-traffic:extensions.'http-request-ext'.request_header.'Accept-Encoding' = 'gzip,deflate']`,
	`[windows-registry-key:values[*].name = 'Foo']`,
	`[file:name = 'foo.dll'] REPEATS 3 TIMES`,
	`([ipv4-addr:value = '198.51.100.5'] REPEATS 5 TIMES) WITHIN 60.5 SECONDS`,
	`[EXISTS windows-registry-key:values]`,
}

// validatorCases are further valid patterns of the OASIS pattern validator's
// 2.1 tests: spacing, NOT, IN, binary, timestamps with fractions, qualifiers
// stacked on parenthesised groups.
var validatorCases = []string{
	"[file:size = 1280]",
	"[file:size != 1280]",
	"[file:size < 1024]",
	"[file:size <= 1024]",
	"[file:size > 1024]",
	"[file:size >= 1024]",
	"[file:file_name = 'my_file_name']",
	"[file:extended_properties.'ntfs-ext'.sid = '234']",
	`[emailaddr:value MATCHES '.+\\@ibm\\.com$' OR file:name MATCHES '^Final Report.+\\.exe$']`,
	"[ipv4addr:value ISSUBSET '192.168.0.1/24']",
	"[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']",
	"[user-account:value = 'Peter'] AND [user-account:value != 'Paul'] AND [user-account:value = 'Mary'] WITHIN 5 SECONDS",
	"[file:file_system_properties.file_name LIKE 'name%']",
	"[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
	"[file:size IN (1024, 2048, 4096)]",
	"[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']",
	`[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS`,
	"[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
	"[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
	"[foo:bar=1] REPEATS 9 TIMES",
	"[network-traffic:start = '2018-04-20T12:36:24.558Z']",
	"( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
	`([win-registry-key:key = 'hkey_local_machine\\foo\\bar']) WITHIN 5 SECONDS WITHIN 6 SECONDS`,
	`([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES) REPEATS 2 TIMES`,
	"[network-traffic:src_port = 37020 AND user-account:user_id = 'root'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR [ipv4-addr:value = '192.168.122.83'] START t'2016-06-01T03:55:00.123Z' STOP t'2016-06-01T04:30:24.743Z'",
}

func TestSpecExamples(t *testing.T) {
	for _, s := range append(append([]string{}, specExamples...), validatorCases...) {
		p, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%s): %v", s, err)
			continue
		}
		if len(p.Comparisons()) == 0 {
			t.Errorf("Parse(%s): no comparisons", s)
		}
		roundTrip(t, s, p)
	}
}

// roundTrip checks that the canonical form parses back to the same tree and
// is a fixed point.
func roundTrip(t *testing.T, in string, p *Pattern) {
	t.Helper()
	out := p.String()
	q, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(String()) of %q: %q: %v", in, out, err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip of %q changed the tree:\n%s\n%s", in, out, q.String())
	}
	if q.String() != out {
		t.Fatalf("canonical form not a fixed point: %q then %q", out, q.String())
	}
}

func TestParseTree(t *testing.T) {
	p, err := Parse(`/* c */ ([file:hashes.'MD5' == 'AB' AND file:size <> +07.50] OR [x:a.'b c'[-1].d[*] NOT IN ('x', 1, true, h'FF', b'AAAA')]) FOLLOWEDBY [a:b = 1] // end`)
	if err != nil {
		t.Fatal(err)
	}
	want := `([file:hashes.MD5 = 'AB' AND file:size != 7.50] OR [x:a.'b c'[-1].d[*] NOT IN ('x', 1, true, h'ff', b'AAAA')]) FOLLOWEDBY [a:b = 1]`
	if got := p.String(); got != want {
		t.Fatalf("String:\n got %s\nwant %s", got, want)
	}
	if p.Expr.Op != ObsFollowedBy || len(p.Expr.Operands) != 2 || p.Expr.Operands[0].Op != ObsGroup {
		t.Fatalf("top of tree: %+v", p.Expr)
	}
	or := p.Expr.Operands[0].Operands[0]
	if or.Op != ObsOr || len(or.Operands) != 2 || or.Operands[0].Comparison.Op != CmpAnd {
		t.Fatalf("group: %+v", or)
	}
	got := p.Comparisons()
	wantCmp := []Comparison{
		{ObjectType: "file", Path: "hashes.MD5", Op: "=", Values: []Value{{String, "AB"}}},
		{ObjectType: "file", Path: "size", Op: "!=", Values: []Value{{Float, "7.50"}}},
		{ObjectType: "x", Path: "a.'b c'[-1].d[*]", Op: "IN", Negated: true,
			Values: []Value{{String, "x"}, {Int, "1"}, {Bool, "true"}, {Hex, "ff"}, {Binary, "AAAA"}}},
		{ObjectType: "a", Path: "b", Op: "=", Values: []Value{{Int, "1"}}},
	}
	if !reflect.DeepEqual(got, wantCmp) {
		t.Fatalf("Comparisons:\n got %+v\nwant %+v", got, wantCmp)
	}
}

func TestPrecedence(t *testing.T) {
	// FOLLOWEDBY binds loosest, then OR, then AND; qualifiers bind tightest.
	p, err := Parse("[a:b = 1] AND [a:b = 2] OR [a:b = 3] FOLLOWEDBY [a:b = 4] WITHIN 5 SECONDS")
	if err != nil {
		t.Fatal(err)
	}
	fb := p.Expr
	if fb.Op != ObsFollowedBy || len(fb.Operands) != 2 {
		t.Fatalf("root %v", fb.Op)
	}
	if or := fb.Operands[0]; or.Op != ObsOr || or.Operands[0].Op != ObsAnd || len(or.Operands[0].Operands) != 2 {
		t.Fatalf("left of FOLLOWEDBY: %s", (&Pattern{Expr: or}).String())
	}
	if last := fb.Operands[1]; last.Op != ObsComparison || len(last.Qualifiers) != 1 || last.Qualifiers[0].Kind != Within {
		t.Fatalf("WITHIN should bind to the last observation: %+v", last)
	}
	c, err := Parse("[a:b = 1 OR a:b = 2 AND a:b = 3]")
	if err != nil {
		t.Fatal(err)
	}
	if ce := c.Expr.Comparison; ce.Op != CmpOr || ce.Operands[1].Op != CmpAnd {
		t.Fatalf("AND should bind tighter than OR inside brackets: %+v", ce)
	}
}

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		lit  string
		want Value
	}{
		{`'it\'s a \\ path'`, Value{String, `it's a \ path`}},
		{`''`, Value{String, ""}},
		{`'naïve 日本'`, Value{String, "naïve 日本"}},
		{"'two\nlines'", Value{String, "two\nlines"}},
		{"+42", Value{Int, "42"}},
		{"-0", Value{Int, "0"}},
		{"-17", Value{Int, "-17"}},
		{".5", Value{Float, "0.5"}},
		{"-00.50", Value{Float, "-0.50"}},
		{"true", Value{Bool, "true"}},
		{"false", Value{Bool, "false"}},
		{"h''", Value{Hex, ""}},
		{"h'DEADbeef'", Value{Hex, "deadbeef"}},
		{"b'AA=='", Value{Binary, "AA=="}},
		{"b'AAA='", Value{Binary, "AAA="}},
		{"t'2016-02-29T23:59:60.000001Z'", Value{Timestamp, "2016-02-29T23:59:60.000001Z"}},
	} {
		p, err := Parse("[x:y = " + tc.lit + "]")
		if err != nil {
			t.Errorf("%s: %v", tc.lit, err)
			continue
		}
		if got := p.Comparisons()[0].Values[0]; got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.lit, got, tc.want)
		}
		roundTrip(t, tc.lit, p)
	}
}

func TestPaths(t *testing.T) {
	for in, want := range map[string]string{
		"hashes.'SHA-256'":         "hashes.'SHA-256'",
		"hashes.'MD5'":             "hashes.MD5",
		"'hashes'.MD5":             "hashes.MD5",
		"extensions.'x'.y[*]":      "extensions.x.y[*]",
		"a . b [ 1 ] [ +2 ] [ * ]": "a.b[1][2][*]",
		"a.'AND'.'true'.'1x'.''":   "a.'AND'.'true'.'1x'.''",
		`a.'it\'s'`:                `a.'it\'s'`,
		"_a_1.B2":                  "_a_1.B2",
	} {
		p, err := Parse("[x-y:" + in + " = 1]")
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := p.Comparisons()[0].Path; got != want {
			t.Errorf("%s: path %q, want %q", in, got, want)
		}
		roundTrip(t, in, p)
	}
}

func TestWhitespaceAndComments(t *testing.T) {
	want := "[a:b = 1] AND [c:d IN ()]"
	for _, s := range []string{
		"[a:b=1]AND[c:d IN()]",
		"\u00a0[ a : b = 1 ]\u3000AND\u2028[c:d IN ( )]\u205f",
		"/**/[a:b/* x */=1] // comment\nAND [c:d IN ()]//",
		"\t[a:b\r\n=\v1]\fAND\u0085[c:d\u2000IN\u200a()]",
	} {
		p, err := Parse(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if p.String() != want {
			t.Errorf("%q: %s", s, p.String())
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "expected `[` or `(`, found the end"},
		{"file:size = 1280", 0, "inside square brackets"},
		{"[file:size = ]", 13, "expected a constant after ="},
		{"[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", 19, "strings go in single quotes"},
		{"[file.size = 1280]", 5, "expected `:` after the object type file"},
		{`[file:name MATCHES /.*\\.dll/]`, 19, "a string constant after MATCHES"},
		{"[win-registry-key:key = 'x'] WITHIN ]", 36, "a positive number of seconds"},
		{"[win-registry-key:key = 'x'] WITHIN 5 HOURS", 38, "SECONDS"},
		{"[win-registry-key:key = 'x'] WITHIN -5 SECONDS", 36, "a positive number of seconds"},
		{"[win-registry-key:key = 'x'] WITHIN 0 SECONDS", 36, "positive"},
		{"[win-registry-key:key = 'x'] WITHIN 0.000 SECONDS", 36, "positive"},
		{"[a:b = 1] REPEATS 0 TIMES", 18, "positive integer"},
		{"[a:b = 1] REPEATS 2.5 TIMES", 18, "positive integer"},
		{"[a:b = 1] REPEATS -1 TIMES", 18, "positive integer"},
		{"[a:b = 1] REPEATS 2", 19, "TIMES"},
		{"[network-traffic:dst_ref.value ISSUBSET ]", 40, "a string constant after ISSUBSET"},
		{"[file:hashes.MD5 =? 'cead']", 18, `unexpected character "?"`},
		{"[x_whatever:detected == t'2457-73-22T32:81:84.1Z']", 24, "month out of range"},
		{"[a:b = t'2016-02-30T00:00:00Z']", 7, "day out of range"},
		{"[a:b = t'2015-02-29T00:00:00Z']", 7, "day out of range"},
		{"[a:b = t'2016-01-01T24:00:00Z']", 7, "hour out of range"},
		{"[a:b = t'2016-01-01T00:00:00+01:00']", 7, "wrong shape"},
		{"[a:b = t'2016-01-01T00:00:00.Z']", 7, "wrong shape"},
		{"[artifact:payload_bin = b'====']", 26, "not a base64 character"},
		{"[a:b = b'']", 9, "groups of four"},
		{"[a:b = b'AAA']", 9, "groups of four"},
		{"[a:b = h'abc']", 9, "odd number"},
		{"[a:b = h'zz']", 9, "not a hex digit"},
		{"[foo:bar=1] within 2 seconds", 12, "found `within`"},
		{"[a:b = 1 and a:c = 2]", 9, "AND, OR or `]`"},
		{"[win-registry-key:key = 'x'] WITHIN 5 SECONDS WITHIN 6 SECONDS", 46, "second WITHIN"},
		{"([a:b = 'x'] REPEATS 2 TIMES REPEATS 3 TIMES)", 29, "second REPEATS"},
		{"[a:b = 'x'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'", 79, "second START/STOP"},
		{"[a:b = 'x'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'", 18, "a timestamp"},
		{"[a:b = 'x'] START t'2016-06-01T00:00:00Z'", 41, "STOP"},
		{"[file:a-b = 1]", 6, "has a hyphen: quote it"},
		{"[file:name > true]", 13, "not a boolean"},
		{"[file:name LIKE 5]", 16, "a string constant after LIKE"},
		{"[file:name IN 'a']", 14, "`(` to open the IN set"},
		{"[file:name IN ('a',)]", 19, "a constant in the IN set"},
		{"[file:name IN ('a' 'b')]", 19, "`,` or `)`"},
		{"[NOT EXISTS file:name]", 1, "an object type"},
		{"[file:name NOT EXISTS]", 15, "a comparison operator"},
		{"[file:name = 'unterminated]", 13, "unterminated string"},
		{`[file:name = 'bad\escape']`, 17, "invalid escape"},
		{"[file:size = 01]", 13, "leading zeros"},
		{"[]", 1, "an object type"},
		{"[file:name = 'a'] AND", 21, "expected `[` or `(`"},
		{"[file:name = 'a'] [file:name = 'b']", 18, "the end of the pattern"},
		{"[a:b[1.5] = 1]", 5, "a list index"},
		{"[a:b[] = 1]", 5, "a list index"},
		{"[AND:b = 1]", 1, "an object type"},
		{"[a:IN = 1]", 3, "a property name"},
		{"[a:b = 1] /* unterminated", 10, "unterminated comment"},
		{"([a:b = 1]", 10, "`)`"},
		{"[a:b = 1])", 9, "the end of the pattern"},
		{"[a:b = 1] FOLLOWEDBY", 20, "expected `[` or `(`"},
		{"[a:b = - 1]", 7, "a constant"},
		{"[a:b = 1] ^ [a:b = 2]", 10, "found `^`"},
		{"[a:b = 'x\xff']", 9, "invalid UTF-8"},
		{"[a:b LAST 1]", 5, "a comparison operator"},
		{"[a:b = 1] WITHIN 5 SECONDS AND", 30, "expected `[` or `(`"},
	} {
		p, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want an error", tc.in, p)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): error %T, want *Error", tc.in, err)
			continue
		}
		if pe.Offset != tc.offset || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("Parse(%q):\n got %v\nwant at byte %d: ...%s...", tc.in, err, tc.offset, tc.msg)
		}
	}
}

func TestLimits(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("(", n-1) + "[a:b = 1]" + strings.Repeat(")", n-1)
	}
	if _, err := Parse(nest(MaxDepth)); err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	if _, err := Parse(nest(MaxDepth + 1)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("depth %d: %v", MaxDepth+1, err)
	}
	cmpNest := "[" + strings.Repeat("(", MaxDepth) + "a:b = 1" + strings.Repeat(")", MaxDepth) + "]"
	if _, err := Parse(cmpNest); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("comparison nesting: %v", err)
	}
	// Deep nesting that stops at the limit fails at once, however long the rest.
	if _, err := Parse(strings.Repeat("(", 1<<15)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("a wall of parentheses: %v", err)
	}
	long := "[a:b = '" + strings.Repeat("x", MaxSize) + "']"
	if _, err := Parse(long); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("oversize: %v", err)
	}
	// Long flat chains are loops, not recursion: fine up to the size limit.
	chain := "[a:b = 1" + strings.Repeat(" OR a:b = 1", (MaxSize-20)/11) + "]"
	p, err := Parse(chain)
	if err != nil {
		t.Fatalf("long chain: %v", err)
	}
	if n := len(p.Comparisons()); n != (MaxSize-20)/11+1 {
		t.Fatalf("long chain: %d comparisons", n)
	}
	// The canonical form is bounded too, so String always parses back.
	dense := "[a:b=1" + strings.Repeat(" OR a:b=1", (MaxSize-20)/9) + "]"
	if _, err := Parse(dense); err == nil || !strings.Contains(err.Error(), "canonical form") {
		t.Fatalf("canonical form over the limit: %v", err)
	}
}

func TestExactValues(t *testing.T) {
	p, err := Parse(`[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value ISSUBSET '203.0.113.0/24'
		OR ipv4-addr:value ISSUBSET 'not a network' OR ipv4-addr:value ISSUPERSET '10.0.0.0/8'
		OR domain-name:value IN ('a.example', 'b.example', 7) OR file:name NOT = 'skip.exe'
		OR file:name != 'skip2.exe' OR file:name NOT IN ('skip3') OR url:value LIKE 'http://%'
		OR file:name MATCHES '^x' OR file:size = 7 OR file:size > 9 OR file:magic_number_hex = h'ffd8'
		OR EXISTS file:name OR x509-certificate:serial_number == '4c:0b']`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Comparisons() {
		got = append(got, c.ExactValues()...)
	}
	want := []string{"198.51.100.1", "203.0.113.0/24", "a.example", "b.example", "4c:0b"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ExactValues: got %q, want %q", got, want)
	}
}

func TestNilPattern(t *testing.T) {
	var p *Pattern
	if p.String() != "" || p.Comparisons() != nil {
		t.Fatal("a nil pattern should print empty and have no comparisons")
	}
}

func BenchmarkParse(b *testing.B) {
	s := specExamples[3] // two observations, three hash comparisons
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

package stixpattern_test

import (
	"fmt"

	"github.com/tearline/tearline/stixpattern"
)

func ExampleParse() {
	p, err := stixpattern.Parse(`[file:hashes.'MD5' = 'cead3f77f6cda6ec00f57d76c9a6879f' OR file:name NOT = 'a.exe']
		AND [ipv4-addr:value ISSUBSET '198.51.100.0/24'] WITHIN 300 SECONDS`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	for _, c := range p.Comparisons() {
		fmt.Printf("%s:%s %s %v -> %q\n", c.ObjectType, c.Path, c.Op, c.Values, c.ExactValues())
	}
	_, err = stixpattern.Parse("[file:name = a.exe]")
	fmt.Println(err)
	// Output:
	// [file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' OR file:name NOT = 'a.exe'] AND [ipv4-addr:value ISSUBSET '198.51.100.0/24'] WITHIN 300 SECONDS
	// file:hashes.MD5 = ['cead3f77f6cda6ec00f57d76c9a6879f'] -> ["cead3f77f6cda6ec00f57d76c9a6879f"]
	// file:name = ['a.exe'] -> []
	// ipv4-addr:value ISSUBSET ['198.51.100.0/24'] -> ["198.51.100.0/24"]
	// invalid STIX pattern at byte 13: expected a constant after = (strings go in single quotes), found `a`
}

// Package stixpattern parses STIX 2.1 patterns (STIX 2.1 §9, "STIX
// Patterning"), the language of indicators with pattern_type "stix".
//
// The parser is a hand-written recursive descent over the OASIS ANTLR grammar
// (STIXPattern.g4 of oasis-open/cti-stix2-json-schemas, the grammar the OASIS
// pattern validator runs for 2.1): one function per grammar rule, its
// left-recursive rules written as loops, the lexer's longest-match rules
// reproduced by hand. It imports only the standard library, so the packages
// that need it (stix's validator, the search index) stand on no parser
// generator, and it is bounded (MaxSize, MaxDepth) and fuzzed (FuzzParse)
// because every indicator a partner sends goes through it.
//
// Parse returns the tree (Pattern); Comparisons lists its comparisons and
// Comparison.ExactValues the constants worth indexing; String re-serialises
// the tree in one canonical form that parses back to an equal tree.
package stixpattern

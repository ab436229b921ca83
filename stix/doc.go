// Package stix parses and validates STIX 2.1 bundles and objects.
//
// Objects are kept as the bytes that were received (compacted, never
// re-encoded), because Tearline signs and forwards them: any rewriting of
// member order, string escapes or numbers would change what a peer verifies.
// Validation therefore works on the raw JSON with a small scanner instead of
// decoding into maps; jsontext does the strict syntax pass (duplicate names,
// invalid UTF-8) once per input.
package stix

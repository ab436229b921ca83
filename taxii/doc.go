// Package taxii serves TAXII 2.1 (OASIS Standard, 10 June 2021): discovery,
// one API root, its collections and their objects, manifests, versions and
// status resources, with the TAXII media types, headers and error messages.
//
// The package knows HTTP and the TAXII resources, nothing of Tearline's
// storage or decisions: everything it serves comes from a Backend, which
// decides what a caller may see and audits every read. A collection is
// therefore a view, and two callers asking for the same collection may get
// different objects.
//
// The package imports only the standard library, so the node (which
// implements Backend) and the HTTP API (which mounts the Handler) can both
// depend on it.
package taxii

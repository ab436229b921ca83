package node

import "errors"

// The node's sentinel errors, in one place. Callers test them with
// errors.Is; package api maps them to HTTP statuses (ErrNotFound 404,
// ErrForbidden 403, ErrInvalid and ErrBadCursor 400, ErrUnauthenticated
// 401, ErrNotReleased and ErrNotFailed 409) and does nothing else about them. Each is
// wrapped with what was being done.
//
// Sentinels of the services stay with them: ErrUnknownKind
// (node/inbox), ErrNothingRemains (node/release), ErrNoPeer and ErrCert*
// (package trust).
var (
	// ErrRefused marks a message the receiver will never accept (a forged
	// binding, no agreement, bad content): retrying cannot help. Wrap it.
	ErrRefused = errors.New("refused")

	// ErrNotFound is what a caller gets for an object that does not exist
	// and for one it may not see: the two are indistinguishable by design.
	ErrNotFound = errors.New("not found")

	// ErrForbidden is returned when a role does not permit an action. It is
	// never used for objects: an object a user may not see does not exist.
	ErrForbidden = errors.New("not permitted for this role")

	// ErrInvalid marks a request the caller got wrong (a bad name, an
	// unknown clearance); the message says which field.
	ErrInvalid = errors.New("invalid")

	// ErrUnauthenticated covers every way a token can fail; callers cannot
	// tell an unknown token from a revoked or expired one.
	ErrUnauthenticated = errors.New("invalid, expired or revoked token")

	// ErrBadCursor reports a `next` value that is not one we issued.
	ErrBadCursor = errors.New("invalid next cursor")

	// ErrNotReleased reports an approval that could not release because the
	// decision, made again at approval time, no longer allows it.
	ErrNotReleased = errors.New("not released")

	// ErrExists is returned by Init when the directory already holds a
	// node.
	ErrExists = errors.New("directory already holds a Tearline node")

	// ErrNotFailed reports a retry of a delivery to a partner that has not
	// failed (it is queued, retrying or delivered).
	ErrNotFailed = errors.New("the delivery has not failed")

	// ErrNoBackup is returned by Backup for a store that cannot copy
	// itself. Both backends can (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
	ErrNoBackup = errors.New("this store makes no backups itself")
)

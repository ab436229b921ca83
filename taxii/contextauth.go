package taxii

import "context"

// ContextAuthenticator is a Backend that can also name the caller of a
// request that carries no token, from what the server in front put in the
// request's context (a partner node identified by its TLS client
// certificate). ok false means the context names nobody: the request is
// unauthenticated, as without this interface.
type ContextAuthenticator interface {
	AuthenticateContext(ctx context.Context) (c Caller, ok bool, err error)
}

package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	// Aliased: the partner view still has a cursor type of its own (taxii_read.go).
	pagecursor "github.com/tearline/tearline/cursor"
	"github.com/tearline/tearline/seal"
)

// cursorKeyName names the page-cursor key among the node keys.
const cursorKeyName = "cursor"

// cursorState holds the cursor codec once its key is loaded; zero value
// ready.
type cursorState struct {
	mu    sync.Mutex
	codec *pagecursor.Codec
}

// Cursors seals and opens the page cursors (`next`) of every listing: a
// position bound to the user and the listing (route and parameters).
type Cursors struct{ codec *pagecursor.Codec }

// Cursors returns the node's cursors, loading (or making) their key on
// first use. A failure is not kept: the next call tries again.
func (n *Node) Cursors(ctx context.Context) (*Cursors, error) {
	n.cur.mu.Lock()
	defer n.cur.mu.Unlock()
	if n.cur.codec != nil {
		return &Cursors{n.cur.codec}, nil
	}
	key, err := seal.NodeKey(ctx, n.st, n.sealed.Keys(), n.now(), cursorKeyName)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	defer clear(key)
	// The clock is read through n.now at each call, so a test's clock
	// applies to cursors too.
	c, err := pagecursor.New(key, func() time.Time { return n.now() })
	if err != nil {
		return nil, err
	}
	n.cur.codec = c
	return &Cursors{c}, nil
}

// Seal returns the cursor for pos in a listing p asked for with route and
// params (the user is added here).
func (c *Cursors) Seal(p *Principal, route string, params []string, pos pagecursor.Position) (string, error) {
	return c.codec.Seal(pagecursor.Scope{User: cursorUser(p), Route: route, Params: params}, pos)
}

// Open returns the position of a cursor p sent with the same listing; an
// error wraps ErrBadCursor.
func (c *Cursors) Open(p *Principal, route string, params []string, s string) (pagecursor.Position, error) {
	pos, err := c.codec.Open(pagecursor.Scope{User: cursorUser(p), Route: route, Params: params}, s)
	if err != nil {
		return pagecursor.Position{}, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	return pos, nil
}

// Codec is the codec itself, for listings bound to something other than a
// user (a partner's pulls).
func (c *Cursors) Codec() *pagecursor.Codec { return c.codec }

// cursorUser is who a cursor is bound to: the user's id (a user deleted and
// made again under the same name is another user), else the actor (the
// console).
func cursorUser(p *Principal) string {
	if p.User.ID != "" {
		return "id:" + p.User.ID
	}
	return "actor:" + p.Actor()
}

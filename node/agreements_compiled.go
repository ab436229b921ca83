package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// agreementCache holds the compiled form of every fully signed agreement
// version. It is rebuilt when the stored agreements change, checked on
// every decision by a cheap fingerprint, so a suspension made by another
// process (the CLI beside a server) takes effect at the next decision.
type agreementCache struct {
	mu       sync.Mutex
	key      string
	compiled map[string]*policy.Agreement // "id@version"
	stored   []store.Agreement
}

func AgreementKey(id string, version int) string { return id + "@" + strconv.Itoa(version) }

func fingerprint(as []store.Agreement) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s@%d:%s:%d;", a.ID, a.Version, a.State, a.Updated.UnixMicro())
	}
	return b.String()
}

// CompiledAgreements returns the compiled agreements, refreshed from r.
// Versions not signed by every party are absent: they decide nothing.
func (n *Node) CompiledAgreements(ctx context.Context, r store.Reader) (map[string]*policy.Agreement, []store.Agreement, error) {
	as, err := r.Agreements(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := &n.agreements
	c.mu.Lock()
	defer c.mu.Unlock()
	key := fingerprint(as)
	if c.compiled != nil && key == c.key {
		return c.compiled, c.stored, nil
	}
	out := make(map[string]*policy.Agreement, len(as))
	for _, a := range as {
		doc, err := agreement.Parse(a.Document)
		if err != nil {
			n.log.Warn("stored agreement does not parse", "agreement", a.ID, "version", a.Version, "err", err)
			continue
		}
		pa, err := policy.CompileAgreement(doc, n.reg, n.cfg.Name, agreement.Status{State: agreement.State(a.State), Since: a.Since})
		if err != nil {
			continue // unsigned or invalid: decides nothing
		}
		out[AgreementKey(a.ID, a.Version)] = pa
	}
	c.key, c.compiled, c.stored = key, out, as
	return out, as, nil
}

package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// AgreementInfo is one stored agreement version as operators see it.
type AgreementInfo struct {
	ID        string              `json:"id"`
	Version   int                 `json:"version"`
	Title     string              `json:"title"`
	State     string              `json:"state"`
	Since     time.Time           `json:"since"`
	Parties   []string            `json:"parties"`
	Signed    []string            `json:"signed"`
	Missing   []string            `json:"missing"`
	Effective string              `json:"effective"`
	Expires   string              `json:"expires"`
	Document  *agreement.Document `json:"document,omitempty"`
}

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

func agreementKey(id string, version int) string { return id + "@" + strconv.Itoa(version) }

func fingerprint(as []store.Agreement) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s@%d:%s:%d;", a.ID, a.Version, a.State, a.Updated.UnixMicro())
	}
	return b.String()
}

// compiledAgreements returns the compiled agreements, refreshed from r.
// Versions not signed by every party are absent: they decide nothing.
func (n *Node) compiledAgreements(ctx context.Context, r store.Reader) (map[string]*policy.Agreement, []store.Agreement, error) {
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
		out[agreementKey(a.ID, a.Version)] = pa
	}
	c.key, c.compiled, c.stored = key, out, as
	return out, as, nil
}

func info(a store.Agreement, doc *agreement.Document) AgreementInfo {
	i := AgreementInfo{ID: a.ID, Version: a.Version, State: a.State, Since: a.Since, Document: doc,
		Parties: []string{}, Signed: []string{}, Missing: []string{}}
	if doc != nil {
		i.Title, i.Effective, i.Expires = doc.Title, doc.Effective, doc.Expires
		for _, p := range doc.Parties {
			i.Parties = append(i.Parties, p.Name)
		}
		if missing, err := doc.VerifySignatures(); err == nil {
			i.Missing = append(i.Missing, missing...)
		}
		for _, p := range i.Parties {
			if !slices.Contains(i.Missing, p) {
				i.Signed = append(i.Signed, p)
			}
		}
	}
	return i
}

// ImportAgreement stores a new agreement version as a draft. It must be
// valid for this node's labels and name this node as a party under its own
// signing key. Signatures it carries must verify.
func (n *Node) ImportAgreement(ctx context.Context, p *Principal, data []byte) (AgreementInfo, error) {
	if err := authorize(p, ActAgreementAdm); err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement: %w", err)
	}
	doc, err := agreement.Parse(data)
	if err == nil {
		err = doc.Validate(n.reg)
	}
	if err == nil {
		_, err = doc.VerifySignatures()
	}
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement: %w: %w", ErrInvalid, err)
	}
	self, ok := doc.Party(n.cfg.Name)
	if !ok {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w: this node (%s) is not a party", doc.ID, ErrInvalid, n.cfg.Name)
	}
	signer, err := n.signer()
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w", doc.ID, err)
	}
	if self.PublicKey != binding.MarshalPublicKey(signer.PublicKey()) {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w: party %s's public key is not this node's signing key", doc.ID, ErrInvalid, n.cfg.Name)
	}
	raw, err := doc.JSON()
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w", doc.ID, err)
	}
	now := n.now()
	rec := store.Agreement{ID: doc.ID, Version: doc.Version, State: string(agreement.StateDraft), Since: now, Document: raw, Updated: now}
	err = n.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Agreement(ctx, doc.ID, doc.Version); err == nil {
			return fmt.Errorf("agreement %s v%d: %w", doc.ID, doc.Version, store.ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutAgreement(ctx, rec); err != nil {
			return err
		}
		return n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionAgreementImport, Subject: agreementKey(doc.ID, doc.Version),
			Decision: audit.Accept, Detail: "parties=" + strings.Join(info(rec, doc).Parties, ",")})
	})
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w", doc.ID, err)
	}
	return info(rec, doc), nil
}

// Agreements lists every stored agreement version.
func (n *Node) Agreements(ctx context.Context, p *Principal) ([]AgreementInfo, error) {
	if err := authorize(p, ActAgreementRd); err != nil {
		return nil, err
	}
	as, err := n.st.Agreements(ctx)
	if err != nil {
		return nil, fmt.Errorf("agreements: %w", err)
	}
	out := make([]AgreementInfo, 0, len(as))
	for _, a := range as {
		doc, _ := agreement.Parse(a.Document)
		i := info(a, doc)
		i.Document = nil
		out = append(out, i)
	}
	return out, nil
}

// Agreement returns one version (the latest when version is 0) with its
// document and history.
func (n *Node) Agreement(ctx context.Context, p *Principal, id string, version int) (AgreementInfo, []store.AgreementTransition, error) {
	if err := authorize(p, ActAgreementRd); err != nil {
		return AgreementInfo{}, nil, err
	}
	a, doc, err := n.loadAgreement(ctx, n.st, id, version)
	if err != nil {
		return AgreementInfo{}, nil, err
	}
	h, err := n.st.AgreementHistory(ctx, id)
	if err != nil {
		return AgreementInfo{}, nil, err
	}
	return info(a, doc), h, nil
}

// loadAgreement reads version of id (the latest when 0) and parses it.
func (n *Node) loadAgreement(ctx context.Context, r store.Reader, id string, version int) (store.Agreement, *agreement.Document, error) {
	if version == 0 {
		as, err := r.Agreements(ctx)
		if err != nil {
			return store.Agreement{}, nil, err
		}
		for _, a := range as {
			if a.ID == id && a.Version > version {
				version = a.Version
			}
		}
		if version == 0 {
			return store.Agreement{}, nil, fmt.Errorf("agreement %s: %w", id, ErrNotFound)
		}
	}
	a, err := r.Agreement(ctx, id, version)
	if errors.Is(err, store.ErrNotFound) {
		return a, nil, fmt.Errorf("agreement %s v%d: %w", id, version, ErrNotFound)
	}
	if err != nil {
		return a, nil, err
	}
	doc, err := agreement.Parse(a.Document)
	if err != nil {
		return a, nil, fmt.Errorf("agreement %s v%d: stored document: %w", id, version, err)
	}
	return a, doc, nil
}

// signingKey reads the node's private key from its data directory: it is
// needed only to sign agreements, so it is not kept in memory.
func (n *Node) signingKey() (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path(n.dir, SigningKey))
	if err != nil {
		return nil, err
	}
	return binding.ParsePrivateKey(b)
}

// SignAgreement signs version of id with this node's key.
func (n *Node) SignAgreement(ctx context.Context, p *Principal, id string, version int) (AgreementInfo, error) {
	key, err := n.signingKey()
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("sign agreement %s: %w", id, err)
	}
	return n.changeDocument(ctx, p, id, version, "sign", func(doc *agreement.Document) error {
		s, err := doc.Sign(n.cfg.Name, key)
		if err != nil {
			return err
		}
		return doc.AddSignature(s)
	})
}

// AddAgreementSignatures adds the partners' signatures found in data, a copy
// of the same agreement version (JSON or YAML) that they signed.
func (n *Node) AddAgreementSignatures(ctx context.Context, p *Principal, id string, version int, data []byte) (AgreementInfo, error) {
	signed, err := agreement.Parse(data)
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("add signatures to %s: %w: %w", id, ErrInvalid, err)
	}
	return n.changeDocument(ctx, p, id, version, "add-signature", func(doc *agreement.Document) error {
		if signed.ID != doc.ID || signed.Version != doc.Version {
			return fmt.Errorf("the signed document is %s v%d, not %s v%d", signed.ID, signed.Version, doc.ID, doc.Version)
		}
		if len(signed.Signatures) == 0 {
			return errors.New("the signed document carries no signatures")
		}
		for _, s := range signed.Signatures {
			// AddSignature verifies against our copy: a signature over a
			// document that differs in any field does not verify.
			if err := doc.AddSignature(s); err != nil {
				return err
			}
		}
		return nil
	})
}

// changeDocument changes the signatures of a draft or proposed version.
func (n *Node) changeDocument(ctx context.Context, p *Principal, id string, version int, what string, fn func(*agreement.Document) error) (AgreementInfo, error) {
	if err := authorize(p, ActAgreementAdm); err != nil {
		return AgreementInfo{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	var out AgreementInfo
	err := n.st.Update(ctx, func(tx store.Tx) error {
		a, doc, err := n.loadAgreement(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if st := agreement.State(a.State); st != agreement.StateDraft && st != agreement.StateProposed {
			return fmt.Errorf("%w: %s v%d is %s: only a draft or proposed version is signed", ErrInvalid, a.ID, a.Version, st)
		}
		if err := fn(doc); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if a.Document, err = doc.JSON(); err != nil {
			return err
		}
		a.Updated = n.now()
		if err := tx.PutAgreement(ctx, a); err != nil {
			return err
		}
		out = info(a, doc)
		return n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionAgreementSign, Subject: agreementKey(a.ID, a.Version),
			Decision: audit.Accept, Detail: what + " signed=" + strings.Join(out.Signed, ",")})
	})
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	return out, nil
}

// TransitionAgreement moves version of id (the latest when 0) to state to.
// Activating a version while an older one of the same agreement is in
// force supersedes it (amendment): the old one becomes amended at the same
// instant. Every move is written with its audit entry and takes effect at
// the next decision.
func (n *Node) TransitionAgreement(ctx context.Context, p *Principal, id string, version int, to agreement.State, note string) (AgreementInfo, error) {
	if err := authorize(p, ActAgreementAdm); err != nil {
		return AgreementInfo{}, fmt.Errorf("transition %s: %w", id, err)
	}
	var out AgreementInfo
	err := n.st.Update(ctx, func(tx store.Tx) error {
		a, doc, err := n.loadAgreement(ctx, tx, id, version)
		if err != nil {
			return err
		}
		now := n.now()
		type change struct {
			rec store.Agreement
			ev  agreement.Event
		}
		var changes []change
		cur := agreement.Status{State: agreement.State(a.State), Since: a.Since}
		var prev *store.Agreement
		if to == agreement.StateActive && cur.State == agreement.StateProposed {
			all, err := tx.Agreements(ctx)
			if err != nil {
				return err
			}
			for i := range all {
				o := all[i]
				if o.ID == a.ID && o.Version != a.Version && (o.State == string(agreement.StateActive) || o.State == string(agreement.StateSuspended)) {
					prev = &o
				}
			}
		}
		if prev != nil {
			pdoc, err := agreement.Parse(prev.Document)
			if err != nil {
				return err
			}
			ps, ns, evs, err := agreement.Supersede(pdoc, agreement.Status{State: agreement.State(prev.State), Since: prev.Since}, doc, now, p.Actor())
			if err != nil {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			prev.State, prev.Since, prev.Updated = string(ps.State), ps.Since, now
			a.State, a.Since, a.Updated = string(ns.State), ns.Since, now
			changes = append(changes, change{*prev, evs[0]}, change{a, evs[1]})
		} else {
			ns, ev, err := agreement.Advance(doc, cur, to, now, p.Actor(), note)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			a.State, a.Since, a.Updated = string(ns.State), ns.Since, now
			changes = append(changes, change{a, ev})
		}
		for _, c := range changes {
			if err := tx.PutAgreement(ctx, c.rec); err != nil {
				return err
			}
			if err := tx.AppendAgreementTransition(ctx, store.AgreementTransition{ID: c.ev.Agreement, Version: c.ev.Version,
				From: string(c.ev.From), To: string(c.ev.To), At: c.ev.At, By: c.ev.By, Note: c.ev.Note}); err != nil {
				return err
			}
			if err := n.appendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionAgreementTransition,
				Subject: agreementKey(c.ev.Agreement, c.ev.Version), Decision: audit.Accept,
				Detail: truncate(string(c.ev.From)+"->"+string(c.ev.To)+" "+c.ev.Note, 200)}); err != nil {
				return err
			}
		}
		out = info(a, doc)
		return nil
	})
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("transition %s to %s: %w", id, to, err)
	}
	return out, nil
}

// Package agreements keeps a node's sharing agreements: importing a
// version as a draft, signing it, adding partners' signatures, moving it
// through its lifecycle, listing and showing them. The compiled form every
// decision uses is node's (Node.CompiledAgreements), rebuilt when what is
// stored here changes.
package agreements

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tearline/tearline/agreement"
	"github.com/tearline/tearline/audit"
	"github.com/tearline/tearline/binding"
	"github.com/tearline/tearline/datadir"
	"github.com/tearline/tearline/internal/clip"
	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/store"
)

// Service keeps the agreements of one node.
type Service struct {
	n *node.Node
}

// New returns the agreements of n.
func New(n *node.Node) *Service { return &Service{n: n} }

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
func (s *Service) ImportAgreement(ctx context.Context, p *node.Principal, data []byte) (AgreementInfo, error) {
	if err := node.Authorize(p, node.ActAgreementAdm); err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement: %w", err)
	}
	doc, err := agreement.Parse(data)
	if err == nil {
		err = doc.Validate(s.n.Registry())
	}
	if err == nil {
		_, err = doc.VerifySignatures()
	}
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement: %w: %w", node.ErrInvalid, err)
	}
	self, ok := doc.Party(s.n.Config().Name)
	if !ok {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w: this node (%s) is not a party", doc.ID, node.ErrInvalid, s.n.Config().Name)
	}
	signer, err := s.n.Signer()
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w", doc.ID, err)
	}
	if self.PublicKey != binding.MarshalPublicKey(signer.PublicKey()) {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w: party %s's public key is not this node's signing key", doc.ID, node.ErrInvalid, s.n.Config().Name)
	}
	raw, err := doc.JSON()
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w", doc.ID, err)
	}
	now := s.n.Now()
	rec := store.Agreement{ID: doc.ID, Version: doc.Version, State: string(agreement.StateDraft), Since: now, Document: raw, Updated: now}
	err = s.n.Store().Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Agreement(ctx, doc.ID, doc.Version); err == nil {
			return fmt.Errorf("agreement %s v%d: %w", doc.ID, doc.Version, store.ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutAgreement(ctx, rec); err != nil {
			return err
		}
		return s.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionAgreementImport, Subject: node.AgreementKey(doc.ID, doc.Version),
			Decision: audit.Accept, Detail: "parties=" + strings.Join(info(rec, doc).Parties, ",")})
	})
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("import agreement %s: %w", doc.ID, err)
	}
	return info(rec, doc), nil
}

// Agreements lists every stored agreement version.
func (s *Service) Agreements(ctx context.Context, p *node.Principal) ([]AgreementInfo, error) {
	if err := node.Authorize(p, node.ActAgreementRd); err != nil {
		return nil, err
	}
	as, err := s.n.Store().Agreements(ctx)
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
func (s *Service) Agreement(ctx context.Context, p *node.Principal, id string, version int) (AgreementInfo, []store.AgreementTransition, error) {
	if err := node.Authorize(p, node.ActAgreementRd); err != nil {
		return AgreementInfo{}, nil, err
	}
	a, doc, err := s.loadAgreement(ctx, s.n.Store(), id, version)
	if err != nil {
		return AgreementInfo{}, nil, err
	}
	h, err := s.n.Store().AgreementHistory(ctx, id)
	if err != nil {
		return AgreementInfo{}, nil, err
	}
	return info(a, doc), h, nil
}

// loadAgreement reads version of id (the latest when 0) and parses it.
func (s *Service) loadAgreement(ctx context.Context, r store.Reader, id string, version int) (store.Agreement, *agreement.Document, error) {
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
			return store.Agreement{}, nil, fmt.Errorf("agreement %s: %w", id, node.ErrNotFound)
		}
	}
	a, err := r.Agreement(ctx, id, version)
	if errors.Is(err, store.ErrNotFound) {
		return a, nil, fmt.Errorf("agreement %s v%d: %w", id, version, node.ErrNotFound)
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
func (s *Service) signingKey() (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(datadir.Path(s.n.Dir(), node.SigningKey))
	if err != nil {
		return nil, err
	}
	return binding.ParsePrivateKey(b)
}

// SignAgreement signs version of id with this node's key.
func (s *Service) SignAgreement(ctx context.Context, p *node.Principal, id string, version int) (AgreementInfo, error) {
	key, err := s.signingKey()
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("sign agreement %s: %w", id, err)
	}
	return s.changeDocument(ctx, p, id, version, "sign", func(doc *agreement.Document) error {
		s, err := doc.Sign(s.n.Config().Name, key)
		if err != nil {
			return err
		}
		return doc.AddSignature(s)
	})
}

// AddAgreementSignatures adds the partners' signatures found in data, a copy
// of the same agreement version (JSON or YAML) that they signed.
func (s *Service) AddAgreementSignatures(ctx context.Context, p *node.Principal, id string, version int, data []byte) (AgreementInfo, error) {
	signed, err := agreement.Parse(data)
	if err != nil {
		return AgreementInfo{}, fmt.Errorf("add signatures to %s: %w: %w", id, node.ErrInvalid, err)
	}
	return s.changeDocument(ctx, p, id, version, "add-signature", func(doc *agreement.Document) error {
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
func (s *Service) changeDocument(ctx context.Context, p *node.Principal, id string, version int, what string, fn func(*agreement.Document) error) (AgreementInfo, error) {
	if err := node.Authorize(p, node.ActAgreementAdm); err != nil {
		return AgreementInfo{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	var out AgreementInfo
	err := s.n.Store().Update(ctx, func(tx store.Tx) error {
		a, doc, err := s.loadAgreement(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if st := agreement.State(a.State); st != agreement.StateDraft && st != agreement.StateProposed {
			return fmt.Errorf("%w: %s v%d is %s: only a draft or proposed version is signed", node.ErrInvalid, a.ID, a.Version, st)
		}
		if err := fn(doc); err != nil {
			return fmt.Errorf("%w: %w", node.ErrInvalid, err)
		}
		if a.Document, err = doc.JSON(); err != nil {
			return err
		}
		a.Updated = s.n.Now()
		if err := tx.PutAgreement(ctx, a); err != nil {
			return err
		}
		out = info(a, doc)
		return s.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionAgreementSign, Subject: node.AgreementKey(a.ID, a.Version),
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
func (s *Service) TransitionAgreement(ctx context.Context, p *node.Principal, id string, version int, to agreement.State, note string) (AgreementInfo, error) {
	if err := node.Authorize(p, node.ActAgreementAdm); err != nil {
		return AgreementInfo{}, fmt.Errorf("transition %s: %w", id, err)
	}
	var out AgreementInfo
	err := s.n.Store().Update(ctx, func(tx store.Tx) error {
		a, doc, err := s.loadAgreement(ctx, tx, id, version)
		if err != nil {
			return err
		}
		now := s.n.Now()
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
				return fmt.Errorf("%w: %w", node.ErrInvalid, err)
			}
			prev.State, prev.Since, prev.Updated = string(ps.State), ps.Since, now
			a.State, a.Since, a.Updated = string(ns.State), ns.Since, now
			changes = append(changes, change{*prev, evs[0]}, change{a, evs[1]})
		} else {
			ns, ev, err := agreement.Advance(doc, cur, to, now, p.Actor(), note)
			if err != nil {
				return fmt.Errorf("%w: %w", node.ErrInvalid, err)
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
			if err := s.n.AppendAudit(ctx, tx, audit.Event{Actor: p.Actor(), Action: audit.ActionAgreementTransition,
				Subject: node.AgreementKey(c.ev.Agreement, c.ev.Version), Decision: audit.Accept,
				Detail: clip.String(string(c.ev.From)+"->"+string(c.ev.To)+" "+c.ev.Note, 200)}); err != nil {
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

package search

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/searchterm"
	"github.com/tearline/tearline/store"
)

// Saved searches: a user's own, by name, kept in the store. Each is the
// search box's text and the filters (a URL query string the web interface
// makes); it holds no result, so running it again shows what the user may
// read then.
const (
	MaxSavedName    = 100
	MaxSavedPerUser = 100
	maxSavedFilters = 4096
)

// Saved returns p's saved searches, by name.
func (s *Service) Saved(ctx context.Context, p *node.Principal) ([]store.SavedSearch, error) {
	if err := node.Authorize(p, node.ActSearch); err != nil {
		return nil, err
	}
	out, err := s.n.Store().SavedSearches(ctx, p.User.ID)
	if err != nil {
		return nil, fmt.Errorf("saved searches: %w", err)
	}
	return out, nil
}

// Save keeps query and filters as p's search called name, replacing one of
// that name. The query must parse (searchterm.Parse).
func (s *Service) Save(ctx context.Context, p *node.Principal, name, query, filters string) error {
	if err := node.Authorize(p, node.ActSearch); err != nil {
		return err
	}
	switch {
	case name == "" || len(name) > MaxSavedName || !utf8.ValidString(name):
		return fmt.Errorf("save search: %w: a name of 1 to %d bytes", node.ErrInvalid, MaxSavedName)
	case len(filters) > maxSavedFilters:
		return fmt.Errorf("save search: %w: filters too long", node.ErrInvalid)
	}
	q, err := searchterm.Parse(query)
	if err != nil || q.Empty() {
		return fmt.Errorf("save search: %w: the query asks for nothing, or cannot be asked", node.ErrInvalid)
	}
	return s.n.Store().Update(ctx, func(tx store.Tx) error {
		have, err := tx.SavedSearches(ctx, p.User.ID)
		if err != nil {
			return err
		}
		replaces := false
		for _, h := range have {
			replaces = replaces || h.Name == name
		}
		if !replaces && len(have) >= MaxSavedPerUser {
			return fmt.Errorf("save search: %w: at most %d saved searches", node.ErrInvalid, MaxSavedPerUser)
		}
		return tx.SaveSearch(ctx, store.SavedSearch{UserID: p.User.ID, Name: name, Query: query, Filters: filters, Created: s.n.Now()})
	})
}

// Delete deletes p's saved search called name; node.ErrNotFound when p has
// none of that name.
func (s *Service) Delete(ctx context.Context, p *node.Principal, name string) error {
	if err := node.Authorize(p, node.ActSearch); err != nil {
		return err
	}
	err := s.n.Store().Update(ctx, func(tx store.Tx) error { return tx.DeleteSavedSearch(ctx, p.User.ID, name) })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete saved search: %w", node.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete saved search: %w", err)
	}
	return nil
}

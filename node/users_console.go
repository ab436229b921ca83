package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/tearline/tearline/policy"
	"github.com/tearline/tearline/store"
)

// ConsoleAdmin is the operator at the node's console (the CLI on the data
// directory, or the admin socket in it, which only the node's owner can
// reach): whoever can read the signing key may act as admin anyway. It has
// the admin role and no clearance, so it acts on objects only where the
// admin role acts on every level or no object is read (authority.go). It is
// audited as ConsoleActor.
func ConsoleAdmin() *Principal {
	return &Principal{User: store.User{Name: "console", Role: RoleAdmin}, TokenID: "console", actor: ConsoleActor}
}

// PrincipalByName acts as a named user at the console, with that user's
// role and clearances: releases and approvals need a named person, and the
// role rules apply as over the API.
func (n *Node) PrincipalByName(ctx context.Context, name string) (*Principal, error) {
	u, err := n.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	if u.Disabled {
		return nil, fmt.Errorf("user %s is disabled: %w", name, ErrForbidden)
	}
	return &Principal{User: u, TokenID: "console", Subject: policy.Subject{
		Nationality: u.Nationality, Clearances: u.Clearances, Compartments: u.Compartments,
	}}, nil
}

// Package demo sets up a node with labelled sample intelligence and users of
// different clearances, for `tearline demo` and for tests that want a
// realistic small node.
package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	storebackend "github.com/tearline/tearline/store/backend"
)

//go:embed sample/*.json
var samples embed.FS

// Set is one sample bundle and the label its objects are published under.
type Set struct {
	File   string
	Banner string
}

// Sets returns the sample bundles in publishing order.
func Sets() []Set {
	return []Set{
		{"open.json", "NATO UNCLASSIFIED // TLP:CLEAR // DISC OSINT // TOPIC CYBER"},
		{"secret.json", "NATO SECRET // REL TO GBR, USA // DISC SIGINT // TOPIC CYBER // GRADE B2"},
		{"compartmented.json", "NATO SECRET // COMPARTMENTS HERON // REL TO FVEY // DISC IMINT // TOPIC CYBER"},
		{"national.json", "GBR SECRET // NOFORN // DISC HUMINT // GRADE A1"},
	}
}

// User is a demo user with its token.
type User struct {
	Spec     users.UserSpec
	Token    string
	Password string // the web interface's password, random per demo
	Sees     string // what the user can read, in words
}

// Users returns the demo users (tokens empty until Setup).
func Users() []User {
	return []User{
		{Spec: users.UserSpec{Name: "admin", Role: node.RoleAdmin, Nationality: "GBR", Org: "GBR demo",
			Clearances: map[string]string{"NATO": "TOP-SECRET", "NATIONAL": "TOP-SECRET"}, Compartments: []string{"HERON"},
			DefaultLabel: "NATO RESTRICTED // REL TO GBR"}, Sees: "everything"},
		{Spec: users.UserSpec{Name: "alice", Role: node.RoleAnalyst, Nationality: "GBR", Org: "GBR defence intelligence",
			Clearances: map[string]string{"NATO": "SECRET", "NATIONAL": "SECRET"}}, Sees: "open, NATO SECRET and national objects; not the HERON compartment"},
		{Spec: users.UserSpec{Name: "bob", Role: node.RoleAnalyst, Nationality: "FRA", Org: "FRA liaison",
			Clearances: map[string]string{"NATO": "RESTRICTED"}}, Sees: "only the open objects"},
		{Spec: users.UserSpec{Name: "carol", Role: node.RoleAnalyst, Nationality: "USA", Org: "USA liaison",
			Clearances: map[string]string{"NATO": "SECRET"}, Compartments: []string{"HERON"}}, Sees: "open, NATO SECRET and HERON objects; not GBR national ones"},
	}
}

// Setup initialises a node in dir (absent or empty), adds the demo users and
// publishes the samples through the node's normal ingest path.
func Setup(ctx context.Context, dir string) ([]User, error) { return SetupOn(ctx, dir, "") }

// SetupOn is Setup with the node's store at storeURL ("" for SQLite in dir,
// or a postgres:// URL).
func SetupOn(ctx context.Context, dir, storeURL string) ([]User, error) {
	if err := node.Init(ctx, dir, node.InitOptions{Name: "demo-gbr", Country: "GBR", Org: "GBR demo node", CreateStore: storebackend.Creator(storeURL)}); err != nil {
		return nil, err
	}
	n, err := stack.Open(ctx, dir, node.Options{OpenStore: storebackend.Opener(storeURL)})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	users := Users()
	for i := range users {
		if _, users[i].Token, err = n.Users.AddUser(ctx, node.ConsoleAdmin(), users[i].Spec); err != nil {
			return nil, err
		}
		users[i].Password = demoPassword(users[i].Spec.Name)
		if err := n.Users.SetPassword(ctx, node.ConsoleAdmin(), users[i].Spec.Name, users[i].Password); err != nil {
			return nil, err
		}
	}
	admin, err := n.Authenticate(ctx, users[0].Token)
	if err != nil {
		return nil, err
	}
	for _, s := range Sets() {
		data, err := samples.ReadFile("sample/" + s.File)
		if err != nil {
			return nil, err
		}
		res, err := n.Ingest(ctx, admin, data, node.IngestOptions{Label: s.Banner})
		if err != nil {
			return nil, fmt.Errorf("demo sample %s: %w", s.File, err)
		}
		if len(res.Refused) > 0 {
			return nil, fmt.Errorf("demo sample %s: refused %v", s.File, res.Refused)
		}
	}
	return users, nil
}

// demoPassword is a fresh random web password: a demo node listens on a
// port anyone on the machine can reach.
func demoPassword(name string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return name + "-demo-" + hex.EncodeToString(b)
}

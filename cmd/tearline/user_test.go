package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tearline/tearline/node"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/node/users"
	"github.com/tearline/tearline/store/backend"
)

func runCLIIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	c := root()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetIn(strings.NewReader(stdin))
	c.SetArgs(args)
	err := c.ExecuteContext(t.Context())
	return out.String(), err
}

// TestUserPasswordStdin: user add --password-stdin and user passwd read one
// line from standard input; the password then signs in, the old one no
// longer does; the API token stays alone on the last line.
func TestUserPasswordStdin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "n")
	if err := node.Init(t.Context(), dir, node.InitOptions{Name: "alpha", Country: "GBR", CreateStore: backend.Creator("")}); err != nil {
		t.Fatal(err)
	}
	out, err := runCLIIn(t, "first password here\n", "user", "add", "--data", dir, "--name", "ana", "--nationality", "GBR", "--password-stdin")
	if err != nil {
		t.Fatalf("user add --password-stdin: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], node.TokenPrefix) {
		t.Errorf("the token is not alone on the last line:\n%s", out)
	}
	if out, err := runCLIIn(t, "short\n", "user", "passwd", "--data", dir, "ana"); err == nil {
		t.Errorf("user passwd took a short password: %s", out)
	}
	if out, err := runCLIIn(t, "second password here\r\n", "user", "passwd", "--data", dir, "ana"); err != nil {
		t.Fatalf("user passwd: %v\n%s", err, out)
	}
	n, err := stack.Open(t.Context(), dir, node.Options{OpenStore: backend.Opener("")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, _, err := n.Users.Login(t.Context(), "ana", "first password here"); !errors.Is(err, users.ErrLoginRefused) {
		t.Errorf("the old password: %v, want refused", err)
	}
	if _, _, err := n.Users.Login(t.Context(), "ana", "second password here"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

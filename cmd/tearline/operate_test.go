package main

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command says what it does on a serving node, in its help and in
// docs/STORAGE.md's table; a new command without a decision fails here.
func TestEveryCommandSaysHowItServes(t *testing.T) {
	table := servingBehaviour()
	doc, err := os.ReadFile("../../docs/STORAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		if c.Name() == "help" || c.Name() == "completion" || strings.HasPrefix(path, "tearline completion") {
			return
		}
		if c.Runnable() {
			seen[path] = true
			if _, ok := table[path]; !ok {
				t.Errorf("%s: not in servingBehaviour: decide what it does on a serving node", path)
			}
			if !strings.Contains(c.Long, "On a serving node: ") {
				t.Errorf("%s --help does not say what it does on a serving node", path)
			}
			if !strings.Contains(string(doc), "`"+path+"`") {
				t.Errorf("docs/STORAGE.md's table of commands on a serving node lacks `%s`", path)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root())
	for path := range table {
		if !seen[path] {
			t.Errorf("servingBehaviour names %q, which is no command", path)
		}
	}
}

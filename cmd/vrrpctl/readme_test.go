package main

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readmeFlags reads the flag tables (| flag | meaning |) of the README's
// "## vrrpctl COMMAND" sections: command -> flags, long names as --name and
// shorthands as -x, each with the README line it is on.
func readmeFlags(t *testing.T) map[string]map[string]int {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section := regexp.MustCompile("^## vrrpctl ([a-z-]+)")
	code := regexp.MustCompile("`[^`]*`")
	flag := regexp.MustCompile(`(?:^|[\s,])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])\b`)
	out := map[string]map[string]int{}
	cmd, inTable := "", false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			cmd, inTable = "", false
			if m := section.FindStringSubmatch(line); m != nil {
				cmd = m[1]
				out[cmd] = map[string]int{}
			}
		case cmd == "":
		case strings.HasPrefix(line, "| flag | meaning |"):
			inTable = true
		case !strings.HasPrefix(line, "|"):
			inTable = false
		case inTable:
			cell := strings.SplitN(strings.ReplaceAll(line, `\|`, "/"), "|", 3)[1]
			for _, c := range code.FindAllString(cell, -1) {
				for _, m := range flag.FindAllStringSubmatch(strings.Trim(c, "`"), -1) {
					out[cmd][m[1]] = n
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// cobraFlags lists a command's flags as the README writes them, leaving
// out --help (every command has it) and hidden flags.
func cobraFlags(c *cobra.Command) []string {
	var out []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		out = append(out, "--"+f.Name)
		if f.Shorthand != "" {
			out = append(out, "-"+f.Shorthand)
		}
	})
	slices.Sort(out)
	return out
}

// TestReadmeFlags checks the README against the command tree: every flag
// a command has is in its section's flag table, and every flag the table
// names exists.
func TestReadmeFlags(t *testing.T) {
	doc := readmeFlags(t)
	seen := map[string]bool{}
	for _, c := range rootCmd.Commands() {
		name := c.Name()
		if c.Hidden || name == "help" || name == "completion" {
			continue
		}
		seen[name] = true
		documented, ok := doc[name]
		if !ok {
			t.Errorf("README has no section \"## vrrpctl %s\"", name)
			continue
		}
		has := cobraFlags(c)
		for _, f := range has {
			if _, ok := documented[f]; !ok {
				t.Errorf("vrrpctl %s %s is not in the README's flag table", name, f)
			}
		}
		for f, line := range documented {
			if !slices.Contains(has, f) {
				t.Errorf("README.md:%d: vrrpctl %s has no flag %s", line, name, f)
			}
		}
	}
	for name := range doc {
		if !seen[name] {
			t.Errorf("README documents vrrpctl %s, which is not a command", name)
		}
	}
	if len(seen) < 4 {
		t.Errorf("only %d commands found in the tree", len(seen))
	}
}

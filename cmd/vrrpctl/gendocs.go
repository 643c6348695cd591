package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// gendocs writes the man pages and shell completions of the command tree,
// for the Debian package (packaging/build-deb). Hidden: it is a build step,
// not a command for users.
func init() {
	var manDir, complDir string
	c := &cobra.Command{
		Use:    "gendocs --man DIR --completions DIR",
		Short:  "Write the man pages and shell completions (a build step of the package)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if manDir != "" {
				if err := writeManPages(manDir); err != nil {
					return withStatus(exitUnusable, err)
				}
			}
			if complDir != "" {
				if err := writeCompletions(complDir); err != nil {
					return withStatus(exitUnusable, err)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&manDir, "man", "", "write a man page per command (section 1) into this directory")
	c.Flags().StringVar(&complDir, "completions", "", "write vrrpctl.bash, _vrrpctl (zsh) and vrrpctl.fish into this directory")
	rootCmd.AddCommand(c)
}

// writeManPages writes vrrpctl.1 and vrrpctl-COMMAND.1 for every visible
// command. The date is SOURCE_DATE_EPOCH's when set, so that a build is
// reproducible.
func writeManPages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	date := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		date = time.Unix(sec, 0).UTC()
	}
	hdr := &doc.GenManHeader{Section: "1", Date: &date, Source: "vrrpctl " + version(), Manual: "vrrpctl manual"}
	rootCmd.DisableAutoGenTag = true
	return doc.GenManTree(rootCmd, hdr, dir)
}

// writeCompletions writes the bash, zsh and fish completion scripts.
func writeCompletions(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, w := range []struct {
		name string
		gen  func(string) error
	}{
		{"vrrpctl.bash", func(p string) error { return rootCmd.GenBashCompletionFileV2(p, true) }},
		{"_vrrpctl", rootCmd.GenZshCompletionFile},
		{"vrrpctl.fish", func(p string) error { return rootCmd.GenFishCompletionFile(p, true) }},
	} {
		if err := w.gen(filepath.Join(dir, w.name)); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	return nil
}

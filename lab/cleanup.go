package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// idPattern matches a lab namespace name and captures its run ID.
var idPattern = regexp.MustCompile(`^` + Prefix + `([0-9a-f]{6})-[a-z0-9]+$`)

// Leftovers lists the run IDs of labs that still have a namespace or a run
// directory on this machine.
func Leftovers() ([]string, error) {
	seen := map[string]bool{}
	ents, err := os.ReadDir(netnsDir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list %s: %w", netnsDir, err)
	}
	for _, e := range ents {
		if m := idPattern.FindStringSubmatch(e.Name()); m != nil {
			seen[m[1]] = true
		}
	}
	dirs, err := os.ReadDir(RunRoot)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list %s: %w", RunRoot, err)
	}
	for _, d := range dirs {
		if idPattern.MatchString(Prefix + d.Name() + "-x") {
			seen[d.Name()] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// Cleanup removes every lab left on this machine (by a run that was killed,
// or kept with --keep) and returns the run IDs it removed.
func Cleanup() ([]string, error) {
	if err := CheckHost(); err != nil {
		return nil, err
	}
	ids, err := Leftovers()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, removeLab(id))
	}
	return ids, errors.Join(errs...)
}

// labNamespaces lists the namespace names of run id present in /run/netns.
func labNamespaces(id string) []string { return namespacesMatching(idPattern, id) }

// namespacesMatching lists the names in /run/netns that re matches with id
// as its first group.
func namespacesMatching(re *regexp.Regexp, id string) []string {
	ents, _ := os.ReadDir(netnsDir)
	var names []string
	for _, e := range ents {
		if m := re.FindStringSubmatch(e.Name()); m != nil && m[1] == id {
			names = append(names, e.Name())
		}
	}
	return names
}

// Processes lists the processes still running in the namespaces of run id.
func Processes(id string) []int { return processesIn(labNamespaces(id)) }

// processesIn lists the processes running in the named namespaces.
func processesIn(names []string) []int {
	inodes := map[uint64]bool{}
	for _, n := range names {
		if ino, err := nsInode(filepath.Join(netnsDir, n)); err == nil {
			inodes[ino] = true
		}
	}
	return pidsInNamespaces(inodes)
}

// Remains describes what is left of run id on this machine: namespaces,
// processes, the run directory; empty when nothing is.
func Remains(id string) []string {
	var left []string
	for _, n := range labNamespaces(id) {
		left = append(left, "namespace "+n)
	}
	for _, p := range Processes(id) {
		left = append(left, fmt.Sprintf("process %d", p))
	}
	if _, err := os.Stat(filepath.Join(RunRoot, id)); err == nil {
		left = append(left, "directory "+filepath.Join(RunRoot, id))
	}
	return left
}

// removeLab kills every process in the lab's namespaces, deletes the
// namespaces (the kernel then destroys their veths, bridge and addresses)
// and removes the run directory.
func removeLab(id string) error {
	if !idPattern.MatchString(Prefix + id + "-x") {
		return fmt.Errorf("%q is not a lab run ID", id)
	}
	errs := []error{removeNamespaces(id, labNamespaces(id))}
	dir := filepath.Join(RunRoot, id)
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
	}
	// Leave the parent directory when it is empty, as before the first run.
	if ents, err := os.ReadDir(RunRoot); err == nil && len(ents) == 0 {
		os.Remove(RunRoot)
	}
	return errors.Join(errs...)
}

// removeNamespaces kills every process in the named namespaces of lab id,
// then deletes them (the kernel then destroys their veths, bridge and
// addresses).
func removeNamespaces(id string, names []string) error {
	var errs []error
	if err := killAll(processesIn(names), 2*time.Second); err != nil {
		errs = append(errs, fmt.Errorf("lab %s: %w", id, err))
	}
	for _, n := range names {
		errs = append(errs, deleteNamedNS(n))
	}
	return errors.Join(errs...)
}

// removeSegment removes the namespaces, with their processes, of the
// segment id of prefix (not Prefix). Its run directory is the caller's.
func removeSegment(prefix, id string) error {
	return removeNamespaces(prefix+id, namespacesMatching(ownedPattern(prefix), id))
}

package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type syscallStat struct{ ino uint64 }

func statInode(path string, st *syscallStat) error {
	var s syscall.Stat_t
	if err := syscall.Stat(path, &s); err != nil {
		return err
	}
	st.ino = s.Ino
	return nil
}

// pidsInNamespaces returns the processes whose network namespace is one of
// inodes: everything a lab started, children included, whoever started them.
func pidsInNamespaces(inodes map[uint64]bool) []int {
	if len(inodes) == 0 {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		link, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil {
			continue
		}
		// The link reads "net:[INODE]".
		s := strings.TrimSuffix(strings.TrimPrefix(link, "net:["), "]")
		ino, err := strconv.ParseUint(s, 10, 64)
		if err == nil && inodes[ino] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killAll sends SIGTERM to pids, waits up to grace for them to exit, then
// sends SIGKILL to what is left and waits for it to go.
func killAll(pids []int, grace time.Duration) error {
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGTERM)
	}
	alive := func() []int {
		var left []int
		for _, p := range pids {
			if processAlive(p) {
				left = append(left, p)
			}
		}
		return left
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && len(alive()) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	left := alive()
	for _, p := range left {
		syscall.Kill(p, syscall.SIGKILL)
	}
	deadline = time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && len(alive()) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if left := alive(); len(left) > 0 {
		return fmt.Errorf("processes %v survived SIGKILL", left)
	}
	return nil
}

// processAlive reports whether pid exists and is not a zombie (a zombie
// child of ours is reaped by its exec.Cmd's Wait).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	return b[i+2] != 'Z'
}

var errNotRoot = errors.New("the lab needs root (network namespaces, veths, raw sockets): run it with sudo")

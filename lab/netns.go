package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
)

// netnsDir is where named network namespaces are bind-mounted, as by iproute2.
const netnsDir = "/run/netns"

// inNS runs fn on an OS thread switched into ns. Everything fn opens there
// (sockets, pcap handles, child processes) stays in ns. If the thread cannot
// be switched back it is left locked, so Go discards it when the goroutine ends.
func inNS(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave network namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// newNamedNS creates the network namespace /run/netns/name without moving
// the calling thread into it.
func newNamedNS(name string) (netns.NsHandle, error) {
	h := netns.None()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("current network namespace: %w", err)
			return
		}
		defer orig.Close()
		n, err := netns.NewNamed(name)
		if err != nil {
			// NewNamed may have switched the thread before failing.
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
			errc <- fmt.Errorf("create network namespace %s: %w", name, err)
			return
		}
		h = n
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave network namespace %s: %w", name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- nil
	}()
	err := <-errc
	if err != nil && h.IsOpen() {
		h.Close()
	}
	return h, err
}

// deleteNamedNS unmounts and removes /run/netns/name; a missing one is not an error.
func deleteNamedNS(name string) error {
	if _, err := os.Stat(filepath.Join(netnsDir, name)); os.IsNotExist(err) {
		return nil
	}
	if err := netns.DeleteNamed(name); err != nil {
		return fmt.Errorf("delete network namespace %s: %w", name, err)
	}
	return nil
}

// nsInode identifies a namespace file, to match processes against it.
func nsInode(path string) (uint64, error) {
	var st syscallStat
	if err := statInode(path, &st); err != nil {
		return 0, err
	}
	return st.ino, nil
}

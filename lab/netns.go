package lab

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netns"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// netnsDir is where named network namespaces are bind-mounted, as by iproute2.
const netnsDir = "/run/netns"

// newNamedNS creates the network namespace /run/netns/name without moving
// the calling thread into it.
func newNamedNS(name string) (netns.NsHandle, error) {
	h := netns.None()
	err := nsenter.Run(netns.None(), func() error {
		n, err := netns.NewNamed(name)
		if err != nil {
			return fmt.Errorf("create network namespace %s: %w", name, err)
		}
		h = n
		return nil
	})
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

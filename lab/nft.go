package lab

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// Nft loads an nftables ruleset into host's namespace ("sw" is the bridge's).
func (l *Lab) Nft(host, ruleset string) error {
	h := l.hosts[host]
	if host == switchHost {
		h = l.sw
	}
	if h == nil {
		return fmt.Errorf("no host %q in the lab", host)
	}
	path, err := exec.LookPath("nft")
	if err != nil {
		return fmt.Errorf("nft (nftables) is needed for this scenario: %w", err)
	}
	var out bytes.Buffer
	cmd := exec.Command(path, "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := nsenter.Run(h.handle, cmd.Run); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", h.NS, err, strings.TrimSpace(out.String()))
	}
	return nil
}

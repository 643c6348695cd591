package doctor

import (
	"fmt"
	"regexp"
	"strconv"
)

// Version is a keepalived version, e.g. 2.2.7. The zero Version is
// unknown.
type Version struct {
	Major, Minor, Patch int
}

// DefaultVersion is the version predictions model when none is found or
// given: Debian 12's, the one the reference captures were recorded with.
var DefaultVersion = Version{2, 2, 7}

var versionRE = regexp.MustCompile(`(?i)(?:keepalived\s+v?|^v?)(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseVersion reads "2.2.7", "v2.3.2" or keepalived --version's first line
// ("Keepalived v2.2.7 (01/16,2022)").
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("keepalived version %q: want MAJOR.MINOR.PATCH", s)
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

// Known reports whether v was found or given.
func (v Version) Known() bool { return v != Version{} }

func (v Version) String() string {
	if !v.Known() {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast reports whether v is major.minor.patch or later.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// Behaviours lists what keepalived v does that matters to the checks, as
// observed in the reference captures (2.2.7) and keepalived's sources and
// change log.
func (v Version) Behaviours() []string {
	var out []string
	if v.AtLeast(2, 3, 2) {
		out = append(out, "vrrp_garp_master_refresh runs on a timer of its own: refreshes come every vrrp_garp_master_refresh")
	} else {
		out = append(out, "vrrp_garp_master_refresh is looked at only when an advert is sent: a refresh comes at the first advert at or after it is due (fixed in 2.3.2)")
	}
	out = append(out,
		"GARPs of an interface go through one queue, one per vrrp_garp_interval; a VIP has one place in it, so the repeats of a burst that find it waiting are merged (a burst of 5 at 0.5 s sends 2, testdata/failover.pcap)",
		"nopreempt is cleared unless the state is BACKUP (\"nopreempt will not work with initial state MASTER\")",
		"a master re-arms its advert timer on every advert it receives, even one it rejects: with mismatched settings one master may barely advertise",
	)
	out = append(out, "vrrp_strict (or no_accept) on a master that is not the address owner installs firewall rules dropping traffic to and from the VIPs: with nftables (Debian 12's 2.2.7 uses it unless vrrp_iptables is set) table ip/inet keepalived with sets vips/vips6, with iptables chains and ipsets named keepalived")
	out = append(out, "vrrp_strict turns state MASTER into BACKUP unless the priority is 255, and ignores authentication")
	return out
}

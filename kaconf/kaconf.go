// Package kaconf reads the VRRP part of keepalived's configuration
// (keepalived.conf(5)) the way keepalived 2.2.7 reads it.
//
// It parses global_defs, vrrp_instance and vrrp_sync_group blocks, resolves
// defaults and inherited global settings, and validates what keepalived
// validates. Where keepalived only logs a problem and carries on, the Config
// gets a Warning; where keepalived refuses to run, Parse returns an *Error.
// Every instance, address and keyword keeps the file and line it came from.
package kaconf

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

// Config is one parsed keepalived configuration.
type Config struct {
	File       string // the file given to ParseFile, or the name given to Parse
	Global     Global
	Instances  []*Instance
	SyncGroups []SyncGroup
	// Scripts names the vrrp_script blocks, which are otherwise not read.
	Scripts  []string
	Warnings []Warning
}

// Global holds the VRRP settings of global_defs.
type Global struct {
	RouterID             string
	VRRPVersion          int // default protocol version of the instances
	SkipCheckAdvAddr     bool
	Strict               bool
	GARP                 GARP // the defaults inherited by every instance
	LowerPrioNoAdvert    bool
	HigherPrioSendAdvert bool
	MulticastGroup4      netip.Addr
	MulticastGroup6      netip.Addr
	// Firewall is "iptables" or "nftables" when vrrp_iptables or
	// vrrp_nftables asks keepalived to manage firewall rules for the VIPs.
	Firewall string
}

// GARP holds the gratuitous ARP (and IPv6 unsolicited neighbour
// advertisement) timers of an instance, or their global defaults.
type GARP struct {
	MasterDelay         time.Duration // second burst after becoming master
	MasterRepeat        int           // messages per burst
	MasterRefresh       time.Duration // periodic refresh as master; 0 is off
	MasterRefreshRepeat int           // messages per refresh
	Interval            time.Duration // pacing between ARP messages on an interface
	NAInterval          time.Duration // pacing between NA messages on an interface
	LowerPrioDelay      time.Duration // burst after seeing a lower priority advert
	LowerPrioRepeat     int
}

// Instance is one vrrp_instance with every default resolved.
type Instance struct {
	Name      string
	File      string
	Line      int
	State     string // "MASTER" or "BACKUP", the initial state wanted
	Interface string
	VRID      int
	Priority  int
	AdvertInt time.Duration
	Version   int
	// NoPreempt is set by nopreempt; PreemptDelay delays preemption.
	NoPreempt    bool
	PreemptDelay time.Duration
	Auth         Auth
	VIPs         []VIP
	ExcludedVIPs []VIP
	UnicastSrcIP netip.Addr
	UnicastPeers []netip.Addr
	GARP         GARP
	// LowerPrioNoAdvert and HigherPrioSendAdvert change what a master does
	// on receiving an advert of lower or higher priority.
	LowerPrioNoAdvert    bool
	HigherPrioSendAdvert bool
	UseVMAC              bool
	VMACName             string
	VMACXmitBase         bool
	Notify               Notify
	TrackInterfaces      []string
	TrackScripts         []string
	DontTrackPrimary     bool
	SkipCheckAdvAddr     bool
	Strict               bool
	Accept               bool
	NativeIPv6           bool
	// Keywords gives where each keyword of the instance was written.
	Keywords map[string]Position

	ipv6 bool
}

// Family returns "ipv4" or "ipv6": the address family the instance
// advertises in, taken from its first virtual address, unicast_src_ip or
// native_ipv6.
func (in *Instance) Family() string {
	if in.ipv6 {
		return "ipv6"
	}
	return "ipv4"
}

// Unicast reports whether the instance sends its adverts to unicast peers
// instead of the multicast group.
func (in *Instance) Unicast() bool { return len(in.UnicastPeers) > 0 }

// Auth is the authentication block of a VRRPv2 instance.
type Auth struct {
	Type string // "", "PASS" or "AH"
	Pass string // at most 8 characters, as keepalived keeps it
}

// VIP is one line of virtual_ipaddress or virtual_ipaddress_excluded.
type VIP struct {
	Prefix    netip.Prefix // the address and its length (/32 or /128 if none was written)
	Broadcast netip.Addr
	Dev       string // the interface, the instance's unless dev was given
	Label     string
	Scope     string
	File      string
	Line      int
}

// Notify holds the notify scripts of an instance, as written.
type Notify struct {
	Master, Backup, Fault, Stop, Any string
}

// SyncGroup is a vrrp_sync_group: instances that change state together.
type SyncGroup struct {
	Name    string
	File    string
	Line    int
	Members []string
}

// Position is where something was written.
type Position struct {
	File string
	Line int
}

func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Warning is a problem keepalived reports and works around, or a part of
// the configuration this package does not interpret.
type Warning struct {
	File string
	Line int
	Msg  string
	// Unsupported marks a keyword that keepalived accepts but this package
	// does not interpret (virtual_server, vrrp_script, ...): a limit of the
	// reader, not a problem of the configuration.
	Unsupported bool
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Msg)
}

// Error is a configuration problem that makes keepalived refuse to run.
type Error struct {
	File    string
	Line    int
	Keyword string // the keyword at fault; may be empty
	Msg     string
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Keyword != "" {
		s += ": " + e.Keyword
	}
	return s + ": " + e.Msg
}

// ErrorList is returned when a configuration has more than one error.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Errors returns the *Error values in err: the one *Error, each of an
// ErrorList, or none.
func Errors(err error) []*Error {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

// Instance returns the instance with the given VRID and family ("ipv4" or
// "ipv6"), or nil. keepalived refuses two instances with one VRID on one
// interface and family; should instances on different interfaces share
// the VRID, the first is returned.
func (c *Config) Instance(vrid int, family string) *Instance {
	for _, in := range c.Instances {
		if in.VRID == vrid && in.Family() == family {
			return in
		}
	}
	return nil
}

// ParseFile reads the configuration in path; include patterns are
// resolved relative to the directory of the file that holds them.
//
// A Config is returned also with an error, holding what could be read. The
// error is an *Error, an ErrorList, or an error from opening path.
func ParseFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data, true)
}

// Parse reads a configuration from r; name is used in positions. Include
// patterns in r are resolved relative to the working directory, those in
// included files relative to their directory.
func Parse(name string, r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parse(name, data, false)
}

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
	// Scripts are the vrrp_script blocks, TrackFiles the track_file blocks.
	Scripts    []*Script
	TrackFiles []*TrackFile
	Warnings   []Warning
	// Unimplemented lists, in the order written, every keyword of the
	// configuration that the speaker does not implement (see Keywords).
	Unimplemented []Use
}

// Use is one keyword written in a configuration, with its section and what
// the speaker does with it.
type Use struct {
	File    string
	Line    int
	Section string
	Keyword string
	Status  Status
	Note    string
}

func (u Use) String() string {
	s := fmt.Sprintf("%s:%d: %s: %s", u.File, u.Line, u.Keyword, u.Status)
	if u.Note != "" {
		s += ": " + u.Note
	}
	return s
}

// Script is a vrrp_script block.
type Script struct {
	Name     string
	File     string
	Line     int
	Command  string
	Interval time.Duration // default 1 s
	Timeout  time.Duration // default Interval
	Weight   int           // -254 to 254
	Reverse  bool
	Rise     int // successes before a failed script is up again, default 1
	Fall     int // failures before a script is down, default 1
	User     string
	Group    string
	InitFail bool // the script starts down
}

// TrackFile is a track_file block: a file holding a number.
type TrackFile struct {
	Name          string
	File          string
	Line          int
	Path          string
	Weight        int // default 1
	Reverse       bool
	Init          bool // init_file: create the file when missing
	InitValue     int
	InitOverwrite bool // init_file ... overwrite: write it even when present
}

// TrackRef is one line of a track_interface, track_script or track_file
// block of an instance or a sync group.
type TrackRef struct {
	Name string
	File string
	Line int
	// Weight overrides the tracked object's own when WeightSet.
	Weight    int
	WeightSet bool
	Reverse   bool
}

// TTLRange is the TTL (hop limit) a unicast peer's adverts may arrive with.
type TTLRange struct{ Min, Max int }

// Global holds the VRRP settings of global_defs.
type Global struct {
	RouterID             string
	VRRPVersion          int // default protocol version of the instances
	SkipCheckAdvAddr     bool
	CheckUnicastSrc      bool
	Strict               bool
	GARP                 GARP // the defaults inherited by every instance
	LowerPrioNoAdvert    bool
	HigherPrioSendAdvert bool
	MulticastGroup4      netip.Addr
	MulticastGroup6      netip.Addr
	// Firewall is "iptables" or "nftables" when vrrp_iptables or
	// vrrp_nftables asks keepalived to manage firewall rules for the VIPs.
	Firewall string
	// ScriptUser and ScriptGroup run the scripts that name no user.
	ScriptUser, ScriptGroup string
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
	// UnicastSrcIP is the adverts' source, from unicast_src_ip or
	// mcast_src_ip (keepalived keeps the two in one).
	UnicastSrcIP netip.Addr
	UnicastPeers []netip.Addr
	// PeerTTL holds the TTL range of each of UnicastPeers.
	PeerTTL []TTLRange
	// UnicastTTL is the TTL of unicast adverts (default 255).
	UnicastTTL      int
	CheckUnicastSrc bool
	// McastDstIP is the multicast group (mcast_dst_ip, else the global
	// vrrp_mcast_group4/6, else 224.0.0.18 or ff02::12).
	McastDstIP   netip.Addr
	ChecksumAsV2 bool
	GARP         GARP
	// LowerPrioNoAdvert and HigherPrioSendAdvert change what a master does
	// on receiving an advert of lower or higher priority.
	LowerPrioNoAdvert    bool
	HigherPrioSendAdvert bool
	UseVMAC              bool
	VMACName             string
	VMACXmitBase         bool
	Notify               Notify
	TrackInterfaces      []TrackRef
	TrackScripts         []TrackRef
	TrackFiles           []TrackRef
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
	MasterRxLowerPri                 string
}

// SyncGroup is a vrrp_sync_group: instances that change state together.
type SyncGroup struct {
	Name    string
	File    string
	Line    int
	Members []string
	Notify  Notify
	// Tracking of the group, as if every member tracked it.
	TrackInterfaces, TrackScripts, TrackFiles []TrackRef
	// TrackingWeight (sync_group_tracking_weight) lets the members'
	// tracking weights change their priorities; without it any tracked
	// failure of a member puts the group in FAULT.
	TrackingWeight bool
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

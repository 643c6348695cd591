package analyze

import "time"

// Schema names the JSON document shape; bump it on incompatible changes.
const Schema = "vrrpctl.analysis/v1"

// Analysis is everything the engine concluded from one capture: the value the
// terminal and JSON renderers read. Times are absolute; durations are in
// milliseconds as float64 so sub-millisecond timing survives.
type Analysis struct {
	Schema    string     `json:"schema"`
	Source    Source     `json:"source"`
	Groups    []Group    `json:"groups"`
	Failovers []Failover `json:"failovers"`
	// SplitBrains are the periods in which two routers held a VIP at once.
	SplitBrains []SplitBrain `json:"split_brains"`
	Findings    []Finding    `json:"findings"`
	Timeline    []Event      `json:"timeline"`
	Clients     []Client     `json:"clients"`
	Errors      []FrameError `json:"decode_errors"`
	Notes       []string     `json:"notes"`
	// Evictions lists the bounded tables that forgot entries (limits.go).
	Evictions []Eviction `json:"evictions"`
	// Sources are the captures of a merged analysis of several (merge.go).
	Sources []Vantage `json:"sources,omitempty"`
	// Unaligned are the analyses of the captures that could not be aligned
	// with the others, each on its own.
	Unaligned []Analysis `json:"unaligned,omitempty"`
}

// Source describes what was read.
type Source struct {
	File     string    `json:"file"`
	LinkType string    `json:"link_type"`
	Frames   uint64    `json:"frames"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	SpanMS   float64   `json:"span_ms"`
	// DecodeErrors counts frames whose VRRP/IGMP/ARP part was malformed.
	DecodeErrors int `json:"decode_errors"`
	// HasDstMAC is false on Linux cooked captures (SLL/SLL2): the conclusions
	// that need a destination MAC (stale-arp, switch_ms) are then not drawn.
	HasDstMAC bool `json:"has_dst_mac"`
	// Damaged is set when reading stopped early at a broken record.
	Damaged   bool   `json:"damaged"`
	ReadError string `json:"read_error,omitempty"`
	// Captured/Dropped are libpcap's counters for live captures.
	Received *uint64 `json:"received,omitempty"`
	Dropped  *uint64 `json:"dropped,omitempty"`
}

// Group is one virtual router: a VRID on one VLAN for one address family.
type Group struct {
	VRID     int       `json:"vrid"`
	VLAN     int       `json:"vlan"`
	Family   string    `json:"family"` // "ipv4" or "ipv6"
	VIPs     []string  `json:"vips"`
	Speakers []Speaker `json:"speakers"`
	// VirtualMAC is the virtual router MAC (00:00:5e:00:01:VRID, or
	// 00:00:5e:00:02:VRID for IPv6) when a frame of the capture came from it.
	VirtualMAC string `json:"virtual_mac,omitempty"`
	// Master is the speaker that was master at the end, if any.
	Master *Endpoint `json:"master,omitempty"`
	// Masterships lists who was master when, in time order.
	Masterships []Mastership `json:"masterships"`
}

// Speaker is one router seen advertising for a group.
type Speaker struct {
	IP string `json:"ip"`
	// MAC is the source of its adverts: the virtual router MAC when
	// VirtualMAC is set, its interface's MAC otherwise.
	MAC        string `json:"mac"`
	VirtualMAC bool   `json:"virtual_mac"`
	// OwnMAC is its interface's MAC, when the capture shows it.
	OwnMAC           string   `json:"own_mac,omitempty"`
	Priority         int      `json:"priority"`     // last non-zero priority advertised
	MaxPriority      int      `json:"max_priority"` // highest priority advertised
	AdvertIntervalMS float64  `json:"advert_interval_ms"`
	Version          int      `json:"version"`
	Auth             string   `json:"auth"` // "none", "pass", "ah", or "type-N"
	AuthPass         string   `json:"auth_pass,omitempty"`
	VIPs             []string `json:"vips"`
	Adverts          int      `json:"adverts"`
	FirstFrame       uint64   `json:"first_frame"`
	LastFrame        uint64   `json:"last_frame"`
	// LastAdvert is when the speaker last advertised (any priority).
	LastAdvert time.Time `json:"last_advert"`
}

// Endpoint names a router by what is on the wire.
type Endpoint struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
}

// Mastership is one period during which a speaker was master.
type Mastership struct {
	Endpoint
	FromFrame uint64    `json:"from_frame"`
	From      time.Time `json:"from"`
	ToFrame   uint64    `json:"to_frame,omitempty"`
	To        time.Time `json:"to,omitzero"` // zero while the mastership lasts
	Adverts   int       `json:"adverts"`
}

// Failover is one change from one master to another.
type Failover struct {
	VRID   int       `json:"vrid"`
	VLAN   int       `json:"vlan"`
	Family string    `json:"family"`
	Frame  uint64    `json:"frame"` // the new master's first advert
	Time   time.Time `json:"time"`
	From   Endpoint  `json:"from"`
	To     Endpoint  `json:"to"`
	// Cause is resign (the old master sent priority 0), master-down (it
	// went silent), preempt (a router of higher priority took over from a
	// master still advertising), no-backup (the new master was not running
	// when the old one left) or unknown.
	Cause string `json:"cause"`
	// Reason says more about the cause, e.g. the priority drop behind a
	// preemption.
	Reason string `json:"reason,omitempty"`
	// PriorityDrop is set when the old master's priority fell below the new
	// master's (tracking) and caused the preemption.
	PriorityDrop bool `json:"priority_drop"`
	// VirtualMAC is set when the new master sends from the virtual router
	// MAC: clients keep their ARP entry, and what they wait for is the
	// switches learning the MAC on the new master's port.
	VirtualMAC bool `json:"virtual_mac"`
	// DetectMS runs from the old master's last advert (its priority-0 advert
	// for a resign; for a priority drop, its last advert at a priority the
	// new master did not discard) to the new master's first advert, or to
	// its first announcement from the virtual MAC when that came earlier,
	// while no router was master.
	DetectMS float64 `json:"detect_ms"`
	// ExpectedMS is the RFC time for the cause: Skew_Time for resign,
	// Master_Down_Interval for master-down and for a preemption after a
	// priority drop; 0 when the RFC gives none.
	ExpectedMS float64 `json:"expected_ms"`
	// GarpMS runs from the new master's first advert to its first GARP for
	// the VIP; nil when it sent none.
	GarpMS  *float64       `json:"garp_ms"`
	Clients []ClientSwitch `json:"clients"`
}

// ClientSwitch is how one client followed a failover.
type ClientSwitch struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
	// SwitchMS runs from the new master's first advert to the client's first
	// frame for the VIP sent to the new master's MAC; nil if it never did.
	SwitchMS *float64 `json:"switch_ms"`
	// StaleFrames counts frames for the VIP sent to the old master's MAC
	// after the new master's first advert.
	StaleFrames int `json:"stale_frames"`
	// StaleFrom and StaleTo are the first and last of those frames.
	StaleFrom time.Time `json:"stale_from,omitzero"`
	StaleTo   time.Time `json:"stale_to,omitzero"`
	// Unanswered counts the client's requests to the VIP (ICMP echo, TCP
	// SYN) at the new master's MAC after its first advert that came before
	// the first answer; AnswerMS runs from the new master's first advert to
	// that answer, nil if none came. With a virtual MAC this is the outage
	// a client sees.
	Unanswered int      `json:"unanswered"`
	AnswerMS   *float64 `json:"answer_ms"`
}

// SplitBrain is a period in which two routers held the same VIP at once:
// both made claims (adverts as master, GARPs or NAs, ARP replies for the
// VIP, frames from the VIP, a later priority-0 advert) after each other.
type SplitBrain struct {
	VRID   int    `json:"vrid"`
	VLAN   int    `json:"vlan"`
	Family string `json:"family"`
	// Start is the later router's first claim while the other held the
	// VIP; End the last claim of the side that gave up (the capture's
	// end when neither did: Ongoing).
	Start      time.Time `json:"start"`
	StartFrame uint64    `json:"start_frame"`
	End        time.Time `json:"end"`
	EndFrame   uint64    `json:"end_frame"`
	DurationMS float64   `json:"duration_ms"`
	Ongoing    bool      `json:"ongoing"`
	// Routers are the two sides: the one that held the VIP first, then the
	// contender.
	Routers []SplitSide `json:"routers"`
	// Clients are hosts that sent to the contender's MAC during the split
	// brain, moved by its GARPs (empty with a virtual MAC, where every
	// router sends from the same MAC).
	Clients []ClientMove `json:"clients"`
	// Cause is the likely reason the routers did not hear each other.
	Cause string `json:"cause"`
}

// SplitSide is one router of a split brain and what it claimed.
type SplitSide struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
	// Claims counts its claims from the start; Frames are some of them.
	Claims int      `json:"claims"`
	Frames []uint64 `json:"frames"`
	GaveUp bool     `json:"gave_up"`
}

// ClientMove is a client that sent to the contender's MAC during a split
// brain.
type ClientMove struct {
	IP     string   `json:"ip"`
	MAC    string   `json:"mac"`
	Frames []uint64 `json:"frames"` // its first frames to the contender's MAC
}

// Client is a host seen sending to a VIP.
type Client struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
	// VIP frames counted, and the ARP resolutions of the VIP it made.
	Frames      int      `json:"frames"`
	Resolutions []string `json:"resolutions"` // "frame N: VIP is-at MAC"
}

// Severity orders findings.
type Severity string

const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Finding is one conclusion with its evidence.
type Finding struct {
	Code     string    `json:"code"`
	Severity Severity  `json:"severity"`
	VRID     int       `json:"vrid"`
	VLAN     int       `json:"vlan"`
	Frames   []uint64  `json:"frames"`
	Time     time.Time `json:"time"`
	Summary  string    `json:"summary"`
	Detail   string    `json:"detail"`
	Hint     string    `json:"hint"`
	// FramesAt gives the evidence in each capture's own frame numbers,
	// when several captures were analyzed together.
	FramesAt map[string][]uint64 `json:"frames_at,omitempty"`
}

// Event is one line of the timeline. Runs of periodic adverts (and GARP
// bursts, repeated IGMP reports) are folded into one event with Count > 1.
// Kind says what happened: master, failover, contend, election, resign,
// silent, split-brain, priority, adverts, garp, arp, neighbour, join,
// leave, truncated.
type Event struct {
	Frame   uint64    `json:"frame"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	VRID    int       `json:"vrid"`
	VLAN    int       `json:"vlan"`
	Summary string    `json:"summary"`
	Count   int       `json:"count,omitempty"`
	// Source is who acted (a router's or host's address, or a MAC when no
	// address is known; the VIP for an answer from whoever held it), and
	// Target whom it addressed: another router or host, a multicast group
	// (224.0.0.18, ff02::12), or "broadcast".
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
	// SeenAt lists the captures that saw the event's frame, when several
	// were analyzed together.
	SeenAt []Sighting `json:"seen_at,omitempty"`
	// LastFrame is the last frame of a folded run.
	LastFrame uint64 `json:"last_frame,omitempty"`
}

// FrameError is a frame the decoder could not make sense of.
type FrameError struct {
	Frame uint64 `json:"frame"`
	Error string `json:"error"`
}

package analyze

import "time"

// Schema names the JSON document shape; bump it on incompatible changes.
const Schema = "vrrpctl.analysis/v1"

// Analysis is everything the engine concluded from one capture: the value the
// terminal and JSON renderers read. Times are absolute; durations are in
// milliseconds as float64 so sub-millisecond timing survives.
type Analysis struct {
	Schema    string       `json:"schema"`
	Source    Source       `json:"source"`
	Groups    []Group      `json:"groups"`
	Failovers []Failover   `json:"failovers"`
	Findings  []Finding    `json:"findings"`
	Timeline  []Event      `json:"timeline"`
	Clients   []Client     `json:"clients"`
	Errors    []FrameError `json:"decode_errors"`
	Notes     []string     `json:"notes"`
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
	// Master is the speaker that was master at the end, if any.
	Master *Endpoint `json:"master,omitempty"`
	// Masterships lists who was master when, in time order.
	Masterships []Mastership `json:"masterships"`
}

// Speaker is one router seen advertising for a group.
type Speaker struct {
	IP               string   `json:"ip"`
	MAC              string   `json:"mac"`
	Priority         int      `json:"priority"` // last non-zero priority advertised
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
	Cause  string    `json:"cause"` // resign, master-down, preempt, unknown
	// DetectMS runs from the old master's last advert (its priority-0 advert
	// for a resign) to the new master's first advert.
	DetectMS float64 `json:"detect_ms"`
	// ExpectedMS is the RFC time for the cause: Skew_Time for resign,
	// Master_Down_Interval for master-down; 0 when the RFC gives none.
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
}

// Event is one line of the timeline. Runs of periodic adverts are folded into
// one event with Count > 1.
type Event struct {
	Frame   uint64    `json:"frame"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	VRID    int       `json:"vrid"`
	VLAN    int       `json:"vlan"`
	Summary string    `json:"summary"`
	Count   int       `json:"count,omitempty"`
	// LastFrame is the last frame of a folded run.
	LastFrame uint64 `json:"last_frame,omitempty"`
}

// FrameError is a frame the decoder could not make sense of.
type FrameError struct {
	Frame uint64 `json:"frame"`
	Error string `json:"error"`
}

package pcapgen

import (
	"bytes"
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"

	"github.com/gopacket/gopacket"

	"github.com/vrrpctl/vrrpctl/decode"
)

func TestScenariosDeterministic(t *testing.T) {
	for _, s := range Scenarios() {
		a, ea, err := s.Generate()
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		b, eb, err := s.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || ea.Frames != eb.Frames {
			t.Errorf("%s: two runs differ", s.Name)
		}
		if s.Story == "" {
			t.Errorf("%s: no story", s.Name)
		}
	}
	if _, ok := Get("healthy-v2"); !ok {
		t.Error("Get(healthy-v2) finds nothing")
	}
	if _, ok := Get("no-such"); ok {
		t.Error("Get finds an unknown scenario")
	}
}

// TestDecoderReads decodes every frame with the project's own decoder and
// checks it against what was sent.
func TestDecoderReads(t *testing.T) {
	for _, s := range Scenarios() {
		w, e := s.Build()
		dec, err := decode.NewDecoder(w.link.gopacket())
		if err != nil {
			t.Fatal(err)
		}
		var f decode.Frame
		for i, g := range w.Frames() {
			ci := gopacket.CaptureInfo{Timestamp: w.Time(g.At), CaptureLength: len(g.Data), Length: len(g.Data)}
			if err := dec.Decode(g.Data, ci, uint64(i+1), &f); err != nil {
				t.Errorf("%s frame %d: %v", s.Name, i+1, err)
				continue
			}
			if f.HasDstMAC != e.HasDstMAC {
				t.Errorf("%s frame %d: HasDstMAC %v", s.Name, i+1, f.HasDstMAC)
			}
			if want := w.vlanOfTags(g.tags); f.VLAN != want {
				t.Errorf("%s frame %d: VLAN %d, want %d", s.Name, i+1, f.VLAN, want)
			}
			switch g.kind {
			case "vrrp":
				if f.Kind != decode.KindVRRP {
					t.Errorf("%s frame %d: kind %v, want vrrp", s.Name, i+1, f.Kind)
					continue
				}
				want := decode.ChecksumOK
				switch {
				case g.v2Sum:
					want = decode.ChecksumV2Style
				case g.badSum:
					want = decode.ChecksumBad
				}
				if f.VRRPChecksum != want || f.VRRP.Priority != g.vrrp.Priority || f.VRRP.Version != g.vrrp.Version ||
					!slices.Equal(f.VRRP.Addrs, g.vrrp.Addrs) || f.IP.TTL != g.ttl {
					t.Errorf("%s frame %d: decoded %+v checksum %v ttl %d", s.Name, i+1, *f.VRRP, f.VRRPChecksum, f.IP.TTL)
				}
			case "arp":
				if f.Kind != decode.KindARP || f.ARP.SenderIP != g.arp.SenderIP || f.ARP.TargetIP != g.arp.TargetIP {
					t.Errorf("%s frame %d: ARP decoded as %v", s.Name, i+1, f.Kind)
				}
			case "igmp":
				if f.Kind != decode.KindIGMP || len(f.IGMP.Records) != 1 || f.IGMP.Records[0].Type != g.igmpRec {
					t.Errorf("%s frame %d: IGMP decoded as %v", s.Name, i+1, f.Kind)
				}
			}
		}
	}
}

// vlanOfTags is the innermost tag as the decoder reports it.
func (w *Writer) vlanOfTags(tags []uint16) uint16 {
	if w.link != Ethernet || len(tags) == 0 {
		return 0
	}
	return tags[len(tags)-1]
}

type groupKey struct {
	vrid uint8
	vlan uint16
	v6   bool
}

// TestExpectFollowsFromFrames checks each Expect against the frames, read
// back independently of how the scenario built them.
func TestExpectFollowsFromFrames(t *testing.T) {
	known := append(slices.Clone(warnings), analyze.CodeResign)
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			w, e := s.Build()
			frames := w.Frames()
			for _, c := range append(slices.Clone(e.Must), e.MustNot...) {
				if !slices.Contains(known, c) {
					t.Errorf("unknown code %q", c)
				}
			}
			for _, c := range e.Must {
				if slices.Contains(e.MustNot, c) {
					t.Errorf("%s is both required and forbidden", c)
				}
			}

			// Groups and speakers from the adverts.
			speakers := map[groupKey][]string{}
			adverts := map[groupKey][]*Frame{}
			for _, f := range frames {
				if f.kind != "vrrp" {
					continue
				}
				k := groupKey{f.vrrp.VRID, w.vlanOfTags(f.tags), f.vrrp.IPv6}
				if !slices.Contains(speakers[k], f.ipSrc.String()) {
					speakers[k] = append(speakers[k], f.ipSrc.String())
				}
				adverts[k] = append(adverts[k], f)
			}
			if len(speakers) != len(e.Groups) {
				t.Fatalf("%d groups on the wire, Expect has %d", len(speakers), len(e.Groups))
			}
			for _, g := range e.Groups {
				k := groupKey{uint8(g.VRID), uint16(g.VLAN), g.Family == "ipv6"}
				sp := slices.Clone(speakers[k])
				slices.Sort(sp)
				if !slices.Equal(sp, g.Speakers) {
					t.Errorf("group %+v: speakers on the wire %v", k, sp)
				}
				// The mastership followed through the runs of adverts: the
				// last master, unless another speaker still advertises with
				// it at the end (a split brain to the end).
				rs := runs(adverts[k])
				changes, final, _ := masters(rs)
				last := adverts[k][len(adverts[k])-1].At
				var both []string
				for _, r := range rs {
					if r.ip != final.ip && r.to >= final.from && r.to >= last-r.ival*3/2 {
						both = append(both, r.ip)
					}
				}
				switch {
				case len(both) == 0 && g.Master != final.ip:
					t.Errorf("group %+v: master at the end is %s, Expect says %q", k, final.ip, g.Master)
				case len(both) > 0 && g.Master != "":
					t.Errorf("group %+v: %s and %v advertise at the end, Expect names %s", k, final.ip, both, g.Master)
				}
				if e.CheckFailovers {
					n := 0
					for _, fo := range e.Failovers {
						if fo.VLAN == g.VLAN && fo.VRID == g.VRID {
							n++
						}
					}
					if n != changes {
						t.Errorf("group %+v: %d changes of master on the wire, Expect has %d failovers", k, changes, n)
					}
				}
			}

			// Failovers: what the RFC timers allow, and the clients' story.
			for i, fo := range e.Failovers {
				where := "failover " + strconv.Itoa(i+1)
				switch fo.Cause {
				case CauseResign, CauseMasterDown:
					if slices.Contains(e.Must, analyze.CodeSlowFailover) {
						// The story is a backup that takes over late.
						if fo.DetectMS < fo.ExpectedMS*1.25+100 {
							t.Errorf("%s (%s): detect %.3f ms is not slow against RFC %.3f ms", where, fo.Cause, fo.DetectMS, fo.ExpectedMS)
						}
					} else if fo.DetectMS < fo.ExpectedMS || fo.DetectMS > fo.ExpectedMS+10 {
						t.Errorf("%s (%s): detect %.3f ms, RFC %.3f ms", where, fo.Cause, fo.DetectMS, fo.ExpectedMS)
					}
				case CausePreempt:
					if fo.PriorityDrop {
						// Timed from the last advert the new master did not discard.
						if fo.DetectMS < fo.ExpectedMS || fo.DetectMS > fo.ExpectedMS+10 {
							t.Errorf("%s: preempt after a priority drop detect %.3f ms, RFC %.3f ms", where, fo.DetectMS, fo.ExpectedMS)
						}
					} else if fo.DetectMS <= 0 || fo.DetectMS > 1000 || fo.ExpectedMS != 0 {
						t.Errorf("%s: preempt detect %.3f ms expected %.3f", where, fo.DetectMS, fo.ExpectedMS)
					}
				case CauseNoBackup:
					if fo.DetectMS <= 0 || fo.ExpectedMS != 0 || !slices.Contains(e.Must, analyze.CodeNoBackup) {
						t.Errorf("%s: no-backup detect %.3f ms expected %.3f", where, fo.DetectMS, fo.ExpectedMS)
					}
				default:
					t.Errorf("%s: cause %q", where, fo.Cause)
				}
				if fo.GARP == slices.Contains(e.Must, analyze.CodeNoGARP) && w.link == Ethernet {
					t.Errorf("%s: GARP %v with no-garp required=%v", where, fo.GARP, slices.Contains(e.Must, analyze.CodeNoGARP))
				}
				if fo.PriorityDrop && fo.Cause != CausePreempt {
					t.Errorf("%s: a priority drop with cause %s", where, fo.Cause)
				}
				for _, c := range fo.Clients {
					if fo.VirtualMAC {
						// The entry never changes; an outage is requests unanswered.
						if c.StaleMin != 0 || c.StaleMax != 0 || c.Switched || c.SwitchMS != 0 || !c.Answered {
							t.Errorf("%s client %s (virtual MAC): stale %d..%d switched %v answered %v", where, c.IP, c.StaleMin, c.StaleMax, c.Switched, c.Answered)
						}
						outage := c.Unanswered >= 3 && c.AnswerMS >= 1000
						if outage != slices.Contains(e.Must, analyze.CodeClientOutage) {
							t.Errorf("%s client %s: %d unanswered, first answer after %.1f ms, client-outage required %v", where, c.IP, c.Unanswered, c.AnswerMS, !outage)
						}
						continue
					}
					stale := slices.Contains(e.Must, analyze.CodeStaleARP)
					if stale != (c.StaleMin > 0) || c.StaleMax < c.StaleMin || !c.Switched || c.Unanswered != 0 || c.Answered {
						t.Errorf("%s client %s: stale %d..%d switched %v, stale-arp required %v", where, c.IP, c.StaleMin, c.StaleMax, c.Switched, stale)
					}
				}
			}
			if !e.HasDstMAC {
				for _, fo := range e.Failovers {
					if len(fo.Clients) > 0 {
						t.Error("client switches on a capture without destination MACs")
					}
				}
			}

			// Scenario-specific facts.
			ad := adverts[groupKey{51, w.vlanOfTags(w.tags), len(e.Groups) > 0 && e.Groups[0].Family == "ipv6"}]
			switch {
			case slices.Contains(e.Must, analyze.CodeSplitBrain) && !e.CheckSplits:
				if overlap(ad) < 3*time.Second {
					t.Errorf("split brain of only %v", overlap(ad))
				}
			case slices.Contains(e.Must, analyze.CodeSplitBrain):
				if len(e.SplitBrains) == 0 {
					t.Error("split-brain required but no split brain expected")
				}
			case slices.Contains(e.MustNot, analyze.CodeSplitBrain):
				if o := overlap(ad); o > 50*time.Millisecond {
					t.Errorf("two masters for %v but split-brain forbidden", o)
				}
			}
			if e.CheckSplits {
				// Each contender's run of adverts within the master's is a
				// split brain: it starts with the contender's first advert
				// and ends no earlier than its last.
				_, _, contenders := masters(runs(ad))
				if len(contenders) != len(e.SplitBrains) {
					t.Fatalf("%d split brains on the wire, Expect has %d", len(contenders), len(e.SplitBrains))
				}
				first := frames[0].At
				for i, c := range contenders {
					sb := e.SplitBrains[i]
					if !slices.Contains(sb.Routers[:], c.ip) || sb.Routers[0] >= sb.Routers[1] ||
						math.Abs(sb.StartMS-msOf(c.from-first)) > 0.001 || sb.EndMS < msOf(c.to-first)-0.001 {
						t.Errorf("split brain %+v, adverts of %s from %.3f to %.3f ms", sb, c.ip, msOf(c.from-first), msOf(c.to-first))
					}
				}
			}
			if slices.Contains(e.Must, analyze.CodeTTL) != slices.ContainsFunc(ad, func(f *Frame) bool { return f.ttl != 255 }) {
				t.Error("ttl required iff an advert has TTL != 255")
			}
			if slices.Contains(e.Must, analyze.CodeChecksum) != slices.ContainsFunc(ad, func(f *Frame) bool { return f.badSum }) {
				t.Error("checksum required iff an advert has a bad checksum")
			}
			if slices.Contains(e.Must, analyze.CodeAdvertGap) {
				if g := maxGap(ad); g < 2*time.Second || g > 3900*time.Millisecond {
					t.Errorf("advert gap %v: not a gap the backup survives", g)
				}
			} else if slices.Contains(e.MustNot, analyze.CodeAdvertGap) && len(e.Failovers) == 0 && len(e.Groups[0].Speakers) == 1 {
				if g := maxGap(ad); g > 1100*time.Millisecond {
					t.Errorf("advert gap %v but advert-gap forbidden", g)
				}
			}
			if slices.Contains(e.Must, analyze.CodeFlapping) && len(e.Failovers) < 5 {
				t.Errorf("flapping with %d failovers", len(e.Failovers))
			}
			noBackup := len(e.Groups[0].Speakers) == 1 && !joinedBy(frames, 2) ||
				slices.ContainsFunc(e.Failovers, func(f ExpectFailover) bool { return f.Cause == CauseNoBackup })
			if slices.Contains(e.Must, analyze.CodeNoBackup) != noBackup {
				t.Error("no-backup required iff one speaker and no other router joined 224.0.0.18, or a failover with no backup running")
			}
			vip := netip.MustParseAddr("192.168.33.100")
			requests, replies := 0, 0
			for _, f := range frames {
				if f.ipDst == vip && (f.kind == "icmp" || f.kind == "tcp") {
					requests++
				}
				if f.ipSrc == vip && (f.kind == "icmp" || f.kind == "tcp") {
					replies++
				}
			}
			if slices.Contains(e.Must, analyze.CodeVIPUnanswered) {
				if requests == 0 || replies != 0 {
					t.Errorf("vip-unanswered with %d requests and %d replies", requests, replies)
				}
			} else if requests > 0 && replies == 0 {
				t.Errorf("%d requests to the VIP, none answered, but vip-unanswered not required", requests)
			}
			if slices.Contains(e.Must, analyze.CodeGARPInterval) {
				bursts := garpBursts(frames)
				if !slices.ContainsFunc(bursts, func(n int) bool { return n != 5 }) {
					t.Errorf("garp-interval required but every burst has 5 GARPs: %v", bursts)
				}
			}
		})
	}
}

// run is a speaker's adverts with priority > 0, each within 1.5
// intervals of the one before.
type run struct {
	ip       string
	from, to time.Duration
	ival     time.Duration
}

// runs splits the adverts into runs, ordered by start; a priority-0
// advert ends its speaker's run.
func runs(ad []*Frame) []run {
	open := map[string]*run{}
	var out []run
	for _, f := range ad {
		ip := f.ipSrc.String()
		r := open[ip]
		if f.vrrp.Priority == 0 {
			if r != nil {
				out = append(out, *r)
				delete(open, ip)
			}
			continue
		}
		if r != nil && f.At-r.to <= r.ival*3/2 {
			r.to = f.At
			continue
		}
		if r != nil {
			out = append(out, *r)
		}
		open[ip] = &run{ip: ip, from: f.At, to: f.At, ival: f.vrrp.Interval()}
	}
	for _, r := range open {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b run) int { return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.ip, b.ip)) })
	return out
}

// masters follows the mastership through runs: a run that outlasts the
// master's is a change of master, unless it is the same speaker's or
// starts within an interval of the very first run (an election at
// start-up); a run that ends within the master's is a contender's.
func masters(rs []run) (changes int, final run, contenders []run) {
	if len(rs) == 0 {
		return 0, run{}, nil
	}
	final = rs[0]
	for i, r := range rs[1:] {
		switch {
		case r.to <= final.to:
			contenders = append(contenders, r)
		case r.ip == final.ip:
			final = r
		case i == 0 && r.from-final.from < final.ival:
			final = r
		default:
			changes++
			final = r
		}
	}
	return changes, final, contenders
}

// overlap is the longest time during which two speakers' runs of adverts
// overlap.
func overlap(ad []*Frame) time.Duration {
	var best time.Duration
	rs := runs(ad)
	for i, a := range rs {
		for _, b := range rs[i+1:] {
			if a.ip != b.ip {
				best = max(best, min(a.to, b.to)-max(a.from, b.from))
			}
		}
	}
	return best
}

// maxGap is the longest time between two adverts of the same speaker.
func maxGap(ad []*Frame) time.Duration {
	last := map[string]time.Duration{}
	var g time.Duration
	for _, f := range ad {
		if t, ok := last[f.ipSrc.String()]; ok {
			g = max(g, f.At-t)
		}
		last[f.ipSrc.String()] = f.At
	}
	return g
}

// joinedBy reports whether n distinct hosts joined the VRRP group.
func joinedBy(frames []*Frame, n int) bool {
	var hosts []netip.Addr
	for _, f := range frames {
		if f.kind == "igmp" && f.igmpRec == decode.IGMPChangeToExclude && !slices.Contains(hosts, f.ipSrc) {
			hosts = append(hosts, f.ipSrc)
		}
	}
	return len(hosts) >= n
}

// garpBursts counts GARPs per sender in runs less than 100 ms apart.
func garpBursts(frames []*Frame) []int {
	var out []int
	type run struct {
		last time.Duration
		n    int
	}
	runs := map[string]*run{}
	for _, f := range frames {
		if f.kind != "arp" || f.arp.SenderIP != f.arp.TargetIP {
			continue
		}
		k := f.src.String()
		r := runs[k]
		if r != nil && f.At-r.last < 100*time.Millisecond {
			r.n++
			r.last = f.At
			continue
		}
		if r != nil {
			out = append(out, r.n)
		}
		runs[k] = &run{f.At, 1}
	}
	for _, r := range runs {
		out = append(out, r.n)
	}
	return out
}

package pcapgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tsharkFields are the columns read back for every frame.
var tsharkFields = []string{
	"frame.number", "vlan.id", "ip.ttl", "ipv6.hlim", "ip.checksum.status", "ip.dsfield", "ip.flags.df", "ip.opt.type",
	"vrrp.version", "vrrp.virt_rtr_id", "vrrp.prio", "vrrp.addr_count", "vrrp.checksum.status", "vrrp.auth_type", "vrrp.auth_string",
	"arp.opcode", "arp.isgratuitous", "igmp.type", "igmp.record_type", "igmp.checksum.status",
	"icmp.checksum.status", "tcp.checksum.status", "_ws.malformed", "sll.pkttype", "vrrp.adver_int",
	"vrrp.short_adver_int", "ieee8021ad.id", "icmpv6.checksum.status", "icmpv6.type", "icmpv6.nd.na.flag.o",
	"eth.src", "eth.dst", "arp.src.hw_mac", "arp.dst.hw_mac", "ipv6.src", "ipv6.dst",
	"icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.target_address", "icmpv6.nd.ns.target_address",
	"icmpv6.opt.linkaddr", "icmpv6.nd.ra.router_lifetime", "icmpv6.opt.prefix", "icmpv6.echo.sequence_number",
	"icmpv6.mldr.nb_mcast_records", "icmpv6.mldr.mar.record_type", "icmpv6.mldr.mar.multicast_address", "ipv6.opt.router_alert",
}

// truth reads a tshark boolean (1 or True).
func truth(v string) bool { return v == "1" || v == "True" }

// tshark dissects a capture and returns one map of field to value per frame.
func tshark(t *testing.T, path string) []map[string]string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is needed to check the generated captures: %v", err)
	}
	args := []string{"-r", path, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = nil
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	var rows []map[string]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		row := map[string]string{}
		for i, f := range tsharkFields {
			if i < len(cols) {
				row[f] = cols[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// TestTsharkAgrees writes every scenario and checks, frame by frame, that
// Wireshark's dissectors read what the generator meant to send.
func TestTsharkAgrees(t *testing.T) {
	dir := t.TempDir()
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel() // tshark's start-up dominates: two at a time on two cores
			w, e := s.Build()
			b, err := w.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, s.Name+".pcap")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			rows := tshark(t, path)
			frames := w.Frames()
			if len(rows) != len(frames) || len(rows) != e.Frames {
				t.Fatalf("tshark reads %d frames, generated %d, Expect says %d", len(rows), len(frames), e.Frames)
			}
			vlans := map[string]bool{}
			for i, f := range frames {
				r := rows[i]
				where := "frame " + r["frame.number"] + " (" + f.kind + ")"
				if r["_ws.malformed"] != "" {
					t.Errorf("%s: tshark calls it malformed", where)
				}
				if v := r["vlan.id"]; v != "" {
					vlans[v] = true
				}
				tags := r["vlan.id"]
				if r["ieee8021ad.id"] != "" {
					tags = r["ieee8021ad.id"] + "," + tags
				}
				if want := tagString(f.tags, w.link); tags != want {
					t.Errorf("%s: VLAN tags %q, want %q", where, tags, want)
				}
				if w.link != Ethernet && r["sll.pkttype"] == "" {
					t.Errorf("%s: no SLL packet type", where)
				}
				if w.link == Ethernet && (r["eth.src"] != f.src.String() || r["eth.dst"] != f.dst.String()) {
					t.Errorf("%s: Ethernet %s > %s, sent %s > %s", where, r["eth.src"], r["eth.dst"], f.src, f.dst)
				}
				if f.ipSrc.Is6() && (r["ipv6.src"] != f.ipSrc.String() || r["ipv6.dst"] != f.ipDst.String()) {
					t.Errorf("%s: IPv6 %s > %s, sent %s > %s", where, r["ipv6.src"], r["ipv6.dst"], f.ipSrc, f.ipDst)
				}
				if f.ipSrc.Is6() && f.kind != "vrrp" && (r["icmpv6.checksum.status"] != "1" || r["ipv6.hlim"] != strconv.Itoa(int(f.ttl))) {
					t.Errorf("%s: ICMPv6 checksum status %q hop limit %s, sent %d", where, r["icmpv6.checksum.status"], r["ipv6.hlim"], f.ttl)
				}
				if f.ipSrc.Is4() && r["ip.checksum.status"] != "1" {
					t.Errorf("%s: IP header checksum status %q", where, r["ip.checksum.status"])
				}
				switch f.kind {
				case "vrrp":
					v := f.vrrp
					if r["vrrp.version"] != strconv.Itoa(int(v.Version)) || r["vrrp.virt_rtr_id"] != strconv.Itoa(int(v.VRID)) ||
						r["vrrp.prio"] != strconv.Itoa(int(v.Priority)) || r["vrrp.addr_count"] != strconv.Itoa(len(v.Addrs)) {
						t.Errorf("%s: tshark reads version %s vrid %s prio %s count %s, sent %d/%d/%d/%d", where,
							r["vrrp.version"], r["vrrp.virt_rtr_id"], r["vrrp.prio"], r["vrrp.addr_count"], v.Version, v.VRID, v.Priority, len(v.Addrs))
					}
					adv := r["vrrp.adver_int"]
					if v.Version == 3 {
						adv = r["vrrp.short_adver_int"] // the 12-bit centisecond field
					}
					if adv != strconv.Itoa(int(v.AdverInt)) {
						t.Errorf("%s: advert interval field %s, sent %d", where, adv, v.AdverInt)
					}
					want := "1" // good
					if f.badSum {
						want = "0"
					}
					if r["vrrp.checksum.status"] != want {
						t.Errorf("%s: VRRP checksum status %q, want %q", where, r["vrrp.checksum.status"], want)
					}
					ttl := r["ip.ttl"]
					if v.IPv6 {
						ttl = r["ipv6.hlim"]
					} else if r["ip.dsfield"] != "0xc0" || r["ip.flags.df"] != "False" && r["ip.flags.df"] != "0" {
						t.Errorf("%s: TOS %s DF %s, want 0xc0 and no DF as keepalived sends", where, r["ip.dsfield"], r["ip.flags.df"])
					}
					if ttl != strconv.Itoa(int(f.ttl)) {
						t.Errorf("%s: TTL %s, sent %d", where, ttl, f.ttl)
					}
					if v.AuthType == 1 && r["vrrp.auth_string"] != v.AuthPassword() {
						t.Errorf("%s: auth string %q, sent %q", where, r["vrrp.auth_string"], v.AuthPassword())
					}
				case "arp":
					if r["arp.opcode"] != strconv.Itoa(int(f.arp.Operation)) {
						t.Errorf("%s: opcode %s, sent %d", where, r["arp.opcode"], f.arp.Operation)
					}
					garp := f.arp.SenderIP == f.arp.TargetIP
					if got := truth(r["arp.isgratuitous"]); got != garp {
						t.Errorf("%s: tshark gratuitous=%q, sent gratuitous=%v", where, r["arp.isgratuitous"], garp)
					}
					if r["arp.src.hw_mac"] != f.arp.SenderMAC.String() || r["arp.dst.hw_mac"] != f.arp.TargetMAC.String() {
						t.Errorf("%s: ARP sender MAC %s target MAC %s, sent %s, %s", where, r["arp.src.hw_mac"], r["arp.dst.hw_mac"], f.arp.SenderMAC, f.arp.TargetMAC)
					}
				case "igmp":
					if r["igmp.type"] != "0x22" || r["igmp.record_type"] != strconv.Itoa(int(f.igmpRec)) || r["igmp.checksum.status"] != "1" {
						t.Errorf("%s: IGMP type %s record %s checksum %s", where, r["igmp.type"], r["igmp.record_type"], r["igmp.checksum.status"])
					}
					if r["ip.ttl"] != "1" || r["ip.opt.type"] != "148" || r["ip.flags.df"] != "True" && r["ip.flags.df"] != "1" {
						t.Errorf("%s: IGMP report TTL %s options %s DF %s", where, r["ip.ttl"], r["ip.opt.type"], r["ip.flags.df"])
					}
				case "icmp":
					if r["icmp.checksum.status"] != "1" {
						t.Errorf("%s: ICMP checksum status %q", where, r["icmp.checksum.status"])
					}
				case "na":
					nd := f.nd
					if r["icmpv6.type"] != "136" || truth(r["icmpv6.nd.na.flag.r"]) != (nd.flags&naRouter != 0) ||
						truth(r["icmpv6.nd.na.flag.s"]) != (nd.flags&naSolicited != 0) || truth(r["icmpv6.nd.na.flag.o"]) != (nd.flags&naOverride != 0) ||
						r["icmpv6.nd.na.target_address"] != nd.target.String() || r["icmpv6.opt.linkaddr"] != nd.ll.String() {
						t.Errorf("%s: NA type %s flags R%s S%s O%s target %s lladdr %s, sent flags %#x target %s lladdr %s", where, r["icmpv6.type"],
							r["icmpv6.nd.na.flag.r"], r["icmpv6.nd.na.flag.s"], r["icmpv6.nd.na.flag.o"], r["icmpv6.nd.na.target_address"],
							r["icmpv6.opt.linkaddr"], nd.flags, nd.target, nd.ll)
					}
				case "ns":
					if r["icmpv6.type"] != "135" || r["icmpv6.nd.ns.target_address"] != f.nd.target.String() || r["icmpv6.opt.linkaddr"] != f.nd.ll.String() {
						t.Errorf("%s: NS type %s target %s lladdr %s, sent target %s lladdr %s", where, r["icmpv6.type"],
							r["icmpv6.nd.ns.target_address"], r["icmpv6.opt.linkaddr"], f.nd.target, f.nd.ll)
					}
				case "ra":
					if r["icmpv6.type"] != "134" || r["icmpv6.nd.ra.router_lifetime"] != "1800" || !strings.Contains(r["icmpv6.opt.linkaddr"], f.nd.ll.String()) {
						t.Errorf("%s: RA type %s lifetime %s lladdr %s, sent lladdr %s", where, r["icmpv6.type"],
							r["icmpv6.nd.ra.router_lifetime"], r["icmpv6.opt.linkaddr"], f.nd.ll)
					}
				case "mld":
					if r["icmpv6.type"] != "143" || r["icmpv6.mldr.nb_mcast_records"] != "1" || r["icmpv6.mldr.mar.record_type"] != strconv.Itoa(int(f.mldRec)) ||
						r["icmpv6.mldr.mar.multicast_address"] != f.mldDst.String() || r["ipv6.opt.router_alert"] != "0" {
						t.Errorf("%s: MLD type %s records %s type %s group %s router alert %q, sent type %d group %s", where, r["icmpv6.type"],
							r["icmpv6.mldr.nb_mcast_records"], r["icmpv6.mldr.mar.record_type"], r["icmpv6.mldr.mar.multicast_address"],
							r["ipv6.opt.router_alert"], f.mldRec, f.mldDst)
					}
				case "icmp6":
					want := "129"
					if f.req != "" {
						want = "128"
					}
					if r["icmpv6.type"] != want || r["icmpv6.echo.sequence_number"] == "" {
						t.Errorf("%s: ICMPv6 echo type %s sequence %s, want type %s", where, r["icmpv6.type"], r["icmpv6.echo.sequence_number"], want)
					}
				case "tcp":
					if r["tcp.checksum.status"] != "1" {
						t.Errorf("%s: TCP checksum status %q", where, r["tcp.checksum.status"])
					}
				}
			}
			// The VLANs on the wire are the groups' VLANs.
			var want []string
			for _, g := range e.Groups {
				if g.VLAN != 0 && !slices.Contains(want, strconv.Itoa(g.VLAN)) {
					want = append(want, strconv.Itoa(g.VLAN))
				}
			}
			for v := range vlans {
				for _, id := range strings.Split(v, ",") {
					if !slices.Contains(want, id) && !slices.Contains(w.tags, mustAtoi16(id)) {
						t.Errorf("VLAN %s on the wire belongs to no group", id)
					}
				}
			}
		})
	}
}

func tagString(tags []uint16, link LinkType) string {
	if link != Ethernet {
		return ""
	}
	var s []string
	for _, t := range tags {
		s = append(s, strconv.Itoa(int(t)))
	}
	return strings.Join(s, ",")
}

func mustAtoi16(s string) uint16 {
	n, _ := strconv.Atoi(s)
	return uint16(n)
}

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"

	"github.com/vrrpctl/vrrpctl/capture"
)

const (
	hostileFrames  = 30000
	hostileClients = 1000
	hostileVLANs   = 20
)

func hostileConfig(m Mode, f Format) Config {
	cfg := testConfig(f)
	cfg.Frames, cfg.Repeat = hostileFrames, 1
	cfg.Mode, cfg.Clients, cfg.VLANs, cfg.StaleShare = m, hostileClients, hostileVLANs, 0.01
	return cfg
}

// generated checks that frames hold the base capture's frames unchanged,
// in order and at their relative times, once, and returns the others.
func generated(t *testing.T, frames []frame) []frame {
	t.Helper()
	base, _, err := readBase(testBase)
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	var out []frame
	for i, f := range frames {
		if next < len(base) && bytes.Equal(f.data, base[next].data) {
			if got, want := f.ci.Timestamp.UnixNano()-frames[0].ci.Timestamp.UnixNano(), base[next].ts-base[0].ts; next > 0 && got != want {
				t.Fatalf("frame %d: base frame %d at +%dns, want +%dns", i+1, next+1, got, want)
			}
			next++
			continue
		}
		out = append(out, f)
	}
	if next != len(base) {
		t.Fatalf("%d of the %d base frames found in order", next, len(base))
	}
	return out
}

func TestModes(t *testing.T) {
	vip := netip.MustParseAddr("192.168.33.100").As4()
	// The failovers of testdata/failover.pcap as clients see them: the
	// VIP's MAC moves at nat2's GARP and back at nat1's.
	t0 := time.Date(2026, 11, 25, 19, 1, 50, 819812000, time.UTC)
	changes := []time.Time{time.Date(2026, 11, 25, 19, 2, 0, 690950000, time.UTC), time.Date(2026, 11, 25, 19, 2, 12, 462491000, time.UTC)}
	nat1, nat2 := [6]byte{0x42, 0x27, 0xce, 0x07, 0x10, 0xa3}, [6]byte{0xba, 0x2e, 0x73, 0x81, 0x71, 0x78}

	t.Run("clients", func(t *testing.T) {
		gen := generated(t, readAll(t, generate(t, hostileConfig(ModeClients, FormatPcap)), FormatPcap))
		perClient := map[[6]byte]int{}
		stale := map[[6]byte]bool{}
		for i, f := range gen {
			checkBackground(t, i, f.data)
			if [4]byte(f.data[30:34]) != vip {
				t.Fatalf("generated frame %d is not for the VIP", i)
			}
			mac := [6]byte(f.data[6:12])
			perClient[mac]++
			ts := f.ci.Timestamp
			near := false
			for _, c := range changes {
				near = near || !ts.Before(c.Add(-windowBefore)) && ts.Before(c.Add(windowAfter))
			}
			if !near {
				t.Fatalf("generated frame %d at +%v, not within %v before to %v after a failover", i, ts.Sub(t0), windowBefore, windowAfter)
			}
			// The MAC clients should send to at ts, and the one before.
			want, old := nat1, nat2
			if !ts.Before(changes[0]) && ts.Before(changes[1]) {
				want, old = nat2, nat1
			}
			switch dst := [6]byte(f.data[0:6]); {
			case dst == want:
			case dst == old && ts.After(changes[0]) && (ts.Sub(changes[0]) < staleFor || ts.After(changes[1]) && ts.Sub(changes[1]) < staleFor):
				stale[mac] = true
			default:
				t.Fatalf("generated frame %d at +%v to %x", i, ts.Sub(t0), dst)
			}
		}
		if len(perClient) != hostileClients {
			t.Errorf("%d distinct client MACs, want %d", len(perClient), hostileClients)
		}
		for mac, n := range perClient {
			if n < len(gen)/hostileClients {
				t.Fatalf("client %x sent %d frames, want at least %d", mac, n, len(gen)/hostileClients)
			}
		}
		if len(stale) != hostileClients/100 {
			t.Errorf("%d clients sent to the old master's MAC after a failover, want %d", len(stale), hostileClients/100)
		}
	})

	t.Run("arp", func(t *testing.T) {
		gen := generated(t, readAll(t, generate(t, hostileConfig(ModeARP, FormatPcap)), FormatPcap))
		senders := map[[6]byte]bool{}
		forVIP := 0
		for i, f := range gen {
			d := f.data
			if len(d) != 60 || binary.BigEndian.Uint16(d[12:]) != 0x0806 || !bytes.Equal(d[14:22], []byte{0, 1, 8, 0, 6, 4, 0, 1}) ||
				!bytes.Equal(d[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) || !bytes.Equal(d[6:12], d[22:28]) {
				t.Fatalf("generated frame %d is not a broadcast ARP request: % x", i, d)
			}
			senders[[6]byte(d[22:28])] = true
			if [4]byte(d[38:42]) == vip {
				forVIP++
			}
		}
		if len(senders) < len(gen)*99/100 {
			t.Errorf("%d distinct senders in %d requests", len(senders), len(gen))
		}
		if share := float64(forVIP) / float64(len(gen)); share < 0.05 || share > 0.08 {
			t.Errorf("%.3f of the requests for the VIP, want about 1/16", share)
		}
	})

	t.Run("vlans", func(t *testing.T) {
		gen := generated(t, readAll(t, generate(t, hostileConfig(ModeVLANs, FormatPcap)), FormatPcap))
		seen := map[[2]int]int{}
		for i, f := range gen {
			d := f.data
			if len(d) != 64 || binary.BigEndian.Uint16(d[12:]) != 0x8100 || binary.BigEndian.Uint16(d[16:]) != 0x0800 {
				t.Fatalf("generated frame %d is not 802.1Q IPv4: % x", i, d)
			}
			if onesSum(d[18:38]) != 0xffff || d[27] != 112 || d[26] != 255 {
				t.Fatalf("generated frame %d: bad IPv4 header for VRRP", i)
			}
			if onesSum(d[38:58]) != 0xffff || d[38] != 0x21 {
				t.Fatalf("generated frame %d: bad VRRPv2 advert", i)
			}
			vlan := int(binary.BigEndian.Uint16(d[14:]) & 0xfff)
			seen[[2]int{vlan, int(d[39])}]++
		}
		for vlan := 1; vlan <= hostileVLANs; vlan++ {
			for vrid := 1; vrid <= 255; vrid++ {
				if seen[[2]int{vlan, vrid}] < len(gen)/(hostileVLANs*255) {
					t.Fatalf("VLAN %d VRID %d: %d adverts", vlan, vrid, seen[[2]int{vlan, vrid}])
				}
			}
		}
		if len(seen) != hostileVLANs*255 {
			t.Errorf("%d groups, want %d", len(seen), hostileVLANs*255)
		}
	})

	t.Run("source-ips", func(t *testing.T) {
		gen := generated(t, readAll(t, generate(t, hostileConfig(ModeSourceIPs, FormatPcap)), FormatPcap))
		macs := map[[6]byte]bool{}
		ips := map[[4]byte]bool{}
		for i, f := range gen {
			checkBackground(t, i, f.data)
			macs[[6]byte(f.data[6:12])] = true
			ips[[4]byte(f.data[26:30])] = true
		}
		if len(macs) != 1 || len(ips) != len(gen) {
			t.Errorf("%d source MACs and %d source addresses in %d frames, want 1 and %d", len(macs), len(ips), len(gen), len(gen))
		}
	})

	t.Run("loaded", func(t *testing.T) {
		gen := generated(t, readAll(t, generate(t, hostileConfig(ModeLoaded, FormatPcap)), FormatPcap))
		routers := map[[3]int]int{} // VLAN, VRID, router: adverts
		clients := map[[6]byte]bool{}
		for i, f := range gen {
			d := f.data
			if i%2 == 1 {
				checkBackground(t, i, d)
				if [4]byte(d[30:34]) != [4]byte{192, 168, 33, 100} {
					t.Fatalf("generated frame %d: a client frame not to the VIP: % x", i, d)
				}
				clients[[6]byte(d[6:12])] = true
				continue
			}
			if len(d) != 566 || binary.BigEndian.Uint16(d[12:]) != 0x8100 || binary.BigEndian.Uint16(d[16:]) != 0x0800 {
				t.Fatalf("generated frame %d is not an 802.1Q IPv4 frame of 566 bytes: % x", i, d[:min(len(d), 40)])
			}
			if onesSum(d[18:38]) != 0xffff || d[27] != 112 || d[26] != 255 || onesSum(d[38:]) != 0xffff || d[38] != 0x21 || d[41] != loadedAddrs {
				t.Fatalf("generated frame %d: bad IPv4 header or VRRPv2 advert of 128 addresses", i)
			}
			r := int(d[33]) - 1
			if d[40] != byte(100+r) || d[43] != 1 {
				t.Fatalf("generated frame %d: router %d with priority %d, interval %d", i, r, d[40], d[43])
			}
			for a := 0; a < loadedAddrs; a++ {
				if d[46+4*a] != 11 {
					t.Fatalf("generated frame %d: address %d not in 11.0.0.0/8", i, a)
				}
			}
			routers[[3]int{int(binary.BigEndian.Uint16(d[14:]) & 0xfff), int(d[39]), r}]++
		}
		// Every virtual router advertised is advertised in full: its 32
		// routers, each with both halves of its list.
		groups := map[[2]int]int{}
		for k, n := range routers {
			if n >= 2 {
				groups[[2]int{k[0], k[1]}]++
			}
		}
		full := 0
		for _, n := range groups {
			if n == loadedRouters {
				full++
			}
		}
		if want := len(gen) / 2 / (2 * loadedRouters); full < want {
			t.Errorf("%d virtual routers advertised by all %d routers, want %d", full, loadedRouters, want)
		}
		if want := min(hostileClients, len(gen)/2); len(clients) != want {
			t.Errorf("%d distinct clients, want %d", len(clients), want)
		}
	})
}

func TestModesDeterministic(t *testing.T) {
	for _, m := range []Mode{ModeClients, ModeARP, ModeVLANs, ModeSourceIPs, ModeLoaded} {
		cfg := hostileConfig(m, FormatPcapng)
		a := sha256.Sum256(generate(t, cfg))
		if b := sha256.Sum256(generate(t, cfg)); a != b {
			t.Errorf("%v: same seed, different bytes", m)
		}
		cfg.Seed = 2
		if c := sha256.Sum256(generate(t, cfg)); c == a {
			t.Errorf("%v: different seeds, same bytes", m)
		}
	}
}

// TestModesTcpdump checks that libpcap reads every mode's file and that
// the filters find what was generated.
func TestModesTcpdump(t *testing.T) {
	base := countLines(tool(t, "tcpdump", "-r", testBase, "-n", "vrrp or arp or igmp"))
	for _, c := range []struct {
		mode   Mode
		filter string
		want   int
	}{
		{ModeClients, "vrrp or arp or igmp", base},
		{ModeClients, "dst host 192.168.33.100 and tcp", hostileFrames - 289},
		{ModeARP, "vrrp or arp or igmp", hostileFrames - 289 + base},
		{ModeVLANs, "vlan and vrrp", hostileFrames - 289},
		{ModeSourceIPs, "vrrp or arp or igmp", base},
		{ModeLoaded, "vlan and vrrp", (hostileFrames - 289 + 1) / 2},
		{ModeLoaded, "dst host 192.168.33.100 and tcp", (hostileFrames - 289) / 2},
	} {
		out := writeTemp(t, c.mode.String()+".pcapng", generate(t, hostileConfig(c.mode, FormatPcapng)))
		if got := countLines(tool(t, "tcpdump", "-r", out, "-n", c.filter)); got != c.want {
			t.Errorf("%v: tcpdump finds %d frames for %q, want %d", c.mode, got, c.filter, c.want)
		}
	}
}

func TestWriteFileGzip(t *testing.T) {
	cfg := hostileConfig(ModeClients, FormatPcap)
	dir := t.TempDir()
	path := filepath.Join(dir, "c.pcap.gz")
	if _, err := WriteFile(path, cfg, true); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, generate(t, cfg)) {
		t.Error("the gzip file does not decompress to the capture")
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
}

func TestModeLimits(t *testing.T) {
	cfg := hostileConfig(ModeClients, FormatPcap)
	cfg.Clients = hostileFrames // more clients than generated frames
	if _, err := Generate(io.Discard, cfg); err == nil {
		t.Error("no error for fewer frames than clients")
	}
	cfg = hostileConfig(ModeVLANs, FormatPcap)
	cfg.VLANs = 4095
	if _, err := Generate(io.Discard, cfg); err == nil {
		t.Error("no error for VLAN 4095")
	}
}

// TestModesFilter reads every mode's file through vrrpctl's reader with the
// benchmark's filter, which runs as byte comparisons (capture/common.go),
// and wants exactly the frames libpcap's BPF program matches.
func TestModesFilter(t *testing.T) {
	const expr = "vrrp or arp or igmp or host 192.168.33.100"
	lib, err := pcap.NewBPF(layers.LinkTypeEthernet, capture.MaxFrameSize, expr)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Mode{ModeBackground, ModeClients, ModeARP, ModeVLANs, ModeSourceIPs} {
		for _, f := range []Format{FormatPcap, FormatPcapng} {
			cfg := hostileConfig(m, f)
			raw := generate(t, cfg)
			var want []uint64
			for i, fr := range readAll(t, raw, f) {
				if lib.Matches(fr.ci, fr.data) {
					want = append(want, uint64(i+1))
				}
			}
			r, err := capture.OpenReader("gen", bytes.NewReader(raw), expr)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for {
				_, _, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r.Frame())
			}
			if !slices.Equal(got, want) {
				t.Errorf("%v, format %d: the reader returns %d frames, libpcap matches %d", m, f, len(got), len(want))
			}
		}
	}
}

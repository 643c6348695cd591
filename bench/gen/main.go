// Command gen writes a large, deterministic capture for benchmarking
// vrrpctl analyze: a base capture (one of the failover captures in
// testdata/) whose frames are kept unchanged and in order, with seeded
// background traffic (unicast IPv4 TCP/UDP among many hosts, a share of it
// to the virtual address) spread between them.
//
//	go run ./bench/gen -base testdata/failover.pcap -frames 1000000 \
//	    -format pcap -o bench/out/1m.pcap [-seed 1] [-vip 192.168.33.100] \
//	    [-vip-share 0.05] [-repeat 1] [-shift 0s]
//
// The same flags always produce the same bytes.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	var (
		cfg    Config
		out    string
		format string
		vip    string
	)
	flag.StringVar(&cfg.Base, "base", "testdata/failover.pcap", "base capture (pcap or pcapng, optionally gzip-compressed)")
	flag.IntVar(&cfg.Frames, "frames", 1000000, "total number of frames to write (base frames included)")
	flag.StringVar(&format, "format", "", "output format: pcap or pcapng (default: from the -o extension, else pcap)")
	flag.StringVar(&out, "o", "", "output file (required); written to a temporary name and renamed when complete")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "PRNG seed for the background traffic")
	flag.StringVar(&vip, "vip", "192.168.33.100", "virtual IPv4 address that a share of the background traffic goes to")
	flag.Float64Var(&cfg.VIPShare, "vip-share", 0.05, "share of background frames sent to the virtual address (0..1)")
	flag.IntVar(&cfg.Repeat, "repeat", 1, "how many times the base capture's story is played (shifted in time)")
	flag.DurationVar(&cfg.Shift, "shift", 0, "move every timestamp by this much, as a capture host's clock off by it (e.g. 2.5s, -1h)")
	flag.Parse()

	if out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -base FILE -frames N -format pcap|pcapng -o OUT [-seed N] [-vip ADDR] [-vip-share F] [-repeat N] [-shift D]")
		os.Exit(2)
	}
	if format == "" {
		format = "pcap"
		if strings.HasSuffix(out, ".pcapng") {
			format = "pcapng"
		}
	}
	switch format {
	case "pcap":
		cfg.Format = FormatPcap
	case "pcapng":
		cfg.Format = FormatPcapng
	default:
		fatalf("unknown -format %q (want pcap or pcapng)", format)
	}
	a, err := netip.ParseAddr(vip)
	if err != nil || !a.Is4() {
		fatalf("-vip %q: not an IPv4 address", vip)
	}
	cfg.VIP = a

	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		fatalf("%v", err)
	}
	tmp := out + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		fatalf("%v", err)
	}
	st, err := Generate(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		fatalf("%v", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		fatalf("%v", err)
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "gen: wrote %s (%s): %d frames (%d base frames = %d x %d, %d background, %d to %s), %.1f MiB in %.1fs\n",
		out, format, st.Frames, st.BaseFrames, st.BasePerRepeat, cfg.Repeat, st.Background, st.ToVIP, cfg.VIP,
		float64(st.Bytes)/(1<<20), el.Seconds())
}

func fatalf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+f+"\n", args...)
	os.Exit(1)
}

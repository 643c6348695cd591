// Command gen writes a large, deterministic capture for benchmarking
// vrrpctl analyze: a base capture (one of the failover captures in
// testdata/) whose frames are kept unchanged and in order, with seeded
// generated frames spread between them: background traffic (unicast IPv4
// TCP/UDP among many hosts, a share of it to the virtual address), or one of
// the hostile modes (-mode clients, arp, vlans, source-ips, loaded; see Mode).
//
//	go run ./bench/gen -base testdata/failover.pcap -frames 1000000 \
//	    -format pcap -o bench/out/1m.pcap [-seed 1] [-vip 192.168.33.100] \
//	    [-vip-share 0.05] [-repeat 1] [-shift 0s] [-mode background] \
//	    [-clients 100000] [-stale-share 0.01] [-vlans 2000]
//
// An output name ending in .gz is gzip-compressed. The same flags always
// produce the same bytes.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
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
		mode   string
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
	flag.StringVar(&mode, "mode", "background", "generated frames: "+strings.Join(modeNames(), ", ")+" (see bench/README.md)")
	flag.IntVar(&cfg.Clients, "clients", 100000, "-mode clients, loaded: distinct client MACs sending to the VIP")
	flag.Float64Var(&cfg.StaleShare, "stale-share", 0.01, "-mode clients, loaded: share of clients that keep sending to the old master's MAC for 3 s after a failover")
	flag.IntVar(&cfg.VLANs, "vlans", 2000, "-mode vlans, loaded: VLANs 1..N, each with adverts for VRIDs 1..255")
	flag.Parse()

	if out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -base FILE -frames N -format pcap|pcapng -o OUT[.gz] [-seed N] [-vip ADDR] [-vip-share F] [-repeat N] [-shift D] [-mode M] [-clients N] [-stale-share F] [-vlans N]")
		os.Exit(2)
	}
	m, ok := Modes[mode]
	if !ok {
		fatalf("unknown -mode %q (want one of %s)", mode, strings.Join(modeNames(), ", "))
	}
	cfg.Mode = m
	compress := strings.HasSuffix(out, ".gz")
	if format == "" {
		format = "pcap"
		if strings.HasSuffix(strings.TrimSuffix(out, ".gz"), ".pcapng") {
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
	st, err := WriteFile(out, cfg, compress)
	if err != nil {
		fatalf("%v", err)
	}
	el := time.Since(start)
	if compress {
		format = "gzip " + format
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s (%s, %s): %d frames (%d base frames = %d x %d, %d generated, %d to %s), %.1f MiB of frames in %.1fs\n",
		out, format, cfg.Mode, st.Frames, st.BaseFrames, st.BasePerRepeat, cfg.Repeat, st.Background, st.ToVIP, cfg.VIP,
		float64(st.Bytes)/(1<<20), el.Seconds())
}

func fatalf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+f+"\n", args...)
	os.Exit(1)
}

// WriteFile generates the capture into out, gzip-compressed if compress,
// through a temporary name renamed when complete.
func WriteFile(out string, cfg Config, compress bool) (Stats, error) {
	tmp := out + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return Stats{}, err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	var bw *bufio.Writer
	if compress {
		bw = bufio.NewWriterSize(f, 1<<20)
		zw = gzip.NewWriter(bw)
		w = zw
	}
	st, err := Generate(w, cfg)
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return st, err
	}
	return st, nil
}

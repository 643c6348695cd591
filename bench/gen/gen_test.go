package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

const (
	testBase   = "../../testdata/failover.pcap"
	testFrames = 20000
	testRepeat = 3
)

func testConfig(f Format) Config {
	return Config{
		Base:     testBase,
		Frames:   testFrames,
		Format:   f,
		Seed:     1,
		VIP:      netip.MustParseAddr("192.168.33.100"),
		VIPShare: 0.05,
		Repeat:   testRepeat,
	}
}

func generate(t *testing.T, cfg Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	st, err := Generate(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != cfg.Frames {
		t.Fatalf("stats: %d frames, want %d", st.Frames, cfg.Frames)
	}
	return buf.Bytes()
}

type frame struct {
	ci   gopacket.CaptureInfo
	data []byte
}

func readAll(t *testing.T, raw []byte, f Format) []frame {
	t.Helper()
	var r interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var err error
	if f == FormatPcapng {
		r, err = pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
	} else {
		r, err = pcapgo.NewReader(bytes.NewReader(raw))
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(out)+1, err)
		}
		out = append(out, frame{ci, append([]byte(nil), data...)})
	}
}

func TestGenerate(t *testing.T) {
	base, _, err := readBase(testBase)
	if err != nil {
		t.Fatal(err)
	}
	isBase := map[string]bool{}
	for _, b := range base {
		isBase[string(b.data)] = true
	}
	for _, format := range []Format{FormatPcap, FormatPcapng} {
		name := map[Format]string{FormatPcap: "pcap", FormatPcapng: "pcapng"}[format]
		t.Run(name, func(t *testing.T) {
			frames := readAll(t, generate(t, testConfig(format)), format)
			if len(frames) != testFrames {
				t.Fatalf("%d frames, want %d", len(frames), testFrames)
			}
			next, toVIP := 0, 0 // next expected base frame over all plays
			var repStart int64  // timestamp of the first frame of the current play
			var last int64
			for i, f := range frames {
				ts := f.ci.Timestamp.UnixNano()
				if ts < last {
					t.Fatalf("frame %d goes back in time", i+1)
				}
				last = ts
				if isBase[string(f.data)] {
					if next >= len(base)*testRepeat {
						t.Fatalf("frame %d: extra base frame", i+1)
					}
					want := base[next%len(base)]
					if !bytes.Equal(f.data, want.data) || f.ci.Length != want.origLen {
						t.Fatalf("frame %d: base frame %d out of order or changed", i+1, next%len(base)+1)
					}
					if next%len(base) == 0 {
						repStart = ts
					}
					if got, want := ts-repStart, want.ts-base[0].ts; got != want {
						t.Fatalf("frame %d: base frame %d at +%dns in its play, want +%dns", i+1, next%len(base)+1, got, want)
					}
					next++
					continue
				}
				if checkBackground(t, i+1, f.data) {
					toVIP++
				}
			}
			if next != len(base)*testRepeat {
				t.Fatalf("%d base frames, want %d x %d", next, len(base), testRepeat)
			}
			bg := testFrames - next
			if share := float64(toVIP) / float64(bg); share < 0.04 || share > 0.06 {
				t.Errorf("%.3f of background frames to the VIP, want about 0.05", share)
			}
		})
	}
}

// checkBackground decodes a generated frame, checks its lengths and
// checksums and reports whether it is addressed to the VIP.
func checkBackground(t *testing.T, n int, data []byte) bool {
	t.Helper()
	if len(data) < 60 || len(data) > 1514 {
		t.Fatalf("frame %d: %d bytes", n, len(data))
	}
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("frame %d: %v", n, el.Error())
	}
	ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ok {
		t.Fatalf("frame %d: not IPv4", n)
	}
	if int(ip.Length) > len(data)-14 || (len(data) > 60 && int(ip.Length) != len(data)-14) {
		t.Fatalf("frame %d: IP length %d in a %d-byte frame", n, ip.Length, len(data))
	}
	if c := onesSum(data[14:34]); c != 0xffff {
		t.Fatalf("frame %d: bad IPv4 header checksum", n)
	}
	seg := data[34 : 14+int(ip.Length)]
	pseudo := make([]byte, 12, 12+len(seg)+1)
	copy(pseudo[0:4], ip.SrcIP.To4())
	copy(pseudo[4:8], ip.DstIP.To4())
	pseudo[9] = byte(ip.Protocol)
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(seg)))
	switch ip.Protocol {
	case layers.IPProtocolTCP, layers.IPProtocolUDP:
	default:
		t.Fatalf("frame %d: protocol %v", n, ip.Protocol)
	}
	if c := onesSum(append(pseudo, seg...)); c != 0xffff {
		t.Fatalf("frame %d: bad %v checksum", n, ip.Protocol)
	}
	return ip.DstIP.Equal(netip.MustParseAddr("192.168.33.100").AsSlice())
}

// onesSum is the one's-complement sum of b (0xffff over a correct checksum).
func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i < len(b); i += 2 {
		w := uint32(b[i]) << 8
		if i+1 < len(b) {
			w |= uint32(b[i+1])
		}
		s += w
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func TestDeterministic(t *testing.T) {
	for _, format := range []Format{FormatPcap, FormatPcapng} {
		cfg := testConfig(format)
		a := sha256.Sum256(generate(t, cfg))
		b := sha256.Sum256(generate(t, cfg))
		if a != b {
			t.Fatalf("format %d: same seed, different bytes", format)
		}
		cfg.Seed = 2
		if c := sha256.Sum256(generate(t, cfg)); c == a {
			t.Fatalf("format %d: different seeds, same bytes", format)
		}
	}
}

func TestTooFewFrames(t *testing.T) {
	cfg := testConfig(FormatPcap)
	cfg.Frames = 100
	if _, err := Generate(io.Discard, cfg); err == nil {
		t.Fatal("no error for fewer frames than the base capture holds")
	}
}

// tool runs a command and returns its standard output; it fails the test
// when the command is not installed.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed by this test: %v", name, err)
	}
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

func countLines(s string) int { return strings.Count(s, "\n") }

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTcpdump checks that libpcap reads the files and finds exactly the
// base capture's VRRP, ARP and IGMP frames, once per play.
func TestTcpdump(t *testing.T) {
	const filter = "vrrp or arp or igmp"
	want := countLines(tool(t, "tcpdump", "-r", testBase, "-n", filter)) * testRepeat
	if want == 0 {
		t.Fatal("no VRRP, ARP or IGMP in the base capture")
	}
	for _, format := range []Format{FormatPcap, FormatPcapng} {
		out := writeTemp(t, "out"+strconv.Itoa(int(format)), generate(t, testConfig(format)))
		if got := countLines(tool(t, "tcpdump", "-r", out, "-n", filter)); got != want {
			t.Errorf("format %d: tcpdump finds %d frames for %q, want %d", format, got, filter, want)
		}
		if got := countLines(tool(t, "tcpdump", "-r", out, "-n")); got != testFrames {
			t.Errorf("format %d: tcpdump reads %d frames, want %d", format, got, testFrames)
		}
	}
}

// TestTshark checks that Wireshark's dissectors find nothing malformed and
// no bad checksum in the generated traffic.
func TestTshark(t *testing.T) {
	testenv.NeedTool(t, "tshark")
	out := writeTemp(t, "out.pcapng", generate(t, testConfig(FormatPcapng)))
	bad := tool(t, "tshark", "-r", out, "-n",
		"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-Y", `_ws.malformed || _ws.expert.severity >= "error" || ip.checksum.status == "Bad" || udp.checksum.status == "Bad" || tcp.checksum.status == "Bad"`)
	if bad != "" {
		t.Errorf("tshark flags generated frames:\n%s", bad)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := testConfig(FormatPcap)
	cfg.Frames = 100000
	cfg.Repeat = 1
	b.SetBytes(0)
	for b.Loop() {
		st, err := Generate(io.Discard, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(st.Bytes)
	}
}

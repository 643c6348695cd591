package analyze_test

import (
	"testing"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/kaconf"
)

// Captures of keepalived 2.2.7 recorded with testdata/record.sh (see
// testdata/README.md). Every expected figure below was read from the frames
// with tcpdump -r FILE -n -tt; the comments name the frames.

// findingsOf returns the findings of a with the given code.
func findingsOf(a *analyze.Analysis, code string) []analyze.Finding {
	var out []analyze.Finding
	for _, f := range a.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

// noFinding fails for each code of bad that a reports.
func noFinding(t *testing.T, a *analyze.Analysis, bad ...string) {
	t.Helper()
	for _, code := range bad {
		for _, f := range findingsOf(a, code) {
			t.Errorf("false %s: %s (frames %v)", code, f.Summary, f.Frames)
		}
	}
}

// loadConfs parses testdata/keepalived/NAME-nat1.conf and -nat2.conf.
func loadConfs(t *testing.T, name string) []*kaconf.Config {
	t.Helper()
	var cfgs []*kaconf.Config
	for _, h := range []string{"nat1", "nat2"} {
		cfg, err := kaconf.ParseFile("../testdata/keepalived/" + name + "-" + h + ".conf")
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, cfg)
	}
	return cfgs
}

// v3-100ms.pcap: VRRPv3 with 100 ms adverts. nat1's link is cut (no
// priority-0 advert), nat2 takes over after Master_Down_Interval; later nat2
// stops and resigns, nat1 (back, nopreempt) takes over after Skew_Time.
func TestRealV3FastAdverts(t *testing.T) {
	a := analyzeFile(t, "../testdata/v3-100ms.pcap", analyze.Options{})
	if len(a.Groups) != 1 || len(a.Groups[0].Speakers) != 2 {
		t.Fatalf("groups = %+v, want one group with two speakers", a.Groups)
	}
	for _, s := range a.Groups[0].Speakers {
		if s.Version != 3 || !near(s.AdvertIntervalMS, 100, 0.01) {
			t.Errorf("speaker %s: version %d interval %.1f ms, want VRRPv3 every 100 ms", s.IP, s.Version, s.AdvertIntervalMS)
		}
	}
	if len(a.Failovers) != 2 {
		t.Fatalf("failovers = %+v, want 2 (master-down at frame 105, resign at frame 272)", a.Failovers)
	}
	down, resign := a.Failovers[0], a.Failovers[1]
	if down.Cause != "master-down" || down.Frame != 105 || down.From.IP != "192.168.33.101" || down.To.IP != "192.168.33.102" {
		t.Errorf("first failover = %+v, want master-down 101 -> 102 at frame 105", down)
	}
	// nat1's last advert 5.939 (frame 102), nat2's first 6.335 (frame 105): 396 ms.
	if !near(down.DetectMS, 396, 50) {
		t.Errorf("master-down detect_ms = %.1f, want ~396 (frames 102 -> 105)", down.DetectMS)
	}
	// Master_Down_Interval = 3 x 100 ms + (256-10) x 100/256 ms.
	if !near(down.ExpectedMS, 396.09375, 0.01) {
		t.Errorf("master-down expected_ms = %.5f, want 396.09375", down.ExpectedMS)
	}
	if down.GarpMS == nil || *down.GarpMS > 10 {
		t.Errorf("master-down garp_ms = %v, want nat2's GARP of frame 106 within 10 ms", down.GarpMS)
	}
	if resign.Cause != "resign" || resign.Frame != 272 || resign.From.IP != "192.168.33.102" || resign.To.IP != "192.168.33.101" {
		t.Errorf("second failover = %+v, want resign 102 -> 101 at frame 272", resign)
	}
	// nat2's priority-0 advert 14.033 (frame 270), nat1's first advert 14.094 (frame 272): 61 ms.
	if !near(resign.DetectMS, 61, 50) {
		t.Errorf("resign detect_ms = %.1f, want ~61 (frames 270 -> 272)", resign.DetectMS)
	}
	// VRRPv3 Skew_Time = (256-100) x 100 ms / 256.
	if !near(resign.ExpectedMS, 60.9375, 0.01) {
		t.Errorf("resign expected_ms = %.4f, want 60.9375", resign.ExpectedMS)
	}
	for i, fo := range a.Failovers {
		if len(fo.Clients) != 1 || fo.Clients[0].IP != "192.168.33.2" || fo.Clients[0].StaleFrames != 0 || fo.Clients[0].SwitchMS == nil {
			t.Errorf("failover %d clients = %+v, want 192.168.33.2 switched without stale frames (GARPs 106, 273)", i, fo.Clients)
		}
	}
	if c := codes(a); c["resign"] != 2 {
		t.Errorf("resign findings = %d, want 2 (frames 270 and 360)", c["resign"])
	}
	noFinding(t, a, "stale-arp", "split-brain", "no-garp", "slow-failover", "vip-unanswered", "no-backup",
		"advert-gap", "flapping", "interval-mismatch", "version-mismatch", "ttl", "checksum")
	if a.HasFinding("config-mismatch") {
		t.Errorf("config-mismatch without configuration: %+v", a.Findings)
	}
	b := analyzeFile(t, "../testdata/v3-100ms.pcap", analyze.Options{Configs: loadConfs(t, "v3-100ms")})
	noFinding(t, b, "config-mismatch")
}

// client-ignores-garp.pcap: nat1 resigns (frame 63), nat2 takes over (frame
// 71) with GARPs (frames 72-76) that the client's ARP filter drops; the client
// keeps pinging nat1's MAC until it re-resolves the VIP (frames 118-119).
func TestRealClientIgnoresGARP(t *testing.T) {
	a := analyzeFile(t, "../testdata/client-ignores-garp.pcap", analyze.Options{})
	if len(a.Failovers) != 1 {
		t.Fatalf("failovers = %+v, want 1", a.Failovers)
	}
	fo := a.Failovers[0]
	if fo.Cause != "resign" || fo.Frame != 71 || fo.From.IP != "192.168.33.101" || fo.To.IP != "192.168.33.102" {
		t.Errorf("failover = %+v, want resign 101 -> 102 at frame 71", fo)
	}
	// Priority-0 advert 8.999 (frame 63), nat2's first advert 9.960 (frame 71): 961 ms.
	if !near(fo.DetectMS, 961, 50) || !near(fo.ExpectedMS, 960.9375, 0.01) {
		t.Errorf("detect_ms %.1f expected_ms %.4f, want ~961 vs 960.9375", fo.DetectMS, fo.ExpectedMS)
	}
	if fo.GarpMS == nil || *fo.GarpMS > 10 {
		t.Errorf("garp_ms = %v, want the GARP of frame 72 within 10 ms", fo.GarpMS)
	}
	if len(fo.Clients) != 1 {
		t.Fatalf("clients = %+v, want 192.168.33.2", fo.Clients)
	}
	cl := fo.Clients[0]
	// Echo requests to nat1's MAC after frame 71: seq 26 (frame 79) to seq 51 (frame 117).
	if cl.StaleFrames != 26 {
		t.Errorf("stale_frames = %d, want 26 (frames 79-117)", cl.StaleFrames)
	}
	times := frameTimes(t, "../testdata/client-ignores-garp.pcap")
	if !cl.StaleFrom.Equal(times[79]) || !cl.StaleTo.Equal(times[117]) {
		t.Errorf("stale period %v .. %v, want frames 79 .. 117 (%v .. %v)", cl.StaleFrom, cl.StaleTo, times[79], times[117])
	}
	// First frame to nat2's MAC: 15.404 (frame 120), 5444 ms after frame 71.
	if cl.SwitchMS == nil || !near(*cl.SwitchMS, 5444, 50) {
		t.Errorf("switch_ms = %v, want ~5444 (frame 120)", cl.SwitchMS)
	}
	st := findingsOf(a, "stale-arp")
	if len(st) != 1 {
		t.Fatalf("stale-arp findings = %+v, want 1", st)
	}
	if st[0].Severity != analyze.Critical || st[0].Frames[0] != 79 {
		t.Errorf("stale-arp = %+v, want critical (5.4 s) from frame 79", st[0])
	}
	noFinding(t, a, "no-garp", "split-brain", "slow-failover", "vip-unanswered", "flapping", "no-backup", "advert-gap")
}

// interval-mismatch.pcap: nat1 advert_int 1, nat2 advert_int 2. Each drops
// the other's adverts, so both are master from nat2's first advert (frame 49,
// 7.940) to nat2's priority-0 advert (frame 188, 19.516). keepalived re-arms a
// master's advert timer on every advert it receives, even one it rejects:
// nat1's adverts every second keep nat2 from sending more than that one
// advert. nat2's mastership shows in its GARP bursts (frames 50-54, and
// 116-120 five seconds later: vrrp_garp_master_delay), in its ARP reply for
// the VIP (frame 180) and in its priority-0 advert, which only a master sends.
func TestRealIntervalMismatch(t *testing.T) {
	a := analyzeFile(t, "../testdata/interval-mismatch.pcap", analyze.Options{})
	im := findingsOf(a, "interval-mismatch")
	if len(im) != 1 {
		t.Errorf("interval-mismatch findings = %+v, want 1", im)
	}
	sb := findingsOf(a, "split-brain")
	if len(sb) == 0 {
		t.Errorf("no split-brain: nat2 holds the VIP from frame 49 (GARPs 50-54, 116-120, ARP reply 180, priority 0 at 188) while nat1 advertises every second; findings %+v", a.Findings)
	} else if sb[0].Severity != analyze.Critical || sb[0].Frames[0] < 46 || sb[0].Frames[0] > 54 {
		t.Errorf("split-brain = %+v, want critical, starting with nat2's first advert (frame 49) or its GARPs (50-54)", sb[0])
	}
	// nat1 was master from frame 5 to its priority-0 advert (frame 193):
	// nobody took over from anybody.
	if len(a.Failovers) != 0 {
		t.Errorf("failovers = %+v, want none: two masters at once is not a failover", a.Failovers)
	}
	noFinding(t, a, "stale-arp", "no-garp", "flapping", "slow-failover", "auth-mismatch", "vip-unanswered", "no-backup")
	if a.ExitStatus() != 2 {
		t.Errorf("exit status %d, want 2 (split brain)", a.ExitStatus())
	}
}

// auth-mismatch.pcap: PASS "secret1" on nat1, "secret2" on nat2. Each
// rejects the other's adverts ("received an invalid passwd!"): both are master
// from nat2's first advert (frame 11, 4.468) until nat2 stops (priority 0,
// frame 192, 19.000). The client's ARP request (frame 17) gets two replies,
// from nat2 (frame 18) and nat1 (frame 20). Since each master re-arms its
// advert timer on the other's (rejected) adverts, they advertise in turns,
// not side by side; neither ever gives up the VIP, and every echo request is
// answered by the router whose MAC the client holds.
func TestRealAuthMismatch(t *testing.T) {
	a := analyzeFile(t, "../testdata/auth-mismatch.pcap", analyze.Options{})
	am := findingsOf(a, "auth-mismatch")
	if len(am) != 1 {
		t.Errorf("auth-mismatch findings = %+v, want 1", am)
	}
	sb := findingsOf(a, "split-brain")
	if len(sb) == 0 {
		t.Errorf("no split-brain: findings %+v", a.Findings)
	} else if sb[0].Severity != analyze.Critical || sb[0].Frames[0] > 31 {
		t.Errorf("split-brain = %+v, want critical, starting by frame 31 (both advertise at 5.469, frames 30-31)", sb[0])
	}
	for _, s := range a.Groups[0].Speakers {
		if s.Auth != "pass" {
			t.Errorf("speaker %s auth %q, want pass", s.IP, s.Auth)
		}
	}
	// Mastership never moved: both routers held the VIP from frame 11 to 192.
	if len(a.Failovers) != 0 {
		t.Errorf("failovers = %+v, want none: two masters at once is not a failover", a.Failovers)
	}
	// No client frame went unanswered, no router became master without
	// GARPs (nat1's at frames 6-10, nat2's at 12-16), and nothing flapped.
	noFinding(t, a, "stale-arp", "no-garp", "flapping", "slow-failover", "interval-mismatch", "vip-unanswered", "no-backup")
}

// vrrp-strict.pcap: nat1 has vrrp_strict; keepalived loads an nftables table
// dropping IP to and from the VIP. The client resolves the VIP (frames
// 12-13) and its echo requests (frames 14-73) get no reply while nat1
// advertises. nat1 resigns (frame 67), nat2 (no vrrp_strict) takes over at
// frame 74 and answers (frame 83 on).
func TestRealVRRPStrict(t *testing.T) {
	a := analyzeFile(t, "../testdata/vrrp-strict.pcap", analyze.Options{})
	vu := findingsOf(a, "vip-unanswered")
	if len(vu) != 1 {
		t.Fatalf("vip-unanswered findings = %+v, want 1", vu)
	}
	if vu[0].Severity != analyze.Critical || vu[0].Frames[0] != 14 {
		t.Errorf("vip-unanswered = %+v, want critical from frame 14", vu[0])
	}
	for _, fr := range vu[0].Frames {
		if fr >= 67 {
			t.Errorf("vip-unanswered evidence frame %d: after nat1's resign (frame 67) there is no master to answer", fr)
		}
	}
	if len(a.Failovers) != 1 {
		t.Fatalf("failovers = %+v, want 1", a.Failovers)
	}
	fo := a.Failovers[0]
	if fo.Cause != "resign" || fo.Frame != 74 || fo.To.IP != "192.168.33.102" {
		t.Errorf("failover = %+v, want resign to 102 at frame 74", fo)
	}
	// Priority-0 advert 12.994 (frame 67), nat2's first advert 13.955 (frame 74): 961 ms.
	if !near(fo.DetectMS, 961, 50) {
		t.Errorf("detect_ms = %.1f, want ~961 (frames 67 -> 74)", fo.DetectMS)
	}
	if len(fo.Clients) != 1 || fo.Clients[0].StaleFrames != 0 {
		t.Errorf("clients = %+v, want the client switched at once (GARP 75, echo request 80 to nat2)", fo.Clients)
	}
	noFinding(t, a, "stale-arp", "no-garp", "split-brain", "slow-failover", "flapping", "no-backup")
}

// no-garp.pcap: the bridge drops every GARP from nat2's port. nat1 resigns
// (frame 63), nat2 is master at frame 71 and its GARPs never reach the
// client, which keeps pinging nat1's MAC until it re-resolves the VIP by
// broadcast (frames 112-113).
func TestRealNoGARP(t *testing.T) {
	a := analyzeFile(t, "../testdata/no-garp.pcap", analyze.Options{})
	if len(a.Failovers) != 1 {
		t.Fatalf("failovers = %+v, want 1", a.Failovers)
	}
	fo := a.Failovers[0]
	if fo.Cause != "resign" || fo.Frame != 71 || fo.To.IP != "192.168.33.102" {
		t.Errorf("failover = %+v, want resign to 102 at frame 71", fo)
	}
	// Priority-0 advert 8.989 (frame 63), nat2's first advert 9.950 (frame 71): 961 ms.
	if !near(fo.DetectMS, 961, 50) {
		t.Errorf("detect_ms = %.1f, want ~961 (frames 63 -> 71)", fo.DetectMS)
	}
	if fo.GarpMS != nil {
		t.Errorf("garp_ms = %v, want none: no GARP from nat2 is on the wire", *fo.GarpMS)
	}
	ng := findingsOf(a, "no-garp")
	if len(ng) != 1 || ng[0].Frames[0] != 71 {
		t.Errorf("no-garp = %+v, want one, at nat2's mastership (frame 71)", ng)
	}
	if len(fo.Clients) != 1 {
		t.Fatalf("clients = %+v", fo.Clients)
	}
	cl := fo.Clients[0]
	// Echo requests to nat1's MAC after frame 71: seq 26 (frame 72) to seq 54 (frame 110).
	if cl.StaleFrames != 29 {
		t.Errorf("stale_frames = %d, want 29 (frames 72-110)", cl.StaleFrames)
	}
	// First frame to nat2's MAC: 16.008 (frame 114), 6058 ms after frame 71.
	if cl.SwitchMS == nil || !near(*cl.SwitchMS, 6058, 50) {
		t.Errorf("switch_ms = %v, want ~6058 (frame 114)", cl.SwitchMS)
	}
	st := findingsOf(a, "stale-arp")
	if len(st) != 1 || st[0].Severity != analyze.Critical || st[0].Frames[0] != 72 {
		t.Errorf("stale-arp = %+v, want one, critical, from frame 72", st)
	}
	noFinding(t, a, "split-brain", "slow-failover", "vip-unanswered", "flapping", "no-backup", "advert-gap")
}

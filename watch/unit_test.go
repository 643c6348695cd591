package watch

import (
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/vishvananda/netlink"

	"github.com/vrrpctl/vrrpctl/analyze"
)

func TestCaptureFilter(t *testing.T) {
	vips := []netip.Addr{netip.MustParseAddr("192.168.33.100"), netip.MustParseAddr("192.168.33.200")}
	cases := []struct {
		vips []netip.Addr
		user string
		want string
	}{
		{nil, "", baseFilter},
		{vips, "", baseFilter + " or host 192.168.33.100 or host 192.168.33.200"},
		{vips, "not host 192.168.33.7", "(" + baseFilter + " or host 192.168.33.100 or host 192.168.33.200) and (not host 192.168.33.7)"},
	}
	for _, c := range cases {
		got := captureFilter(c.vips, c.user)
		if got != c.want {
			t.Errorf("captureFilter(%v, %q) = %q, want %q", c.vips, c.user, got, c.want)
		}
		// libpcap must compile it.
		if _, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, 65535, got); err != nil {
			t.Errorf("%q does not compile: %v", got, err)
		}
	}
	var s vipSet
	if added := s.add([]string{"192.168.33.200", "192.168.33.100"}); len(added) != 2 {
		t.Errorf("first add returned %v", added)
	}
	if added := s.add([]string{"192.168.33.100", "bogus"}); len(added) != 0 {
		t.Errorf("adding a known VIP returned %v", added)
	}
	if s.addrs[0] != vips[0] || !s.has(vips[1]) {
		t.Errorf("set %v", s.addrs)
	}
}

func TestMetrics(t *testing.T) {
	m, err := startMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	now := time.Unix(1795633310, 0)
	m.update([]analyze.Group{{
		VRID: 51, Family: "ipv4",
		Master:   &analyze.Endpoint{IP: "192.168.33.101", MAC: "66:03:9a:8f:f0:6a"},
		Speakers: []analyze.Speaker{{IP: "192.168.33.101", Priority: 100, Adverts: 7, LastAdvert: now, AdvertIntervalMS: 1000}},
	}}, []analyze.LiveGroup{{
		VRID: 51, Family: "ipv4", SplitBrain: true, StaleClients: 2,
		Speakers: []analyze.LiveSpeaker{{IP: "192.168.33.101", AdvertGaps: 1, MissedAdverts: 3}},
	}}, 42, 40, 3, true)
	m.failover(analyze.Failover{VRID: 51, Family: "ipv4", Cause: "resign", DetectMS: 965.4, ExpectedMS: 960.9, Time: now})
	m.failover(analyze.Failover{VRID: 51, Family: "ipv4", Cause: "resign", DetectMS: 2100, ExpectedMS: 960.9, Time: now.Add(time.Minute)})
	m.failover(analyze.Failover{VRID: 52, Family: "ipv4", Cause: "preempt", DetectMS: 752.9, Time: now})
	m.finding(analyze.Finding{Code: analyze.CodeSplitBrain, Severity: analyze.Critical})
	m.evicted([]analyze.Eviction{{Table: "clients", Limit: 100000, Evicted: 1900000}, {Table: "groups", Limit: 4096}})
	resp, err := http.Get("http://" + m.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Names, types and help follow Prometheus' conventions.
	problems, err := promlint.New(strings.NewReader(string(body))).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, want := range []string{
		`vrrpctl_master{family="ipv4",ip="192.168.33.101",mac="66:03:9a:8f:f0:6a",vlan="0",vrid="51"} 1`,
		`vrrpctl_adverts_total{family="ipv4",ip="192.168.33.101",vlan="0",vrid="51"} 7`,
		`vrrpctl_failovers_total{cause="resign",family="ipv4",vlan="0",vrid="51"} 2`,
		`vrrpctl_findings_total{code="split-brain",severity="critical"} 1`,
		`vrrpctl_capture_received_total 40`,
		`vrrpctl_capture_dropped_total 3`,
		`vrrpctl_watch_evictions_total{table="clients"} 1.9e+06`,
		`vrrpctl_watch_evictions_total{table="groups"} 0`,
		`vrrpctl_watch_table_limit{table="clients"} 100000`,
		`vrrpctl_watch_table_limit{table="groups"} 4096`,
		`vrrpctl_last_advert_timestamp_seconds{family="ipv4",ip="192.168.33.101",vlan="0",vrid="51"} 1.79563331e+09`,
		`vrrpctl_advert_interval_seconds{family="ipv4",ip="192.168.33.101",vlan="0",vrid="51"} 1`,
		`vrrpctl_split_brain{family="ipv4",vlan="0",vrid="51"} 1`,
		`vrrpctl_stale_clients{family="ipv4",vlan="0",vrid="51"} 2`,
		`vrrpctl_advert_gaps_total{family="ipv4",ip="192.168.33.101",vlan="0",vrid="51"} 1`,
		`vrrpctl_adverts_missed_total{family="ipv4",ip="192.168.33.101",vlan="0",vrid="51"} 3`,
		`vrrpctl_takeover_seconds_bucket{cause="resign",family="ipv4",vlan="0",vrid="51",le="1"} 1`,
		`vrrpctl_takeover_seconds_bucket{cause="resign",family="ipv4",vlan="0",vrid="51",le="3"} 2`,
		`vrrpctl_takeover_seconds_count{cause="resign",family="ipv4",vlan="0",vrid="51"} 2`,
		`vrrpctl_last_takeover_seconds{family="ipv4",vlan="0",vrid="51"} 2.1`,
		`vrrpctl_last_takeover_rfc_seconds{family="ipv4",vlan="0",vrid="51"} 0.9609`,
		`vrrpctl_last_failover_timestamp_seconds{family="ipv4",vlan="0",vrid="51"} 1.79563337e+09`,
		`vrrpctl_last_takeover_seconds{family="ipv4",vlan="0",vrid="52"} 0.7529`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s\n%s", want, body)
		}
	}
	// A preemption has no RFC time: no series rather than a 0 to compare with.
	if strings.Contains(string(body), `vrrpctl_last_takeover_rfc_seconds{family="ipv4",vlan="0",vrid="52"}`) {
		t.Errorf("an RFC time for a preemption\n%s", body)
	}
}

// TestNeighbourStateNames pins the analyzer's names of the kernel's
// neighbour states against netlink's constants for them.
func TestNeighbourStateNames(t *testing.T) {
	for _, c := range []struct {
		nud  int
		want string
	}{
		{netlink.NUD_NONE, "none"}, {netlink.NUD_INCOMPLETE, "incomplete"}, {netlink.NUD_REACHABLE, "reachable"},
		{netlink.NUD_STALE, "stale"}, {netlink.NUD_DELAY, "delay"}, {netlink.NUD_PROBE, "probe"},
		{netlink.NUD_FAILED, "failed"}, {netlink.NUD_NOARP, "noarp"}, {netlink.NUD_PERMANENT, "permanent"},
		{netlink.NUD_STALE | netlink.NUD_PERMANENT, "stale,permanent"},
	} {
		if got := analyze.NeighbourState(c.nud); got != c.want {
			t.Errorf("NeighbourState(%#x) = %q; want %q", c.nud, got, c.want)
		}
	}
}

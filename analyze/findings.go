package analyze

// Finding codes. They are stable: scripts match on them.
const (
	CodeStaleARP         = "stale-arp"
	CodeNoGARP           = "no-garp"
	CodeGARPInterval     = "garp-interval"
	CodeSplitBrain       = "split-brain"
	CodeIntervalMismatch = "interval-mismatch"
	CodeAuthMismatch     = "auth-mismatch"
	CodeVersionMismatch  = "version-mismatch"
	CodeVIPMismatch      = "vip-mismatch"
	CodeEqualPriority    = "equal-priority"
	CodeTTL              = "ttl"
	CodeChecksum         = "checksum"
	CodeAdvertGap        = "advert-gap"
	CodeFlapping         = "flapping"
	CodeNoBackup         = "no-backup"
	CodeVIPUnanswered    = "vip-unanswered"
	CodeResign           = "resign"
	CodeSlowFailover     = "slow-failover"
	CodeConfigMismatch   = "config-mismatch"
	CodeLocalStaleARP    = "local-stale-arp"
	CodeClientOutage     = "client-outage"
	// With several captures of one incident:
	CodeGARPLost    = "garp-lost"
	CodeGARPIgnored = "garp-ignored"
	CodeAdvertLost  = "advert-lost"
	CodeNotSent     = "not-sent"
)

// codeInfo is the fixed text of a finding code: the explanation that does not
// depend on the capture, and the hint for the fix.
type codeInfo struct {
	severity Severity
	explain  string
	hint     string
}

// Codes lists every finding code with its default severity, explanation and
// hint: the one place where the protocol knowledge behind a finding is written
// down for people.
var Codes = map[string]codeInfo{
	CodeStaleARP: {Warning,
		"After the change of master a client kept sending frames for the VIP to the old master's MAC: its ARP cache still held the old entry. A client that heard the new master's gratuitous ARP should update at once (Linux does only if the entry exists and arp_accept or the entry's state allows it; many firewalls and appliances ignore gratuitous ARP).",
		"Make sure the new master sends GARPs (vrrp_garp_master_repeat, vrrp_garp_master_delay) and that the client accepts them; or use a virtual MAC (use_vmac) so the VIP's MAC never changes."},
	CodeClientOutage: {Warning,
		"After the change of master a client's requests to the VIP, sent to the new master's MAC, went unanswered. With a virtual router MAC the client's ARP entry stays right through a failover; what it waits for is the switches learning that MAC on the new master's port, which the new master's first advert (sent from the virtual MAC) should teach them at once. Only clients whose answers are in the capture are judged.",
		"Check that the new master's adverts and GARPs reach the switches on the clients' path (storm control, port security, a MAC-move limit or a MAC table pinned to the old port), and the new master's firewall for the VIP."},
	CodeGARPLost: {Warning,
		"The new master sent its gratuitous ARPs (they are in one capture) but another capture on the segment, which saw that master's adverts before and after them, holds none: something between the two dropped them (an ARP filter, storm control, dynamic ARP inspection, a firewall on the bridge). A client behind it keeps the old MAC until its entry expires.",
		"Find what drops ARP between the two capture points (ebtables/nftables bridge rules, switch ARP inspection or storm control); meanwhile a virtual MAC (use_vmac) spares the clients the change of MAC."},
	CodeGARPIgnored: {Warning,
		"The client's own capture holds the new master's gratuitous ARP, and the client went on sending to the old master's MAC: it received the GARP and ignored it. Linux updates an existing entry from a gratuitous ARP only when net.ipv4.conf.*.arp_accept or the neighbour's locktime allow it; a firewall on the host (nftables arp family) may drop it; many appliances ignore gratuitous ARP.",
		"On the client: check arp_accept and locktime (ip -s neigh show VIP; sysctl net.ipv4.conf.all.arp_accept), and firewall rules on ARP input; or use a virtual MAC (use_vmac) so the VIP's MAC never changes."},
	CodeAdvertLost: {Warning,
		"Adverts of a router were seen in one capture and not in another that was capturing at the time: they were lost on the way (one way). A router that misses its master's adverts becomes master too: a split brain.",
		"Check what lies between the two capture points for IP protocol 112 to 224.0.0.18 (ff02::12): firewalls, IGMP/MLD snooping without a querier, a multicast filter."},
	CodeNotSent: {Warning,
		"The new master's own capture shows that it became master and sent no gratuitous ARP: the speaker did not send it (it was not lost on the way).",
		"Check the router's GARP settings (vrrp_garp_master_repeat must not be 0), its log, and whether its firewall drops its own ARP output."},
	CodeNoGARP: {Warning,
		"A router became master and sent no gratuitous ARP for the VIP. Clients keep the old master's MAC until their ARP entry expires (often 30 s to several minutes).",
		"Check vrrp_garp_master_repeat (must not be 0), that GARPs are not filtered on the way (ebtables/nftables bridge rules, switch ARP inspection), and the router's log."},
	CodeGARPInterval: {Info,
		"The gratuitous ARP pattern differs from what was configured or from keepalived's defaults (a burst of 5 on becoming master, another burst 5 s later). keepalived paces every GARP of an interface through one queue, one GARP per vrrp_garp_interval, so bursts stretch out and refreshes slip; before keepalived 2.3.2 the vrrp_garp_master_refresh timer was only checked when an advert was sent, so the refresh period rounds up to a multiple of advert_int.",
		"Compare with the configured vrrp_garp_master_repeat, vrrp_garp_master_delay, vrrp_garp_master_refresh and vrrp_garp_interval; set advert_int to divide the refresh period, or upgrade keepalived to 2.3.2 or later for exact refreshes."},
	CodeSplitBrain: {Critical,
		"Two routers advertised as master for the same virtual router at the same time. Both hold the VIP; clients reach whichever MAC they resolved last, and traffic flips between them with every GARP.",
		"Make the routers hear each other: check that IP protocol 112 to 224.0.0.18 passes both firewalls and the switch (IGMP snooping), and that VRID, advert_int, version, authentication and the VIP list agree."},
	CodeIntervalMismatch: {Warning,
		"Routers of one virtual router advertise different intervals. A VRRPv2 backup discards adverts whose interval differs from its own and so never hears the master (RFC 3768 section 7.1); a VRRPv3 backup adopts the master's interval.",
		"Set the same advert_int on every router of the VRID."},
	CodeAuthMismatch: {Warning,
		"Routers of one virtual router use different authentication. A router discards adverts whose authentication does not match its own, so it never hears the master.",
		"Use the same authentication block (auth_type and auth_pass; keepalived uses only the first 8 characters) on every router, or none (VRRPv3 has no authentication)."},
	CodeVersionMismatch: {Warning,
		"Routers of one virtual router speak different VRRP versions. A router discards adverts of the other version.",
		"Set the same vrrp_version (global_defs) or version (vrrp_instance) on every router."},
	CodeVIPMismatch: {Warning,
		"Routers of one virtual router advertise different address lists. RFC 3768/5798 routers log a mismatch (keepalived discards the advert unless vrrp_skip_check_adv_addr is set), and after a failover a different set of addresses moves.",
		"Make virtual_ipaddress the same on every router of the VRID."},
	CodeEqualPriority: {Warning,
		"Two routers share a priority. The election then falls to the higher primary IP address, and a returning router of the same priority does not take the VIP back: after a failover the VIP stays where it moved.",
		"Give the preferred master a higher priority if the VIP should move back; equal priorities are fine if it should not."},
	CodeTTL: {Warning,
		"Adverts with an IP TTL (hop limit) other than 255. Receivers must discard them (RFC 3768 section 7.1, RFC 5798 section 7.1): the backups do not hear this master.",
		"Adverts must not be routed; look for NAT, tunnels or a routing hop between the routers, or a speaker that sets the wrong TTL."},
	CodeChecksum: {Warning,
		"Adverts whose VRRP checksum does not verify. Receivers must discard them. A VRRPv3 advert that only verifies without the IP pseudo-header comes from an implementation that computes the checksum the VRRPv2 way.",
		"Look for a NIC offload or a middlebox that rewrites the packet, or a speaker with a checksum bug; for VRRPv3, make both routers compute the checksum the same way."},
	CodeAdvertGap: {Warning,
		"The master skipped adverts without a failover. Had the gap reached the Master_Down_Interval the backup would have taken over: the margin is thin.",
		"Look for CPU starvation, a blocked keepalived, a congested or flapping link, or capture loss (check the capture's dropped counter)."},
	CodeFlapping: {Warning,
		"Mastership changed many times in a short while.",
		"Look for an unstable link, a tracking script that flaps, or routers that hear each other only intermittently; consider preempt_delay or nopreempt."},
	CodeNoBackup: {Warning,
		"Only one router at a time was seen for this virtual router: no other router advertised or joined 224.0.0.18 (ff02::12 for IPv6) while it was master. If it fails, nothing takes over; when it did, the VIP had no master until another router was started. (If the capture was filtered to VRRP only, IGMP/MLD joins of silent backups are not visible.)",
		"Check that the backup routers run, and that their adverts or IGMP joins reach this segment."},
	CodeVIPUnanswered: {Critical,
		"Clients resolved the VIP to the master's MAC and sent requests to it, but the VIP answered none of them while the master was advertising. This is typical of keepalived's vrrp_strict, which installs a firewall rule dropping traffic to the VIP.",
		"Remove vrrp_strict (or add the service to the VIP's allowed traffic), and check the master's firewall (nft list ruleset) for DROP rules on the VIP."},
	CodeResign: {Info,
		"A master sent a priority-0 advert: a graceful handover (keepalived stopping, or a priority change). The backup takes over after Skew_Time instead of waiting for the Master_Down_Interval.",
		"Nothing to fix."},
	CodeSlowFailover: {Warning,
		"The new master took noticeably longer to take over than the RFC timers allow.",
		"Look for a preempt_delay, a backup with a longer advert_int or a lower priority than configured, CPU starvation, or adverts lost on the way."},
	CodeLocalStaleARP: {Warning,
		"This host's own ARP (neighbour) entry for the VIP points to a MAC other than the current master's: its traffic to the VIP goes to the old master. Linux updates an existing entry from a gratuitous ARP only when it is allowed to (net.ipv4.conf.*.arp_accept, or the entry being old enough: neigh locktime); otherwise it waits for the entry to go stale and be probed.",
		"Check this host's arp_accept and neighbour timers (ip -s neigh show VIP), or flush the entry (ip neigh flush to VIP); use a virtual MAC (use_vmac) so the VIP's MAC never changes."},
	CodeConfigMismatch: {Warning,
		"What the routers did on the wire differs from the keepalived configuration given.",
		"Check that the configuration given is the one the router runs (keepalived reloads on SIGHUP), and the keywords named."},
}

// maxEvidence bounds the frame numbers kept per finding.
const maxEvidence = 64

func newFinding(code string, g *groupKey, frames []uint64, summary string) Finding {
	info := Codes[code]
	f := Finding{Code: code, Severity: info.severity, Summary: summary, Detail: info.explain, Hint: info.hint}
	if g != nil {
		f.VRID = int(g.vrid)
		f.VLAN = int(g.vlan)
	}
	if len(frames) > maxEvidence {
		frames = frames[:maxEvidence]
	}
	f.Frames = append([]uint64(nil), frames...)
	return f
}

// addEvidence appends a frame to an evidence list, keeping it bounded.
func addEvidence(list []uint64, frame uint64) []uint64 {
	if len(list) >= maxEvidence {
		return list
	}
	return append(list, frame)
}

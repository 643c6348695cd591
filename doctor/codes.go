package doctor

// CodeInfo is the fixed text of a check: its title in the checklist, why it
// matters and the general fix. Findings add what was seen and the fix for
// the case at hand.
type CodeInfo struct {
	Title string
	Why   string
	Fix   string
}

// order is the checklist's order: the host first, then the configurations.
var order = []string{
	CodeKeepalivedVersion,
	CodeVIPDropped,
	CodeVRRPBlocked,
	CodeNoVRRPMembership,
	CodeSnoopingNoQuerier,
	CodeStaticNeigh,
	CodeARPSysctl,
	CodeEqualPriority,
	CodeIntervalMismatch,
	CodeAuthMismatch,
	CodeVersionMismatch,
	CodeVIPMismatch,
	CodeMcastGroupMismatch,
	CodeUnicastAsymmetry,
	CodeVRIDCollision,
	CodeNopreemptNeedsBackup,
	CodeGARPSchedule,
}

// Codes lists every check with its title, why it matters and its fix: the
// one place where the knowledge behind a check is written for people.
var Codes = map[string]CodeInfo{
	CodeKeepalivedVersion: {
		"keepalived version",
		"What keepalived does with a configuration depends on its version: the GARP refresh, the firewall rules of vrrp_strict, the settings it ignores.",
		"Nothing to fix; the behaviours listed are those of the version found.",
	},
	CodeVIPDropped: {
		"traffic to the VIPs is not dropped",
		"A firewall rule drops or rejects packets to a VIP (or from it): clients resolve the VIP to the master's MAC, send to it and get no answer while VRRP looks healthy. keepalived installs such rules itself with vrrp_strict (and no_accept) on a master that is not the address owner (priority 255): RFC 3768 forbids a non-owner to accept packets for the VIP.",
		"Remove vrrp_strict (or set accept in the instance) if the VIP must answer, or make the master the address owner; remove other DROP/REJECT rules for the VIP.",
	},
	CodeVRRPBlocked: {
		"VRRP passes the firewall",
		"A firewall rule (or a drop policy) discards VRRP adverts (IP protocol 112 to 224.0.0.18 or ff02::12, or to and from a unicast peer) on input or output: each router then hears nobody and becomes master; both hold the VIP (split brain).",
		"Accept VRRP before any drop: nft add rule inet filter input ip protocol vrrp accept (and meta l4proto vrrp for IPv6, or the unicast peers' addresses), and the same on output if output is filtered.",
	},
	CodeNoVRRPMembership: {
		"VRRP speakers joined their multicast group",
		"A router receives adverts sent to 224.0.0.18 (ff02::12) only on an interface that joined the group; a switch or bridge that snoops IGMP/MLD forwards them only to ports that reported the membership. keepalived and vrrpctl speaker join the group on the instance's interface when they start.",
		"Check that the speaker runs on the interface configured (interface, and use_vmac's macvlan), that the interface is up with an IPv4 address (IGMP needs one) and that nothing filters IGMP/MLD on output.",
	},
	CodeSnoopingNoQuerier: {
		"bridges snoop multicast with a querier",
		"A bridge that snoops IGMP/MLD forwards a group only to the ports whose membership it has heard, and memberships expire (multicast_membership_interval, 260 s) unless a querier asks the hosts to report again. Without a querier, or with one that asks less often than memberships last, the routers' adverts stop reaching each other a few minutes after boot: each becomes master. Linux bridges since 3.11 flood every group while they hear no querier and always flood 224.0.0.0/24, so a Linux bridge alone drops ff02::12 and custom groups only when a querier exists but lets memberships expire; hardware switches and other virtual switches with snooping and no querier drop 224.0.0.18 as well.",
		"Give the segment a querier (ip link set BRIDGE type bridge mcast_querier 1) with a query interval shorter than the membership interval, or turn snooping off (ip link set BRIDGE type bridge mcast_snooping 0).",
	},
	CodeStaticNeigh: {
		"this host can follow a GARP for each VIP",
		"After a failover the new master announces the VIP with gratuitous ARP (unsolicited NA for IPv6). Linux never changes a PERMANENT or NOARP neighbour entry from the wire, drops gratuitous ARP with drop_gratuitous_arp (drop_unsolicited_na for IPv6), and processes no ARP on a NOARP interface; a firewall rule on ARP input does the same. Such a host keeps sending to the old master's MAC.",
		"Delete the static entry (ip neigh del VIP dev IFACE) and let ARP resolve the VIP, set drop_gratuitous_arp to 0, or use a virtual MAC (use_vmac) so that the VIP's MAC never changes.",
	},
	CodeARPSysctl: {
		"ARP sysctls let this router answer for the VIP",
		"The router answers ARP for the VIP according to arp_ignore (8: never; the effective value is the larger of all and the interface's); with use_vmac, keepalived's documentation asks for arp_ignore 1 and arp_announce 1 on the parent (else the parent answers for the VIP from its own MAC and asks for clients from the VIP, moving their entries off the virtual MAC) and for rp_filter 0 and accept_local 1 on the macvlan (else packets arriving on it are dropped).",
		"Set the values named (sysctl -w net.ipv4.conf.IFACE.KEY=VALUE) and make them persistent in /etc/sysctl.d.",
	},
	CodeEqualPriority: {
		"routers have distinct priorities",
		"Two routers of one virtual router with one priority: the election falls to the higher primary address, and a router that returns does not take the VIP back, so after a failover the VIP stays where it moved.",
		"Give the preferred master a higher priority if the VIP should move back; equal priorities are fine if it should not (nopreempt says so explicitly).",
	},
	CodeIntervalMismatch: {
		"routers advertise at one interval",
		"A VRRPv2 router discards adverts whose interval differs from its own (keepalived logs \"advertisement interval mismatch\"), so it never hears the master and becomes master too: a split brain. A VRRPv3 backup adopts the master's interval.",
		"Set the same advert_int on every router of the virtual router.",
	},
	CodeAuthMismatch: {
		"routers authenticate alike",
		"A router discards adverts whose authentication differs from its own (keepalived: \"received an invalid passwd!\"), never hears the master and becomes master too. keepalived keeps only the first 8 characters of auth_pass.",
		"Use the same authentication block on every router, or none (VRRPv3 has none; vrrp_strict ignores it).",
	},
	CodeVersionMismatch: {
		"routers speak one VRRP version",
		"A router discards adverts of the other VRRP version, so each side is master for itself.",
		"Set the same vrrp_version (global_defs) or version (vrrp_instance) on every router.",
	},
	CodeVIPMismatch: {
		"routers share one VIP list",
		"Routers of one virtual router with different virtual_ipaddress lists: keepalived discards adverts whose address list differs (unless vrrp_skip_check_adv_addr), and after a failover a different set of addresses moves.",
		"Make virtual_ipaddress the same on every router of the virtual router.",
	},
	CodeMcastGroupMismatch: {
		"routers use one multicast group",
		"Routers that send their adverts to different groups (vrrp_mcast_group4/6) never hear each other: each becomes master.",
		"Set the same vrrp_mcast_group4 (vrrp_mcast_group6) on every router, or leave it at the default 224.0.0.18 (ff02::12).",
	},
	CodeUnicastAsymmetry: {
		"unicast peers are mutual",
		"With unicast_peer a router sends its adverts only to the addresses listed and, in keepalived, accepts adverts only from them. A router that lists a peer that does not list it back (or that sends multicast) is heard on one side only: the side that hears nothing becomes master too.",
		"List every other router's address in each router's unicast_peer (and their unicast_src_ip), or use multicast on all of them.",
	},
	CodeVRIDCollision: {
		"each VRID names one virtual router on a segment",
		"Two instances with the same VRID on one segment but different VIPs are two virtual routers that take each other's adverts for their own: they discard them as address-list mismatches (or, with vrrp_skip_check_adv_addr, elect one master for both), and with use_vmac share one virtual MAC.",
		"Give every virtual router of a segment its own virtual_router_id.",
	},
	CodeNopreemptNeedsBackup: {
		"nopreempt is set where keepalived honours it",
		"keepalived ignores nopreempt unless the instance's state is BACKUP (it logs \"nopreempt will not work with initial state MASTER\"): the router still preempts when it comes back.",
		"Set state BACKUP on every router that has nopreempt, and let the priorities elect the first master.",
	},
	CodeGARPSchedule: {
		"GARP schedule is what the settings say",
		"keepalived paces every GARP of an interface through one queue, one per vrrp_garp_interval, and a VIP has one place in that queue, so the repeats of a burst that find it waiting are merged; before 2.3.2 the refresh timer (vrrp_garp_master_refresh) is only looked at when an advert is sent, so a refresh waits for the next advert. Clients then see GARPs at gaps that match no setting.",
		"Make advert_int divide vrrp_garp_master_refresh and vrrp_garp_master_delay, keep vrrp_garp_interval well below them, or upgrade to keepalived 2.3.2 or later for refreshes on time.",
	},
}

// finding builds a finding of code with its fixed text.
func finding(code string, sev Severity, summary string) Finding {
	info := Codes[code]
	return Finding{Code: code, Severity: sev, Summary: summary, Detail: info.Why, Hint: info.Fix}
}

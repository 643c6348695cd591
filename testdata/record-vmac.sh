#!/bin/bash
# record-vmac.sh: record the virtual-MAC captures of testdata/README.md:
# keepalived 2.2.7 with use_vmac, and FRR 8.4 vrrpd (which always sends
# from a macvlan carrying the virtual MAC).
#
# Usage (root, Debian 12 with keepalived, frr, tcpdump, nftables,
# iproute2, iputils-ping; Linux 5.1 or later for protodown on macvlans):
#
#   testdata/record-vmac.sh [-o DIR] [SCENARIO...]
#
# Scenarios: vmac-failover vmac-crash vmac-split-brain vmac-track
# frr-v3-ipv4 frr-v3-ipv4-arp-default frr-v2-ipv4 frr-v3-ipv6 (default:
# all). Each writes DIR/SCENARIO.pcap (DIR defaults to the current
# directory) and DIR/SCENARIO-logs/ with the daemons' logs (every line
# prefixed with the Unix time it was written), the script's own events
# (events.log: seconds from the moment tcpdump was listening, whose Unix
# time is on its first line; the capture's first frame comes a little
# later), snapshots of the
# routers' interfaces and the bridge's forwarding table, and port-nat1.pcap
# and port-nat2.pcap: what each router sent, captured where its veth
# enters the bridge (both routers send from the same virtual MAC, so the
# client's capture alone cannot always tell them apart).
#
# The topology, clean-up and capture code is record-lib.sh's, shared with
# record.sh: namespaces vrrec<pid>-<n>-{sw,here,nat1,nat2}, the client
# `here` (192.168.33.2) and the routers nat1 (.101) and nat2 (.102) on one
# bridge, the capture taken on here's eth1 with
#   tcpdump -s 0 --immediate-mode -w FILE -i eth1 [not ip6]
# ("not ip6" for the IPv4 scenarios, where IPv6 is disabled; nothing is
# filtered in frr-v3-ipv6) while the client pings the VIP (192.168.33.100,
# or 2001:db8:33::100) every 200 ms. At fixed moments the client's
# neighbour cache is flushed, so that its next echo request makes it ask
# for the VIP again and the capture shows who answers.
#
# keepalived: configurations testdata/keepalived/SCENARIO-nat{1,2}.conf;
# keepalived creates its macvlan vrrp.51 itself.
#
# FRR: testdata/frr/SCENARIO-nat{1,2}.conf is vrrpd's configuration;
# zebra gets one naming the host. Per router the script
#   - creates the macvlan vrrpd looks for, in bridge mode, as FRR's VRRP
#     documentation shows: vrrp4-2-51 with 00:00:5e:00:01:33 and
#     192.168.33.100/24, or vrrp6-2-51 with 00:00:5e:00:02:33,
#     addrgenmode random, fe80::33:100/64 and 2001:db8:33::100/64;
#   - except in frr-v3-ipv4-arp-default, sets the sysctls of FRR_SYSCTLS
#     below;
#   - runs zebra, then vrrpd, started as root (they drop to user frr
#     themselves), in the foreground with -N <namespace> (sockets and pid
#     files in /var/run/frr/<namespace>, removed on exit), logging on
#     stdout; with IPv6 the router forwards (net.ipv6.conf.all.forwarding).
# Priorities are changed at run time with vtysh -N <namespace>.

set -euo pipefail

HERE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF_DIR=$HERE_DIR/keepalived
FRR_CONF_DIR=$HERE_DIR/frr
PROG=record-vmac.sh
ALL=(vmac-failover vmac-crash vmac-split-brain vmac-track
	frr-v3-ipv4 frr-v3-ipv4-arp-default frr-v2-ipv4 frr-v3-ipv6)
TOOLS=(ip:iproute2 bridge:iproute2 keepalived:keepalived tcpdump:tcpdump nft:nftables ping:iputils-ping
	/usr/lib/frr/zebra:frr /usr/lib/frr/vrrpd:frr vtysh:frr)
FRR_BIN=/usr/lib/frr
PORT_CAPTURES=1

conf_files() {
	case $1 in
	vmac-*) echo "$CONF_DIR/$1-nat1.conf" "$CONF_DIR/$1-nat2.conf" ;;
	frr-*) echo "$FRR_CONF_DIR/$1-nat1.conf" "$FRR_CONF_DIR/$1-nat2.conf" ;;
	esac
}

# check_system: what a fresh machine may lack besides the packages.
check_system() {
	local k
	id frr >/dev/null 2>&1 || { echo "$PROG: no user frr (install the Debian package frr)" >&2; exit 2; }
	k=$(uname -r)
	k=${k%%-*}
	if [ "$(printf '%s\n5.1\n' "$k" | sort -V | head -1)" != 5.1 ]; then
		echo "$PROG: Linux $k: FRR's vrrpd needs protodown on macvlans, Linux 5.1 or later" >&2
		exit 2
	fi
}

# shellcheck source=record-lib.sh
. "$HERE_DIR/record-lib.sh"

# --- helpers --------------------------------------------------------------

# client_flush: forget the client's neighbour entries, so that its next
# echo request is preceded by a broadcast ARP request (or a multicast
# neighbour solicitation) for the VIP.
client_flush() {
	log "client's neighbour cache flushed"
	ip -n "$HERE" -4 neigh flush dev eth1
	[ "$FAMILY" != ipv6 ] || ip -n "$HERE" -6 neigh flush dev eth1
}

# snapshot LABEL: the routers' addresses (with their flags: tentative,
# dadfailed) and links and the bridge's forwarding table, appended to
# $LOGS/snapshots.txt.
snapshot() {
	local h
	{
		log "snapshot: $1"
		for h in nat1 nat2; do
			echo "--- $h"
			ip -n "$(ns_of $h)" -d link show | grep -E '^[0-9]|link/ether|protodown|macvlan' || true
			ip -n "$(ns_of $h)" addr show | grep -E '^[0-9]|inet' || true
		done
		echo "--- bridge fdb (dynamic entries)"
		bridge -n "$SW" fdb show br br0 | grep -v permanent || true
	} >>"$LOGS/snapshots.txt"
}

# --- FRR ------------------------------------------------------------------

# The sysctls of the healthy FRR setup, per router. FRR's VRRP documentation
# ("My master router is not forwarding traffic") asks only for
# ignore_routes_with_linkdown on the macvlans' parent. It says nothing about
# ARP, and without more every router holding the VIP on its macvlan also
# answers ARP for it from its eth1 MAC (frr-v3-ipv4-arp-default shows it).
# So the kernel's own remedy for "ARP flux" (Documentation/networking/
# ip-sysctl.rst) is applied too: arp_ignore 1, answer only for addresses
# configured on the interface the request came in on (eth1 stops answering
# for the VIP, the macvlan for eth1's address), and arp_announce 2, ask from
# the outgoing interface's own address (the master's replies leave by eth1,
# whose connected route is the older; with arp_announce 0 or 1 its ARP
# requests for the client would say "tell 192.168.33.100" from eth1's MAC
# and move the client's entry for the VIP to that MAC).
FRR_SYSCTLS=(
	net.ipv4.conf.eth1.ignore_routes_with_linkdown=1
	net.ipv4.conf.all.arp_ignore=1
	net.ipv4.conf.all.arp_announce=2
)

# frr_macvlan HOST: the macvlan vrrpd attaches to, as in FRR's documentation.
frr_macvlan() {
	local ns
	ns=$(ns_of "$1")
	if ! ip -n "$ns" link add "vrrp${FAMILY#ipv}-2-51" link eth1 type macvlan mode bridge; then
		echo "$PROG: cannot create a macvlan (is the kernel module macvlan available?)" >&2
		exit 2
	fi
	if [ "$FAMILY" = ipv6 ]; then
		ip -n "$ns" link set vrrp6-2-51 address 00:00:5e:00:02:33 addrgenmode random
		ip -n "$ns" addr add fe80::33:100/64 dev vrrp6-2-51
		ip -n "$ns" addr add 2001:db8:33::100/64 dev vrrp6-2-51
		ip -n "$ns" link set vrrp6-2-51 up
	else
		ip -n "$ns" link set vrrp4-2-51 address 00:00:5e:00:01:33
		ip -n "$ns" addr add 192.168.33.100/24 dev vrrp4-2-51
		ip -n "$ns" link set vrrp4-2-51 up
	fi
}

# frr_sysctls HOST: the healthy setup's sysctls.
frr_sysctls() {
	ip netns exec "$(ns_of "$1")" sysctl -qw "${FRR_SYSCTLS[@]}"
}

# frr_prepare HOST: pathspace directory and configurations for HOST's
# daemons; with IPv6 the router forwards (as a router does: it sends no
# router solicitations and takes no address from router advertisements).
frr_prepare() {
	local host=$1 ns dir=$RUN/$1
	ns=$(ns_of "$host")
	[ "$FAMILY" != ipv6 ] || ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
	mkdir -p "$dir" "/var/run/frr/$ns"
	CLEAN_DIRS+=("/var/run/frr/$ns")
	chown frr:frr "/var/run/frr/$ns"
	chmod 0755 "$dir"
	printf 'hostname %s\nlog timestamp precision 6\n' "$host" >"$dir/zebra.conf"
	cp "$FRR_CONF_DIR/$SCEN-$host.conf" "$dir/vrrpd.conf"
	chmod 0644 "$dir/zebra.conf" "$dir/vrrpd.conf"
}

# frr_start HOST: zebra, then vrrpd, in the foreground, logging to stdout.
frr_start() {
	local host=$1 ns dir=$RUN/$1 i
	ns=$(ns_of "$host")
	rm -f "/var/run/frr/$ns/zserv.api"
	bg_stamped "zebra-$host" "$ns" "$FRR_BIN/zebra" -N "$ns" -P 0 -f "$dir/zebra.conf" \
		-i "/var/run/frr/$ns/zebra.pid" --log stdout --log-level informational
	for i in $(seq 50); do
		[ -S "/var/run/frr/$ns/zserv.api" ] && break
		sleep 0.1
	done
	bg_stamped "vrrpd-$host" "$ns" "$FRR_BIN/vrrpd" -N "$ns" -P 0 -f "$dir/vrrpd.conf" \
		-i "/var/run/frr/$ns/vrrpd.pid" --log stdout --log-level debug
	log "zebra and vrrpd started on $host"
}

# frr_stop HOST: stop vrrpd (a master sends a priority-0 advert), then zebra,
# as systemd stops FRR.
frr_stop() {
	local host=$1 v
	log "stopping vrrpd and zebra on $host"
	v=vrrpd_${host}_PID
	stop_pid "${!v}"
	v=zebra_${host}_PID
	stop_pid "${!v}"
	frr_tmp_clean
}

# frr_tmp_clean: FRR daemons keep crash-log buffers in /var/tmp/frr/<daemon>
# [-<pathspace>].<pid>; a clean exit removes them, this removes whatever is
# left of ours.
frr_tmp_clean() {
	local v pid h d
	for h in nat1 nat2; do
		for d in zebra vrrpd; do
			v=${d}_${h}_PID
			pid=${!v:-}
			[ -n "$pid" ] || continue
			kill -0 "$pid" 2>/dev/null && continue
			rm -rf /var/tmp/frr/*."$pid"
		done
	done
	rmdir /var/tmp/frr 2>/dev/null || true
}
teardown_hook() {
	frr_tmp_clean
	unset zebra_nat1_PID zebra_nat2_PID vrrpd_nat1_PID vrrpd_nat2_PID
}

# vtysh_vrrp HOST CMD: one vrrp command in eth1's interface node.
vtysh_vrrp() {
	local host=$1 ns
	ns=$(ns_of "$host")
	log "$host: vtysh: interface eth1: $2"
	ip netns exec "$ns" vtysh -N "$ns" -c 'configure terminal' -c 'interface eth1' -c "$2" \
		>>"$LOGS/vtysh.log" 2>&1
}

# show_vrrp HOST LABEL: vtysh's view, appended to $LOGS/show-vrrp.txt.
show_vrrp() {
	local ns
	ns=$(ns_of "$1")
	{
		log "show vrrp on $1: $2"
		ip netns exec "$ns" vtysh -N "$ns" -c 'show vrrp' 2>&1 | grep -v 'vtysh.conf' || true
	} >>"$LOGS/show-vrrp.txt"
}

# frr_pair [plain]: macvlans (and, unless "plain", the sysctls) on both
# routers, then nat1's daemons, then nat2's NAT2_DELAY (default 0.5) seconds
# later.
frr_pair() {
	local h
	for h in nat1 nat2; do
		frr_macvlan "$h"
		[ "${1:-}" = plain ] || frr_sysctls "$h"
		frr_prepare "$h"
	done
	snapshot "macvlans created"
	frr_start nat1
	sleep "${NAT2_DELAY:-0.5}"
	frr_start nat2
}

# --- keepalived scenarios ------------------------------------------------

# vmac-failover: nat1 (prio 100) is master, nat2 (prio 10) backup, both
# with use_vmac. nat1 stops (priority-0 advert), nat2 takes over after
# Skew_Time; nat1 starts again and preempts after its Master_Down_Interval.
scen_vmac-failover() {
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	snapshot "nat1 master"
	ping_start
	sleep 4
	keepalived_stop nat1
	sleep 2
	snapshot "nat2 master"
	sleep 1
	client_flush
	sleep 2
	keepalived_start nat1
	sleep 5
	snapshot "nat1 master again"
	client_flush
	sleep 3
}

# vmac-crash: the master's keepalived is killed (SIGKILL to its VRRP
# process and its parent, started with --dont-respawn so nothing restarts
# it): no priority-0 advert, and the macvlan it made stays with the VIP.
# nat2 takes over after the Master_Down_Interval.
scen_vmac-crash() {
	keepalived_start nat1 --dont-respawn
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	snapshot "nat1 master"
	ping_start
	sleep 4
	log "SIGKILL to nat1's keepalived (VRRP process $(cat "$RUN/nat1/vrrp.pid"), parent $ka_nat1_PID)"
	kill -KILL "$(cat "$RUN/nat1/vrrp.pid")" "$ka_nat1_PID"
	sleep 1
	snapshot "nat1 killed"
	sleep 5
	snapshot "nat2 master"
	client_flush
	sleep 5
}

# vmac-split-brain: nat2 drops incoming VRRP for 6 s (nftables in its
# namespace), becomes master too, and falls back when the rule goes.
scen_vmac-split-brain() {
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	ping_start
	sleep 3
	log "nat2 drops incoming VRRP"
	ip netns exec "$NAT2" nft -f - <<-'EOF'
		table inet splitbrain {
			chain in {
				type filter hook input priority 0; policy accept;
				ip protocol vrrp counter drop
			}
		}
	EOF
	sleep 4.5
	snapshot "both master"
	client_flush
	sleep 1.5
	ip netns exec "$NAT2" nft list table inet splitbrain >"$LOGS/nat2-nft.txt"
	ip netns exec "$NAT2" nft delete table inet splitbrain
	log "nat2 accepts VRRP again"
	sleep 2
	snapshot "nat1 master alone"
	client_flush
	sleep 4
}

# vmac-track: nat1 has priority 105 and a track_file with weight -10;
# nat2 priority 100 (preempt). Writing 1 to the file makes nat1 95: nat2
# preempts; writing 0 makes it 105 again: nat1 preempts.
keepalived_conf_track() {
	sed "s|@RUN@|$RUN|g" "$CONF_DIR/$SCEN-$1.conf" >"$RUN/$SCEN-$1.conf"
	echo "$RUN/$SCEN-$1.conf"
}
scen_vmac-track() {
	keepalived_conf() { keepalived_conf_track "$1"; }
	echo 0 >"$RUN/nat1.track"
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	ping_start
	sleep 3
	log "nat1's track file: 1 (priority 105 - 10 = 95)"
	echo 1 >"$RUN/nat1.track"
	sleep 5
	snapshot "nat2 master"
	client_flush
	sleep 2
	log "nat1's track file: 0 (priority 105)"
	echo 0 >"$RUN/nat1.track"
	sleep 5
	snapshot "nat1 master again"
	client_flush
	sleep 2
	keepalived_conf() { echo "$CONF_DIR/$SCEN-$1.conf"; }
}

# --- FRR scenarios ------------------------------------------------------

# frr-v3-ipv4: VRRPv3, nat1 priority 100, nat2 90. nat1's FRR stops (priority
# 0), nat2 takes over after Skew_Time; nat1's FRR starts again and preempts;
# nat1's priority is set to 80 by vtysh: nat2 preempts; back to 100: nat1
# preempts.
frr_v3_story() {
	frr_pair "$@"
	sleep 4.5
	show_vrrp nat1 "nat1 master"
	ping_start
	sleep 3
	frr_stop nat1
	sleep 2
	snapshot "nat2 master, nat1 stopped"
	client_flush
	sleep 2
	frr_start nat1
	sleep 5
	show_vrrp nat1 "nat1 master again"
	snapshot "nat1 master again"
	client_flush
	sleep 1
	vtysh_vrrp nat1 "vrrp 51 priority 80"
	sleep 5
	show_vrrp nat2 "nat2 master after nat1's priority drop"
	snapshot "nat2 master after nat1's priority drop"
	client_flush
	sleep 1
	vtysh_vrrp nat1 "vrrp 51 priority 100"
	sleep 5
	show_vrrp nat1 "nat1 master after its priority is restored"
	client_flush
	sleep 2
}
scen_frr-v3-ipv4() { frr_v3_story; }

# frr-v3-ipv4-arp-default: frr-v3-ipv4 without the sysctls.
scen_frr-v3-ipv4-arp-default() { frr_v3_story plain; }

# frr-v2-ipv4: VRRPv2, nat1 priority 100, nat2 90: nat1's FRR stops, nat2
# takes over; nat1's FRR starts again and preempts.
scen_frr-v2-ipv4() {
	frr_pair
	sleep 4.5
	ping_start
	sleep 3
	frr_stop nat1
	sleep 2
	snapshot "nat2 master, nat1 stopped"
	client_flush
	sleep 2
	frr_start nat1
	sleep 5
	snapshot "nat1 master again"
	client_flush
	sleep 2
}

# frr-v3-ipv6: frr-v3-ipv4's story over IPv6. nat2 starts 2.5 s after nat1:
# a new IPv6 master's first advert comes about a second after it takes over
# (its macvlan's link-local address is tentative again once protodown is
# lifted), so a nat2 started half a second after nat1 would reach its own
# Master_Down_Interval first and both would be master for a moment.
scen_setup_frr-v3-ipv6() { FAMILY=ipv6; }
scen_frr-v3-ipv6() {
	NAT2_DELAY=2.5 frr_v3_story
}

# --- main -----------------------------------------------------------------

rec_main "$@"

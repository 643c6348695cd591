#!/bin/bash
# record.sh: record the keepalived reference captures of testdata/README.md.
#
# Usage (root, Debian 12 with keepalived, tcpdump, nftables, iproute2,
# iputils-ping):
#
#   testdata/record.sh [-o DIR] [SCENARIO...]
#
# Scenarios: v3-100ms client-ignores-garp interval-mismatch auth-mismatch
# vrrp-strict no-garp (default: all). Each writes DIR/SCENARIO.pcap (DIR
# defaults to the current directory) and DIR/SCENARIO-logs/ with the
# keepalived logs. The keepalived configurations are read from
# testdata/keepalived/SCENARIO-nat1.conf and -nat2.conf.
#
# Every scenario builds its own topology from network namespaces named
# vrrec<pid>-<n>-{sw,here,nat1,nat2} (record-lib.sh, shared with
# record-vmac.sh):
#
#   here  192.168.33.2/24    client, capture point (eth1)
#   nat1  192.168.33.101/24  keepalived
#   nat2  192.168.33.102/24  keepalived
#   sw    bridge br0 (multicast snooping off) with ports p-here, p-nat1,
#         p-nat2, the other ends of the hosts' eth1
#
# Nothing is created in the namespace the script is started from: the
# veths are created inside the switch namespace, the bridge lives there,
# and all nftables rules (the scenarios' and keepalived's own) are loaded
# into the namespaces. A trap stops every process the script started and
# deletes every namespace (with them the veths and the bridge) on every exit.
#
# The capture is taken on here's eth1 with
#   tcpdump -s 0 --immediate-mode -w FILE -i eth1 not ip6
# (plus -Z root, so tcpdump can write into the script's run directory)
# while the client pings the VIP every 200 ms. IPv6 is disabled in the
# namespaces. Times are approximate: keepalived, the kernel and the shell
# share the machine with everything else.

set -euo pipefail

HERE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF_DIR=$HERE_DIR/keepalived
PROG=record.sh
ALL=(v3-100ms client-ignores-garp interval-mismatch auth-mismatch vrrp-strict no-garp)
TOOLS=(ip:iproute2 keepalived:keepalived tcpdump:tcpdump nft:nftables ping:iputils-ping)
conf_files() { echo "$CONF_DIR/$1-nat1.conf" "$CONF_DIR/$1-nat2.conf"; }

# shellcheck source=record-lib.sh
. "$HERE_DIR/record-lib.sh"

# --- scenarios ------------------------------------------------------------

# VRRPv3 with 100 ms adverts. nat1 (prio 100, nopreempt) is master; its link
# is cut at the switch (no priority-0 advert: nat1 sees its carrier drop and
# goes to FAULT); nat2 (prio 10) takes over after Master_Down_Interval
# 3 x 100 ms + (256-10) x 100/256 ms = 396 ms. The link comes back, nat1
# stays backup (nopreempt); nat2 is stopped and resigns: nat1 takes over
# after Skew_Time (256-100) x 100/256 ms = 61 ms. Then nat1 stops.
scen_v3-100ms() {
	keepalived_start nat1
	sleep 2
	keepalived_start nat2
	sleep 1
	ping_start
	sleep 3
	log "cutting nat1's link (p-nat1 down in the switch)"
	ip -n "$SW" link set p-nat1 down
	sleep 4
	log "restoring nat1's link"
	ip -n "$SW" link set p-nat1 up
	sleep 4
	keepalived_stop nat2
	sleep 3
	keepalived_stop nat1
	sleep 1
}

# The client drops every incoming gratuitous ARP request (sender IP = target
# IP) before the kernel's ARP code sees it. nat1 stops and resigns, nat2 takes
# over with GARPs that are on the wire but ignored: the client keeps sending
# to nat1's MAC until its entry goes stale and its unicast probes to nat1 fail.
scen_client-ignores-garp() {
	short_neigh
	ip netns exec "$HERE" nft -f - <<-'EOF'
		table arp client {
			chain in {
				type filter hook input priority 0; policy accept;
				arp operation request arp saddr ip 192.168.33.100 arp daddr ip 192.168.33.100 counter drop
			}
		}
	EOF
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	ping_start
	sleep 4
	keepalived_stop nat1
	sleep 15
	ip netns exec "$HERE" nft list table arp client >"$LOGS/client-nft.txt"
	keepalived_stop nat2
	sleep 1
}

# VRRPv2, nat1 advert_int 1, nat2 advert_int 2: keepalived drops adverts whose
# interval differs from its own, so each side never hears the other and both
# become master.
scen_interval-mismatch() {
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4
	ping_start
	sleep 14
	# The client stops first, so the capture ends with the split brain
	# and not with a client left on a router that gave the VIP up.
	log "client stops pinging"
	stop_pid "$ping_PID"
	sleep 0.5
	keepalived_stop nat2
	sleep 1
	keepalived_stop nat1
	sleep 1
}

# VRRPv2 with simple-password authentication, "secret1" on nat1 and
# "secret2" on nat2: keepalived drops adverts with the wrong password, so
# both become master.
scen_auth-mismatch() {
	scen_interval-mismatch
}

# nat1 has vrrp_strict: on becoming master keepalived loads an nftables table
# that drops IP traffic to the VIP (in nat1's namespace). The client resolves
# the VIP (ARP is not filtered) and pings it without replies. Then nat1 stops;
# nat2 (no vrrp_strict) takes over and answers.
scen_vrrp-strict() {
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	ip netns exec "$NAT1" nft list ruleset >"$LOGS/nat1-nft.txt" 2>&1 || true
	ping_start
	sleep 8
	keepalived_stop nat1
	sleep 5
	keepalived_stop nat2
	sleep 1
}

# The bridge drops every gratuitous ARP that arrives from nat2's port. nat1
# stops and resigns, nat2 takes over, its GARPs never reach the wire the
# client sees: the client keeps nat1's MAC until its entry goes stale.
scen_no-garp() {
	short_neigh
	ip netns exec "$SW" nft -f - <<-'EOF'
		table bridge sw {
			chain drop_garp {
				type filter hook forward priority 0; policy accept;
				iifname "p-nat2" ether type arp arp operation request arp saddr ip 192.168.33.100 arp daddr ip 192.168.33.100 counter drop
			}
		}
	EOF
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	ping_start
	sleep 4
	keepalived_stop nat1
	sleep 15
	ip netns exec "$SW" nft list table bridge sw >"$LOGS/switch-nft.txt"
	keepalived_stop nat2
	sleep 1
}

# --- main -----------------------------------------------------------------

rec_main "$@"

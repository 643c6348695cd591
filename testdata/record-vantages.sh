#!/bin/bash
# record-vantages.sh: record the incidents of testdata/vantages/: keepalived
# 2.2.7 captured at three places at once, the client's eth1 and each
# router's own eth1 (both directions: what the router sent and what reached
# it), so that what was lost on the way, and where, shows.
#
# Usage (root, Debian 12 with keepalived, tcpdump, nftables, iproute2,
# iputils-ping):
#
#   testdata/record-vantages.sh [-o DIR] [SCENARIO...]
#
# Scenarios: garps-dropped client-drops-garp vrrp-one-way (default: all).
# Each writes DIR/SCENARIO/here.pcap, nat1.pcap and nat2.pcap (DIR defaults
# to the current directory) and DIR/SCENARIO/logs/ with keepalived's logs
# (every line prefixed with the Unix time it was written), the script's own
# events (events.log: seconds from the moment the captures were listening,
# whose Unix time is on its first line) and the nftables rules with their
# counters as they were when the rule was lifted.
#
# The topology, clean-up and capture code is record-lib.sh's, shared with
# record.sh and record-vmac.sh: namespaces vrrec<pid>-<n>-{sw,here,nat1,nat2},
# the client `here` (192.168.33.2) and the routers nat1 (.101) and nat2
# (.102) on one bridge (ports p-here, p-nat1, p-nat2), each capture taken
# with
#   tcpdump -s 0 --immediate-mode -w FILE -i eth1 not ip6
# in the host's namespace while the client pings the VIP (192.168.33.100)
# every 200 ms. The three captures are taken on one machine, so their
# clocks agree: a test moves them by known amounts to check the alignment.
#
# keepalived: testdata/keepalived/vantages-nat1.conf and -nat2.conf for
# every scenario (nat1 MASTER priority 100, nat2 BACKUP priority 10, VRRPv2,
# advert_int 1, keepalived's GARP defaults). The client has short neighbour
# timers (base_reachable_time_ms 4000, delay_first_probe_time 2), so that a
# stale entry for the VIP ends within the capture.

set -euo pipefail

HERE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF_DIR=$HERE_DIR/keepalived
PROG=record-vantages.sh
ALL=(garps-dropped client-drops-garp vrrp-one-way)
TOOLS=(ip:iproute2 keepalived:keepalived tcpdump:tcpdump nft:nftables ping:iputils-ping)
VANTAGE_CAPTURES=1
conf_files() { echo "$CONF_DIR/vantages-nat1.conf" "$CONF_DIR/vantages-nat2.conf"; }

# shellcheck source=record-lib.sh
. "$HERE_DIR/record-lib.sh"

# Every scenario runs the same pair.
keepalived_conf() { echo "$CONF_DIR/vantages-$1.conf"; }

# snapshot LABEL: who holds the VIP, appended to $LOGS/snapshots.txt.
snapshot() {
	local h
	{
		log "snapshot: $1"
		for h in nat1 nat2; do
			echo "--- $h"
			ip -n "$(ns_of $h)" -4 addr show dev eth1 | grep inet || true
		done
		echo "--- here: neighbour entry for $VIP"
		ip -n "$HERE" neigh show "$VIP" || true
	} >>"$LOGS/snapshots.txt"
}

# pair_up: nat1, then nat2 half a second later; nat1 is master 3.6 s after
# its start, its second GARP burst 5 s later. Then the client pings.
pair_up() {
	keepalived_start nat1
	sleep 0.5
	keepalived_start nat2
	sleep 4.5
	snapshot "nat1 master"
	ping_start
	# Past nat1's second GARP burst: the faults below touch only what
	# follows.
	sleep 5
}

# failback: nat1 starts again and preempts (3.6 s after its start); its
# GARPs reach everyone, and the client follows at once.
failback() {
	sleep 1
	keepalived_start nat1
	sleep 7
	snapshot "nat1 master again"
}

# garps-dropped: the bridge drops gratuitous ARP requests for the VIP on
# their way out of the client's port (from any router). nat1 stops
# (priority 0); nat2 takes over and its GARPs reach nat1's eth1 (nat1's
# keepalived is stopped, its interface still up) but not the client, which
# keeps nat1's MAC until its entry goes stale and a broadcast request
# finds nat2. The rule is lifted; nat1 starts again and preempts: a
# healthy failback.
scen_garps-dropped() {
	short_neigh
	pair_up
	log "bridge drops GARPs toward the client"
	ip netns exec "$SW" nft -f - <<-EOF
		table bridge sw {
			chain drop_garp {
				type filter hook forward priority 0; policy accept;
				oifname "p-here" ether type arp arp operation request arp saddr ip $VIP arp daddr ip $VIP counter drop
			}
		}
	EOF
	sleep 1
	keepalived_stop nat1
	sleep 14
	snapshot "nat2 master"
	ip netns exec "$SW" nft list table bridge sw >"$LOGS/switch-nft.txt"
	ip netns exec "$SW" nft delete table bridge sw
	log "bridge forwards GARPs again"
	failback
}

# client-drops-garp: the client's nftables arp table drops incoming ARP
# requests whose sender and target are the VIP (what hosts and firewalls
# that ignore gratuitous ARP do); its capture, taken on eth1 before the
# filter, still holds them. nat1 stops; nat2 takes over; the client keeps
# nat1's MAC until its entry goes stale. The rule is lifted; nat1 starts
# again and preempts: a healthy failback.
scen_client-drops-garp() {
	short_neigh
	ip netns exec "$HERE" nft -f - <<-EOF
		table arp client {
			chain in {
				type filter hook input priority 0; policy accept;
				arp operation request arp saddr ip $VIP arp daddr ip $VIP counter drop
			}
		}
	EOF
	log "client drops incoming gratuitous ARP for the VIP"
	pair_up
	keepalived_stop nat1
	sleep 14
	snapshot "nat2 master"
	ip netns exec "$HERE" nft list table arp client >"$LOGS/client-nft.txt"
	ip netns exec "$HERE" nft delete table arp client
	log "client accepts gratuitous ARP again"
	failback
}

# vrrp-one-way: the bridge drops VRRP from nat1's port on its way out of
# nat2's (one way: nat1 still hears nat2). nat2 stops hearing the master,
# becomes master too after its Master_Down_Interval (3.96 s), and the two
# hold the VIP for about 5 s; nat1 answers each of nat2's lower-priority
# adverts with an advert and GARPs. The rule is lifted: nat2 hears nat1
# and goes back to backup. Ten more seconds show nat1 alone.
scen_vrrp-one-way() {
	pair_up
	log "bridge drops VRRP from nat1 toward nat2"
	ip netns exec "$SW" nft -f - <<-'EOF'
		table bridge sw {
			chain one_way {
				type filter hook forward priority 0; policy accept;
				iifname "p-nat1" oifname "p-nat2" ip protocol vrrp counter drop
			}
		}
	EOF
	sleep 6
	snapshot "both master"
	sleep 3.5
	ip netns exec "$SW" nft list table bridge sw >"$LOGS/switch-nft.txt"
	ip netns exec "$SW" nft delete table bridge sw
	log "bridge forwards VRRP again"
	sleep 1
	snapshot "nat1 master alone"
	sleep 9
}

# --- main -----------------------------------------------------------------

rec_main "$@"

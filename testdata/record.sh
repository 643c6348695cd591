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
# vrrec<pid>-<n>-{sw,here,nat1,nat2}:
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
OUT=$PWD
ALL=(v3-100ms client-ignores-garp interval-mismatch auth-mismatch vrrp-strict no-garp)
VIP=192.168.33.100

while getopts "o:h" opt; do
	case $opt in
	o) OUT=$OPTARG ;;
	h) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL[@]}")

[ "$(id -u)" = 0 ] || { echo "record.sh: must run as root" >&2; exit 2; }
for c in ip keepalived tcpdump nft ping; do
	command -v "$c" >/dev/null || { echo "record.sh: $c is not installed" >&2; exit 2; }
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

RUN=$(mktemp -d /tmp/vrrec.XXXXXX)
ID=vrrec$$
SEQ=0
NAMESPACES=() # every namespace created, for cleanup
PIDS=()       # every background process started, for cleanup

# --- clean-up -------------------------------------------------------------

# stop_pid PID: SIGTERM, then SIGKILL after 5 s; only processes we started.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	for ns in "${NAMESPACES[@]}"; do
		# Anything still running in a namespace of ours was started by us.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$RUN"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- topology -------------------------------------------------------------

# topology: build a fresh switch, client and two routers; sets SW HERE NAT1 NAT2.
topology() {
	SEQ=$((SEQ + 1))
	local p=$ID-$SEQ h ip
	SW=$p-sw HERE=$p-here NAT1=$p-nat1 NAT2=$p-nat2
	for ns in "$SW" "$HERE" "$NAT1" "$NAT2"; do
		ip netns add "$ns"
		NAMESPACES+=("$ns")
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip -n "$SW" link add br0 type bridge mcast_snooping 0
	ip -n "$SW" link set br0 up
	for h in here:2 nat1:101 nat2:102; do
		ip=${h#*:} h=${h%%:*}
		ip -n "$SW" link add "p-$h" type veth peer name eth1 netns "$p-$h"
		ip -n "$SW" link set "p-$h" master br0 up
		ip netns exec "$p-$h" sysctl -qw net.ipv6.conf.eth1.disable_ipv6=1
		ip -n "$p-$h" addr add "192.168.33.$ip/24" dev eth1
		ip -n "$p-$h" link set eth1 up
	done
}

# --- processes ------------------------------------------------------------

# bg NAME NS CMD...: run CMD in NS in the background, log to $LOGS/NAME.log;
# the pid is left in the variable named NAME_PID (dashes become underscores).
bg() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$LOGS/$name.log" 2>&1 &
	PIDS+=($!)
	printf -v "${name//-/_}_PID" %d $!
}

# keepalived HOST: start keepalived (VRRP only, own pid files, console log).
keepalived_start() {
	local host=$1 ns dir=$RUN/$1
	ns=$([ "$host" = nat1 ] && echo "$NAT1" || echo "$NAT2")
	mkdir -p "$dir"
	bg "ka-$host" "$ns" keepalived --dont-fork --log-console --log-detail --no-syslog --vrrp \
		--use-file="$CONF_DIR/$SCEN-$host.conf" \
		--pid="$dir/keepalived.pid" --vrrp_pid="$dir/vrrp.pid" \
		--checkers_pid="$dir/checkers.pid" --bfd_pid="$dir/bfd.pid"
	log "keepalived started on $host"
}

# keepalived_stop HOST: SIGTERM, keepalived's graceful stop (a master sends a
# priority-0 advert), and wait for it to exit.
keepalived_stop() {
	local v=ka_$1_PID
	log "stopping keepalived on $1"
	stop_pid "${!v}"
}

T0=0
log() { awk -v t="$EPOCHREALTIME" -v t0="$T0" -v m="$*" 'BEGIN { printf "%8.3f  %s\n", t - t0, m }'; }

# capture_start / capture_stop: tcpdump on the client's eth1.
capture_start() {
	bg tcpdump "$HERE" tcpdump -Z root -s 0 --immediate-mode -w "$RUN/$SCEN.pcap" -i eth1 not ip6
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$LOGS/tcpdump.log" 2>/dev/null && break
		sleep 0.1
	done
	T0=$EPOCHREALTIME
	log "capture started"
}
capture_stop() {
	log "capture stopped"
	stop_pid "$ping_PID" 2>/dev/null || true
	stop_pid "$tcpdump_PID"
	cp "$RUN/$SCEN.pcap" "$OUT/$SCEN.pcap"
	rm -rf "$OUT/$SCEN-logs"
	cp -r "$LOGS" "$OUT/$SCEN-logs"
	echo "$SCEN: $OUT/$SCEN.pcap ($(stat -c %s "$OUT/$SCEN.pcap") bytes), logs in $OUT/$SCEN-logs"
}
ping_start() {
	bg ping "$HERE" ping -n -i 0.2 "$VIP"
	log "client pings $VIP every 200 ms"
}

# short_neigh: a client whose ARP entries go stale quickly (entries stay
# REACHABLE 2-6 s, the first unicast probe 2 s after a stale entry is used),
# so a stale entry for the VIP ends within a short capture.
short_neigh() {
	ip netns exec "$HERE" sysctl -qw net.ipv4.neigh.eth1.base_reachable_time_ms=4000 \
		net.ipv4.neigh.eth1.delay_first_probe_time=2
}

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

for SCEN in "${SCENARIOS[@]}"; do
	case " ${ALL[*]} " in
	*" $SCEN "*) ;;
	*) echo "record.sh: unknown scenario $SCEN (want one of: ${ALL[*]})" >&2; exit 2 ;;
	esac
	for h in nat1 nat2; do
		[ -r "$CONF_DIR/$SCEN-$h.conf" ] || { echo "record.sh: missing $CONF_DIR/$SCEN-$h.conf" >&2; exit 2; }
	done
done

for SCEN in "${SCENARIOS[@]}"; do
	echo "=== $SCEN"
	LOGS=$RUN/logs-$SCEN
	mkdir -p "$LOGS"
	chmod 0755 "$RUN"
	topology
	ping_PID=""
	capture_start
	"scen_$SCEN"
	capture_stop
	# Tear this topology down before the next one.
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	PIDS=()
	for ns in "$SW" "$HERE" "$NAT1" "$NAT2"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
		ip netns del "$ns"
	done
	NAMESPACES=()
done

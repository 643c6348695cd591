# record-lib.sh: the topology, clean-up and process code shared by
# record.sh, record-vmac.sh and record-vantages.sh. It is sourced, not run.
#
# The sourcing script sets, before calling rec_main "$@":
#   PROG      its name, for messages
#   ALL       the scenario names (the default when none is given)
#   TOOLS     the commands it needs, each as "command:Debian package"
#             (or "/absolute/path:package"); rec_main names the missing ones
#   CONF_DIR  where keepalived_start finds SCEN-nat1.conf and -nat2.conf
#   conf_files SCEN   a function printing the configuration files SCEN
#             needs (checked for existence before anything is created)
#   scen_SCEN a function per scenario
# and may define check_system (further checks before anything is created),
# teardown_hook, and PORT_CAPTURES=1 or VANTAGE_CAPTURES=1 (see
# capture_start). Per scenario, a
# function scen_setup_SCEN, run before the topology is built, may set
#   FAMILY    ipv4 (default: IPv6 disabled everywhere, capture filter
#             "not ip6") or ipv6 (IPv6 on the hosts, nothing filtered)
#
# Every scenario builds its own topology from network namespaces named
# vrrec<pid>-<n>-{sw,here,nat1,nat2}:
#
#   here  192.168.33.2/24    client, capture point (eth1)
#   nat1  192.168.33.101/24  VRRP router 1
#   nat2  192.168.33.102/24  VRRP router 2
#   sw    bridge br0 (multicast snooping off) with ports p-here, p-nat1,
#         p-nat2, the other ends of the hosts' eth1
#
# With FAMILY=ipv6 the hosts also have 2001:db8:33::2, ::101 and ::102/64
# (nodad) and their link-local addresses; the switch namespace keeps IPv6
# off, so the bridge itself sends nothing.
#
# Nothing is created in the namespace the script is started from: the
# veths are created inside the switch namespace, the bridge lives there,
# and all nftables rules (the scenarios' and the daemons' own) are loaded
# into the namespaces. A trap stops every process the script started,
# deletes every namespace (with them the veths and the bridge) and every
# directory registered in CLEAN_DIRS, on every exit (and calls the sourcing
# script's teardown_hook, if it has one, once the processes are gone).

RUN=""
ID=vrrec$$
SEQ=0
NAMESPACES=() # every namespace created, for cleanup
PIDS=()       # every background process started, for cleanup
CLEAN_DIRS=() # directories outside $RUN to remove on exit
FAMILY=ipv4
VIP=192.168.33.100
VIP6=2001:db8:33::100

# --- clean-up -------------------------------------------------------------

# stop_pid PID: SIGTERM, then SIGKILL after 5 s; only processes we started.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# teardown: stop our processes, delete our namespaces and directories.
teardown() {
	local pid ns d
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	PIDS=()
	for ns in "${NAMESPACES[@]}"; do
		# Anything still running in a namespace of ours was started by us.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
		ip netns del "$ns" 2>/dev/null || true
	done
	NAMESPACES=()
	! declare -F teardown_hook >/dev/null || teardown_hook
	for d in "${CLEAN_DIRS[@]}"; do rm -rf "$d"; done
	CLEAN_DIRS=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	teardown
	[ -z "$RUN" ] || rm -rf "$RUN"
	exit "$rc"
}

# --- topology -------------------------------------------------------------

# topology: build a fresh switch, client and two routers; sets SW HERE NAT1
# NAT2 and, for FAMILY=ipv6, gives the hosts IPv6.
topology() {
	SEQ=$((SEQ + 1))
	local p=$ID-$SEQ h ip ns
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
		if [ "$FAMILY" = ipv6 ]; then
			ip netns exec "$p-$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
				net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.eth1.disable_ipv6=0
			ip -n "$p-$h" addr add "2001:db8:33::$ip/64" dev eth1 nodad
		else
			ip netns exec "$p-$h" sysctl -qw net.ipv6.conf.eth1.disable_ipv6=1
		fi
		ip -n "$p-$h" addr add "192.168.33.$ip/24" dev eth1
		ip -n "$p-$h" link set eth1 up
	done
}

# ns_of HOST: the namespace of nat1, nat2 or here.
ns_of() {
	case $1 in
	nat1) echo "$NAT1" ;;
	nat2) echo "$NAT2" ;;
	here) echo "$HERE" ;;
	sw) echo "$SW" ;;
	*) echo "record: no host $1" >&2; return 1 ;;
	esac
}

# --- processes ------------------------------------------------------------

# stamp: copy stdin to stdout, each line prefixed with the Unix time it was
# read (microseconds), so daemon logs can be set against the capture.
stamp() {
	local l
	while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done
}

# bg NAME NS CMD...: run CMD in NS in the background, log to $LOGS/NAME.log;
# the pid is left in the variable named NAME_PID (dashes become underscores).
bg() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$LOGS/$name.log" 2>&1 &
	PIDS+=($!)
	printf -v "${name//-/_}_PID" %d $!
}

# bg_stamped NAME NS CMD...: as bg, with every log line time-stamped, and
# appending: a daemon started twice keeps both runs in one log.
bg_stamped() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" > >(stamp >>"$LOGS/$name.log") 2>&1 &
	PIDS+=($!)
	printf -v "${name//-/_}_PID" %d $!
}

# keepalived_start HOST [ARGS...]: start keepalived (VRRP only, own pid
# files, console log, time-stamped) with the scenario's configuration for
# HOST; ARGS are passed on.
keepalived_start() {
	local host=$1 ns dir=$RUN/$1 conf
	shift
	ns=$(ns_of "$host")
	conf=$(keepalived_conf "$host")
	mkdir -p "$dir"
	bg_stamped "ka-$host" "$ns" keepalived --dont-fork --log-console --log-detail --no-syslog --vrrp \
		--use-file="$conf" \
		--pid="$dir/keepalived.pid" --vrrp_pid="$dir/vrrp.pid" \
		--checkers_pid="$dir/checkers.pid" --bfd_pid="$dir/bfd.pid" "$@"
	log "keepalived started on $host"
}

# keepalived_conf HOST: the configuration file keepalived reads for HOST.
# A scenario may override it (to fill in a run-time path, say).
keepalived_conf() { echo "$CONF_DIR/$SCEN-$1.conf"; }

# keepalived_stop HOST: SIGTERM, keepalived's graceful stop (a master sends a
# priority-0 advert), and wait for it to exit.
keepalived_stop() {
	local v=ka_$1_PID
	log "stopping keepalived on $1"
	stop_pid "${!v}"
}

T0=0
log() { awk -v t="$EPOCHREALTIME" -v t0="$T0" -v m="$*" 'BEGIN { printf "%8.3f  %s\n", t - t0, m }' | tee -a "$LOGS/events.log"; }

# capture_start / capture_stop: tcpdump on the client's eth1 and, with
# PORT_CAPTURES=1, on the bridge ports of nat1 and nat2 (frames coming in
# from the routers only) into $LOGS/port-nat1.pcap and port-nat2.pcap;
# with VANTAGE_CAPTURES=1, on each router's own eth1 inside its namespace
# (both directions: what it sent and what reached it), and the scenario's
# captures are written to $OUT/SCEN/here.pcap, nat1.pcap and nat2.pcap
# (its logs to $OUT/SCEN/logs) instead of $OUT/SCEN.pcap.
capture_start() {
	local filter=() h i
	[ "$FAMILY" = ipv6 ] || filter=(not ip6)
	bg tcpdump "$HERE" tcpdump -Z root -s 0 --immediate-mode -w "$RUN/$SCEN.pcap" -i eth1 "${filter[@]}"
	for i in $(seq 50); do
		grep -q "listening on" "$LOGS/tcpdump.log" 2>/dev/null && break
		sleep 0.1
	done
	if [ "${PORT_CAPTURES:-0}" = 1 ]; then
		# What each router sends, as the bridge receives it: ground truth
		# for frames whose source MAC does not tell who sent them.
		for h in nat1 nat2; do
			bg "tcpdump-$h" "$SW" tcpdump -Z root -s 0 --immediate-mode -Q in -w "$LOGS/port-$h.pcap" -i "p-$h" "${filter[@]}"
		done
		for h in nat1 nat2; do
			for i in $(seq 50); do
				grep -q "listening on" "$LOGS/tcpdump-$h.log" 2>/dev/null && break
				sleep 0.1
			done
		done
	fi
	if [ "${VANTAGE_CAPTURES:-0}" = 1 ]; then
		# Each router's own capture, on its own eth1: the same clock as
		# the client's (one kernel), so the truth of the alignment is 0.
		for h in nat1 nat2; do
			bg "tcpdump-$h" "$(ns_of $h)" tcpdump -Z root -s 0 --immediate-mode -w "$RUN/$h.pcap" -i eth1 "${filter[@]}"
		done
		for h in nat1 nat2; do
			for i in $(seq 50); do
				grep -q "listening on" "$LOGS/tcpdump-$h.log" 2>/dev/null && break
				sleep 0.1
			done
		done
	fi
	T0=$EPOCHREALTIME
	log "capture started (Unix time $T0)"
}
capture_stop() {
	local h
	log "capture stopped"
	stop_pid "$ping_PID" 2>/dev/null || true
	stop_pid "$tcpdump_PID"
	stop_pid "${tcpdump_nat1_PID:-}"
	stop_pid "${tcpdump_nat2_PID:-}"
	if [ "${VANTAGE_CAPTURES:-0}" = 1 ]; then
		mkdir -p "$OUT/$SCEN"
		cp "$RUN/$SCEN.pcap" "$OUT/$SCEN/here.pcap"
		for h in nat1 nat2; do cp "$RUN/$h.pcap" "$OUT/$SCEN/$h.pcap"; done
		return
	fi
	cp "$RUN/$SCEN.pcap" "$OUT/$SCEN.pcap"
}
# save_logs: copy the scenario's logs to $OUT/SCEN-logs ($OUT/SCEN/logs
# with VANTAGE_CAPTURES=1).
save_logs() {
	local h
	if [ "${VANTAGE_CAPTURES:-0}" = 1 ]; then
		rm -rf "$OUT/$SCEN/logs"
		cp -r "$LOGS" "$OUT/$SCEN/logs"
		for h in here nat1 nat2; do
			echo "$SCEN: $OUT/$SCEN/$h.pcap ($(stat -c %s "$OUT/$SCEN/$h.pcap") bytes)"
		done
		echo "$SCEN: logs in $OUT/$SCEN/logs"
		return
	fi
	rm -rf "$OUT/$SCEN-logs"
	cp -r "$LOGS" "$OUT/$SCEN-logs"
	echo "$SCEN: $OUT/$SCEN.pcap ($(stat -c %s "$OUT/$SCEN.pcap") bytes), logs in $OUT/$SCEN-logs"
}
ping_start() {
	if [ "$FAMILY" = ipv6 ]; then
		bg ping "$HERE" ping -6 -n -i 0.2 "$VIP6"
		log "client pings $VIP6 every 200 ms"
	else
		bg ping "$HERE" ping -n -i 0.2 "$VIP"
		log "client pings $VIP every 200 ms"
	fi
}

# short_neigh: a client whose ARP entries go stale quickly (entries stay
# REACHABLE 2-6 s, the first unicast probe 2 s after a stale entry is used),
# so a stale entry for the VIP ends within a short capture.
short_neigh() {
	ip netns exec "$HERE" sysctl -qw net.ipv4.neigh.eth1.base_reachable_time_ms=4000 \
		net.ipv4.neigh.eth1.delay_first_probe_time=2
}

# --- main -----------------------------------------------------------------

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# rec_main ARGS...: parse the options, check the tools, record the scenarios.
rec_main() {
	local opt SCENARIOS c f missing=()
	OUT=$PWD
	while getopts "o:h" opt; do
		case $opt in
		o) OUT=$OPTARG ;;
		h) usage; exit 0 ;;
		*) exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	SCENARIOS=("$@")
	[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL[@]}")

	[ "$(id -u)" = 0 ] || { echo "$PROG: must run as root" >&2; exit 2; }
	for c in "${TOOLS[@]}"; do
		if [[ $c == /* ]]; then
			[ -x "${c%%:*}" ] || missing+=("${c%%:*} (Debian package ${c#*:})")
		else
			command -v "${c%%:*}" >/dev/null || missing+=("${c%%:*} (Debian package ${c#*:})")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "$PROG: missing: ${missing[*]}" >&2
		exit 2
	fi
	! declare -F check_system >/dev/null || check_system
	for SCEN in "${SCENARIOS[@]}"; do
		case " ${ALL[*]} " in
		*" $SCEN "*) ;;
		*) echo "$PROG: unknown scenario $SCEN (want one of: ${ALL[*]})" >&2; exit 2 ;;
		esac
		for f in $(conf_files "$SCEN"); do
			[ -r "$f" ] || { echo "$PROG: missing $f" >&2; exit 2; }
		done
	done
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	RUN=$(mktemp -d /tmp/vrrec.XXXXXX)

	for SCEN in "${SCENARIOS[@]}"; do
		echo "=== $SCEN"
		LOGS=$RUN/logs-$SCEN
		mkdir -p "$LOGS"
		chmod 0755 "$RUN" "$LOGS"
		FAMILY=ipv4
		! declare -F "scen_setup_$SCEN" >/dev/null || "scen_setup_$SCEN"
		topology
		ping_PID=""
		T0=$EPOCHREALTIME
		capture_start
		"scen_$SCEN"
		capture_stop
		# Tear this topology down before the next one, then keep the logs
		# (daemons write their last lines as they stop).
		teardown
		save_logs
	done
}

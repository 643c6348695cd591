package kaconf

import (
	"sort"
	"strconv"
)

// Status says what vrrpctl's speaker (vrrpd.FromKeepalived) does with a
// keyword. The analyzer reads what it needs whatever the status.
type Status uint8

const (
	// Implemented: the speaker does what keepalived does with it.
	Implemented Status = iota + 1
	// Refused: the keyword changes what goes on the wire or a failover
	// decision, and the speaker does not do it: a configuration using it is
	// refused unless the speaker is told to run without it.
	Refused
	// Ignored: the speaker runs without it, and that is harmless to the
	// protocol (logging, e-mail, SNMP, the load balancer's settings...); the
	// speaker still says so at start.
	Ignored
)

func (s Status) String() string {
	switch s {
	case Implemented:
		return "implemented"
	case Refused:
		return "refused"
	case Ignored:
		return "ignored"
	}
	return "status-" + strconv.Itoa(int(s))
}

// The sections of a configuration whose keywords the tables describe, in
// the order Keywords lists them. "top" is the file's top level;
// "authentication" the block inside a vrrp_instance.
var Sections = []string{"top", "global_defs", "vrrp_instance", "authentication",
	"vrrp_sync_group", "vrrp_script", "track_file", "vrrp_track_process"}

// KeywordInfo describes one keyword of keepalived 2.2.7 in one section.
type KeywordInfo struct {
	Section string
	Name    string
	Status  Status
	Note    string // what the speaker does, where Status alone does not say it
}

// known is a keyword this package does not interpret: what the speaker
// does with it.
type known struct {
	status Status
	note   string
}

func refused(note string) known { return known{Refused, note} }
func ignored(note string) known { return known{Ignored, note} }

const (
	noteLVS       = "the load balancer's (keepalived's checker process); the speaker only speaks VRRP"
	noteBFD       = "BFD is not implemented"
	noteProcess   = "process settings of keepalived's own daemons"
	noteMail      = "e-mail alerts are not sent"
	noteSNMP      = "no SNMP or D-Bus: the speaker serves /status and /metrics"
	noteBufs      = "socket buffer sizes of keepalived's netlink sockets"
	noteFIFO      = "no notify FIFO: use the notify scripts"
	noteFirewall  = "the speaker manages no firewall rules; they matter only with no_accept or strict, which are refused"
	noteReload    = "keepalived's reload mechanics; the speaker reloads on SIGHUP (see the README)"
	noteTrackProc = "process tracking is not implemented"
)

// otherKeywords are the keywords of keepalived 2.2.7 that this package
// reads no value of, by section, with what the speaker does with them. A
// block keyword here is skipped with its block.
var otherKeywords = map[string]map[string]known{
	"top": {
		"vrrp_track_process":       ignored("defines a tracked process; tracking one (track_process) is refused"),
		"garp_group":               refused("per-interface GARP pacing is not implemented: use vrrp_garp_interval"),
		"linkbeat_interfaces":      ignored("link state comes from netlink"),
		"static_ipaddress":         refused("the speaker adds no static addresses"),
		"static_routes":            refused("the speaker adds no static routes"),
		"static_rules":             refused("the speaker adds no static rules"),
		"track_group":              ignored("groups of static addresses, which are refused"),
		"interface_up_down_delays": refused("link changes take effect at once"),
		"net_namespace":            refused("use vrrpctl speaker --netns"),
		"net_namespace_ipvs":       ignored(noteLVS),
		"namespace_with_ipsets":    ignored(noteFirewall),
		"use_pid_dir":              ignored(noteProcess),
		"instance":                 ignored(noteProcess),
		"child_wait_time":          ignored(noteProcess),
		"linkbeat_use_polling":     ignored("link state comes from netlink"),
		"virtual_server":           refused(noteLVS),
		"virtual_server_group":     refused(noteLVS),
		"bfd_instance":             ignored(noteBFD + "; tracking one (track_bfd) is refused"),
	},
	"global_defs": {
		"process_names": ignored(noteProcess), "process_name": ignored(noteProcess),
		"vrrp_process_name": ignored(noteProcess), "checker_process_name": ignored(noteProcess),
		"lvs_process_name": ignored(noteProcess), "bfd_process_name": ignored(noteProcess),
		"notification_email_from": ignored(noteMail), "smtp_server": ignored(noteMail),
		"smtp_helo_name": ignored(noteMail), "smtp_connect_timeout": ignored(noteMail),
		"notification_email": ignored(noteMail), "smtp_alert": ignored(noteMail),
		"smtp_alert_vrrp": ignored(noteMail), "smtp_alert_checker": ignored(noteMail),
		"no_email_faults": ignored(noteMail), "no_checker_emails": ignored(noteMail),
		"startup_script":          refused("no start-up script is run"),
		"startup_script_timeout":  ignored("startup_script is refused"),
		"shutdown_script":         refused("no shutdown script is run"),
		"shutdown_script_timeout": ignored("shutdown_script is refused"),
		"max_auto_priority":       ignored(noteProcess), "min_auto_priority_delay": ignored(noteProcess),
		"checker_log_all_failures": ignored(noteLVS),
		"dynamic_interfaces":       ignored("an interface missing at start is an error"),
		"default_interface":        ignored("used by static addresses and virtual servers, which are refused"),
		"disable_local_igmp":       ignored("the kernel sends the IGMP/MLD joins"),
		"lvs_timeouts":             ignored(noteLVS), "lvs_flush": ignored(noteLVS),
		"lvs_flush_on_stop": ignored(noteLVS), "lvs_flush_onstop": ignored(noteLVS),
		"lvs_sync_daemon":      ignored(noteLVS),
		"vrrp_min_garp":        refused("a different GARP schedule: set the vrrp_garp_* keywords"),
		"vrrp_garp_extra_if":   refused("GARPs on the parent of a virtual-MAC interface are not sent"),
		"vrrp_vmac_garp_intvl": refused("GARPs on the parent of a virtual-MAC interface are not sent"),
		"nftables_priority":    ignored(noteFirewall), "nftables_ifindex": ignored(noteFirewall),
		"nftables_ipvs": ignored(noteLVS), "nftables_ipvs_priority": ignored(noteLVS),
		"nftables_ipvs_start_fwmark": ignored(noteLVS), "nftables_counters": ignored(noteFirewall),
		"vrrp_priority": ignored(noteProcess), "vrrp_no_swap": ignored(noteProcess),
		"vrrp_rt_priority": ignored(noteProcess), "vrrp_cpu_affinity": ignored(noteProcess),
		"vrrp_rlimit_rttime": ignored(noteProcess), "vrrp_rlimit_rtime": ignored(noteProcess),
		"notify_fifo": ignored(noteFIFO), "notify_fifo_script": ignored(noteFIFO),
		"vrrp_notify_fifo": ignored(noteFIFO), "vrrp_notify_fifo_script": ignored(noteFIFO),
		"vrrp_notify_priority_changes": ignored("priority changes are logged, not sent to notify scripts"),
		"lvs_notify_fifo":              ignored(noteLVS), "lvs_notify_fifo_script": ignored(noteLVS),
		"checker_priority": ignored(noteProcess), "checker_no_swap": ignored(noteProcess),
		"checker_rt_priority": ignored(noteProcess), "checker_cpu_affinity": ignored(noteProcess),
		"checker_rlimit_rttime": ignored(noteProcess), "checker_rlimit_rtime": ignored(noteProcess),
		"bfd_priority": ignored(noteProcess), "bfd_no_swap": ignored(noteProcess),
		"bfd_rt_priority": ignored(noteProcess), "bfd_cpu_affinity": ignored(noteProcess),
		"bfd_rlimit_rttime": ignored(noteProcess), "bfd_rlimit_rtime": ignored(noteProcess),
		"snmp_socket": ignored(noteSNMP), "enable_traps": ignored(noteSNMP),
		"enable_snmp_vrrp": ignored(noteSNMP), "enable_snmp_keepalived": ignored(noteSNMP),
		"enable_snmp_rfc": ignored(noteSNMP), "enable_snmp_rfcv2": ignored(noteSNMP),
		"enable_snmp_rfcv3": ignored(noteSNMP), "enable_snmp_checker": ignored(noteSNMP),
		"enable_dbus": ignored(noteSNMP), "dbus_service_name": ignored(noteSNMP),
		"enable_script_security":    ignored("scripts run as their user or script_user, without keepalived's path checks"),
		"vrrp_netlink_cmd_rcv_bufs": ignored(noteBufs), "vrrp_netlink_cmd_rcv_bufs_force": ignored(noteBufs),
		"vrrp_netlink_monitor_rcv_bufs": ignored(noteBufs), "vrrp_netlink_monitor_rcv_bufs_force": ignored(noteBufs),
		"process_monitor_rcv_bufs": ignored(noteBufs), "process_monitor_rcv_bufs_force": ignored(noteBufs),
		"lvs_netlink_cmd_rcv_bufs": ignored(noteLVS), "lvs_netlink_cmd_rcv_bufs_force": ignored(noteLVS),
		"lvs_netlink_monitor_rcv_bufs": ignored(noteLVS), "lvs_netlink_monitor_rcv_bufs_force": ignored(noteLVS),
		"rs_init_notifies":    ignored(noteLVS),
		"vrrp_rx_bufs_policy": ignored(noteBufs), "vrrp_rx_bufs_multiplier": ignored(noteBufs),
		"vrrp_startup_delay": refused("the routers start at once"),
		"log_unknown_vrids":  ignored("adverts of unknown VRIDs are counted in /status and /metrics"),
		"vmac_prefix":        ignored("macvlans are named vrrp.VRID"), "vmac_addr_prefix": ignored("macvlans are named vrrp.VRID"),
		"umask": ignored(noteProcess), "random_seed": ignored(noteProcess),
		"reload_check_config": ignored(noteReload), "reload_time_file": ignored(noteReload),
		"reload_repeat": ignored(noteReload), "reload_file": ignored(noteReload),
		"include_check": ignored(noteReload), "tmp_config_directory": ignored(noteReload),
		"data_use_instance":                ignored(noteProcess),
		"vrrp_down_timer_adverts":          refused("Master_Down_Interval is always 3 adverts plus Skew_Time"),
		"fifo_write_vrrp_states_on_reload": ignored(noteFIFO),
		"config_save_dir":                  ignored(noteReload),
	},
	"vrrp_instance": {
		"use_vmac_addr":             refused("only use_vmac's macvlan is implemented"),
		"use_ipvlan":                refused("only use_vmac's macvlan is implemented"),
		"unicast_fault_no_peer":     refused("an instance without peers is not put in FAULT"),
		"old_unicast_checksum":      refused("the pre-1.3.6 unicast VRRPv3 checksum is not sent"),
		"vrf":                       refused("VRFs are not implemented"),
		"track_process":             refused(noteTrackProc),
		"track_bfd":                 refused(noteBFD),
		"track_src_ip":              refused("the source address is not tracked"),
		"promote_secondaries":       ignored("the kernel's promote_secondaries setting is left as it is"),
		"linkbeat_use_polling":      ignored("link state comes from netlink"),
		"virtual_routes":            refused("virtual routes are not added"),
		"virtual_rules":             refused("virtual rules are not added"),
		"debug":                     ignored("use --log-level"),
		"notify_deleted":            ignored("a deleted instance's notify scripts get STOP, not DELETED"),
		"smtp_alert":                ignored(noteMail),
		"notify_priority_changes":   ignored("priority changes are logged, not sent to notify scripts"),
		"lvs_sync_daemon_interface": ignored(noteLVS),
		"down_timer_adverts":        refused("Master_Down_Interval is always 3 adverts plus Skew_Time"),
		"garp_extra_if":             refused("GARPs on the parent of a virtual-MAC interface are not sent"),
		"vmac_garp_intvl":           refused("GARPs on the parent of a virtual-MAC interface are not sent"),
		"kernel_rx_buf_size":        ignored(noteBufs),
	},
	"vrrp_sync_group": {
		"track_process":           refused(noteTrackProc),
		"track_bfd":               refused(noteBFD),
		"smtp_alert":              ignored(noteMail),
		"notify_priority_changes": ignored("priority changes are logged, not sent to notify scripts"),
	},
	"vrrp_track_process": {
		"process": ignored(""), "param_match": ignored(""), "weight": ignored(""), "quorum": ignored(""),
		"quorum_max": ignored(""), "delay": ignored(""), "terminate_delay": ignored(""),
		"fork_delay": ignored(""), "full_command": ignored(""),
	},
}

// laterKeywords are keywords of keepalived releases after 2.2.7 that the
// speaker implements: keepalived 2.2.7 reports them as unknown.
var laterKeywords = map[string]map[string]bool{
	"vrrp_instance": {"v3_checksum_as_v2": true},
}

// Keywords lists every keyword of keepalived 2.2.7 in Sections (and the few
// later ones the speaker implements), section by section, each in
// alphabetical order, with what the speaker does with it.
func Keywords() []KeywordInfo {
	var out []KeywordInfo
	for _, sec := range Sections {
		start := len(out)
		for name, k := range interpreted[sec] {
			out = append(out, KeywordInfo{Section: sec, Name: name, Status: k.status, Note: k.note})
		}
		for name, k := range otherKeywords[sec] {
			out = append(out, KeywordInfo{Section: sec, Name: name, Status: k.status, Note: k.note})
		}
		part := out[start:]
		sort.Slice(part, func(i, j int) bool { return part[i].Name < part[j].Name })
	}
	return out
}

// statusOf returns the status of kw in section sec, and whether keepalived
// knows it there.
func statusOf(sec, kw string) (known, bool) {
	if k, ok := interpreted[sec][kw]; ok {
		return known{k.status, k.note}, true
	}
	k, ok := otherKeywords[sec][kw]
	return k, ok
}

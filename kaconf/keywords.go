package kaconf

import "strings"

// Keywords keepalived 2.2.7 accepts that this package does not interpret
// (keepalived.conf(5)). They are skipped with an Unsupported warning;
// other unknown keywords get a plain warning, as keepalived gives one.

var knownTop = wordSet(`
	bfd_instance garp_group linkbeat_interfaces net_namespace net_namespace_ipvs
	namespace_with_ipsets instance use_pid_dir static_ipaddress static_routes
	static_rules static_track_group track_file track_process vrrp_script
	vrrp_track_file vrrp_track_process virtual_server virtual_server_group
	checker_process_name vrrp_process_name bfd_process_name
`)

var knownGlobal = wordSet(`
	admin bfd_cpu_affinity bfd_no_swap bfd_priority bfd_process_name
	bfd_rlimit_rttime bfd_rt_priority checker_cpu_affinity checker_log_all_failures
	checker_no_swap checker_priority checker_process_name checker_rlimit_rttime
	checker_rt_priority child_wait_time config_save_dir data_use_instance
	dbus_service_name default_interface disable_local_igmp dynamic_interfaces
	enable_dbus enable_script_security enable_snmp_checker enable_snmp_rfc
	enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_vrrp enable_traps
	fifo_write_vrrp_states_on_reload include_check linkbeat_use_polling
	log_unknown_vrids lvs_flush lvs_flush_on_stop lvs_netlink_cmd_rcv_bufs
	lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs
	lvs_netlink_monitor_rcv_bufs_force lvs_notify_fifo lvs_notify_fifo_script
	lvs_sync_daemon lvs_timeouts max_auto_priority min_auto_priority_delay
	namespace_with_ipsets net_namespace net_namespace_ipvs
	nftables_counters nftables_ifindex nftables_ipvs nftables_ipvs_priority
	nftables_ipvs_start_fwmark nftables_priority no_checker_emails no_email_faults
	notification_email notification_email_from notify_fifo notify_fifo_script
	process_monitor_rcv_bufs process_monitor_rcv_bufs_force process_name
	process_names random_seed reload_check_config reload_file reload_repeat
	reload_time_file rs_init_notifies script_user shutdown_script
	shutdown_script_timeout smtp_alert smtp_alert_checker smtp_alert_vrrp
	smtp_connect_timeout smtp_helo_name smtp_server snmp_socket startup_script
	startup_script_timeout tmp_config_directory umask vmac_addr_prefix vmac_prefix
	vrrp_check_unicast_src vrrp_cpu_affinity vrrp_down_timer_adverts
	vrrp_garp_extra_if vrrp_ipsets vrrp_min_garp vrrp_netlink_cmd_rcv_bufs
	vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
	vrrp_netlink_monitor_rcv_bufs_force vrrp_no_swap vrrp_notify_fifo
	vrrp_notify_fifo_script vrrp_notify_priority_changes vrrp_priority
	vrrp_process_name vrrp_rlimit_rttime vrrp_rt_priority vrrp_rx_bufs_multiplier
	vrrp_rx_bufs_policy vrrp_startup_delay lvs_id lvs_sync_daemon_interface
`)

var knownInstance = wordSet(`
	check_unicast_src debug down_timer_adverts garp_extra_if kernel_rx_buf_size
	linkbeat_use_polling mcast_dst_ip mcast_src_ip notify_master_rx_lower_pri
	notify_priority_changes notify_deleted old_unicast_checksum promote_secondaries
	smtp_alert track_bfd track_file track_process track_src_ip
	unicast_fault_no_peer unicast_ttl use_ipvlan use_vmac_addr virtual_routes
	virtual_rules vrf lvs_sync_daemon_interface
`)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

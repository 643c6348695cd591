// Package monitoring holds what runs vrrpctl under Prometheus and Grafana,
// shipped in the Debian package and tested here:
//
//   - vrrpctl.rules.yml: recording and alerting rules over the metrics of
//     `vrrpctl watch --metrics-addr` (job vrrpctl-watch) and `vrrpctl
//     speaker` (job vrrpctl-speaker), with their unit tests in
//     vrrpctl.rules.test.yml (promtool test rules);
//   - prometheus.yml.example: the scrape configuration the rules expect;
//   - grafana/vrrpctl.json: a provisionable dashboard, and
//     grafana/provisioning.yml to provision it.
//
// The tests run promtool on the rules, and a real Prometheus server in a
// network namespace lab that scrapes a watcher and two speakers while a
// failover, a stale client, a split brain and a virtual router without a
// master are staged: the alerts must go pending, fire and resolve, and
// every query of the dashboard must return series. The package has no code.
package monitoring

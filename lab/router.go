package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// Impl names a VRRP implementation the routers can run.
type Impl string

const (
	// ImplVRRPD is vrrpctl's own speaker.
	ImplVRRPD Impl = "vrrpd"
	// ImplKeepalived is keepalived, found in PATH.
	ImplKeepalived Impl = "keepalived"
	// ImplMixed runs keepalived on nat1 and the speaker on nat2.
	ImplMixed Impl = "mixed"
)

// ParseImpl checks an --impl value.
func ParseImpl(s string) (Impl, error) {
	switch i := Impl(s); i {
	case ImplVRRPD, ImplKeepalived, ImplMixed:
		return i, nil
	}
	return "", fmt.Errorf("implementation %q: want vrrpd, keepalived or mixed", s)
}

// GARP is keepalived's gratuitous ARP schedule (its global_defs keywords).
type GARP struct {
	Repeat   int           // vrrp_garp_master_repeat: GARPs per burst on becoming master
	Delay    time.Duration // vrrp_garp_master_delay: second burst this long after; 0 = none
	Refresh  time.Duration // vrrp_garp_master_refresh: refresh period while master; 0 = off
	Interval time.Duration // vrrp_garp_interval: pacing of GARPs on one interface
}

// DefaultGARP is keepalived's default schedule.
func DefaultGARP() GARP {
	return GARP{Repeat: kaconf.DefaultGARPRepeat, Delay: kaconf.DefaultGARPDelay,
		Refresh: kaconf.DefaultGARPRefresh, Interval: kaconf.DefaultGARPInterval}
}

// RouterSpec is one router's VRRP configuration.
type RouterSpec struct {
	Host      string // Nat1 or Nat2
	Impl      Impl   // ImplVRRPD or ImplKeepalived
	Priority  int
	Master    bool // initial state MASTER (else BACKUP)
	Version   int  // 2 or 3
	AdvertInt time.Duration
	GARP      GARP
}

// seconds formats d as keepalived reads it: decimal seconds.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// KeepalivedConf renders spec as a keepalived.conf, the format both
// implementations read.
func KeepalivedConf(spec RouterSpec) string {
	state := "BACKUP"
	if spec.Master {
		state = "MASTER"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n")
	fmt.Fprintf(&b, "    router_id %s\n", spec.Host)
	fmt.Fprintf(&b, "    vrrp_skip_check_adv_addr\n")
	fmt.Fprintf(&b, "    vrrp_version %d\n", spec.Version)
	fmt.Fprintf(&b, "    vrrp_garp_master_repeat %d\n", spec.GARP.Repeat)
	fmt.Fprintf(&b, "    vrrp_garp_master_delay %d\n", int(spec.GARP.Delay.Round(time.Second)/time.Second))
	fmt.Fprintf(&b, "    vrrp_garp_master_refresh %d\n", int(spec.GARP.Refresh.Round(time.Second)/time.Second))
	fmt.Fprintf(&b, "    vrrp_garp_interval %s\n", seconds(spec.GARP.Interval))
	fmt.Fprintf(&b, "}\n\n")
	fmt.Fprintf(&b, "vrrp_instance VI_1 {\n")
	fmt.Fprintf(&b, "    state %s\n", state)
	fmt.Fprintf(&b, "    interface %s\n", Iface)
	fmt.Fprintf(&b, "    virtual_router_id %d\n", VRID)
	fmt.Fprintf(&b, "    priority %d\n", spec.Priority)
	fmt.Fprintf(&b, "    advert_int %s\n", seconds(spec.AdvertInt))
	fmt.Fprintf(&b, "    virtual_ipaddress {\n        %s dev %s\n    }\n", VIP, Iface)
	fmt.Fprintf(&b, "}\n")
	return b.String()
}

// SpeakerCommand returns the command line that runs vrrpctl's speaker with
// the keepalived.conf at conf, and extra environment for it.
type SpeakerCommand func(conf string) (argv, env []string)

// Router is a running VRRP router of the lab.
type Router struct {
	Spec RouterSpec
	Conf string
	proc *Process
}

// Process returns the router's process.
func (r *Router) Process() *Process { return r.proc }

// StartRouter writes spec's configuration into the run directory and starts
// the implementation in spec.Host's namespace.
func (l *Lab) StartRouter(spec RouterSpec, speaker SpeakerCommand) (*Router, error) {
	dir := filepath.Join(l.Dir, spec.Host)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("router directory: %w", err)
	}
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(KeepalivedConf(spec)), 0o600); err != nil {
		return nil, fmt.Errorf("router configuration: %w", err)
	}
	var argv, env []string
	switch spec.Impl {
	case ImplKeepalived:
		bin, err := exec.LookPath("keepalived")
		if err != nil {
			return nil, fmt.Errorf("keepalived is not installed (apt-get install keepalived): %w", err)
		}
		// Own pid files, so keepalived does not look for other instances
		// in /run; console logging only, nothing in the host's syslog.
		argv = []string{bin, "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
			"--use-file=" + conf,
			"--pid=" + filepath.Join(dir, "keepalived.pid"),
			"--vrrp_pid=" + filepath.Join(dir, "vrrp.pid"),
			"--checkers_pid=" + filepath.Join(dir, "checkers.pid"),
			"--bfd_pid=" + filepath.Join(dir, "bfd.pid"),
		}
	case ImplVRRPD:
		if speaker == nil {
			return nil, fmt.Errorf("no command for vrrpctl's speaker")
		}
		argv, env = speaker(conf)
	default:
		return nil, fmt.Errorf("router %s: implementation %q", spec.Host, spec.Impl)
	}
	p, err := l.Start(spec.Host, string(spec.Impl), argv, env)
	if err != nil {
		return nil, err
	}
	return &Router{Spec: spec, Conf: conf, proc: p}, nil
}

// Stop stops the router gracefully (SIGTERM: a master resigns with a
// priority-0 advert) and waits for it to exit.
func (r *Router) Stop(grace time.Duration) error {
	if r.proc.Exited() {
		return fmt.Errorf("%s on %s had already exited: %s", r.Spec.Impl, r.Spec.Host, r.proc.Tail())
	}
	r.proc.Stop(grace)
	return nil
}

// Check returns an error if the router's process has exited.
func (r *Router) Check() error {
	if r.proc.Exited() {
		return fmt.Errorf("%s on %s exited: %s", r.Spec.Impl, r.Spec.Host, r.proc.Tail())
	}
	return nil
}

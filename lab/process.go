package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// Process is a command running in one of the lab's namespaces, with its
// output in a log file of the run directory.
type Process struct {
	Name string
	Host string
	Log  string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs argv in host's namespace. name labels its log and pid files
// (host-name.log, host-name.pid in the run directory; a second process of
// the same name on the host starts them afresh).
func (l *Lab) Start(host, name string, argv []string, env []string) (*Process, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("no host %q in the lab", host)
	}
	return l.start(h, host, name, argv, env)
}

// StartOutside is Start for a process in the network namespace of the
// caller, outside the lab's hosts, as a program that enters a host by
// itself (`vrrpctl speaker --netns PATH`). Its files are named after name
// alone; Close stops it like the others.
func (l *Lab) StartOutside(name string, argv []string, env []string) (*Process, error) {
	return l.start(nil, "", name, argv, env)
}

func (l *Lab) start(h *Host, host, name string, argv []string, env []string) (*Process, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("start %s: no command", name)
	}
	where := "on " + host
	base := filepath.Join(l.Dir, host+"-"+name)
	if h == nil {
		where, base = "outside the lab", filepath.Join(l.Dir, name)
	}
	logf, err := os.OpenFile(base+".log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log for %s %s: %w", name, where, err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = l.Dir
	// Its own process group, so a ^C at the terminal reaches only vrrpctl,
	// which then stops the routers in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("lab %s is closed", l.ID)
	}
	// The child inherits the network namespace of the thread that forks it.
	if h == nil {
		err = cmd.Start()
	} else {
		err = nsenter.Run(h.handle, cmd.Start)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s %s: %w", name, where, err)
	}
	p := &Process{Name: name, Host: host, Log: base + ".log", cmd: cmd, done: make(chan struct{})}
	os.WriteFile(base+".pid", []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// Run runs argv in host's namespace ("sw" is the bridge's) to completion
// and returns what it wrote to stdout and stderr. The error, if any, names
// the command and the host; the output is not in it.
func (l *Lab) Run(host string, argv ...string) (string, error) {
	h, err := l.host(host)
	if err != nil {
		return "", err
	}
	if len(argv) == 0 {
		return "", fmt.Errorf("run on %s: no command", host)
	}
	var out bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = l.Dir
	if err := nsenter.Run(h.handle, cmd.Run); err != nil {
		return out.String(), fmt.Errorf("%s on %s: %w", strings.Join(argv, " "), host, err)
	}
	return out.String(), nil
}

// Pid returns the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error {
	if p.Exited() {
		return fmt.Errorf("%s on %s has already exited", p.Name, p.Host)
	}
	return p.cmd.Process.Signal(sig)
}

// Wait waits up to d for the process to end and reports whether it did.
func (p *Process) Wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Stop asks the process to end with SIGTERM and kills it after grace.
func (p *Process) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.Wait(grace) {
		p.cmd.Process.Kill()
		p.Wait(2 * time.Second)
	}
}

// Err returns how the process ended (nil for exit status 0, an
// *exec.ExitError otherwise); nil while it runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// ExitCode returns the process' exit status: -1 while it runs or when a
// signal ended it.
func (p *Process) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Output returns all the process has written to its log so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Tail returns the end of the process' log, for error messages.
func (p *Process) Tail() string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	const max = 1500
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(bytes.TrimSpace(b))
}

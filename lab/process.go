package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
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

// Start runs argv in host's namespace. name labels its log and pid files.
func (l *Lab) Start(host, name string, argv []string, env []string) (*Process, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("no host %q in the lab", host)
	}
	base := filepath.Join(l.Dir, host+"-"+name)
	logf, err := os.OpenFile(base+".log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log for %s on %s: %w", name, host, err)
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
	if err := inNS(h.handle, cmd.Start); err != nil {
		return nil, fmt.Errorf("start %s on %s: %w", name, host, err)
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

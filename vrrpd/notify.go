package vrrpd

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Notify scripts, as keepalived runs them: notify_master, notify_backup,
// notify_fault and notify_stop on entering that state, the generic notify
// with the arguments TYPE NAME STATE [PRIORITY] ("INSTANCE" or "GROUP"),
// notify_master_rx_lower_pri when a master hears a lower priority. The
// scripts of one instance (or sync group) run one at a time, in the order of
// its state changes, each killed after a timeout; their output is logged.

// DefaultNotifyTimeout is how long a notify script may run.
const DefaultNotifyTimeout = 30 * time.Second

// notifyJob is one script run.
type notifyJob struct {
	owner  string // the instance or group, for the log
	script string // run through /bin/sh -c
	args   []string
}

// notifier runs the notify scripts of one instance or group in order.
type notifier struct {
	log     *slog.Logger
	timeout time.Duration
	mu      sync.Mutex
	queue   []notifyJob
	running bool
	idle    *sync.Cond
	ctx     context.Context
}

func newNotifier(ctx context.Context, log *slog.Logger, timeout time.Duration) *notifier {
	if timeout <= 0 {
		timeout = DefaultNotifyTimeout
	}
	n := &notifier{log: log, timeout: timeout, ctx: ctx}
	n.idle = sync.NewCond(&n.mu)
	return n
}

// add queues a script; it runs after the ones queued before it.
func (n *notifier) add(j notifyJob) {
	if j.script == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.queue = append(n.queue, j)
	if !n.running {
		n.running = true
		go n.work()
	}
}

func (n *notifier) work() {
	for {
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.running = false
			n.idle.Broadcast()
			n.mu.Unlock()
			return
		}
		j := n.queue[0]
		n.queue = n.queue[1:]
		n.mu.Unlock()
		n.run(j)
	}
}

func (n *notifier) run(j notifyJob) {
	// sh -c 'SCRIPT "$@"' sh ARGS: the script line as written, with the
	// arguments appended as words of their own.
	argv := []string{"/bin/sh", "-c", j.script + ` "$@"`, "sh"}
	argv = append(argv, j.args...)
	start := time.Now()
	out, err := runCommand(n.ctx, argv, nil, n.timeout, nil)
	logOutput(n.log, "notify script", j.script, out)
	attrs := []any{"owner", j.owner, "script", j.script, "args", j.args, "took", time.Since(start).Round(time.Millisecond).String()}
	if err != nil {
		n.log.Warn("notify script failed", append(attrs, "err", err)...)
		return
	}
	n.log.Debug("notify script done", attrs...)
}

// wait waits until the queue is empty and no script runs, or d passes.
func (n *notifier) wait(d time.Duration) {
	done := make(chan struct{})
	go func() {
		n.mu.Lock()
		for n.running {
			n.idle.Wait()
		}
		n.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// notifyScripts returns the scripts to run, in order, for an entry into
// state st: the state's own script, then the generic one with its
// arguments. kind is "INSTANCE" or "GROUP"; a group's generic script gets
// no priority.
func notifyScripts(kind, name string, st State, prio uint8, own map[State]string, generic string) []notifyJob {
	word := map[State]string{StateMaster: "MASTER", StateBackup: "BACKUP", StateFault: "FAULT", StateInitialize: "STOP"}[st]
	if word == "" {
		return nil
	}
	var jobs []notifyJob
	if s := own[st]; s != "" {
		jobs = append(jobs, notifyJob{owner: name, script: s})
	}
	if generic != "" {
		args := []string{kind, name, word}
		if kind == "INSTANCE" {
			args = append(args, strconv.Itoa(int(prio)))
		}
		jobs = append(jobs, notifyJob{owner: name, script: generic, args: args})
	}
	return jobs
}

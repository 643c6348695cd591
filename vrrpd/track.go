package vrrpd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Tracking, as keepalived does it: a router tracks interfaces, vrrp_scripts
// and track_files. An object with a weight changes the router's priority;
// one without (weight 0) puts the router in FAULT while it is down. The
// arithmetic is here, clock-free; the scripts run in goroutines of their own
// and report to the speaker's loop, which hands the router the result as
// EventPriority, EventTrackFault and EventTrackOK.

// ScriptConfig is a vrrp_script: a command run every Interval.
type ScriptConfig struct {
	Name    string
	Command string // split into words as keepalived does, run without a shell
	// Interval between runs (default 1 s); Timeout kills a run that takes
	// longer (default Interval) and counts it as a failure.
	Interval, Timeout time.Duration
	// Weight is the default weight of the routers tracking it (-254 to 254).
	Weight  int
	Reverse bool
	// Rise successes in a row bring a failed script up, Fall failures in a
	// row bring it down (default 1 each).
	Rise, Fall int
	// User and Group run the script (default: the speaker's).
	User, Group string
	// InitFail: the script is down until it succeeds Rise times.
	InitFail bool
}

// TrackFileConfig is a track_file: a file holding a number.
type TrackFileConfig struct {
	Name    string
	Path    string
	Weight  int // default 1
	Reverse bool
	// Init creates the file with InitValue when it is missing, or always
	// with InitOverwrite.
	Init          bool
	InitValue     int
	InitOverwrite bool
}

// trackItem is one tracked object of a router with its current state.
type trackItem struct {
	weight  int
	reverse bool
	file    bool // value is a track_file's number, not up/down
	up      bool
	value   int
}

// trackResult computes keepalived's effective priority of a router of
// priority base from its tracked objects, and whether it is in FAULT. An
// item without weight that is down (for a file: holds a value other than
// 0) is a fault; a negative weight counts while down, a positive one while
// up ("reverse" swaps up and down); a file counts value × weight, a fault
// at -254 or below. The address owner (255) keeps its priority: only faults
// count. The priority stays within 1-254 otherwise.
func trackResult(base uint8, items []trackItem) (prio uint8, fault bool) {
	p := int(base)
	for _, it := range items {
		if it.file {
			v := it.value
			if it.reverse {
				v = -v
			}
			switch {
			case it.weight == 0:
				fault = fault || it.value != 0
			case v*it.weight <= -254:
				fault = true
			default:
				p += v * it.weight
			}
			continue
		}
		up := it.up != it.reverse
		switch {
		case it.weight == 0:
			fault = fault || !up
		case it.weight < 0 && !up, it.weight > 0 && up:
			p += it.weight
		}
	}
	if base == 255 {
		return 255, fault
	}
	return uint8(min(max(p, 1), 254)), fault
}

// scriptState counts a script's results to its rise and fall.
type scriptState struct {
	cfg  ScriptConfig
	up   bool
	runs int // successes (while down) or failures (while up) in a row
}

// result adds one run's result and reports whether the script changed
// between up and down.
func (s *scriptState) result(ok bool) bool {
	if ok == s.up {
		s.runs = 0
		return false
	}
	s.runs++
	need := s.cfg.Fall
	if ok {
		need = s.cfg.Rise
	}
	if s.runs < max(need, 1) {
		return false
	}
	s.up, s.runs = ok, 0
	return true
}

// trackUpdate is a tracked object's new state, sent to the speaker's loop.
type trackUpdate struct {
	script string // a vrrp_script's name, or
	file   string // a track_file's name
	up     bool
	value  int
}

// splitCommand splits a script line into words as keepalived does: on
// blanks, with double or single quotes keeping a word together.
func splitCommand(s string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// credential returns the credential to run a script as user and group,
// nil for the speaker's own.
func credential(userName, group string) (*syscall.Credential, error) {
	if userName == "" {
		return nil, nil
	}
	u, err := user.Lookup(userName)
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, err
		}
		gid, _ = strconv.ParseUint(g.Gid, 10, 32)
	}
	if uint64(os.Geteuid()) == uid && uint64(os.Getegid()) == gid {
		return nil, nil
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// runCommand runs argv (or "/bin/sh -c line" when shell) with a timeout,
// in a process group of its own that is killed whole when the time is up,
// and returns its combined output and error.
func runCommand(ctx context.Context, argv []string, cred *syscall.Credential, timeout time.Duration, extraEnv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if len(extraEnv) > 0 {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.Bytes(), err
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return out.Bytes(), fmt.Errorf("timed out after %v", timeout)
		}
		return out.Bytes(), ctx.Err()
	}
}

// logOutput logs what a script printed, a line at a time.
func logOutput(log *slog.Logger, what, name string, out []byte) {
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			log.Info(what+" output", "script", name, "line", line)
		}
	}
}

// runScript runs one vrrp_script every interval until ctx is done: one run
// at a time (a run never overlaps the one before), its output logged, each
// change between up and down sent to updates.
func runScript(ctx context.Context, log *slog.Logger, sc ScriptConfig, up bool, updates chan<- trackUpdate) {
	st := &scriptState{cfg: sc, up: up}
	argv := splitCommand(sc.Command)
	cred, err := credential(sc.User, sc.Group)
	if err != nil {
		log.Error("vrrp_script user", "script", sc.Name, "user", sc.User, "err", err)
	}
	tick := time.NewTicker(sc.Interval)
	defer tick.Stop()
	for {
		var ok bool
		if err == nil {
			out, rerr := runCommand(ctx, argv, cred, sc.Timeout, nil)
			if ctx.Err() != nil {
				return
			}
			logOutput(log, "vrrp_script", sc.Name, out)
			ok = rerr == nil
			if rerr != nil {
				log.Debug("vrrp_script failed", "script", sc.Name, "err", rerr)
			}
		}
		if st.result(ok) {
			log.Info("vrrp_script changed", "script", sc.Name, "up", st.up)
			select {
			case updates <- trackUpdate{script: sc.Name, up: st.up}:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// trackFilePoll is how often track files are read.
const trackFilePoll = 100 * time.Millisecond

// readTrackFile returns the number in a track file; a missing or
// unreadable file, or one without a number, is 0 as in keepalived.
func readTrackFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return n
}

// initTrackFile writes the init_file value when asked to.
func initTrackFile(tf TrackFileConfig) error {
	if !tf.Init {
		return nil
	}
	if _, err := os.Stat(tf.Path); err == nil && !tf.InitOverwrite {
		return nil
	}
	return os.WriteFile(tf.Path, []byte(strconv.Itoa(tf.InitValue)+"\n"), 0o644)
}

// watchTrackFiles reads the track files every trackFilePoll and sends
// their changes to updates until ctx is done.
func watchTrackFiles(ctx context.Context, files []TrackFileConfig, last map[string]int, updates chan<- trackUpdate) {
	tick := time.NewTicker(trackFilePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, tf := range files {
			v := readTrackFile(tf.Path)
			if v == last[tf.Name] {
				continue
			}
			last[tf.Name] = v
			select {
			case updates <- trackUpdate{file: tf.Name, value: v}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// startTracking starts watching the scripts, files and interfaces the
// routers track. prev holds the states of the scripts of a previous
// configuration: a script whose configuration did not change keeps its
// state.
func (h *runState) startTracking(opts Options, prev map[string]*scriptState) {
	ctx, cancel := context.WithCancel(context.Background())
	h.stopTrack = cancel
	h.scripts = map[string]*scriptState{}
	for _, sc := range opts.Scripts {
		st := &scriptState{cfg: sc, up: !sc.InitFail}
		if old, ok := prev[sc.Name]; ok && old.cfg == sc {
			st.up = old.up
		}
		h.scripts[sc.Name] = st
		h.trackDone.Add(1)
		go func() {
			defer h.trackDone.Done()
			runScript(ctx, h.s.log, sc, st.up, h.updates)
		}()
	}
	h.files = map[string]*TrackFileConfig{}
	last := map[string]int{}
	var files []TrackFileConfig
	for _, tf := range opts.TrackFiles {
		if err := initTrackFile(tf); err != nil {
			h.s.log.Error("track_file init_file", "track_file", tf.Name, "file", tf.Path, "err", err)
		}
		h.files[tf.Name] = &tf
		last[tf.Name] = readTrackFile(tf.Path)
		files = append(files, tf)
	}
	h.fileValues = maps.Clone(last)
	if len(files) > 0 {
		h.trackDone.Add(1)
		go func() {
			defer h.trackDone.Done()
			watchTrackFiles(ctx, files, last, h.updates)
		}()
	}
	for _, c := range opts.Routers {
		for _, t := range c.TrackInterfaces {
			if _, ok := h.links[t.Name]; ok {
				continue
			}
			up := false
			if l, err := h.nl.LinkByName(t.Name); err == nil {
				up = linkRunning(l.Attrs())
			} else {
				h.s.log.Warn("tracked interface not found: down until it appears", "interface", t.Name)
			}
			h.links[t.Name] = up
		}
	}
}

// stopTracking stops the scripts and the file watcher and waits for them.
func (h *runState) stopTracking() {
	if h.stopTrack == nil {
		return
	}
	h.stopTrack()
	// Updates the goroutines are sending are drained, not waited for.
	done := make(chan struct{})
	go func() { h.trackDone.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		case <-h.updates:
		}
	}
}

// trackUpdate applies a script's or a file's change to the routers.
func (h *runState) trackUpdate(u trackUpdate, now time.Time) {
	switch {
	case u.script != "":
		st, ok := h.scripts[u.script]
		if !ok {
			return
		}
		st.up = u.up
	case u.file != "":
		if _, ok := h.files[u.file]; !ok {
			return
		}
		h.fileValues[u.file] = u.value
		h.s.log.Info("track_file changed", "track_file", u.file, "value", u.value)
	}
	for _, vr := range h.routers {
		h.retrack(vr, now)
	}
}

// retrack computes a router's priority and fault from what it tracks and
// hands it the changes.
func (h *runState) retrack(vr *vrouter, now time.Time) {
	c := &vr.cfg
	var items []trackItem
	for _, t := range c.TrackInterfaces {
		items = append(items, trackItem{weight: t.Weight, reverse: t.Reverse, up: h.links[t.Name]})
	}
	for _, t := range c.TrackScripts {
		st := h.scripts[t.Name]
		if st == nil {
			continue
		}
		w, rev := st.cfg.Weight, st.cfg.Reverse
		if t.WeightSet {
			w, rev = t.Weight, t.Reverse
		}
		items = append(items, trackItem{weight: w, reverse: rev, up: st.up})
	}
	for _, t := range c.TrackFiles {
		tf := h.files[t.Name]
		if tf == nil {
			continue
		}
		w, rev := tf.Weight, tf.Reverse
		if t.WeightSet {
			w, rev = t.Weight, t.Reverse
		}
		items = append(items, trackItem{file: true, weight: w, reverse: rev, value: h.fileValues[t.Name]})
	}
	prio, fault := trackResult(c.Priority, items)
	if prio != vr.r.Priority() {
		h.s.log.Info("priority change", "router", c.Name, "from", vr.r.Priority(), "to", prio)
		h.handle(vr, Event{Kind: EventPriority, Priority: prio}, now)
	}
	if fault != vr.trackFault {
		vr.trackFault = fault
		ev := Event{Kind: EventTrackOK}
		if fault {
			ev.Kind = EventTrackFault
		}
		h.handle(vr, ev, now)
	}
}

package vrrpd

import (
	"context"
	"time"
)

// A sync group (keepalived's vrrp_sync_group) keeps its member routers in
// one state: when one becomes master the others follow at once, when one
// goes back to backup the others do, and while one is in FAULT for a reason
// of its own every other is in FAULT too. These are keepalived's rules over
// several routers; each router carries them out as events (EventSyncMaster,
// EventSyncBackup, EventSyncFault, EventSyncOK) through its state machine.

// SyncGroupConfig is a vrrp_sync_group.
type SyncGroupConfig struct {
	Name    string
	Members []string // router names
	// Notify scripts of the group, run when the group as a whole enters
	// MASTER, BACKUP or FAULT (or stops); Notify gets GROUP NAME STATE.
	NotifyMaster, NotifyBackup, NotifyFault, NotifyStop, Notify string
}

// syncEdge returns the event the other members of a router's group get
// after the router changed state as act says, if any. Changes the group
// caused itself are not passed on again.
func syncEdge(act Action) (EventKind, bool) {
	if act.Kind != ActionStateChange || act.Reason == ReasonSync || act.Reason == ReasonShutdown {
		return 0, false
	}
	switch {
	case act.To == StateMaster:
		return EventSyncMaster, true
	case act.From == StateMaster && act.To == StateBackup:
		return EventSyncBackup, true
	}
	return 0, false
}

// syncFaultEvents returns, for the members of one group, the fault events
// each needs: while any member is in FAULT for a reason of its own, every
// other member is held in FAULT; when none is, they are let go.
func syncFaultEvents(members []*Router) []EventKind {
	groupFault := false
	for _, r := range members {
		groupFault = groupFault || r.OwnFault()
	}
	out := make([]EventKind, len(members))
	for i, r := range members {
		held := r.faults&faultSync != 0
		switch {
		case groupFault && !r.OwnFault() && !held:
			out[i] = EventSyncFault
		case !groupFault && held:
			out[i] = EventSyncOK
		default:
			out[i] = eventNone
		}
	}
	return out
}

// groupState is the state of a sync group as its notify scripts see it:
// FAULT while a member is in FAULT, MASTER or BACKUP when every member is,
// and otherwise the state it had.
func groupState(members []*Router, was State) State {
	all := func(st State) bool {
		for _, r := range members {
			if r.State() != st {
				return false
			}
		}
		return len(members) > 0
	}
	for _, r := range members {
		if r.State() == StateFault {
			return StateFault
		}
	}
	switch {
	case all(StateMaster):
		return StateMaster
	case all(StateBackup):
		return StateBackup
	case all(StateInitialize):
		return StateInitialize
	}
	return was
}

// eventNone is no event.
const eventNone EventKind = 255

// buildGroups ties the running routers to their sync groups.
func (h *runState) buildGroups(cfgs []SyncGroupConfig) {
	h.groups = nil
	for _, vr := range h.routers {
		vr.group = nil
	}
	if h.groupNotify == nil {
		h.groupNotify = map[string]*notifier{}
	}
	for _, gc := range cfgs {
		g := &groupRun{cfg: gc, state: StateInitialize}
		if n, ok := h.groupNotify[gc.Name]; ok {
			g.notifier = n
		} else {
			g.notifier = newNotifier(context.Background(), h.s.log, h.s.opts.NotifyTimeout)
			h.groupNotify[gc.Name] = g.notifier
			h.notifyLog = append(h.notifyLog, g.notifier)
		}
		for _, name := range gc.Members {
			for _, vr := range h.routers {
				if vr.cfg.Name == name {
					vr.group = g
					g.members = append(g.members, vr)
				}
			}
		}
		g.state = groupState(g.routers(), StateInitialize)
		h.groups = append(h.groups, g)
	}
}

func (g *groupRun) routers() []*Router {
	rs := make([]*Router, len(g.members))
	for i, m := range g.members {
		rs[i] = m.r
	}
	return rs
}

// syncFaults holds the members of g in FAULT while one of them is in FAULT
// for a reason of its own, and lets them go after.
func (h *runState) syncFaults(g *groupRun, now time.Time) {
	for i, ev := range syncFaultEvents(g.routers()) {
		if ev != eventNone {
			h.handle(g.members[i], Event{Kind: ev}, now)
		}
	}
}

// groupChanged runs the group's notify scripts when its state changed.
func (h *runState) groupChanged(g *groupRun) {
	st := groupState(g.routers(), g.state)
	if st == g.state {
		return
	}
	h.s.log.Info("sync group state change", "group", g.cfg.Name, "from", g.state.String(), "to", st.String())
	g.state = st
	c := &g.cfg
	own := map[State]string{StateMaster: c.NotifyMaster, StateBackup: c.NotifyBackup, StateFault: c.NotifyFault, StateInitialize: c.NotifyStop}
	for _, j := range notifyScripts("GROUP", c.Name, st, 0, own, c.Notify) {
		g.notifier.add(j)
	}
}

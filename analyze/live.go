package analyze

import "time"

// LiveGroup is what is under way in a virtual router, for a live watcher's
// metrics: beyond its model (Engine.Groups), the states that come and go
// (a split brain, clients still stale) and the master's advert gaps so far.
type LiveGroup struct {
	VRID   int
	VLAN   int
	Family string
	// SplitBrain: two routers hold the VIP now (from the moment both have
	// claimed it after the contest began until the side that gave up has
	// been quiet, as the split-brain finding and its end are concluded).
	SplitBrain bool
	// StaleClients counts the clients that, since the last change of master,
	// send to the old master's MAC and have not switched to the new one:
	// stale enough for stale-arp (3 frames, or frames over 500 ms), and sent
	// one within LiveStaleWindow.
	StaleClients int
	Speakers     []LiveSpeaker
}

// LiveSpeaker is one router's advert gaps while it was master, as the
// advert-gap finding counts them (a silence of 1.8 advert intervals or
// more outside a contest), without the finding's cap on their number.
type LiveSpeaker struct {
	IP            string
	AdvertGaps    uint64 // silences of 1.8 intervals or more
	MissedAdverts uint64 // adverts those silences lacked
}

// LiveStaleWindow is how recently a stale client must have sent to the old
// master's MAC to count as stale now: one that went quiet is no longer
// counted after it.
const LiveStaleWindow = 30 * time.Second

// Live returns the live state of every virtual router at now (the time of
// the last frame when zero), in the order they appeared. It walks the
// clients followed through the last change of master (at most MaxClients).
func (e *Engine) Live(now time.Time) []LiveGroup {
	if now.IsZero() || now.Before(e.last) {
		now = e.last
	}
	gs := e.sortedGroups()
	out := make([]LiveGroup, 0, len(gs))
	for _, g := range gs {
		lg := LiveGroup{VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Family: g.family(),
			SplitBrain: g.contest != nil && g.contest.split}
		if fl := g.follow; fl != nil && fl.failover >= 0 && fl.oldMAC != fl.newMAC {
			e.eachFollowed(fl, func(c *client) {
				if st := &c.st; st.stale > 0 && !st.switched && st.staleEnough() && now.Sub(fl.t0.Add(st.lastStale)) <= LiveStaleWindow {
					lg.StaleClients++
				}
			})
		}
		for _, s := range g.speakers {
			lg.Speakers = append(lg.Speakers, LiveSpeaker{IP: s.ip.String(), AdvertGaps: s.gaps, MissedAdverts: s.missed})
		}
		out = append(out, lg)
	}
	return out
}

package analyze

import (
	"fmt"
	"strings"
)

// RunWithoutPrefilter is Run decoding every frame, for the tests that hold
// the prefilter to it.
func RunWithoutPrefilter(src PacketSource, opt Options) (*Analysis, error) {
	return run(src, opt, false)
}

// CheckShares reports how the engine's counts of GARP trains and its sets
// of groups above their share disagree with its groups, if they do.
func (e *Engine) CheckShares() string {
	trains, speakers, vips, richS, richV := 0, 0, 0, 0, 0
	var bad []string
	e.eachGroup(func(g *group) {
		trains += len(g.trains)
		speakers += len(g.speakers)
		vips += len(g.vips)
		if len(g.speakers) > speakerShare {
			richS++
		}
		if len(g.vips) > vipShare {
			richV++
		}
		for _, c := range []struct {
			set  *richSet
			at   int
			rich bool
			what string
		}{{&e.richSpeakers, g.richS, len(g.speakers) > speakerShare, "routers"}, {&e.richVIPs, g.richV, len(g.vips) > vipShare, "addresses"}} {
			in := c.at > 0 && c.at <= len(c.set.g) && c.set.g[c.at-1] == g
			if in != c.rich {
				bad = append(bad, fmt.Sprintf("VRID %d VLAN %d: %s above its share %v, in the set %v", g.key.vrid, g.key.vlan, c.what, c.rich, in))
			}
		}
	})
	if trains != e.trains {
		bad = append(bad, fmt.Sprintf("%d GARP trains counted, %d held", e.trains, trains))
	}
	if speakers != e.speakers || vips != e.allVIPs {
		bad = append(bad, fmt.Sprintf("%d routers and %d addresses counted, %d and %d held", e.speakers, e.allVIPs, speakers, vips))
	}
	if richS != len(e.richSpeakers.g) || richV != len(e.richVIPs.g) {
		bad = append(bad, fmt.Sprintf("%d and %d groups in the sets, %d and %d above their shares", len(e.richSpeakers.g), len(e.richVIPs.g), richS, richV))
	}
	return strings.Join(bad, "; ")
}

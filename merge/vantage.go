package merge

import (
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
)

// A way of naming a vantage point, in the order they are tried.
type naming struct {
	name     string
	inferred string
}

// candidateNames lists the names a capture could go by, best first: the
// name given, what the file says of the host it was taken on, and its file
// name last.
func candidateNames(in Input, s *scan, own netip.Addr) []naming {
	if in.Name != "" {
		name, _ := in.nameAndHost()
		return []naming{{name, "given"}}
	}
	var out []naming
	if d := sameIface(s, func(n ifaceNames) string { return n.desc }); d != "" {
		out = append(out, naming{d, "interface description " + quote(d)})
	}
	if a, ok := outgoingHost(s); ok {
		out = append(out, naming{a.String(), "outgoing frames of " + a.String()})
	}
	if own.IsValid() {
		out = append(out, naming{own.String(), "own frames of " + own.String()})
	}
	if n := sameIface(s, func(n ifaceNames) string { return n.name }); n != "" {
		out = append(out, naming{n, "interface name " + quote(n)})
	}
	return append(out, naming{fileStem(in.Path), "file name"})
}

// hostOf is the host a capture was taken on, when the file tells: its
// outgoing frames, else its own conversations.
func hostOf(s *scan, own netip.Addr) (netip.Addr, bool) {
	if a, ok := outgoingHost(s); ok {
		return a, true
	}
	return own, own.IsValid()
}

type ifaceNames struct{ name, desc string }

// sameIface returns what every interface the capture's frames came from
// says alike (its name or description), or "".
func sameIface(s *scan, what func(ifaceNames) string) string {
	v := ""
	for _, in := range s.ifaces {
		w := what(ifaceNames{in.Name, in.Description})
		if w == "" || v != "" && w != v {
			return ""
		}
		v = w
	}
	return v
}

func quote(s string) string { return "\"" + s + "\"" }

// outgoingHost is the source of most of a Linux cooked capture's outgoing
// frames (packet type 4, sent by the capturing host), a router's adverts
// counting most: the host it was taken on.
func outgoingHost(s *scan) (netip.Addr, bool) {
	var best netip.Addr
	bestW, total := 0, 0
	for a, w := range s.outgoing {
		total += w
		if w > bestW || w == bestW && a.Less(best) {
			best, bestW = a, w
		}
	}
	if bestW < minHostFrames || 3*bestW < 2*total {
		return netip.Addr{}, false
	}
	return best.Unmap(), true
}

// minHostFrames is how many frames must tell which host a capture was
// taken on.
const minHostFrames = 3

// ownHosts finds, for each capture, the host whose own unicast frames it
// has and the others lack: the other end of its conversations with
// addresses no other capture saw. It gives up (no host for any capture)
// when a capture had too many conversations to count them all.
func ownHosts(scans []*scan) []netip.Addr {
	out := make([]netip.Addr, len(scans))
	if len(scans) < 2 {
		return out
	}
	seenIn := map[netip.Addr]uint64{} // the captures (bits) each address is in
	for i, s := range scans {
		if s.overflow {
			return out
		}
		s.eachPair(func(a, b netip.Addr, _ uint32) {
			seenIn[a] |= 1 << i
			seenIn[b] |= 1 << i
		})
	}
	for i, s := range scans {
		votes := map[netip.Addr]int{}
		total := 0
		only := func(a netip.Addr) bool { return seenIn[a] == 1<<i }
		s.eachPair(func(a, b netip.Addr, n uint32) {
			switch {
			case only(a) && !only(b):
				votes[b] += int(n)
			case only(b) && !only(a):
				votes[a] += int(n)
			default:
				return
			}
			total += int(n)
		})
		var best netip.Addr
		bestN := 0
		for a, n := range votes {
			if n > bestN || n == bestN && a.Less(best) {
				best, bestN = a, n
			}
		}
		if bestN >= minHostFrames && 3*bestN >= 2*total {
			out[i] = best
		}
	}
	return out
}

// fileStem is a capture's file name without its directory and extensions
// (.pcap, .pcapng, .cap, .gz).
func fileStem(path string) string {
	base := filepath.Base(path)
	for {
		ext := strings.ToLower(filepath.Ext(base))
		switch ext {
		case ".pcap", ".pcapng", ".cap", ".gz", ".ntar":
			if len(base) > len(ext) {
				base = base[:len(base)-len(ext)]
				continue
			}
		}
		return base
	}
}

// nameAll picks a distinct name for every capture: each its best
// candidate, moving on to the next for captures whose names collide; the
// path tells apart captures whose file names are alike.
func nameAll(cands [][]naming, paths []string) []naming {
	pick := make([]int, len(cands))
	out := make([]naming, len(cands))
	for {
		used := map[string][]int{}
		for i, c := range cands {
			out[i] = c[pick[i]]
			used[out[i].name] = append(used[out[i].name], i)
		}
		moved := false
		for _, idx := range used {
			if len(idx) < 2 {
				continue
			}
			for _, i := range idx {
				if pick[i]+1 < len(cands[i]) {
					pick[i]++
					moved = true
				}
			}
		}
		if !moved {
			break
		}
	}
	// Still alike: file names of different directories, or the same file twice.
	count := map[string]int{}
	for _, n := range out {
		count[n.name]++
	}
	seen := map[string]int{}
	for i := range out {
		if count[out[i].name] < 2 {
			continue
		}
		if out[i].inferred == "file name" {
			out[i] = naming{paths[i], "file name"}
		}
		seen[out[i].name]++
		if k := seen[out[i].name]; k > 1 {
			out[i].name += "#" + strconv.Itoa(k)
		}
	}
	return out
}

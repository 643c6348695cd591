package merge

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/capture"
)

// Whatever a frame holds, reading its network layer, its key, its class
// and its addresses neither panics nor reads outside it.
func FuzzFrame(f *testing.F) {
	for _, inc := range []string{"vmac-failover", "frr-v3-ipv6"} {
		src, err := capture.OpenFile(clientOf(inc), "")
		if err != nil {
			f.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			data, _, err := src.Next()
			if err != nil {
				break
			}
			f.Add(uint16(layers.LinkTypeEthernet), append([]byte(nil), data...))
			f.Add(uint16(layers.LinkTypeLinuxSLL2), toSLL2(data, i%2 == 0))
			f.Add(uint16(layers.LinkTypeRaw), append([]byte(nil), data[14:]...))
		}
		src.Close()
	}
	f.Add(uint16(layers.LinkTypeLinuxSLL), make([]byte, 16))
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		fr := parse(layers.LinkType(lt), data)
		k1, _ := fr.key(layers.LinkType(lt), data)
		k2, _ := fr.key(layers.LinkType(lt), data)
		if k1 != k2 {
			t.Fatal("the key of a frame changes")
		}
		if fr.etype == 0 {
			return
		}
		if len(fr.net) > len(data) {
			t.Fatal("network layer longer than the frame")
		}
		sc := &scan{outgoing: make(map[netip.Addr]int), pairs4: newCounter64(16), pairs6: make(map[[32]byte]uint32)}
		if fr.class() == unicast {
			sc.conversation(&fr)
		}
		sc.outgoingFrame(&fr)
		if other := fr; !sameNet(&fr, &other) {
			t.Fatal("a frame differs from itself")
		}
	})
}

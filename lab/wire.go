package lab

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// advert is one VRRP advertisement for the lab's VRID seen by the client.
type advert struct {
	Time     time.Time
	MAC      string
	Priority int
}

// frameAt is a frame of interest: a GARP (MAC is the sender) or one of the
// client's echo requests (MAC is the destination).
type frameAt struct {
	Time time.Time
	MAC  string
}

// wire is what the grading needs from the client's capture: the lab knows
// when it acted, so it times the failover from its own actions.
type wire struct {
	adverts []advert
	garps   []frameAt
	echoes  []frameAt
}

// readWire extracts adverts, GARPs for vip and client's echo requests to vip.
func readWire(path string, vip netip.Addr, client net.HardwareAddr) (*wire, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read capture %s: %w", path, err)
	}
	var (
		eth  layers.Ethernet
		ip4  layers.IPv4
		icmp layers.ICMPv4
		pay  gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &icmp, &pay)
	parser.IgnoreUnsupported = true
	var found []gopacket.LayerType
	w := &wire{}
	v := vip.AsSlice()
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return w, fmt.Errorf("read capture %s: %w", path, err)
		}
		// Decoding errors past the layers of interest do not matter.
		parser.DecodeLayers(data, &found)
		for _, lt := range found {
			switch lt {
			case layers.LayerTypeEthernet:
				// ARP is read by hand: the project's decoder registers its
				// own layer for the ARP EtherType.
				p := eth.Payload
				if eth.EthernetType == layers.EthernetTypeARP && len(p) >= 28 &&
					bytes.Equal(p[14:18], v) && bytes.Equal(p[24:28], v) {
					w.garps = append(w.garps, frameAt{ci.Timestamp, net.HardwareAddr(p[8:14]).String()})
				}
			case layers.LayerTypeIPv4:
				p := ip4.Payload
				if ip4.Protocol == 112 && len(p) >= 3 && p[1] == VRID {
					w.adverts = append(w.adverts, advert{ci.Timestamp, eth.SrcMAC.String(), int(p[2])})
				}
			case layers.LayerTypeICMPv4:
				if icmp.TypeCode.Type() == layers.ICMPv4TypeEchoRequest && bytes.Equal(ip4.DstIP, v) &&
					bytes.Equal(eth.SrcMAC, client) {
					w.echoes = append(w.echoes, frameAt{ci.Timestamp, eth.DstMAC.String()})
				}
			}
		}
	}
	return w, nil
}

package lab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
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

// readWire reads the capture at path through the project's reader and
// decoder: VRRP advertisements for the lab's VRID (well-formed ones: a bad
// checksum or another message type is not an advert a router would hear),
// gratuitous ARPs for vip as decode classifies them (the sender's address
// is the MAC), and client's echo requests to vip.
func readWire(path string, vip netip.Addr, client net.HardwareAddr) (*wire, error) {
	src, err := capture.OpenFile(path, "")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w := &wire{}
	var f decode.Frame
	for n := uint64(1); ; n++ {
		data, ci, err := src.Next()
		if errors.Is(err, io.EOF) {
			return w, nil
		}
		if err != nil {
			return w, err
		}
		// A malformed VRRP or ARP message is no advert or GARP.
		if dec.Decode(data, ci, n, &f) != nil {
			continue
		}
		switch f.Kind {
		case decode.KindVRRP:
			v := f.VRRP
			if v.Type == decode.VRRPAdvertisement && v.VRID == VRID && f.VRRPChecksum != decode.ChecksumBad {
				w.adverts = append(w.adverts, advert{f.Time, f.SrcMAC.String(), int(v.Priority)})
			}
		case decode.KindARP:
			if a := f.ARP; a.IsGratuitous() && a.SenderIP == vip {
				w.garps = append(w.garps, frameAt{f.Time, a.SenderMAC.String()})
			}
		case decode.KindIP:
			if f.L4.Protocol == uint8(layers.IPProtocolICMPv4) && f.L4.ICMPType == layers.ICMPv4TypeEchoRequest && f.IP.Dst == vip &&
				f.HasDstMAC && f.SrcMAC.String() == client.String() {
				w.echoes = append(w.echoes, frameAt{f.Time, f.DstMAC.String()})
			}
		}
	}
}

package decode

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// checkPlain holds PlainIPv4's verdict on one frame to Decode's: a frame
// it recognises decodes without error to KindIP (with its addresses) or
// KindOther.
func checkPlain(t *testing.T, d *Decoder, name string, data []byte) bool {
	t.Helper()
	src, dst, ok := PlainIPv4(data)
	if !ok {
		return false
	}
	var f Frame
	err := d.Decode(data, gopacket.CaptureInfo{CaptureLength: len(data), Length: len(data)}, 1, &f)
	switch {
	case err != nil:
		t.Fatalf("%s: PlainIPv4 recognises a frame Decode fails on: %v (% x)", name, err, data)
	case f.Kind == KindIP:
		if f.IP.Src != netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, src))) || f.IP.Dst != netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, dst))) {
			t.Fatalf("%s: PlainIPv4 says %08x > %08x, Decode %v > %v", name, src, dst, f.IP.Src, f.IP.Dst)
		}
	case f.Kind != KindOther:
		t.Fatalf("%s: PlainIPv4 recognises a %v frame (% x)", name, f.Kind, data)
	}
	return true
}

func TestPlainIPv4(t *testing.T) {
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	recognised := 0
	for _, path := range referenceCaptures(t) {
		lt, frames := readCapture(t, path)
		if lt != layers.LinkTypeEthernet {
			continue
		}
		for _, fr := range frames {
			if checkPlain(t, d, path, fr.data) {
				recognised++
			}
		}
	}
	if recognised == 0 {
		t.Error("no frame of the reference captures recognised")
	}
	// Frames made by hand: every protocol number, fragments, odd header
	// lengths and versions, every length from 0 to the full frame, tags.
	base := make([]byte, 74)
	copy(base, []byte{0x42, 0x27, 0xce, 0x07, 0x10, 0xa3, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 60, 0, 0, 0, 0, 64, 6, 0, 0, 192, 168, 33, 2, 192, 168, 33, 100})
	for proto := range 256 {
		for _, vihl := range []byte{0x45, 0x44, 0x46, 0x4f, 0x65, 0x35} {
			for _, frag := range []uint16{0, 0x2000, 0x0001} {
				for n := 0; n <= len(base); n++ {
					f := append([]byte(nil), base...)
					f[14], f[23] = vihl, byte(proto)
					binary.BigEndian.PutUint16(f[20:], frag)
					got := checkPlain(t, d, "made", f[:n])
					if want := n >= 34 && vihl>>4 == 4 && proto != 2 && proto != 112; got != want {
						t.Fatalf("proto %d, %#x, %d bytes: PlainIPv4 %v, want %v", proto, vihl, n, got, want)
					}
				}
			}
		}
	}
	tagged := append(append(append([]byte(nil), base[:12]...), 0x81, 0x00, 0x00, 0x0a), base[12:]...)
	if checkPlain(t, d, "tagged", tagged) {
		t.Error("a tagged frame recognised")
	}
	// Random bytes behind an IPv4 EtherType.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := make([]byte, 14+rng.IntN(80))
		for i := range f {
			f[i] = byte(rng.Uint32())
		}
		if len(f) > 14 {
			f[12], f[13], f[14] = 0x08, 0x00, 0x40|f[14]&0x0f
		}
		checkPlain(t, d, "random", f)
	}
}

// sameAsGopacket decodes data with the direct reading of Ethernet and IPv4
// headers and through gopacket's layers, and wants the same frame and the
// same error.
func sameAsGopacket(t testing.TB, lt layers.LinkType, data []byte) {
	direct, _ := NewDecoder(lt)
	layered, _ := NewDecoder(lt)
	layered.gopacketLayers = true
	var a, b Frame
	ci := gopacket.CaptureInfo{CaptureLength: len(data), Length: len(data)}
	errA := direct.Decode(data, ci, 7, &a)
	errB := layered.Decode(data, ci, 7, &b)
	if (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
		t.Fatalf("% x: error %v, through gopacket's layers %v", data, errA, errB)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("% x:\\n%+v\\nthrough gopacket's layers:\\n%+v", data, a, b)
	}
}

// TestDirectHeadersMatchGopacket: every frame of the reference captures,
// cut at every length, every made case, and IPv4 headers with every total
// length, fragment field and truncation decode alike.
func TestDirectHeadersMatchGopacket(t *testing.T) {
	for _, path := range referenceCaptures(t) {
		lt, frames := readCapture(t, path)
		for _, fr := range frames {
			for n := 0; n <= len(fr.data); n++ {
				sameAsGopacket(t, lt, fr.data[:n])
			}
		}
	}
	for _, g := range generatedFrames(t) {
		sameAsGopacket(t, layers.LinkTypeEthernet, g.data)
	}
	for _, c := range frameCases(t) {
		sameAsGopacket(t, c.link, c.data)
	}
	base := make([]byte, 90)
	copy(base, []byte{0x42, 0x27, 0xce, 0x07, 0x10, 0xa3, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0xc0, 0, 40, 0, 0, 0, 0, 255, 112, 0, 0, 192, 168, 33, 101, 224, 0, 0, 18,
		0x21, 51, 100, 1, 0, 1, 0, 0, 192, 168, 33, 100})
	for _, proto := range []byte{112, 2, 6, 17, 1} {
		for _, total := range []uint16{0, 1, 19, 20, 21, 28, 40, 48, 76, 200} {
			for _, frag := range []uint16{0, 0x4000, 0x2000, 0x0001, 0x1fff} {
				for n := 14; n <= len(base); n++ {
					f := append([]byte(nil), base...)
					f[23] = proto
					binary.BigEndian.PutUint16(f[16:], total)
					binary.BigEndian.PutUint16(f[20:], frag)
					sameAsGopacket(t, layers.LinkTypeEthernet, f[:n])
					sameAsGopacket(t, layers.LinkTypeRaw, f[14:n])
				}
			}
		}
	}
	for _, etype := range []uint16{0x0000, 0x05ff, 0x0600, 0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8} {
		f := append([]byte(nil), base...)
		binary.BigEndian.PutUint16(f[12:], etype)
		for n := 0; n <= len(f); n++ {
			sameAsGopacket(t, layers.LinkTypeEthernet, f[:n])
		}
	}
}

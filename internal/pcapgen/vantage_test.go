package pcapgen

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// A vantage holds what its host sent and what the segment delivered to it,
// less what a drop rule lost, on its own clock.
func TestView(t *testing.T) {
	sc, _ := Get("healthy-v2")
	w, _ := sc.Build()
	var nat1, nat2, here *Host
	for _, h := range w.hosts {
		switch h.Name {
		case "nat1":
			nat1 = h
		case "nat2":
			nat2 = h
		case "here":
			here = h
		}
	}
	w.Drop(func(f *Frame, to *Host) bool { return f.arp != nil && f.arp.IsGratuitous() && to == here })
	count := func(v Vantage) (frames, garps int, first time.Time) {
		b, err := w.View(v)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				return
			}
			if frames == 0 {
				first = ci.Timestamp
			}
			frames++
			if len(data) >= 14+28 && data[12] == 0x08 && data[13] == 0x06 && bytes.Equal(data[14+14:14+18], data[14+24:14+28]) {
				garps++
			}
		}
	}
	all := len(w.Frames())
	fHere, gHere, tHere := count(Vantage{Name: "here", Host: here})
	fNat2, gNat2, _ := count(Vantage{Name: "nat2", Host: nat2})
	fNat1, _, tNat1 := count(Vantage{Name: "nat1", Host: nat1, Offset: 3 * time.Hour})
	if gHere != 0 || gNat2 == 0 {
		t.Errorf("GARPs at here %d (want 0: dropped on the way), at nat2 %d (want its own)", gHere, gNat2)
	}
	if fHere >= all || fNat2 >= all || fNat1 >= all || fHere == 0 {
		t.Errorf("frames: all %d, here %d, nat1 %d, nat2 %d: each vantage sees a part", all, fHere, fNat1, fNat2)
	}
	if d := tNat1.Sub(tHere); d < 3*time.Hour-time.Minute || d > 3*time.Hour+time.Minute {
		t.Errorf("nat1's clock is %v ahead, want 3 h", d)
	}
}

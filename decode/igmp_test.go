package decode

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// IGMP test vectors; Wireshark's IGMP dissector reads each of them as
// described and verifies its checksum.
var (
	igmpV3Join   = unhex("2200f9eb 00000001 04000000 e0000012")
	igmpV3Leave  = unhex("2200faeb 00000001 03000000 e0000012")
	igmpV3AuxRec = unhex("2200e986 00000002" +
		"01020001 e0010203 0a000001 deadbeef cafebabe" + // MODE_IS_INCLUDE, 2 words of aux data
		"04000000 e0000012")
	igmpV3Six = unhex("22003cbc 00000006" +
		"01000001 e0000101 0a000001" +
		"02000001 e0000102 0a000002" +
		"03000001 e0000103 0a000003" +
		"04000002 e0000104 0a000004 0a000005" +
		"05000001 e0000105 0a000006" +
		"06000001 e0000106 0a000007")
	igmpV2Report  = unhex("160009ed e0000012")
	igmpV2Leave   = unhex("170008ed e0000012")
	igmpV1Report  = unhex("12000ded e0000012")
	igmpV1Query   = unhex("1100eeff 00000000")
	igmpV2Query   = unhex("1164ee9b 00000000")
	igmpV2GSQuery = unhex("110a0ee3 e0000012")
	igmpV3Query   = unhex("1164ec1e 00000000 027d0000")
	igmpV3GSQuery = unhex("110af060 e0000012 0a7d0002 0a000001 0a000002")
)

var group18 = netip.MustParseAddr("224.0.0.18")

func rec(typ uint8, group string, sources ...string) IGMPRecord {
	r := IGMPRecord{Type: typ, Group: netip.MustParseAddr(group)}
	if len(sources) > 0 {
		r.Sources = addrs(sources...)
	}
	return r
}

// igmpFields is the comparable part of a decoded IGMP layer; nil and empty
// slices compare equal.
type igmpFields struct {
	Type, Version, MaxResp uint8
	Checksum               uint16
	Group                  netip.Addr
	Records                []IGMPRecord
	S                      bool
	QRV, QQIC              uint8
	Sources                []netip.Addr
}

func igmpOf(g *IGMP) igmpFields {
	f := igmpFields{g.Type, g.Version, g.MaxResp, g.Checksum, g.Group, nil,
		g.SuppressRouterProcessing, g.QRV, g.QQIC, nil}
	for _, r := range g.Records {
		c := r
		c.Sources = nil
		if len(r.Sources) > 0 {
			c.Sources = append([]netip.Addr(nil), r.Sources...)
		}
		f.Records = append(f.Records, c)
	}
	if len(g.Sources) > 0 {
		f.Sources = append([]netip.Addr(nil), g.Sources...)
	}
	return f
}

func TestIGMPRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		wire     []byte
		want     igmpFields
		meaning  Membership   // of the message
		meanings []Membership // of the records
		auxData  bool         // aux data is written back as zeros
	}{
		{name: "v3 join", wire: igmpV3Join,
			want:     igmpFields{Type: 0x22, Version: 3, Checksum: 0xf9eb, Records: []IGMPRecord{rec(IGMPChangeToExclude, "224.0.0.18")}},
			meanings: []Membership{MembershipJoin}},
		{name: "v3 leave", wire: igmpV3Leave,
			want:     igmpFields{Type: 0x22, Version: 3, Checksum: 0xfaeb, Records: []IGMPRecord{rec(IGMPChangeToInclude, "224.0.0.18")}},
			meanings: []Membership{MembershipLeave}},
		{name: "v3 aux data then a record", wire: igmpV3AuxRec, auxData: true,
			want: igmpFields{Type: 0x22, Version: 3, Checksum: 0xe986, Records: []IGMPRecord{
				{Type: IGMPModeIsInclude, AuxLen: 2, Group: netip.MustParseAddr("224.1.2.3"), Sources: addrs("10.0.0.1")},
				rec(IGMPChangeToExclude, "224.0.0.18")}},
			meanings: []Membership{MembershipSources, MembershipJoin}},
		{name: "v3 all six record types", wire: igmpV3Six,
			want: igmpFields{Type: 0x22, Version: 3, Checksum: 0x3cbc, Records: []IGMPRecord{
				rec(IGMPModeIsInclude, "224.0.1.1", "10.0.0.1"),
				rec(IGMPModeIsExclude, "224.0.1.2", "10.0.0.2"),
				rec(IGMPChangeToInclude, "224.0.1.3", "10.0.0.3"),
				rec(IGMPChangeToExclude, "224.0.1.4", "10.0.0.4", "10.0.0.5"),
				rec(IGMPAllowNewSources, "224.0.1.5", "10.0.0.6"),
				rec(IGMPBlockOldSources, "224.0.1.6", "10.0.0.7")}},
			meanings: []Membership{MembershipSources, MembershipSources, MembershipSources, MembershipSources, MembershipSources, MembershipSources}},
		{name: "v2 report", wire: igmpV2Report, meaning: MembershipJoin,
			want: igmpFields{Type: 0x16, Version: 2, Checksum: 0x09ed, Group: group18}},
		{name: "v2 leave", wire: igmpV2Leave, meaning: MembershipLeave,
			want: igmpFields{Type: 0x17, Version: 2, Checksum: 0x08ed, Group: group18}},
		{name: "v1 report", wire: igmpV1Report, meaning: MembershipJoin,
			want: igmpFields{Type: 0x12, Version: 1, Checksum: 0x0ded, Group: group18}},
		{name: "v1 query", wire: igmpV1Query,
			want: igmpFields{Type: 0x11, Version: 1, Checksum: 0xeeff, Group: netip.IPv4Unspecified()}},
		{name: "v2 general query", wire: igmpV2Query,
			want: igmpFields{Type: 0x11, Version: 2, MaxResp: 100, Checksum: 0xee9b, Group: netip.IPv4Unspecified()}},
		{name: "v2 group-specific query", wire: igmpV2GSQuery,
			want: igmpFields{Type: 0x11, Version: 2, MaxResp: 10, Checksum: 0x0ee3, Group: group18}},
		{name: "v3 general query", wire: igmpV3Query,
			want: igmpFields{Type: 0x11, Version: 3, MaxResp: 100, Checksum: 0xec1e, Group: netip.IPv4Unspecified(), QRV: 2, QQIC: 125}},
		{name: "v3 group-and-source query", wire: igmpV3GSQuery,
			want: igmpFields{Type: 0x11, Version: 3, MaxResp: 10, Checksum: 0xf060, Group: group18, S: true, QRV: 2, QQIC: 125,
				Sources: addrs("10.0.0.1", "10.0.0.2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &IGMP{}
			if err := g.DecodeFromBytes(tt.wire, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("DecodeFromBytes: %v", err)
			}
			if got := igmpOf(g); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
			if !bytes.Equal(g.Contents, tt.wire) || len(g.Payload) != 0 {
				t.Errorf("Contents %x Payload %x, want all in Contents", g.Contents, g.Payload)
			}
			if got := g.Meaning(); got != tt.meaning {
				t.Errorf("Meaning() = %v, want %v", got, tt.meaning)
			}
			var meanings []Membership
			for i := range g.Records {
				meanings = append(meanings, g.Records[i].Meaning())
			}
			if !reflect.DeepEqual(meanings, tt.meanings) {
				t.Errorf("record meanings = %v, want %v", meanings, tt.meanings)
			}

			s := &IGMP{Type: g.Type, Version: g.Version, MaxResp: g.MaxResp, Group: g.Group, Records: g.Records,
				SuppressRouterProcessing: g.SuppressRouterProcessing, QRV: g.QRV, QQIC: g.QQIC, Sources: g.Sources}
			buf := gopacket.NewSerializeBuffer()
			if err := s.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
				t.Fatalf("SerializeTo: %v", err)
			}
			if tt.auxData {
				// Aux data goes out as zeros: the rest must decode the same.
				g2 := &IGMP{}
				if err := g2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
					t.Fatalf("decoding the serialized message: %v", err)
				}
				want := tt.want
				want.Checksum = g2.Checksum
				if got := igmpOf(g2); !reflect.DeepEqual(got, want) {
					t.Errorf("re-decoded\n got %+v\nwant %+v", got, want)
				}
				if foldChecksum(onesSum(0, buf.Bytes())) != 0 {
					t.Errorf("serialized checksum does not verify: %x", buf.Bytes())
				}
			} else if !bytes.Equal(buf.Bytes(), tt.wire) {
				t.Errorf("serialized\n got %x\nwant %x", buf.Bytes(), tt.wire)
			}
		})
	}
}

func TestIGMPRecordMeaning(t *testing.T) {
	src := addrs("10.0.0.1")
	tests := []struct {
		typ     uint8
		sources []netip.Addr
		want    Membership
	}{
		{IGMPChangeToExclude, nil, MembershipJoin},
		{IGMPModeIsExclude, nil, MembershipJoin},
		{IGMPChangeToInclude, nil, MembershipLeave},
		{IGMPModeIsInclude, nil, MembershipLeave},
		{IGMPChangeToExclude, src, MembershipSources},
		{IGMPModeIsExclude, src, MembershipSources},
		{IGMPChangeToInclude, src, MembershipSources},
		{IGMPModeIsInclude, src, MembershipSources},
		{IGMPAllowNewSources, nil, MembershipSources},
		{IGMPBlockOldSources, src, MembershipSources},
		{7, nil, MembershipNone},
	}
	for _, tt := range tests {
		r := IGMPRecord{Type: tt.typ, Sources: tt.sources}
		if got := r.Meaning(); got != tt.want {
			t.Errorf("%s with %d sources: Meaning() = %v, want %v", r.TypeName(), len(tt.sources), got, tt.want)
		}
	}
}

func TestIGMPNames(t *testing.T) {
	names := map[uint8]string{1: "MODE_IS_INCLUDE", 2: "MODE_IS_EXCLUDE", 3: "CHANGE_TO_INCLUDE",
		4: "CHANGE_TO_EXCLUDE", 5: "ALLOW_NEW_SOURCES", 6: "BLOCK_OLD_SOURCES", 9: "record type 9"}
	for typ, want := range names {
		if got := IGMPRecordTypeName(typ); got != want {
			t.Errorf("IGMPRecordTypeName(%d) = %q, want %q", typ, got, want)
		}
	}
	for m, want := range map[Membership]string{MembershipNone: "none", MembershipJoin: "join", MembershipLeave: "leave", MembershipSources: "sources"} {
		if m.String() != want {
			t.Errorf("Membership(%d).String() = %q, want %q", m, m.String(), want)
		}
	}
	g := &IGMP{Type: IGMPQuery, Version: 3}
	if got := g.TypeName(); got != "v3 query" {
		t.Errorf("TypeName() = %q", got)
	}
	r := rec(IGMPChangeToExclude, "224.0.0.18")
	if got := r.String(); got != "CHANGE_TO_EXCLUDE 224.0.0.18 sources []" {
		t.Errorf("IGMPRecord.String() = %q", got)
	}
}

func TestIGMPReuse(t *testing.T) {
	g := &IGMP{}
	if err := g.DecodeFromBytes(igmpV3Six, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	rec0, src3 := &g.Records[0], &g.Records[3].Sources[0]
	if err := g.DecodeFromBytes(igmpV3Join, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if len(g.Records) != 1 || len(g.Records[0].Sources) != 0 || g.Records[0].Type != IGMPChangeToExclude {
		t.Errorf("after second decode: %+v", g.Records)
	}
	if err := g.DecodeFromBytes(igmpV3Six, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if &g.Records[0] != rec0 || &g.Records[3].Sources[0] != src3 {
		t.Error("Records or their Sources were reallocated although they had room")
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = g.DecodeFromBytes(igmpV3Six, gopacket.NilDecodeFeedback)
		_ = g.DecodeFromBytes(igmpV3GSQuery, gopacket.NilDecodeFeedback)
	}); n != 0 {
		t.Errorf("%v allocations per warm decode, want 0", n)
	}
	// A query after a report leaves no records behind, and vice versa.
	if err := g.DecodeFromBytes(igmpV3GSQuery, gopacket.NilDecodeFeedback); err != nil || len(g.Records) != 0 || len(g.Sources) != 2 {
		t.Errorf("query after report: err %v, %d records, %d sources", err, len(g.Records), len(g.Sources))
	}
	if err := g.DecodeFromBytes(igmpV2Report, gopacket.NilDecodeFeedback); err != nil || len(g.Sources) != 0 || g.QRV != 0 || g.SuppressRouterProcessing {
		t.Errorf("v2 report after v3 query: err %v, %+v", err, igmpOf(g))
	}
}

func TestIGMPMalformed(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"short", igmpV2Report[:7], "igmp: message of 7 bytes is shorter than the 8-byte header"},
		{"query of 10 bytes", igmpV3Query[:10], "igmp: query of 10 bytes is neither v1/v2 (8 bytes) nor v3 (12 or more)"},
		{"query source count overruns", unhex("1164ec1e 00000000 027d0003 0a000001"), "igmp: query source count 3 needs 12 bytes, 4 remain"},
		{"record count overruns", unhex("2200f9eb 00000002 04000000 e0000012"), "igmp: record 2 of 2 needs 8 bytes, 0 remain"},
		{"source count overruns", unhex("2200f9eb 00000001 04000002 e0000012 0a000001"),
			"igmp: record 1 of 1 with 2 sources and 0 words of aux data needs 16 bytes, 12 remain"},
		{"aux data overruns", unhex("2200f9eb 00000001 04010000 e0000012 0a00"),
			"igmp: record 1 of 1 with 0 sources and 1 words of aux data needs 12 bytes, 10 remain"},
	}
	for _, tt := range tests {
		g := &IGMP{}
		err := g.DecodeFromBytes(tt.data, gopacket.NilDecodeFeedback)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestIGMPEveryTruncationFails(t *testing.T) {
	for _, wire := range [][]byte{igmpV3Join, igmpV3AuxRec, igmpV3Six, igmpV2Report, igmpV2Leave, igmpV1Report, igmpV2Query, igmpV3GSQuery} {
		for n := 0; n < len(wire); n++ {
			g := &IGMP{}
			err := g.DecodeFromBytes(wire[:n], gopacket.NilDecodeFeedback)
			// An 8-byte prefix of a v3 query is a whole v2 query; nothing
			// else may decode.
			if wire[0] == IGMPQuery && n == 8 {
				if err != nil || g.Version != 2 {
					t.Errorf("%x: err %v, version %d; want a v2 query", wire[:n], err, g.Version)
				}
				continue
			}
			if err == nil || !strings.HasPrefix(err.Error(), "igmp: ") {
				t.Errorf("%x (%d of %d bytes): error %v, want an igmp: error", wire[:n], n, len(wire), err)
			}
		}
	}
}

func TestIGMPSerializeErrors(t *testing.T) {
	tests := []struct {
		name string
		g    IGMP
		want string
	}{
		{"unknown type", IGMP{Type: 0x13}, "igmp: cannot serialize type 0x13"},
		{"IPv6 group", IGMP{Type: IGMPv2Report, Group: netip.MustParseAddr("ff02::1")}, "igmp: group ff02::1 is not IPv4"},
		{"IPv6 record source", IGMP{Type: IGMPv3Report, Records: []IGMPRecord{rec(IGMPAllowNewSources, "232.1.1.1", "2001:db8::1")}},
			"igmp: record 1 source 2001:db8::1 is not IPv4"},
		{"QRV", IGMP{Type: IGMPQuery, Version: 3, QRV: 8}, "igmp: QRV 8 does not fit in 3 bits"},
	}
	for _, tt := range tests {
		err := tt.g.SerializeTo(gopacket.NewSerializeBuffer(), gopacket.SerializeOptions{ComputeChecksums: true})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

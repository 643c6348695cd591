package decode

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
)

var (
	group12      = netip.MustParseAddr("ff02::12") // VRRP's IPv6 group
	mldv2Routers = netip.MustParseAddr("ff02::16") // where MLDv2 reports go
	// hopByHopRouterAlert is the hop-by-hop header Linux puts in front of
	// every MLD message: router alert (MLD), then PadN.
	hopByHopRouterAlert = []byte{58, 0, 5, 2, 0, 0, 1, 0}
)

// MLD test vectors, each with the addresses its checksum covers; tshark
// reads them the same way (TestGeneratedCapture).
var (
	mldV1Report = unhex("83008001 00000000 ff020000000000000000000000000012")
	mldV1Done   = unhex("84007f11 00000000 ff020000000000000000000000000012")
	mldV2Join   = unhex("8f006ff8 00000001 04000000 ff020000000000000000000000000012") // CHANGE_TO_EXCLUDE, no sources
	mldV2Leave  = unhex("8f0070f8 00000001 03000000 ff020000000000000000000000000012") // CHANGE_TO_INCLUDE, no sources
	mldV2Six    = unhex("8f001c92 00000006" +
		"01000001 ff0e0000000000000000000000000101 20010db8000000000000000000000001" +
		"02000001 ff0e0000000000000000000000000102 20010db8000000000000000000000002" +
		"03000001 ff0e0000000000000000000000000103 20010db8000000000000000000000003" +
		"04000002 ff0e0000000000000000000000000104 20010db8000000000000000000000004 20010db8000000000000000000000005" +
		"05000001 ff0e0000000000000000000000000105 20010db8000000000000000000000006" +
		"06000001 ff0e0000000000000000000000000106 20010db8000000000000000000000007")
	mldV2AuxRec = unhex("8f001d81 00000002" +
		"01020001 ff0e0000000000000000000000000123 20010db8000000000000000000000001 deadbeef cafebabe" + // 2 words of aux data
		"04000000 ff020000000000000000000000000012")
	mldV1Query   = unhex("82005917 27100000 00000000000000000000000000000000")                                                                            // general, 10 s
	mldV2Query   = unhex("82005696 27100000 00000000000000000000000000000000 027d0000")                                                                   // general, QRV 2, QQIC 125
	mldV2GSQuery = unhex("82001701 03e80000 ff020000000000000000000000000012 0a7d0002 20010db8000000000000000000000001 20010db8000000000000000000000002") // S, 2 sources
)

type mldVector struct {
	name     string
	wire     []byte
	src, dst netip.Addr
}

var mldVectors = []mldVector{
	{"v1 report", mldV1Report, ll1, group12},
	{"v1 done", mldV1Done, ll1, allRouters},
	{"v2 join", mldV2Join, ll1, mldv2Routers},
	{"v2 leave", mldV2Leave, ll1, mldv2Routers},
	{"v2 all six record types", mldV2Six, ll1, mldv2Routers},
	{"v2 aux data then a record", mldV2AuxRec, ll1, mldv2Routers},
	{"v1 general query", mldV1Query, ll1, allNodes},
	{"v2 general query", mldV2Query, ll1, allNodes},
	{"v2 address and source specific query", mldV2GSQuery, ll1, group12},
}

func mrec(typ uint8, group string, sources ...string) MLDRecord {
	r := MLDRecord{Type: typ, Group: netip.MustParseAddr(group)}
	if len(sources) > 0 {
		r.Sources = addrs(sources...)
	}
	return r
}

// mldFields is the comparable part of a decoded MLD layer; nil and empty
// slices compare equal.
type mldFields struct {
	Version, Type, Code uint8
	Checksum, MaxResp   uint16
	Group               netip.Addr
	Records             []MLDRecord
	S                   bool
	QRV, QQIC           uint8
	Sources             []netip.Addr
}

func mldOf(m *MLD) mldFields {
	f := mldFields{m.Version, m.Type, m.Code, m.Checksum, m.MaxResp, m.Group, nil,
		m.SuppressRouterProcessing, m.QRV, m.QQIC, nil}
	for _, r := range m.Records {
		c := r
		c.Sources = nil
		if len(r.Sources) > 0 {
			c.Sources = append([]netip.Addr(nil), r.Sources...)
		}
		f.Records = append(f.Records, c)
	}
	if len(m.Sources) > 0 {
		f.Sources = append([]netip.Addr(nil), m.Sources...)
	}
	return f
}

func TestMLDRoundTrip(t *testing.T) {
	tests := []struct {
		vec      mldVector
		want     mldFields
		typeName string
		meaning  Membership   // of the message
		meanings []Membership // of the records
		auxData  bool         // aux data is written back as zeros
	}{
		{vec: mldVectors[0], typeName: "v1 report", meaning: MembershipJoin,
			want: mldFields{Version: 1, Type: 131, Checksum: 0x8001, Group: group12}},
		{vec: mldVectors[1], typeName: "v1 done", meaning: MembershipLeave,
			want: mldFields{Version: 1, Type: 132, Checksum: 0x7f11, Group: group12}},
		{vec: mldVectors[2], typeName: "v2 report", meanings: []Membership{MembershipJoin},
			want: mldFields{Version: 2, Type: 143, Checksum: 0x6ff8, Records: []MLDRecord{mrec(IGMPChangeToExclude, "ff02::12")}}},
		{vec: mldVectors[3], typeName: "v2 report", meanings: []Membership{MembershipLeave},
			want: mldFields{Version: 2, Type: 143, Checksum: 0x70f8, Records: []MLDRecord{mrec(IGMPChangeToInclude, "ff02::12")}}},
		{vec: mldVectors[4], typeName: "v2 report",
			meanings: []Membership{MembershipSources, MembershipSources, MembershipSources, MembershipSources, MembershipSources, MembershipSources},
			want: mldFields{Version: 2, Type: 143, Checksum: 0x1c92, Records: []MLDRecord{
				mrec(IGMPModeIsInclude, "ff0e::101", "2001:db8::1"),
				mrec(IGMPModeIsExclude, "ff0e::102", "2001:db8::2"),
				mrec(IGMPChangeToInclude, "ff0e::103", "2001:db8::3"),
				mrec(IGMPChangeToExclude, "ff0e::104", "2001:db8::4", "2001:db8::5"),
				mrec(IGMPAllowNewSources, "ff0e::105", "2001:db8::6"),
				mrec(IGMPBlockOldSources, "ff0e::106", "2001:db8::7")}}},
		{vec: mldVectors[5], typeName: "v2 report", auxData: true, meanings: []Membership{MembershipSources, MembershipJoin},
			want: mldFields{Version: 2, Type: 143, Checksum: 0x1d81, Records: []MLDRecord{
				{Type: IGMPModeIsInclude, AuxLen: 2, Group: netip.MustParseAddr("ff0e::123"), Sources: addrs("2001:db8::1")},
				mrec(IGMPChangeToExclude, "ff02::12")}}},
		{vec: mldVectors[6], typeName: "v1 query",
			want: mldFields{Version: 1, Type: 130, Checksum: 0x5917, MaxResp: 10000, Group: netip.IPv6Unspecified()}},
		{vec: mldVectors[7], typeName: "v2 query",
			want: mldFields{Version: 2, Type: 130, Checksum: 0x5696, MaxResp: 10000, Group: netip.IPv6Unspecified(), QRV: 2, QQIC: 125}},
		{vec: mldVectors[8], typeName: "v2 query",
			want: mldFields{Version: 2, Type: 130, Checksum: 0x1701, MaxResp: 1000, Group: group12, S: true, QRV: 2, QQIC: 125,
				Sources: addrs("2001:db8::1", "2001:db8::2")}},
	}
	for _, tt := range tests {
		t.Run(tt.vec.name, func(t *testing.T) {
			m := &MLD{}
			if err := m.DecodeFromBytes(tt.vec.wire, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("DecodeFromBytes: %v", err)
			}
			if got := mldOf(m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
			if !bytes.Equal(m.Contents, tt.vec.wire) || len(m.Payload) != 0 || m.NextLayerType() != gopacket.LayerTypeZero {
				t.Errorf("Contents %x Payload %x NextLayerType %v", m.Contents, m.Payload, m.NextLayerType())
			}
			if m.Meaning() != tt.meaning || m.TypeName() != tt.typeName {
				t.Errorf("Meaning() = %v, TypeName() = %q", m.Meaning(), m.TypeName())
			}
			var meanings []Membership
			for i := range m.Records {
				meanings = append(meanings, m.Records[i].Meaning())
			}
			if !reflect.DeepEqual(meanings, tt.meanings) {
				t.Errorf("record meanings %v, want %v", meanings, tt.meanings)
			}
			if got := verifyICMPv6Checksum(tt.vec.wire, tt.vec.src, tt.vec.dst); got != ChecksumOK {
				t.Errorf("checksum %v", got)
			}

			s := &MLD{Version: tt.want.Version, Type: tt.want.Type, Group: tt.want.Group, Records: tt.want.Records,
				Checksum: 0xdead, MaxResp: tt.want.MaxResp, SuppressRouterProcessing: tt.want.S, QRV: tt.want.QRV, QQIC: tt.want.QQIC,
				Sources: tt.want.Sources}
			s.SetChecksumAddrs(tt.vec.src, tt.vec.dst)
			buf := gopacket.NewSerializeBuffer()
			if err := s.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
				t.Fatalf("SerializeTo: %v", err)
			}
			if tt.auxData {
				// Aux data goes out as zeros: the rest decodes the same.
				m2 := &MLD{}
				if err := m2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
					t.Fatal(err)
				}
				want := tt.want
				want.Checksum = m2.Checksum
				if got := mldOf(m2); !reflect.DeepEqual(got, want) {
					t.Errorf("re-decoded\n got %+v\nwant %+v", got, want)
				}
				if got := verifyICMPv6Checksum(buf.Bytes(), tt.vec.src, tt.vec.dst); got != ChecksumOK {
					t.Errorf("serialized checksum %v", got)
				}
				return
			}
			if !bytes.Equal(buf.Bytes(), tt.vec.wire) {
				t.Errorf("serialized\n got %x\nwant %x", buf.Bytes(), tt.vec.wire)
			}
			buf = gopacket.NewSerializeBuffer()
			if err := m.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil || !bytes.Equal(buf.Bytes(), tt.vec.wire) {
				t.Errorf("re-serialized: err %v\n got %x\nwant %x", err, buf.Bytes(), tt.vec.wire)
			}
		})
	}
}

// MLDv2 records mean what IGMPv3 records of the same type mean.
func TestMLDRecordMeaning(t *testing.T) {
	for _, srcs := range [][]netip.Addr{nil, addrs("2001:db8::1")} {
		for typ := uint8(0); typ < 9; typ++ {
			m := MLDRecord{Type: typ, Sources: srcs}
			g := IGMPRecord{Type: typ, Sources: srcs}
			if m.Meaning() != g.Meaning() || m.TypeName() != g.TypeName() {
				t.Errorf("type %d with %d sources: MLD %v %q, IGMP %v %q", typ, len(srcs), m.Meaning(), m.TypeName(), g.Meaning(), g.TypeName())
			}
		}
	}
	if j, l := mrec(IGMPChangeToExclude, "ff02::12"), mrec(IGMPChangeToInclude, "ff02::12"); j.Meaning() != MembershipJoin || l.Meaning() != MembershipLeave {
		t.Errorf("CHANGE_TO_EXCLUDE {} is %v, CHANGE_TO_INCLUDE {} %v", j.Meaning(), l.Meaning())
	}
	if got := mrec(IGMPChangeToExclude, "ff02::12").String(); got != "CHANGE_TO_EXCLUDE ff02::12 sources []" {
		t.Errorf("String() = %q", got)
	}
}

func TestMLDReuse(t *testing.T) {
	m := &MLD{}
	if err := m.DecodeFromBytes(mldV2Six, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	rec0, src3 := &m.Records[0], &m.Records[3].Sources[0]
	if err := m.DecodeFromBytes(mldV2Join, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if len(m.Records) != 1 || len(m.Records[0].Sources) != 0 || m.Records[0].Type != IGMPChangeToExclude || m.Group.IsValid() {
		t.Errorf("after a join: %+v", mldOf(m))
	}
	if err := m.DecodeFromBytes(mldV2Six, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if &m.Records[0] != rec0 || &m.Records[3].Sources[0] != src3 {
		t.Error("Records or their Sources were reallocated although they had room")
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, v := range mldVectors {
			_ = m.DecodeFromBytes(v.wire, gopacket.NilDecodeFeedback)
		}
	}); n != 0 {
		t.Errorf("%v allocations per warm decode of every vector, want 0", n)
	}
	// A query after a report leaves no records behind, and vice versa.
	if err := m.DecodeFromBytes(mldV2GSQuery, gopacket.NilDecodeFeedback); err != nil || len(m.Records) != 0 || len(m.Sources) != 2 {
		t.Errorf("query after report: err %v, %d records, %d sources", err, len(m.Records), len(m.Sources))
	}
	if err := m.DecodeFromBytes(mldV1Report, gopacket.NilDecodeFeedback); err != nil || len(m.Sources) != 0 || m.QRV != 0 || m.SuppressRouterProcessing {
		t.Errorf("v1 report after v2 query: err %v, %+v", err, mldOf(m))
	}
	data := append([]byte(nil), mldV2Join...)
	if err := m.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	clear(data)
	if m.Records[0].Group != group12 {
		t.Errorf("fields changed with the input buffer: %v", m.Records[0])
	}
}

func TestMLDTrailingBytes(t *testing.T) {
	for _, wire := range [][]byte{mldV1Report, mldV2Join, mldV2GSQuery} {
		m := &MLD{}
		data := append(append([]byte(nil), wire...), 0xaa, 0xbb, 0xcc, 0xdd)
		if err := m.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil || !bytes.Equal(m.Payload, []byte{0xaa, 0xbb, 0xcc, 0xdd}) || !bytes.Equal(m.Contents, wire) {
			t.Errorf("%x: err %v, contents %x, payload %x", wire, err, m.Contents, m.Payload)
		}
	}
}

func TestMLDMalformed(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "mld: message of 0 bytes is shorter than the 4-byte ICMPv6 header"},
		{"NA", ndNASolicited, "mld: ICMPv6 type 136 is not an MLD message (130, 131, 132 or 143)"},
		{"short v1 report", mldV1Report[:23], "mld: v1 report of 23 bytes is shorter than its 24 fixed bytes"},
		{"short query", mldV1Query[:20], "mld: query of 20 bytes is shorter than its 24 fixed bytes"},
		{"short v2 report", mldV2Join[:7], "mld: v2 report of 7 bytes is shorter than its 8 fixed bytes"},
		{"query of 26 bytes", mldV2Query[:26], "mld: query of 26 bytes is neither v1 (24 bytes) nor v2 (28 or more)"},
		{"query source count overruns", append(append([]byte(nil), mldV2Query[:27]...), 3), "mld: query source count 3 needs 48 bytes, 0 remain"},
		{"record count overruns", unhex("8f000000 00000002 04000000 ff020000000000000000000000000012"), "mld: record 2 of 2 needs 20 bytes, 0 remain"},
		{"source count overruns", unhex("8f000000 00000001 04000002 ff020000000000000000000000000012 20010db8000000000000000000000001"),
			"mld: record 1 of 1 with 2 sources and 0 words of aux data needs 52 bytes, 36 remain"},
		{"aux data overruns", unhex("8f000000 00000001 04010000 ff020000000000000000000000000012 0000"),
			"mld: record 1 of 1 with 0 sources and 1 words of aux data needs 24 bytes, 22 remain"},
	}
	for _, tt := range tests {
		err := (&MLD{}).DecodeFromBytes(tt.data, gopacket.NilDecodeFeedback)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestMLDEveryTruncationFails(t *testing.T) {
	for _, v := range mldVectors {
		for n := 0; n < len(v.wire); n++ {
			var fb truncationFeedback
			m := &MLD{}
			err := m.DecodeFromBytes(v.wire[:n], &fb)
			// The first 24 bytes of a query are a whole v1 query; nothing
			// else may decode.
			if v.wire[0] == MLDQuery && n == 24 {
				if err != nil || m.Version != 1 {
					t.Errorf("%s cut to 24 bytes: err %v, version %d; want a v1 query", v.name, err, m.Version)
				}
				continue
			}
			if err == nil || !strings.HasPrefix(err.Error(), "mld: ") {
				t.Errorf("%s cut to %d of %d bytes: error %v", v.name, n, len(v.wire), err)
			}
			// Queries of 25 to 27 bytes are malformed, not cut short.
			if !fb.truncated && (v.wire[0] != MLDQuery || n < 24 || n > 27) {
				t.Errorf("%s cut to %d of %d bytes: SetTruncated not called", v.name, n, len(v.wire))
			}
		}
	}
}

func TestMLDSerializeErrors(t *testing.T) {
	withAddrs := func(m MLD, src, dst netip.Addr) MLD { m.SetChecksumAddrs(src, dst); return m }
	tests := []struct {
		name string
		m    MLD
		want string
	}{
		{"unknown type", MLD{Type: 136}, "mld: cannot serialize ICMPv6 type 136"},
		{"IPv4 group", MLD{Type: MLDv1Report, Group: group18}, "mld: group 224.0.0.18 is not IPv6"},
		{"IPv4 record group", MLD{Type: MLDv2Report, Records: []MLDRecord{{Type: 4, Group: group18}}}, "mld: record 1 group 224.0.0.18 is not IPv6"},
		{"IPv4 record source", MLD{Type: MLDv2Report, Records: []MLDRecord{{Type: 5, Group: group12, Sources: addrs("10.0.0.1")}}},
			"mld: record 1 source 10.0.0.1 is not IPv6"},
		{"IPv4 query source", MLD{Type: MLDQuery, Version: 2, Sources: addrs("10.0.0.1")}, "mld: query source 10.0.0.1 is not IPv6"},
		{"QRV", MLD{Type: MLDQuery, Version: 2, QRV: 8}, "mld: QRV 8 does not fit in 3 bits"},
		{"checksum without addresses", MLD{Type: MLDv1Report, Group: group12},
			"mld: ICMPv6 checksum needs the IP addresses: call SetNetworkLayerForChecksum or SetChecksumAddrs"},
		{"checksum over mixed addresses", withAddrs(MLD{Type: MLDv1Done, Group: group12}, ll1, vrrpDst4),
			"mld: ICMPv6 checksum addresses fe80::1 and 224.0.0.18 are not both IPv6"},
	}
	for _, tt := range tests {
		err := tt.m.SerializeTo(gopacket.NewSerializeBuffer(), gopacket.SerializeOptions{ComputeChecksums: true})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestMLDTypeNames(t *testing.T) {
	for _, tt := range []struct {
		typ, version uint8
		want         string
	}{{130, 1, "v1 query"}, {130, 2, "v2 query"}, {131, 1, "v1 report"}, {132, 1, "v1 done"}, {143, 2, "v2 report"}, {144, 0, "ICMPv6 type 144"}} {
		if got := (&MLD{Type: tt.typ, Version: tt.version}).TypeName(); got != tt.want {
			t.Errorf("TypeName(%d, v%d) = %q, want %q", tt.typ, tt.version, got, tt.want)
		}
	}
}

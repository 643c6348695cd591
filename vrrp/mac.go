package vrrp

// VirtualMAC is the virtual router MAC address of a VRID (RFC 3768 section
// 7.3, RFC 5798 section 7.3): 00-00-5E-00-01-{VRID} for IPv4 and
// 00-00-5E-00-02-{VRID} for IPv6. A master sends its adverts, gratuitous
// ARPs and neighbour advertisements from it; many implementations (keepalived
// without use_vmac among them) use the interface's own MAC instead.
func VirtualMAC(vrid uint8, ipv6 bool) [6]byte {
	fam := byte(1)
	if ipv6 {
		fam = 2
	}
	return [6]byte{0x00, 0x00, 0x5e, 0x00, fam, vrid}
}

// ParseVirtualMAC reports whether mac is a virtual router MAC address, and
// for which VRID and address family.
func ParseVirtualMAC(mac [6]byte) (vrid uint8, ipv6 bool, ok bool) {
	if mac[0] != 0 || mac[1] != 0 || mac[2] != 0x5e || mac[3] != 0 || (mac[4] != 1 && mac[4] != 2) || mac[5] == 0 {
		return 0, false, false
	}
	return mac[5], mac[4] == 2, true
}

// Package vrrp holds the rules of VRRP (RFC 3768, RFC 5798) that are not
// wire formats: the protocol timers and the virtual router MAC addresses.
// The analyzer, the speaker, the namespace lab and the capture generator
// all take them from here, so that a timer or an address is computed one
// way only. Wire formats live in package decode.
package vrrp

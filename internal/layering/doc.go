// Package layering holds the test that keeps the project's imports pointing
// one way: cmd → watch, lab → merge → analyze, report → doctor, capture,
// vrrpd → decode, kaconf, vrrp → gopacket. It has no code of its own.
package layering

package main

// patternBytes returns n deterministic bytes for a seed: xorshift32 from seed ^ 0x9e3779b9
// (1 if that is 0), each step (x ^= x<<13; x ^= x>>17; x ^= x<<5) emitting 4 little-endian
// bytes. The same generator as the quic-go peer (test/interop/quic-go/common.go) and
// quicGoPattern() in test/interop/quic-go-peer.ts.
func patternBytes(seed uint32, n int) []byte {
	out := make([]byte, n)
	x := seed ^ 0x9e3779b9
	if x == 0 {
		x = 1
	}
	for i := 0; i < n; i += 4 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		for j := 0; j < 4 && i+j < n; j++ {
			out[i+j] = byte(x >> (8 * j))
		}
	}
	return out
}

// udpPayloadSeed is the pattern seed of UDP payload 0; payload i uses udpPayloadSeed + i.
const udpPayloadSeed = 0x30000

// udpPayloadSize is the size of payload i: 1 + (i*211) mod maxSize, or maxSize when fixed.
// 211 is prime and does not divide 1200, so 1000 payloads with maxSize 1200 all differ in size.
func udpPayloadSize(i, maxSize int, fixed bool) int {
	if fixed {
		return maxSize
	}
	return 1 + (i*211)%maxSize
}

// udpPayload is UDP payload i of a client run: patternBytes(0x30000 + i, size(i)).
func udpPayload(i, maxSize int, fixed bool) []byte {
	return patternBytes(uint32(udpPayloadSeed+i), udpPayloadSize(i, maxSize, fixed))
}

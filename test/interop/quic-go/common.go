package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/logging"
	"github.com/lucas-clemente/quic-go/qlog"
)

// patternBytes returns n deterministic pseudo-random bytes for a seed.
//
// Algorithm (mirrored by quicGoPattern() in test/interop/quic-go-peer.ts): a 32-bit xorshift
// generator with state = seed XOR 0x9E3779B9 (1 if that is 0); for every 4 output bytes the
// state is stepped (x ^= x<<13; x ^= x>>17; x ^= x<<5, all mod 2^32) and written
// little-endian; the last word is truncated to n.
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

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// parseVersions maps --quic-version to quic-go version numbers. quic-go 0.29 knows v1
// (0x00000001), draft-29 (0xff00001d) and a pre-RFC QUIC v2 draft (0x709a50c4, NOT the
// RFC 9369 value 0x6b3343cf).
func parseVersions(s string) ([]quic.VersionNumber, error) {
	if s == "" {
		return nil, nil
	}
	var out []quic.VersionNumber
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "v1", "1":
			out = append(out, quic.Version1)
		case "draft29", "draft-29":
			out = append(out, quic.VersionDraft29)
		case "v2draft", "v2-draft":
			out = append(out, quic.Version2)
		default:
			return nil, fmt.Errorf("unknown QUIC version %q (use v1, draft29, v2draft)", name)
		}
	}
	return out, nil
}

// quicConfig is the transport configuration every subcommand uses.
func quicConfig(versions []quic.VersionNumber, tracer logging.Tracer) *quic.Config {
	return &quic.Config{
		Versions:        versions,
		EnableDatagrams: true,
		KeepAlivePeriod: 5 * time.Second,
		MaxIdleTimeout:  30 * time.Second,
		Tracer:          tracer,
	}
}

// connInfo is what the infoTracer learns about one connection.
type connInfo struct {
	mu                sync.Mutex
	version           quic.VersionNumber
	peerMaxDatagram   int64
	sawPeerParameters bool
}

func (c *connInfo) snapshot() (quic.VersionNumber, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version, c.peerMaxDatagram, c.sawPeerParameters
}

// infoTracer records the QUIC version of received long-header packets and the peer's
// max_datagram_frame_size transport parameter; quic-go 0.29 exposes neither on Connection.
type infoTracer struct {
	logging.NullTracer
	info *connInfo
}

func (t infoTracer) TracerForConnection(context.Context, logging.Perspective, logging.ConnectionID) logging.ConnectionTracer {
	return infoConnTracer{info: t.info}
}

type infoConnTracer struct {
	logging.NullConnectionTracer
	info *connInfo
}

func (t infoConnTracer) ReceivedPacket(hdr *logging.ExtendedHeader, _ logging.ByteCount, _ []logging.Frame) {
	if hdr.IsLongHeader {
		t.info.mu.Lock()
		t.info.version = hdr.Version
		t.info.mu.Unlock()
	}
}

func (t infoConnTracer) ReceivedTransportParameters(tp *logging.TransportParameters) {
	t.info.mu.Lock()
	t.info.peerMaxDatagram = int64(tp.MaxDatagramFrameSize)
	t.info.sawPeerParameters = true
	t.info.mu.Unlock()
}

// qlogTracer writes one qlog file per connection into dir (nil when dir is empty).
func qlogTracer(dir string) logging.Tracer {
	if dir == "" {
		return nil
	}
	return qlog.NewTracer(func(p logging.Perspective, odcid []byte) io.WriteCloser {
		role := "server"
		if p == logging.PerspectiveClient {
			role = "client"
		}
		name := filepath.Join(dir, fmt.Sprintf("%x_%s.qlog", odcid, role))
		f, err := os.Create(name)
		if err != nil {
			return nil
		}
		return f
	})
}

// combineTracers multiplexes the non-nil tracers.
func combineTracers(tracers ...logging.Tracer) logging.Tracer {
	var list []logging.Tracer
	for _, t := range tracers {
		if t != nil {
			list = append(list, t)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return logging.NewMultiplexedTracer(list...)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
)

// clientResult is the JSON line the client prints.
type clientResult struct {
	OK                   bool    `json:"ok"`
	Error                string  `json:"error,omitempty"`
	Stage                string  `json:"stage,omitempty"`
	HandshakeMs          float64 `json:"handshake_ms"`
	ElapsedMs            float64 `json:"elapsed_ms"`
	Streams              int     `json:"streams"`
	StreamsOK            int     `json:"streams_ok"`
	UniStreams           int     `json:"uni_streams"`
	UniStreamsOK         int     `json:"uni_streams_ok"`
	Bytes                int64   `json:"bytes"`
	DatagramsSupported   bool    `json:"datagrams_supported"`
	DatagramsSent        int     `json:"datagrams_sent"`
	DatagramsEchoed      int     `json:"datagrams_echoed"`
	ALPN                 string  `json:"alpn"`
	Version              string  `json:"version"`
	VersionNumber        string  `json:"version_number"`
	PeerMaxDatagramFrame int64   `json:"peer_max_datagram_frame_size"`
}

type clientOptions struct {
	connect      string
	alpn         string
	bytes        int
	streams      int
	uniStreams   int
	datagrams    int
	dgramMaxSize int
	minEchoed    int
	dgramWait    time.Duration
	timeout      time.Duration
	qlogDir      string
	versions     string
	tls          tlsFlags
}

func runClient(args []string) int {
	var o clientOptions
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.StringVar(&o.connect, "connect", "", "server address host:port")
	fs.StringVar(&o.alpn, "alpn", "masque-interop", "comma-separated ALPN protocols to offer")
	fs.IntVar(&o.bytes, "bytes", 65536, "bytes sent on each stream")
	fs.IntVar(&o.streams, "streams", 1, "number of concurrent bidirectional streams")
	fs.IntVar(&o.uniStreams, "uni-streams", 0, "number of unidirectional streams (the server echoes each on a new one)")
	fs.IntVar(&o.datagrams, "datagrams", 0, "number of datagrams to send after the streams")
	fs.IntVar(&o.dgramMaxSize, "datagram-max-size", 1000, "largest datagram payload (sizes vary 1..this)")
	fs.IntVar(&o.minEchoed, "min-datagrams", 1, "echoed datagrams needed for success when --datagrams > 0")
	fs.DurationVar(&o.dgramWait, "datagram-wait", 2*time.Second, "how long to wait for datagram echoes")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "overall deadline")
	fs.StringVar(&o.qlogDir, "qlog-dir", "", "write a qlog file into this directory")
	fs.StringVar(&o.versions, "quic-version", "v1", "versions to offer, first is used: v1, draft29, v2draft")
	addClientTLSFlags(fs, &o.tls)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.connect == "" || o.bytes < 0 || o.streams < 0 || o.datagrams < 0 || o.dgramMaxSize < 1 {
		printJSON(clientResult{Error: "need --connect and non-negative --bytes/--streams/--datagrams", Stage: "flags"})
		return 2
	}
	res := &clientResult{Streams: o.streams, UniStreams: o.uniStreams}
	start := time.Now()
	stage, err := runClientSession(o, res)
	res.ElapsedMs = msSince(start)
	if err == nil && o.datagrams > 0 && res.DatagramsEchoed < o.minEchoed {
		stage, err = "datagrams", fmt.Errorf("only %d of %d datagrams echoed (need %d)",
			res.DatagramsEchoed, res.DatagramsSent, o.minEchoed)
	}
	if err != nil {
		res.Error, res.Stage = err.Error(), stage
		printJSON(res)
		return 1
	}
	res.OK = true
	printJSON(res)
	return 0
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}

func runClientSession(o clientOptions, res *clientResult) (string, error) {
	host, _, err := net.SplitHostPort(o.connect)
	if err != nil {
		return "flags", err
	}
	versions, err := parseVersions(o.versions)
	if err != nil {
		return "flags", err
	}
	tlsConf, keylog, err := clientTLS(o.tls, host, splitList(o.alpn))
	if err != nil {
		return "tls", err
	}
	if keylog != nil {
		defer keylog.Close()
	}
	info := &connInfo{}
	conf := quicConfig(versions, combineTracers(infoTracer{info: info}, qlogTracer(o.qlogDir)))
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	t0 := time.Now()
	conn, err := quic.DialAddrContext(ctx, o.connect, tlsConf, conf)
	if err != nil {
		return "handshake", err
	}
	res.HandshakeMs = msSince(t0)
	defer conn.CloseWithError(0, "done")

	state := conn.ConnectionState()
	res.ALPN = state.TLS.NegotiatedProtocol
	res.DatagramsSupported = state.SupportsDatagrams
	v, peerMax, sawParams := info.snapshot()
	res.Version, res.VersionNumber = v.String(), fmt.Sprintf("0x%08x", uint32(v))
	res.PeerMaxDatagramFrame = -1
	if sawParams {
		res.PeerMaxDatagramFrame = peerMax
	}

	if err := runStreams(ctx, conn, o, res); err != nil {
		return "streams", err
	}
	if o.uniStreams > 0 {
		if err := runUniStreams(ctx, conn, o, res); err != nil {
			return "uni-streams", err
		}
	}
	if o.datagrams > 0 {
		if err := runDatagrams(ctx, conn, o, res); err != nil {
			return "datagrams", err
		}
	}
	return "", nil
}

// runStreams opens o.streams streams concurrently; stream i carries patternBytes(i+1, o.bytes).
func runStreams(ctx context.Context, conn quic.Connection, o clientOptions, res *clientResult) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := 0; i < o.streams; i++ {
		wg.Add(1)
		go func(seed uint32) {
			defer wg.Done()
			n, err := echoOneStream(ctx, conn, seed, o.bytes)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("stream with seed %d: %w", seed, err)
				}
				return
			}
			res.StreamsOK++
			res.Bytes += int64(n)
		}(uint32(i + 1))
	}
	wg.Wait()
	return firstErr
}

func echoOneStream(ctx context.Context, conn quic.Connection, seed uint32, n int) (int, error) {
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = str.SetDeadline(dl)
	}
	data := patternBytes(seed, n)
	writeErr := make(chan error, 1)
	go func() {
		_, err := str.Write(data)
		if cerr := str.Close(); err == nil {
			err = cerr
		}
		writeErr <- err
	}()
	got, err := io.ReadAll(str)
	if err != nil {
		return 0, fmt.Errorf("read echo: %w", err)
	}
	if err := <-writeErr; err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	if len(got) != n || sha256Hex(got) != sha256Hex(data) {
		return 0, fmt.Errorf("echo mismatch: sent %d bytes sha256 %s, got %d bytes sha256 %s",
			n, sha256Hex(data), len(got), sha256Hex(got))
	}
	return n, nil
}

// runUniStreams sends pattern(0x20000+i, o.bytes) on o.uniStreams unidirectional streams and
// waits until each came back, byte for byte, on a server-initiated unidirectional stream.
func runUniStreams(ctx context.Context, conn quic.Connection, o clientOptions, res *clientResult) error {
	want := make(map[string]int, o.uniStreams)
	for i := 0; i < o.uniStreams; i++ {
		want[sha256Hex(patternBytes(uint32(0x20000+i), o.bytes))]++
	}
	sendErr := make(chan error, o.uniStreams)
	for i := 0; i < o.uniStreams; i++ {
		go func(seed uint32) {
			ss, err := conn.OpenUniStreamSync(ctx)
			if err == nil {
				_, err = ss.Write(patternBytes(seed, o.bytes))
				if cerr := ss.Close(); err == nil {
					err = cerr
				}
			}
			sendErr <- err
		}(uint32(0x20000 + i))
	}
	for i := 0; i < o.uniStreams; i++ {
		rs, err := conn.AcceptUniStream(ctx)
		if err != nil {
			return fmt.Errorf("accept echo stream: %w", err)
		}
		if dl, ok := ctx.Deadline(); ok {
			_ = rs.SetReadDeadline(dl)
		}
		got, err := io.ReadAll(rs)
		if err != nil {
			return fmt.Errorf("read echo stream: %w", err)
		}
		h := sha256Hex(got)
		if want[h] == 0 {
			return fmt.Errorf("unexpected uni stream echo of %d bytes", len(got))
		}
		want[h]--
		res.UniStreamsOK++
	}
	for i := 0; i < o.uniStreams; i++ {
		if err := <-sendErr; err != nil {
			return fmt.Errorf("send uni stream: %w", err)
		}
	}
	return nil
}

// datagramPayload is datagram i: size 1 + (i*211 mod maxSize), content patternBytes(0x10000+i).
func datagramPayload(i, maxSize int) []byte {
	return patternBytes(uint32(0x10000+i), 1+(i*211)%maxSize)
}

// runDatagrams sends o.datagrams datagrams and counts distinct echoes until all came back or
// o.dgramWait passed after the last send.
func runDatagrams(ctx context.Context, conn quic.Connection, o clientOptions, res *clientResult) error {
	if !conn.ConnectionState().SupportsDatagrams {
		return fmt.Errorf("peer did not enable datagrams (max_datagram_frame_size absent)")
	}
	want := make(map[string]bool, o.datagrams)
	payloads := make([][]byte, o.datagrams)
	for i := range payloads {
		payloads[i] = datagramPayload(i, o.dgramMaxSize)
		want[string(payloads[i])] = false
	}
	var mu sync.Mutex
	echoed := 0
	all := make(chan struct{})
	go func() {
		for {
			msg, err := conn.ReceiveMessage()
			if err != nil {
				return
			}
			mu.Lock()
			if seen, ok := want[string(msg)]; ok && !seen {
				want[string(msg)] = true
				echoed++
				if echoed == len(want) {
					close(all)
				}
			}
			mu.Unlock()
		}
	}()
	for _, p := range payloads {
		if err := conn.SendMessage(p); err != nil {
			return fmt.Errorf("send datagram of %d bytes: %w", len(p), err)
		}
		res.DatagramsSent++
	}
	select {
	case <-all:
	case <-time.After(o.dgramWait):
	case <-ctx.Done():
	}
	mu.Lock()
	res.DatagramsEchoed = echoed
	mu.Unlock()
	return nil
}

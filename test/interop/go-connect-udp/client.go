package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
)

// clientResult is the JSON line "connect-udp client" prints.
type clientResult struct {
	OK                 bool              `json:"ok"`
	Error              string            `json:"error,omitempty"`
	Stage              string            `json:"stage,omitempty"`
	Status             int               `json:"status"`
	ProxyStatus        string            `json:"proxy_status"`
	CapsuleProtocol    bool              `json:"capsule_protocol"`
	ResponseHeaders    []string          `json:"response_headers"`
	Sent               int               `json:"sent"`
	Received           int               `json:"received"`
	Verified           int               `json:"verified"`
	CapsuleDatagrams   int               `json:"capsule_datagrams"`
	UnknownStream      int               `json:"unknown_stream"`
	UnknownContext     int               `json:"unknown_context"`
	Stalls             int               `json:"stalls"`
	ProxyFinished      int               `json:"proxy_finished"`
	HandshakeMs        float64           `json:"handshake_ms"`
	SettingsMs         float64           `json:"settings_ms"`
	ResponseMs         float64           `json:"response_ms"`
	ElapsedMs          float64           `json:"elapsed_ms"`
	ALPN               string            `json:"alpn"`
	DatagramsSupported bool              `json:"datagrams_supported"`
	ServerSettings     map[string]uint64 `json:"server_settings"`
	Authority          string            `json:"authority"`
	Path               string            `json:"path"`
	Sessions           []sessionResult   `json:"sessions"`
}

// sessionResult is one CONNECT-UDP request of the run.
type sessionResult struct {
	StreamID        int64  `json:"stream_id"`
	QuarterStreamID int64  `json:"quarter_stream_id"`
	Status          int    `json:"status"`
	ProxyStatus     string `json:"proxy_status,omitempty"`
	Sent            int    `json:"sent"`
	Received        int    `json:"received"`
	Verified        int    `json:"verified"`
}

type clientOptions struct {
	proxy, template, target, authority string
	count, size, sessions              int
	fixedSize, useCapsules             bool
	legacySetting, grease, qpackStream bool
	expectStatus                       int
	minRatio                           float64
	window                             int
	interval, wait, timeout, stall     time.Duration
	tls                                tlsFlags
}

func runClient(args []string) int {
	var o clientOptions
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.StringVar(&o.proxy, "proxy", "", "proxy URL https://host:port (QUIC address, default :authority and SNI)")
	fs.StringVar(&o.template, "template", defaultConnectUDPTemplate, "URI template: a path, or an absolute https URI")
	fs.StringVar(&o.target, "target", "", "UDP target host:port ([v6]:port for IPv6)")
	fs.StringVar(&o.authority, "authority", "", "override :authority (default: from --proxy or the template)")
	fs.IntVar(&o.count, "count", 100, "UDP payloads to send per session")
	fs.IntVar(&o.size, "size", 1200, "largest UDP payload; payload i has 1 + (i*211 mod size) bytes")
	fs.BoolVar(&o.fixedSize, "fixed-size", false, "every payload has exactly --size bytes")
	fs.IntVar(&o.sessions, "sessions", 1, "concurrent CONNECT-UDP requests on the connection")
	fs.BoolVar(&o.useCapsules, "use-capsules", false, "send payloads as DATAGRAM capsules on the request stream instead of QUIC DATAGRAM frames")
	fs.BoolVar(&o.legacySetting, "legacy-datagram-setting", false, "also send 0xffd277=1 and accept it instead of 0x33 from the proxy")
	fs.BoolVar(&o.grease, "grease", true, "send a reserved (GREASE) SETTINGS entry, RFC 9114 §7.2.4.1")
	fs.BoolVar(&o.qpackStream, "qpack-streams", false, "also open (empty) QPACK encoder and decoder streams")
	fs.IntVar(&o.expectStatus, "expect-status", 0, "succeed only when the proxy answers this status (0: any 2xx, then datagrams)")
	fs.Float64Var(&o.minRatio, "min-ratio", 0.99, "fraction of payloads that must be echoed and verified")
	fs.IntVar(&o.window, "window", 64, "most payloads in flight (sent, not yet echoed) over all sessions; 0: unlimited")
	fs.DurationVar(&o.stall, "stall", 200*time.Millisecond, "with --window: send anyway after this long without an echo (losses)")
	fs.DurationVar(&o.interval, "interval", 0, "pause between two sends (0: as fast as quic-go takes them)")
	fs.DurationVar(&o.wait, "wait", 3*time.Second, "how long to wait for echoes after the last send")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "overall deadline")
	addClientTLSFlags(fs, &o.tls)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res := &clientResult{ResponseHeaders: []string{}, Sessions: []sessionResult{}}
	if o.proxy == "" || o.target == "" || o.count < 0 || o.size < 1 || o.size > maxUDPPayload ||
		o.sessions < 1 || o.minRatio < 0 || o.minRatio > 1 || (o.sessions > 1 && o.count > 1<<20) {
		res.Stage, res.Error = "flags", "need --proxy, --target, --count >= 0, 1 <= --size <= 65527, --sessions >= 1, 0 <= --min-ratio <= 1"
		printJSON(res)
		return 2
	}
	start := time.Now()
	stage, err := runClientSession(o, res, start)
	res.ElapsedMs = msSince(start)
	if err != nil {
		res.Stage, res.Error = stage, err.Error()
		printJSON(res)
		return 1
	}
	res.OK = true
	printJSON(res)
	return 0
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// clientConn is the HTTP/3 state of the client's one QUIC connection.
type clientConn struct {
	conn     quic.Connection
	settings chan map[uint64]uint64
	failed   chan struct{}
	once     sync.Once
	mu       sync.Mutex
	err      error
	finished bool                      // set before we close our request streams: their ends are no longer errors
	sessions map[uint64]*clientSession // by quarter stream ID
	stats    *clientResult
	progress chan struct{} // signalled (non-blocking) on every delivered payload
	inFlight int           // sent minus received over all sessions
	stalls   int           // --stall expiries
}

// fail records the first connection error and closes the connection with its H3 code.
func (c *clientConn) fail(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		code := uint64(errH3GeneralProtocolError)
		var h3 *h3Error
		if errors.As(err, &h3) {
			code = h3.code
		}
		_ = c.conn.CloseWithError(quic.ApplicationErrorCode(code), err.Error())
		close(c.failed)
	})
}

// sessionFailed records the first error of a request stream while the run is still active.
func (c *clientConn) sessionFailed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !c.finished {
		c.err = err
	}
}

func (c *clientConn) firstErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func runClientSession(o clientOptions, res *clientResult, start time.Time) (string, error) {
	scheme, authority, err := splitProxyURL(o.proxy)
	if err != nil {
		return "flags", err
	}
	quicAddr := authority
	proxyHost, _, err := net.SplitHostPort(authority)
	if err != nil {
		proxyHost, quicAddr = strings.Trim(authority, "[]"), net.JoinHostPort(strings.Trim(authority, "[]"), "443")
	}
	targetHost, targetPort, err := net.SplitHostPort(o.target)
	if err != nil {
		return "flags", fmt.Errorf("--target: %w", err)
	}
	rt, err := resolveTemplate(o.template, scheme, authority, targetHost, targetPort)
	if err != nil {
		return "flags", err
	}
	if o.authority != "" {
		rt.authority = o.authority
	}
	res.Authority, res.Path = rt.authority, rt.path

	tlsConf, keylog, err := clientTLS(o.tls, proxyHost)
	if err != nil {
		return "tls", err
	}
	if keylog != nil {
		defer keylog.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	qconf := &quic.Config{EnableDatagrams: true, MaxIdleTimeout: 30 * time.Second, KeepAlivePeriod: 5 * time.Second}
	t0 := time.Now()
	conn, err := quic.DialAddrContext(ctx, quicAddr, tlsConf, qconf)
	if err != nil {
		return "handshake", err
	}
	res.HandshakeMs = msSince(t0)
	res.ALPN = conn.ConnectionState().TLS.NegotiatedProtocol
	res.DatagramsSupported = conn.ConnectionState().SupportsDatagrams
	c := &clientConn{
		conn: conn, settings: make(chan map[uint64]uint64, 1), failed: make(chan struct{}),
		sessions: map[uint64]*clientSession{}, stats: res, progress: make(chan struct{}, 1),
	}
	defer func() { c.fail(newH3Error(errH3NoError, "done")) }()

	settings := []setting{
		{settingQPACKMaxTableCapacity, 0}, // no dynamic table: the proxy's encoder stays static-only
		{settingQPACKBlockedStreams, 0},
		{settingH3Datagram, 1},
	}
	if o.legacySetting {
		settings = append(settings, setting{settingH3DatagramDraft04, 1})
	}
	if o.grease {
		settings = append(settings, setting{settingGrease, 0x5a})
	}
	if err := openControlStream(conn, settings, o.qpackStream); err != nil {
		return "settings", err
	}
	uni := &uniStreamHandler{conn: conn, fail: c.fail, onSettings: func(s map[uint64]uint64) { c.settings <- s }}
	go uni.run()

	// RFC 9220 §3 (RFC 8441 §4): a client uses Extended CONNECT only after the server's
	// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; RFC 9297 §2.1.1: no QUIC DATAGRAM frames until
	// SETTINGS_H3_DATAGRAM = 1 was both sent and received.
	var peer map[uint64]uint64
	select {
	case peer = <-c.settings:
	case <-c.failed:
		return "settings", c.firstErr()
	case <-ctx.Done():
		return "settings", errors.New("no SETTINGS from the proxy before the deadline")
	}
	res.SettingsMs = msSince(t0)
	res.ServerSettings = settingsJSON(peer)
	if peer[settingEnableConnectProtocol] != 1 {
		return "settings", errors.New("proxy did not send SETTINGS_ENABLE_CONNECT_PROTOCOL (0x08) = 1")
	}
	dgramOK := peer[settingH3Datagram] == 1 || (o.legacySetting && peer[settingH3DatagramDraft04] == 1)
	if !dgramOK {
		return "settings", errors.New("proxy did not send SETTINGS_H3_DATAGRAM (0x33) = 1")
	}
	if !o.useCapsules && !res.DatagramsSupported {
		return "settings", errors.New("proxy did not send the max_datagram_frame_size transport parameter (RFC 9221)")
	}

	sessions := make([]*clientSession, o.sessions)
	for i := range sessions {
		s, err := c.openSession(ctx, o, rt, i)
		if err != nil {
			return "request", err
		}
		sessions[i] = s
	}
	t1 := time.Now()
	for _, s := range sessions {
		if err := s.awaitResponse(ctx, c); err != nil {
			return "response", err
		}
	}
	res.ResponseMs = msSince(t1)
	first := sessions[0]
	res.Status, res.ProxyStatus, res.CapsuleProtocol = first.status, first.proxyStatus, first.capsuleProtocol
	res.ResponseHeaders = first.headers
	for _, s := range sessions {
		res.Sessions = append(res.Sessions, sessionResult{
			StreamID: int64(s.stream.StreamID()), QuarterStreamID: int64(s.stream.StreamID()) / 4,
			Status: s.status, ProxyStatus: s.proxyStatus,
		})
	}
	for _, s := range sessions {
		if err := checkStatus(s, o.expectStatus); err != nil {
			return "response", err
		}
	}
	if o.expectStatus != 0 && (o.expectStatus < 200 || o.expectStatus > 299) {
		return "", nil // the expected refusal arrived; nothing to proxy
	}

	go c.receiveDatagrams()
	for _, s := range sessions {
		go s.readCapsules(c)
	}
	if err := sendPayloads(ctx, c, sessions, o); err != nil {
		c.collect(sessions)
		return "datagrams", err
	}
	allEchoed := make(chan struct{})
	go func() {
		for _, s := range sessions {
			select {
			case <-s.allVerified:
			case <-ctx.Done():
				return
			}
		}
		close(allEchoed)
	}()
	select {
	case <-allEchoed:
	case <-time.After(o.wait):
	case <-ctx.Done():
	case <-c.failed:
	}
	c.collect(sessions)
	c.mu.Lock()
	c.finished = true
	c.mu.Unlock()
	for _, s := range sessions {
		// Closing our send side ends the tunnel (RFC 9298 §3.2: the socket's lifetime is
		// tied to the request stream); a well-behaved proxy then finishes its side too.
		_ = s.stream.Close()
	}
	closeWait := time.After(time.Second)
	for _, s := range sessions {
		select {
		case <-s.readDone:
		case <-closeWait:
		}
	}
	c.mu.Lock()
	for _, s := range sessions {
		if s.peerFinished {
			res.ProxyFinished++
		}
	}
	c.mu.Unlock()
	if err := c.firstErr(); err != nil {
		return "datagrams", err
	}
	need := int(math.Ceil(o.minRatio * float64(o.count*o.sessions)))
	switch {
	case res.Received != res.Verified:
		return "datagrams", fmt.Errorf("%d of %d received payloads did not match a payload sent on that stream",
			res.Received-res.Verified, res.Received)
	case res.Verified < need:
		return "datagrams", fmt.Errorf("only %d of %d payloads echoed and verified (need %d)", res.Verified, res.Sent, need)
	}
	return "", nil
}

// checkStatus applies --expect-status (0: any 2xx) to one session.
func checkStatus(s *clientSession, expect int) error {
	if expect == 0 && (s.status < 200 || s.status > 299) {
		return fmt.Errorf("proxy answered %d (proxy-status %q), want 2xx", s.status, s.proxyStatus)
	}
	if expect != 0 && s.status != expect {
		return fmt.Errorf("proxy answered %d (proxy-status %q), want %d", s.status, s.proxyStatus, expect)
	}
	return nil
}

// collect sums the per-session counters into the result.
func (c *clientConn) collect(sessions []*clientSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res := c.stats
	res.Sent, res.Received, res.Verified, res.Stalls = 0, 0, 0, c.stalls
	for i, s := range sessions {
		res.Sent += s.sent
		res.Received += s.received
		res.Verified += s.verified
		if i < len(res.Sessions) {
			res.Sessions[i].Sent, res.Sessions[i].Received, res.Sessions[i].Verified = s.sent, s.received, s.verified
		}
	}
}

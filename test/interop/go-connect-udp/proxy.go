package main

// A deliberately tiny reference CONNECT-UDP proxy (RFC 9298) for the client's self-test: the
// default template only, context ID 0 only, one connected UDP socket per request.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/marten-seemann/qpack"
)

// proxyStatusName identifies this proxy in Proxy-Status (RFC 9209 §2).
const proxyStatusName = "connect-udp-go"

// intList collects repeated integer flags.
type intList []int

func (l *intList) String() string { return fmt.Sprint([]int(*l)) }

func (l *intList) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return err
	}
	*l = append(*l, n)
	return nil
}

type proxyOptions struct {
	listen            string
	watchStdin        bool
	legacySetting     bool
	noExtendedConnect bool
	noH3Datagram      bool
	forbidPorts       intList
	tls               tlsFlags
}

func runProxy(args []string) int {
	var o proxyOptions
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP address to listen on")
	fs.BoolVar(&o.watchStdin, "exit-on-stdin-eof", true, "exit when stdin reaches EOF")
	fs.BoolVar(&o.legacySetting, "legacy-datagram-setting", false, "also send 0xffd277=1")
	fs.BoolVar(&o.noExtendedConnect, "no-extended-connect", false, "omit SETTINGS_ENABLE_CONNECT_PROTOCOL (to test clients)")
	fs.BoolVar(&o.noH3Datagram, "no-h3-datagram", false, "omit SETTINGS_H3_DATAGRAM (to test clients)")
	fs.Var(&o.forbidPorts, "forbid-port", "answer 403 with a Proxy-Status for this target port (repeatable)")
	addServerTLSFlags(fs, &o.tls)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	tlsConf, keylog, err := serverTLS(o.tls)
	if err != nil {
		log.Print(err)
		return 1
	}
	if keylog != nil {
		defer keylog.Close()
	}
	udp, err := net.ListenPacket("udp", o.listen)
	if err != nil {
		log.Print(err)
		return 1
	}
	defer udp.Close()
	qconf := &quic.Config{EnableDatagrams: true, MaxIdleTimeout: 30 * time.Second, KeepAlivePeriod: 5 * time.Second}
	ln, err := quic.Listen(udp, tlsConf, qconf)
	if err != nil {
		log.Print(err)
		return 1
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				log.Printf("accept stopped: %v", err)
				return
			}
			go serveProxyConn(conn, o)
		}
	}()
	printReady(udp.LocalAddr().String())
	log.Printf("CONNECT-UDP proxy on %s", udp.LocalAddr())
	log.Printf("shutting down: %s", waitForShutdown(o.watchStdin))
	return 0
}

// proxyConn is one client connection.
type proxyConn struct {
	conn     quic.Connection
	opts     proxyOptions
	once     sync.Once
	mu       sync.Mutex
	dgramsOK bool                     // the client sent SETTINGS_H3_DATAGRAM = 1
	sessions map[uint64]*proxySession // by quarter stream ID
	dropped  int                      // datagrams for no known session
}

func (p *proxyConn) fail(err error) {
	p.once.Do(func() {
		code := uint64(errH3GeneralProtocolError)
		var h3 *h3Error
		if errors.As(err, &h3) {
			code = h3.code
		}
		if code != errH3NoError {
			log.Printf("%s: closing: %v", p.conn.RemoteAddr(), err)
		}
		_ = p.conn.CloseWithError(quic.ApplicationErrorCode(code), err.Error())
	})
}

func serveProxyConn(conn quic.Connection, o proxyOptions) {
	p := &proxyConn{conn: conn, opts: o, sessions: map[uint64]*proxySession{}}
	settings := []setting{{settingQPACKMaxTableCapacity, 0}, {settingQPACKBlockedStreams, 0}}
	if !o.noExtendedConnect {
		settings = append(settings, setting{settingEnableConnectProtocol, 1}) // RFC 9220 §3
	}
	if !o.noH3Datagram {
		settings = append(settings, setting{settingH3Datagram, 1}) // RFC 9297 §2.1.1
	}
	if o.legacySetting {
		settings = append(settings, setting{settingH3DatagramDraft04, 1})
	}
	if err := openControlStream(conn, settings, false); err != nil {
		p.fail(err)
		return
	}
	uni := &uniStreamHandler{conn: conn, fromClient: true, fail: p.fail, onSettings: func(s map[uint64]uint64) {
		p.mu.Lock()
		p.dgramsOK = s[settingH3Datagram] == 1 || (o.legacySetting && s[settingH3DatagramDraft04] == 1)
		p.mu.Unlock()
	}}
	go uni.run()
	go p.receiveDatagrams()
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go p.serveRequest(str)
	}
}

// receiveDatagrams forwards HTTP/3 Datagrams with Context ID 0 to the session's socket.
func (p *proxyConn) receiveDatagrams() {
	for {
		msg, err := p.conn.ReceiveMessage()
		if err != nil {
			return
		}
		q, rest, err := parseVarint(msg)
		if err != nil || q > maxQuarterStreamID {
			// RFC 9297 §2.1: a missing or too large Quarter Stream ID "MUST be treated as an
			// HTTP/3 connection error of type H3_DATAGRAM_ERROR".
			p.fail(newH3Error(errH3DatagramError, "bad Quarter Stream ID in a DATAGRAM frame"))
			return
		}
		p.mu.Lock()
		s := p.sessions[q]
		if s == nil {
			p.dropped++ // RFC 9297 §2.1: unknown or closed streams: drop silently
		}
		p.mu.Unlock()
		if s != nil {
			s.toTarget(rest)
		}
	}
}

// proxySession is one CONNECT-UDP request.
type proxySession struct {
	p             *proxyConn
	str           quic.Stream
	udp           *net.UDPConn
	target        string
	writeMu       sync.Mutex
	mu            sync.Mutex
	useCapsules   bool // the client sent a DATAGRAM capsule: answer the same way
	up, down      int
	droppedUp     int
	droppedDown   int
	unknownCtxIDs int
}

// toTarget handles one HTTP Datagram payload (Context ID + UDP payload) from the client.
func (s *proxySession) toTarget(p []byte) {
	ctxID, payload, err := parseVarint(p)
	if err != nil || ctxID != 0 {
		s.mu.Lock()
		s.unknownCtxIDs++ // RFC 9298 §5: unknown Context IDs are dropped
		s.mu.Unlock()
		return
	}
	if len(payload) > maxUDPPayload {
		// RFC 9298 §5: a longer payload with Context ID 0 "MUST abort the corresponding stream".
		s.str.CancelRead(quic.StreamErrorCode(errH3MessageError))
		s.str.CancelWrite(quic.StreamErrorCode(errH3MessageError))
		return
	}
	_, err = s.udp.Write(payload)
	s.mu.Lock()
	if err != nil {
		s.droppedUp++
	} else {
		s.up++
	}
	s.mu.Unlock()
}

// serveRequest handles one request stream from its HEADERS to its end.
func (p *proxyConn) serveRequest(str quic.Stream) {
	fr := newFrameReader(str)
	_ = str.SetReadDeadline(time.Now().Add(10 * time.Second))
	var block []byte
	for block == nil {
		t, n, err := fr.next()
		if err != nil {
			str.CancelWrite(quic.StreamErrorCode(errH3RequestIncomplete))
			return
		}
		switch {
		case t == frameHeaders:
			if block, err = fr.payload(t, n, maxHeadersFrame); err != nil {
				p.fail(err)
				return
			}
		case t == frameData || t == frameSettings || t == frameGoAway || t == frameMaxPushID ||
			t == frameCancelPush || t == framePushPromise || isHTTP2OnlyFrame(t):
			// RFC 9114 §4.1: an invalid frame sequence (DATA before HEADERS) or a frame not
			// allowed on request streams is H3_FRAME_UNEXPECTED.
			p.fail(newH3Error(errH3FrameUnexpected, "frame 0x%x before request HEADERS", t))
			return
		default:
			if err := fr.skip(n); err != nil {
				p.fail(err)
				return
			}
		}
	}
	_ = str.SetReadDeadline(time.Time{})
	fields, err := qpack.NewDecoder(nil).DecodeFull(block)
	if err != nil {
		p.fail(newH3Error(errQPACKDecompression, "QPACK: %v", err))
		return
	}
	target, refusal := validateRequest(fields, p.opts.forbidPorts)
	var udp *net.UDPConn
	if refusal == nil {
		udp, refusal = dialTarget(target)
	}
	if refusal != nil {
		log.Printf("stream %d: refused: %v", str.StreamID(), refusal)
		ps := fmt.Sprintf("%s; error=%s; details=%q", proxyStatusName, refusal.errorType, refusal.description)
		_ = writeResponse(str, refusal.status, []qpack.HeaderField{{Name: "proxy-status", Value: ps}})
		_ = str.Close()
		str.CancelRead(quic.StreamErrorCode(errH3NoError))
		return
	}
	s := &proxySession{p: p, str: str, udp: udp, target: udp.RemoteAddr().String()}
	q := uint64(str.StreamID()) / 4
	p.mu.Lock()
	p.sessions[q] = s
	p.mu.Unlock()
	if err := writeResponse(str, 200, []qpack.HeaderField{{Name: "capsule-protocol", Value: capsuleProtocolHeaderValue}}); err != nil {
		s.close(q, err)
		return
	}
	go s.fromTarget(q)
	s.close(q, s.readCapsules(fr))
}

// writeResponse sends a response HEADERS frame: :status and the given fields.
func writeResponse(str quic.Stream, status int, fields []qpack.HeaderField) error {
	var block bytes.Buffer
	enc := qpack.NewEncoder(&block)
	all := append([]qpack.HeaderField{{Name: ":status", Value: strconv.Itoa(status)}}, fields...)
	for _, f := range all {
		if err := enc.WriteField(f); err != nil {
			return err
		}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := str.Write(appendFrame(nil, frameHeaders, block.Bytes()))
	return err
}

// readCapsules reads the request's capsule stream until it ends; DATAGRAM capsules are
// forwarded like QUIC datagrams.
func (s *proxySession) readCapsules(fr *frameReader) error {
	d := &dataReader{fr: fr}
	for {
		c, err := readCapsule(d)
		if err != nil {
			return err
		}
		if c.capsuleType == capsuleDatagram {
			s.mu.Lock()
			s.useCapsules = true
			s.mu.Unlock()
			s.toTarget(c.value)
		}
	}
}

// fromTarget forwards the target's datagrams to the client until the socket is closed.
func (s *proxySession) fromTarget(q uint64) {
	buf := make([]byte, 65536)
	quarter := appendVarint(nil, q)
	for {
		n, err := s.udp.Read(buf)
		if err != nil {
			return
		}
		httpPayload := append(appendVarint(nil, 0), buf[:n]...) // Context ID 0 (RFC 9298 §5)
		s.p.mu.Lock()
		dgramsOK := s.p.dgramsOK && s.p.conn.ConnectionState().SupportsDatagrams
		s.p.mu.Unlock()
		s.mu.Lock()
		capsules := s.useCapsules || !dgramsOK
		s.mu.Unlock()
		if capsules {
			s.writeMu.Lock()
			_, err = s.str.Write(appendDatagramCapsule(nil, httpPayload))
			s.writeMu.Unlock()
		} else {
			// RFC 9297 §2.1.1: QUIC DATAGRAM frames only after H3_DATAGRAM = 1 both ways.
			err = s.p.conn.SendMessage(append(quarter, httpPayload...))
		}
		s.mu.Lock()
		if err != nil {
			s.droppedDown++
		} else {
			s.down++
		}
		s.mu.Unlock()
	}
}

// close ends a session: the socket's lifetime is the request stream's (RFC 9298 §3.2).
func (s *proxySession) close(q uint64, why error) {
	s.p.mu.Lock()
	delete(s.p.sessions, q)
	s.p.mu.Unlock()
	_ = s.udp.Close()
	var h3 *h3Error
	switch {
	case errors.Is(why, io.EOF): // client FIN: finish our side too
		s.writeMu.Lock()
		_ = s.str.Close()
		s.writeMu.Unlock()
	case errors.As(why, &h3) && h3.code == errH3MessageError:
		s.str.CancelRead(quic.StreamErrorCode(h3.code))
		s.str.CancelWrite(quic.StreamErrorCode(h3.code))
	case errors.As(why, &h3):
		s.p.fail(why)
	default:
		s.str.CancelWrite(quic.StreamErrorCode(errH3RequestCancelled))
	}
	s.mu.Lock()
	log.Printf("stream %d to %s closed (%v): %d up, %d down, dropped %d up / %d down, %d unknown context IDs",
		s.str.StreamID(), s.target, why, s.up, s.down, s.droppedUp, s.droppedDown, s.unknownCtxIDs)
	s.mu.Unlock()
}

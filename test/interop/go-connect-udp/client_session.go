package main

// One CONNECT-UDP request of the client: Extended CONNECT HEADERS (RFC 9298 §3.4, RFC 9220),
// the response and its capsule stream (RFC 9297 §3).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/marten-seemann/qpack"
)

// clientSession is one CONNECT-UDP request stream.
type clientSession struct {
	index           int
	stream          quic.Stream
	fr              *frameReader
	quarterID       uint64 // stream ID / 4 (RFC 9297 §2.1)
	status          int
	proxyStatus     string
	capsuleProtocol bool
	headers         []string
	expected        int
	outstanding     map[string]int
	allVerified     chan struct{}
	sent, received  int
	verified        int
	readDone        chan struct{} // closed when readCapsules returns
	peerFinished    bool          // the proxy ended the response stream cleanly (FIN)
}

// payload returns UDP payload i of this session.
func (s *clientSession) payload(i int, o clientOptions) []byte {
	seed := uint32(udpPayloadSeed + s.index<<20 + i)
	return patternBytes(seed, udpPayloadSize(i, o.size, o.fixedSize))
}

// openSession opens a request stream and sends the Extended CONNECT HEADERS
// (RFC 9298 §3.4, RFC 9220 §3, RFC 9114 §4.4). The send side stays open: it is the tunnel.
func (c *clientConn) openSession(ctx context.Context, o clientOptions, rt requestTarget, index int) (*clientSession, error) {
	str, err := c.conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	s := &clientSession{
		index: index, stream: str, fr: newFrameReader(str), outstanding: map[string]int{},
		allVerified: make(chan struct{}), expected: o.count, headers: []string{}, readDone: make(chan struct{}),
	}
	s.quarterID = uint64(str.StreamID()) / 4
	for i := 0; i < o.count; i++ {
		s.outstanding[string(s.payload(i, o))]++
	}
	if o.count == 0 {
		close(s.allVerified)
	}
	c.mu.Lock()
	c.sessions[s.quarterID] = s
	c.mu.Unlock()

	var block bytes.Buffer
	enc := qpack.NewEncoder(&block)
	for _, f := range []qpack.HeaderField{
		{Name: ":method", Value: "CONNECT"},
		{Name: ":protocol", Value: connectUDPProtocol},
		{Name: ":scheme", Value: rt.scheme},
		{Name: ":authority", Value: rt.authority},
		{Name: ":path", Value: rt.path},
		{Name: "capsule-protocol", Value: capsuleProtocolHeaderValue}, // RFC 9297 §3.4
	} {
		if err := enc.WriteField(f); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if _, err := str.Write(appendFrame(nil, frameHeaders, block.Bytes())); err != nil {
		return nil, err
	}
	return s, nil
}

// awaitResponse reads frames until the final response HEADERS and validates it.
func (s *clientSession) awaitResponse(ctx context.Context, c *clientConn) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = s.stream.SetReadDeadline(dl)
	}
	defer func() { _ = s.stream.SetReadDeadline(time.Time{}) }()
	for {
		t, n, err := s.fr.next()
		if err != nil {
			if ce := c.firstErr(); ce != nil {
				return ce
			}
			return fmt.Errorf("stream %d ended before a response: %v", s.stream.StreamID(), err)
		}
		switch {
		case t == frameHeaders:
			block, err := s.fr.payload(t, n, maxHeadersFrame)
			if err != nil {
				return err
			}
			final, err := s.parseResponse(block)
			if err != nil {
				return err
			}
			if final {
				return nil
			}
		case t == frameData:
			// RFC 9114 §4.1: "Receipt of an invalid sequence of frames MUST be treated as a
			// connection error of type H3_FRAME_UNEXPECTED" (DATA before HEADERS).
			err := newH3Error(errH3FrameUnexpected, "DATA before the response HEADERS")
			c.fail(err)
			return err
		case t == frameSettings || t == frameGoAway || t == frameMaxPushID || t == frameCancelPush ||
			t == framePushPromise || isHTTP2OnlyFrame(t):
			err := newH3Error(errH3FrameUnexpected, "frame 0x%x on a request stream", t)
			c.fail(err)
			return err
		default:
			if err := s.fr.skip(n); err != nil {
				return err
			}
		}
	}
}

// parseResponse decodes one response field section; it reports whether it was final.
func (s *clientSession) parseResponse(block []byte) (bool, error) {
	fields, err := qpack.NewDecoder(nil).DecodeFull(block)
	if err != nil {
		return false, newH3Error(errQPACKDecompression, "QPACK: %v", err)
	}
	status, regular := 0, false
	var headers []string
	proxyStatus, capsuleProtocol := "", false
	for _, f := range fields {
		if f.Name != strings.ToLower(f.Name) {
			// RFC 9114 §4.2: uppercase field names make the message malformed.
			return false, newH3Error(errH3MessageError, "uppercase field name %q", f.Name)
		}
		if strings.HasPrefix(f.Name, ":") {
			// RFC 9114 §4.3: pseudo-headers precede regular fields; responses carry :status only.
			if regular || f.Name != ":status" || status != 0 {
				return false, newH3Error(errH3MessageError, "misplaced pseudo-header %q", f.Name)
			}
			if len(f.Value) != 3 || strings.Trim(f.Value, "0123456789") != "" {
				return false, newH3Error(errH3MessageError, "bad :status %q", f.Value)
			}
			status = int(f.Value[0]-'0')*100 + int(f.Value[1]-'0')*10 + int(f.Value[2]-'0')
			continue
		}
		regular = true
		headers = append(headers, f.Name+": "+f.Value)
		switch f.Name {
		case "proxy-status":
			if proxyStatus != "" {
				proxyStatus += ", "
			}
			proxyStatus += f.Value
		case "capsule-protocol":
			capsuleProtocol = f.Value == capsuleProtocolHeaderValue
		case "content-length", "content-type", "transfer-encoding":
			if status >= 200 && status <= 299 {
				// RFC 9297 §3.2: "The Capsule Protocol MUST NOT be used with messages that
				// contain Content-Length, Content-Type, or Transfer-Encoding header fields."
				return false, newH3Error(errH3MessageError, "%s in a 2xx CONNECT-UDP response", f.Name)
			}
		}
	}
	if status < 100 {
		return false, newH3Error(errH3MessageError, "response without :status")
	}
	if status < 200 {
		return false, nil // RFC 9114 §4.1: interim responses precede the final one
	}
	if status == 204 || status == 205 || status == 206 {
		// RFC 9297 §3.2: these codes "MUST NOT be sent on responses that use the Capsule Protocol".
		return false, newH3Error(errH3MessageError, "status %d on a CONNECT-UDP response", status)
	}
	s.status, s.proxyStatus, s.capsuleProtocol, s.headers = status, proxyStatus, capsuleProtocol, headers
	return true, nil
}

// readCapsules parses the response's capsule stream (RFC 9297 §3.2): DATAGRAM capsules are
// delivered like QUIC datagrams, other capsules are skipped.
func (s *clientSession) readCapsules(c *clientConn) {
	defer close(s.readDone)
	d := &dataReader{fr: s.fr}
	for {
		cp, err := readCapsule(d)
		if err != nil {
			var h3 *h3Error
			switch {
			case errors.As(err, &h3) && h3.code == errH3MessageError:
				// RFC 9297 §3.3: a capsule error makes the message malformed, a stream error
				// (RFC 9114 §4.1.2) of type H3_MESSAGE_ERROR.
				s.stream.CancelRead(quic.StreamErrorCode(h3.code))
				s.stream.CancelWrite(quic.StreamErrorCode(h3.code))
				c.sessionFailed(err)
			case errors.As(err, &h3):
				c.fail(err)
			case errors.Is(err, io.EOF):
				c.mu.Lock()
				s.peerFinished = true
				c.mu.Unlock()
				c.sessionFailed(fmt.Errorf("proxy closed request stream %d", s.stream.StreamID()))
			default:
				c.sessionFailed(fmt.Errorf("request stream %d: %w", s.stream.StreamID(), err))
			}
			return
		}
		if cp.capsuleType == capsuleDatagram {
			c.deliver(s, cp.value, true)
		}
	}
}

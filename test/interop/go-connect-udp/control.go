package main

// The unidirectional-stream side of an HTTP/3 connection, shared by the client and the proxy:
// our control stream with SETTINGS (RFC 9114 §6.2.1, §7.2.4) and dispatch of the peer's
// unidirectional streams by type (RFC 9114 §6.2, RFC 9204 §4.2).

import (
	"context"
	"errors"
	"sync"

	"github.com/lucas-clemente/quic-go"
)

// openControlStream opens our control stream and sends SETTINGS as its first frame
// (RFC 9114 §6.2.1: "each side MUST initiate a single control stream"; "A SETTINGS frame
// MUST be sent as the first frame of each control stream"). With qpackStreams it also opens
// empty QPACK encoder/decoder streams, which RFC 9204 §4.2 lets an endpoint without a
// dynamic table omit.
func openControlStream(conn quic.Connection, settings []setting, qpackStreams bool) error {
	ctrl, err := conn.OpenUniStream()
	if err != nil {
		return err
	}
	msg := appendVarint(nil, streamTypeControl)
	msg = appendFrame(msg, frameSettings, encodeSettings(settings))
	if _, err := ctrl.Write(msg); err != nil {
		return err
	}
	if qpackStreams {
		for _, t := range []uint64{streamTypeQPACKEncoder, streamTypeQPACKDecoder} {
			s, err := conn.OpenUniStream()
			if err != nil {
				return err
			}
			if _, err := s.Write(appendVarint(nil, t)); err != nil {
				return err
			}
		}
	}
	return nil
}

// uniStreamHandler receives the peer's unidirectional streams.
type uniStreamHandler struct {
	conn       quic.Connection
	fromClient bool                    // the peer is a client (MAX_PUSH_ID allowed, push streams not)
	onSettings func(map[uint64]uint64) // called once with the peer's SETTINGS
	fail       func(error)             // connection error: close with the H3 code
	mu         sync.Mutex
	seen       map[uint64]bool
}

// run accepts streams until the connection ends.
func (h *uniStreamHandler) run() {
	h.seen = map[uint64]bool{}
	for {
		str, err := h.conn.AcceptUniStream(context.Background())
		if err != nil {
			return
		}
		go h.handle(str)
	}
}

func (h *uniStreamHandler) handle(str quic.ReceiveStream) {
	fr := newFrameReader(str)
	t, err := readVarint(fr.r)
	if err != nil {
		return // a stream that ends before its type carries nothing to act on
	}
	switch t {
	case streamTypeControl, streamTypeQPACKEncoder, streamTypeQPACKDecoder:
		h.mu.Lock()
		dup := h.seen[t]
		h.seen[t] = true
		h.mu.Unlock()
		if dup {
			// RFC 9114 §6.2.1 / RFC 9204 §4.2: a second control or QPACK stream of a type
			// "MUST be treated as a connection error of type H3_STREAM_CREATION_ERROR".
			h.fail(newH3Error(errH3StreamCreationError, "second stream of type 0x%x", t))
			return
		}
		if t == streamTypeControl {
			if err := h.readControlStream(fr); err != nil {
				h.fail(err)
			}
			return
		}
		h.drainQPACKStream(fr, t)
	case streamTypePush:
		if h.fromClient {
			// RFC 9114 §6.2.2: "Only servers can push; if a server receives a client-initiated
			// push stream, this MUST be treated as a connection error of type
			// H3_STREAM_CREATION_ERROR."
			h.fail(newH3Error(errH3StreamCreationError, "push stream from a client"))
			return
		}
		// RFC 9114 §4.6: we never sent MAX_PUSH_ID, so any push ID is H3_ID_ERROR.
		h.fail(newH3Error(errH3IDError, "push stream without MAX_PUSH_ID"))
	default:
		// RFC 9114 §6.2: for unknown stream types "the recipient MUST either abort reading of
		// the stream or discard incoming data without further processing".
		str.CancelRead(quic.StreamErrorCode(errH3StreamCreationError))
	}
}

// readControlStream reads the peer's control stream until it fails; it only returns errors.
func (h *uniStreamHandler) readControlStream(fr *frameReader) error {
	first := true
	for {
		t, n, err := fr.next()
		if err != nil {
			var h3 *h3Error
			if errors.As(err, &h3) {
				return err
			}
			if h.conn.Context().Err() != nil {
				return nil // the connection is closing: not a stream error
			}
			// RFC 9114 §6.2.1: "If either control stream is closed at any point, this MUST
			// be treated as a connection error of type H3_CLOSED_CRITICAL_STREAM."
			return newH3Error(errH3ClosedCriticalStream, "peer control stream ended: %v", err)
		}
		if first && t != frameSettings {
			// RFC 9114 §6.2.1: if the first frame "is any other frame type, this MUST be
			// treated as a connection error of type H3_MISSING_SETTINGS".
			return newH3Error(errH3MissingSettings, "first control frame is 0x%x, not SETTINGS", t)
		}
		switch {
		case t == frameSettings && first:
			p, err := fr.payload(t, n, maxSettingsFrame)
			if err != nil {
				return err
			}
			s, err := parseSettings(p)
			if err != nil {
				return err
			}
			h.onSettings(s)
			first = false
		case t == frameSettings:
			// RFC 9114 §7.2.4: a second SETTINGS "MUST be treated as a connection error of
			// type H3_FRAME_UNEXPECTED".
			return newH3Error(errH3FrameUnexpected, "second SETTINGS frame")
		case t == frameData || t == frameHeaders || t == framePushPromise || isHTTP2OnlyFrame(t),
			t == frameMaxPushID && !h.fromClient:
			// RFC 9114 §7.2.1, §7.2.2, §7.2.5, §7.2.7, §7.2.8: not allowed on a control
			// stream (MAX_PUSH_ID only from a client).
			return newH3Error(errH3FrameUnexpected, "frame 0x%x on the control stream", t)
		default: // GOAWAY, CANCEL_PUSH, MAX_PUSH_ID, unknown and reserved types
			if err := fr.skip(n); err != nil {
				return err
			}
		}
	}
}

// drainQPACKStream reads a peer QPACK stream. We advertise a dynamic table capacity of 0, so
// the encoder stream cannot carry a valid instruction (RFC 9204 §4.3.1: the encoder "MUST
// NOT set a dynamic table capacity that exceeds this maximum", and every other encoder
// instruction needs a table); our decoder needs no decoder-stream instructions.
func (h *uniStreamHandler) drainQPACKStream(fr *frameReader, t uint64) {
	buf := make([]byte, 256)
	for {
		n, err := fr.r.Read(buf)
		for _, b := range buf[:n] {
			if t == streamTypeQPACKEncoder && b != 0x20 { // 0x20: Set Dynamic Table Capacity 0
				h.fail(newH3Error(errQPACKEncoderStream, "QPACK encoder instruction 0x%02x with a zero-capacity table", b))
				return
			}
		}
		if err != nil {
			if h.conn.Context().Err() != nil {
				return
			}
			// RFC 9204 §4.2: closing a QPACK stream is H3_CLOSED_CRITICAL_STREAM.
			h.fail(newH3Error(errH3ClosedCriticalStream, "QPACK stream 0x%x closed: %v", t, err))
			return
		}
	}
}

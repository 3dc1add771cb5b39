package main

// Hand-written HTTP/3 framing (RFC 9114 §7), SETTINGS (§7.2.4), unidirectional stream types
// (§6.2), HTTP/3 Datagrams (RFC 9297 §2.1) and capsules (RFC 9297 §3). Only what a
// CONNECT-UDP client and a tiny proxy need; written from the RFCs, independent of quic-go's
// own http3 package.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
)

// HTTP/3 unidirectional stream types, RFC 9114 §6.2 and RFC 9204 §4.2.
const (
	streamTypeControl      = 0x00
	streamTypePush         = 0x01
	streamTypeQPACKEncoder = 0x02
	streamTypeQPACKDecoder = 0x03
)

// HTTP/3 frame types, RFC 9114 §7.2.
const (
	frameData        = 0x00
	frameHeaders     = 0x01
	frameCancelPush  = 0x03
	frameSettings    = 0x04
	framePushPromise = 0x05
	frameGoAway      = 0x07
	frameMaxPushID   = 0x0d
)

// isHTTP2OnlyFrame reports frame types reserved because HTTP/2 used them (RFC 9114 §7.2.8:
// receipt "MUST be treated as a connection error of type H3_FRAME_UNEXPECTED").
func isHTTP2OnlyFrame(t uint64) bool {
	return t == 0x02 || t == 0x06 || t == 0x08 || t == 0x09
}

// SETTINGS identifiers.
const (
	settingQPACKMaxTableCapacity = 0x01     // RFC 9204 §5
	settingMaxFieldSectionSize   = 0x06     // RFC 9114 §7.2.4.1
	settingQPACKBlockedStreams   = 0x07     // RFC 9204 §5
	settingEnableConnectProtocol = 0x08     // RFC 9220 §3
	settingH3Datagram            = 0x33     // RFC 9297 §2.1.1
	settingH3DatagramDraft04     = 0xffd277 // draft-ietf-masque-h3-datagram-04..11, still sent by quic-go 0.29
	settingGrease                = 0x1f*7 + 0x21
)

// HTTP/3 and related error codes, RFC 9114 §8.1, RFC 9204 §6, RFC 9297 §5.2.
const (
	errH3NoError               = 0x0100
	errH3GeneralProtocolError  = 0x0101
	errH3InternalError         = 0x0102
	errH3StreamCreationError   = 0x0103
	errH3ClosedCriticalStream  = 0x0104
	errH3FrameUnexpected       = 0x0105
	errH3FrameError            = 0x0106
	errH3ExcessiveLoad         = 0x0107
	errH3IDError               = 0x0108
	errH3SettingsError         = 0x0109
	errH3MissingSettings       = 0x010a
	errH3RequestRejected       = 0x010b
	errH3RequestCancelled      = 0x010c
	errH3RequestIncomplete     = 0x010d
	errH3MessageError          = 0x010e
	errH3ConnectError          = 0x010f
	errQPACKDecompression      = 0x0200
	errQPACKEncoderStream      = 0x0201
	errH3DatagramError         = 0x33
	maxQuarterStreamID         = 1<<60 - 1 // RFC 9297 §2.1
	maxVarint                  = 1<<62 - 1 // RFC 9000 §16
	capsuleDatagram            = 0x00      // RFC 9297 §3.5
	maxHeadersFrame            = 64 << 10  // our cap on a HEADERS frame we buffer
	maxSettingsFrame           = 16 << 10  // our cap on a SETTINGS frame we buffer
	maxDatagramCapsule         = 65535 + 8 // RFC 9298 §5: UDP payload <= 65527 plus context ID
	maxUDPPayload              = 65527     // RFC 9298 §5
	capsuleSkipChunk           = 32 << 10
	defaultConnectUDPTemplate  = "/.well-known/masque/udp/{target_host}/{target_port}/"
	connectUDPProtocol         = "connect-udp"
	capsuleProtocolHeaderValue = "?1"
)

// h3Error is an HTTP/3 error with the wire code to close the connection or reset the stream.
type h3Error struct {
	code   uint64
	reason string
}

func (e *h3Error) Error() string { return fmt.Sprintf("%s (H3 error 0x%x)", e.reason, e.code) }

func newH3Error(code uint64, format string, args ...interface{}) *h3Error {
	return &h3Error{code: code, reason: fmt.Sprintf(format, args...)}
}

// appendVarint appends a QUIC variable-length integer (RFC 9000 §16) in its shortest form:
// 00xxxxxx (6 bits), 01xxxxxx+1 (14), 10xxxxxx+3 (30), 11xxxxxx+7 (62).
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v <= maxVarint:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	panic(fmt.Sprintf("varint %d out of range", v))
}

// errShortVarint is returned by parseVarint when the slice ends inside the integer.
var errShortVarint = errors.New("truncated varint")

// parseVarint decodes one varint from the front of b and returns it with the rest.
func parseVarint(b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errShortVarint
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, nil, errShortVarint
	}
	v := uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, b[n:], nil
}

// readVarint decodes one varint from a byte stream. A clean EOF before the first byte is
// io.EOF; an EOF inside the integer is io.ErrUnexpectedEOF.
func readVarint(r io.ByteReader) (uint64, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	n := 1 << (first >> 6)
	v := uint64(first & 0x3f)
	for i := 1; i < n; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// appendFrame appends one HTTP/3 frame: Type (i), Length (i), Payload (RFC 9114 §7.1).
func appendFrame(b []byte, frameType uint64, payload []byte) []byte {
	b = appendVarint(b, frameType)
	b = appendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// setting is one SETTINGS entry; order is kept as sent.
type setting struct{ id, value uint64 }

// encodeSettings returns the SETTINGS frame payload: (Identifier (i), Value (i)) pairs.
func encodeSettings(settings []setting) []byte {
	var p []byte
	for _, s := range settings {
		p = appendVarint(p, s.id)
		p = appendVarint(p, s.value)
	}
	return p
}

// parseSettings decodes a SETTINGS payload and applies the checks of RFC 9114 §7.2.4,
// RFC 9220 §3 and RFC 9297 §2.1.1.
func parseSettings(p []byte) (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	for len(p) > 0 {
		id, rest, err := parseVarint(p)
		if err != nil {
			return nil, newH3Error(errH3FrameError, "SETTINGS: truncated identifier")
		}
		value, rest, err := parseVarint(rest)
		if err != nil {
			return nil, newH3Error(errH3FrameError, "SETTINGS: truncated value")
		}
		p = rest
		// RFC 9114 §7.2.4: "The same setting identifier MUST NOT occur more than once in the
		// SETTINGS frame. A receiver MAY treat the presence of duplicate setting identifiers
		// as a connection error of type H3_SETTINGS_ERROR."
		if _, dup := out[id]; dup {
			return nil, newH3Error(errH3SettingsError, "SETTINGS: duplicate identifier 0x%x", id)
		}
		// RFC 9114 §7.2.4.1: HTTP/2 setting identifiers 0x02-0x05 are reserved; receipt
		// "MUST be treated as a connection error of type H3_SETTINGS_ERROR".
		if id >= 0x02 && id <= 0x05 {
			return nil, newH3Error(errH3SettingsError, "SETTINGS: reserved HTTP/2 identifier 0x%x", id)
		}
		// RFC 9297 §2.1.1: a value that is neither 0 nor 1 MUST terminate the connection
		// with H3_SETTINGS_ERROR. RFC 8441 §3 (via RFC 9220) likewise allows only 0 or 1.
		if (id == settingH3Datagram || id == settingH3DatagramDraft04 ||
			id == settingEnableConnectProtocol) && value > 1 {
			return nil, newH3Error(errH3SettingsError, "SETTINGS: 0x%x has value %d (only 0 or 1)", id, value)
		}
		out[id] = value
	}
	return out, nil
}

// settingsJSON renders settings as {"0x33": 1, ...} for the JSON result.
func settingsJSON(s map[uint64]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(s))
	ids := make([]uint64, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		out[fmt.Sprintf("0x%x", id)] = s[id]
	}
	return out
}

// frameReader reads HTTP/3 frames from one stream.
type frameReader struct {
	r *bufio.Reader
}

func newFrameReader(r io.Reader) *frameReader { return &frameReader{r: bufio.NewReader(r)} }

// next reads a frame header. A clean end of stream between frames is io.EOF; an end inside a
// frame header is an H3_FRAME_ERROR.
func (f *frameReader) next() (frameType, length uint64, err error) {
	frameType, err = readVarint(f.r)
	if err != nil {
		return 0, 0, err
	}
	length, err = readVarint(f.r)
	if err != nil {
		return 0, 0, truncatedFrame(err)
	}
	return frameType, length, nil
}

// payload reads a whole frame payload, refusing frames larger than limit.
func (f *frameReader) payload(frameType, length uint64, limit int) ([]byte, error) {
	if length > uint64(limit) {
		return nil, newH3Error(errH3ExcessiveLoad, "frame 0x%x of %d bytes exceeds our limit %d", frameType, length, limit)
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(f.r, buf); err != nil {
		return nil, truncatedFrame(err)
	}
	return buf, nil
}

// skip discards a frame payload without buffering it.
func (f *frameReader) skip(length uint64) error {
	if _, err := io.CopyN(io.Discard, f.r, int64(length)); err != nil {
		return truncatedFrame(err)
	}
	return nil
}

// truncatedFrame maps an end of stream inside a frame to H3_FRAME_ERROR (RFC 9114 §7.1:
// a frame that ends before its declared length "MUST be treated as a connection error of
// type H3_FRAME_ERROR"); other read errors (resets, connection close) pass through.
func truncatedFrame(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return newH3Error(errH3FrameError, "stream ended inside a frame")
	}
	return err
}

// dataReader exposes the concatenated payloads of the DATA frames of a request stream, after
// its HEADERS, as one byte stream (the capsule stream of RFC 9297 §3.1). Unknown frame types
// are skipped (RFC 9114 §9); a trailing HEADERS ends the stream.
type dataReader struct {
	fr        *frameReader
	remaining uint64
	done      bool
}

func (d *dataReader) fill() error {
	for d.remaining == 0 {
		if d.done {
			return io.EOF
		}
		t, n, err := d.fr.next()
		if err != nil {
			return err
		}
		switch {
		case t == frameData:
			d.remaining = n
		case t == frameHeaders: // trailers: the message ends here
			if err := d.fr.skip(n); err != nil {
				return err
			}
			d.done = true
		case t == frameSettings || t == frameGoAway || t == frameMaxPushID || t == frameCancelPush ||
			t == framePushPromise || isHTTP2OnlyFrame(t):
			// RFC 9114 §7.2.4 / §7.2.6 / §7.2.7 / §7.2.8: control-stream frames and reserved
			// HTTP/2 types on a request stream are H3_FRAME_UNEXPECTED (we never enabled push).
			return newH3Error(errH3FrameUnexpected, "frame type 0x%x on a request stream", t)
		default:
			if err := d.fr.skip(n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *dataReader) Read(p []byte) (int, error) {
	if err := d.fill(); err != nil {
		return 0, err
	}
	if uint64(len(p)) > d.remaining {
		p = p[:d.remaining]
	}
	n, err := d.fr.r.Read(p)
	d.remaining -= uint64(n)
	if err != nil && errors.Is(err, io.EOF) && d.remaining > 0 {
		return n, truncatedFrame(err)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (d *dataReader) ReadByte() (byte, error) {
	var b [1]byte
	for {
		n, err := d.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// capsule is one capsule read by readCapsule; value is only kept for DATAGRAM capsules.
type capsule struct {
	capsuleType uint64
	length      uint64
	value       []byte
}

// readCapsule reads the next capsule (RFC 9297 §3.2): Type (i), Length (i), Value. The value
// of a DATAGRAM capsule is returned (capped at maxDatagramCapsule); any other capsule is
// skipped in chunks without being buffered ("Endpoints which receive a Capsule with an
// unknown Capsule Type MUST silently drop that Capsule"). A clean end between capsules is
// io.EOF; an end inside one is an error (§3.3: a truncated last capsule "MUST be treated as
// if it were a malformed or incomplete message").
func readCapsule(d *dataReader) (capsule, error) {
	t, err := readVarint(d)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return capsule{}, newH3Error(errH3MessageError, "stream ended inside a capsule type")
		}
		return capsule{}, err
	}
	n, err := readVarint(d)
	if err != nil {
		return capsule{}, incompleteCapsule(err)
	}
	c := capsule{capsuleType: t, length: n}
	if t != capsuleDatagram {
		if _, err := io.CopyN(io.Discard, d, int64(n)); err != nil {
			return capsule{}, incompleteCapsule(err)
		}
		return c, nil
	}
	if n > maxDatagramCapsule {
		return capsule{}, newH3Error(errH3MessageError, "DATAGRAM capsule of %d bytes exceeds %d", n, maxDatagramCapsule)
	}
	c.value = make([]byte, n)
	if _, err := io.ReadFull(d, c.value); err != nil {
		return capsule{}, incompleteCapsule(err)
	}
	return c, nil
}

func incompleteCapsule(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return newH3Error(errH3MessageError, "stream ended inside a capsule")
	}
	return err
}

// appendDatagramCapsule appends a DATA frame carrying one DATAGRAM capsule (RFC 9297 §3.5)
// whose value is an HTTP Datagram payload (Context ID + UDP payload for CONNECT-UDP).
func appendDatagramCapsule(b []byte, httpDatagramPayload []byte) []byte {
	c := appendVarint(nil, capsuleDatagram)
	c = appendVarint(c, uint64(len(httpDatagramPayload)))
	c = append(c, httpDatagramPayload...)
	return appendFrame(b, frameData, c)
}

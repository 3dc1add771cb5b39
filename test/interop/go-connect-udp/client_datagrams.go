package main

// The client's HTTP Datagram plane: sending UDP payloads under a small in-flight window and
// demultiplexing what comes back by Quarter Stream ID (RFC 9297 §2.1) and Context ID
// (RFC 9298 §5).

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// receiveDatagrams reads QUIC DATAGRAM frames and demultiplexes them by Quarter Stream ID.
func (c *clientConn) receiveDatagrams() {
	for {
		msg, err := c.conn.ReceiveMessage()
		if err != nil {
			return
		}
		q, rest, err := parseVarint(msg)
		if err != nil {
			// RFC 9297 §2.1: too short for a Quarter Stream ID "MUST be treated as an HTTP/3
			// connection error of type H3_DATAGRAM_ERROR".
			c.fail(newH3Error(errH3DatagramError, "DATAGRAM frame without a Quarter Stream ID"))
			return
		}
		if q > maxQuarterStreamID {
			c.fail(newH3Error(errH3DatagramError, "Quarter Stream ID %d above 2^60-1", q))
			return
		}
		c.mu.Lock()
		s := c.sessions[q]
		if s == nil {
			c.stats.UnknownStream++ // RFC 9297 §2.1: dropped silently
		}
		c.mu.Unlock()
		if s != nil {
			c.deliver(s, rest, false)
		}
	}
}

// deliver handles one HTTP Datagram payload (Context ID + UDP payload) of a session.
func (c *clientConn) deliver(s *clientSession, p []byte, viaCapsule bool) {
	ctxID, payload, err := parseVarint(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if viaCapsule {
		c.stats.CapsuleDatagrams++
	}
	if err != nil || ctxID != 0 {
		c.stats.UnknownContext++ // RFC 9298 §5: unknown Context IDs are dropped (or buffered)
		return
	}
	s.received++
	c.inFlight--
	select {
	case c.progress <- struct{}{}:
	default:
	}
	key := string(payload)
	if s.outstanding[key] > 0 {
		s.outstanding[key]--
		s.verified++
		if s.verified == s.expected {
			close(s.allVerified)
		}
	}
}

// sendPayloads sends --count payloads on every session, interleaving the sessions.
func sendPayloads(ctx context.Context, c *clientConn, sessions []*clientSession, o clientOptions) error {
	for i := 0; i < o.count; i++ {
		for _, s := range sessions {
			c.awaitWindow(o)
			p := s.payload(i, o)
			// HTTP Datagram payload for CONNECT-UDP: Context ID 0 + UDP payload (RFC 9298 §5).
			httpPayload := append(appendVarint(nil, 0), p...)
			var err error
			if o.useCapsules {
				_, err = s.stream.Write(appendDatagramCapsule(nil, httpPayload))
			} else {
				err = c.conn.SendMessage(append(appendVarint(nil, s.quarterID), httpPayload...))
			}
			if err != nil {
				return fmt.Errorf("send payload %d (%d bytes) on stream %d: %w", i, len(p), s.stream.StreamID(), err)
			}
			c.mu.Lock()
			s.sent++
			c.inFlight++
			c.mu.Unlock()
		}
		if err := ctx.Err(); err != nil {
			return errors.New("deadline passed while sending")
		}
		if o.interval > 0 {
			time.Sleep(o.interval)
		}
	}
	return nil
}

// awaitWindow blocks while --window payloads are in flight, but no longer than --stall
// without progress (a lost payload never comes back).
func (c *clientConn) awaitWindow(o clientOptions) {
	if o.window <= 0 {
		return
	}
	for {
		c.mu.Lock()
		full := c.inFlight >= o.window
		c.mu.Unlock()
		if !full {
			return
		}
		select {
		case <-c.progress:
		case <-time.After(o.stall):
			c.mu.Lock()
			c.inFlight = 0 // give up on what is outstanding; later echoes still count
			c.stalls++
			c.mu.Unlock()
			return
		case <-c.failed:
			return
		}
	}
}

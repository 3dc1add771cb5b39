/**
 * Ending a connection (RFC 9000 §10): immediate close (closing state: CONNECTION_CLOSE, answered
 * again at a limited rate, for three PTOs), draining after the peer's CONNECTION_CLOSE (send
 * nothing, three PTOs), idle timeout (silent), stateless reset (silent), and the one boundary that
 * turns an error thrown anywhere below into CONNECTION_CLOSE.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { PacketSpace } from '../recovery/index.js';
import type { CloseReason, ConnectionCore } from './core.js';

/** We close (RFC 9000 §10.2.1): enter the closing state and send CONNECTION_CLOSE. */
export function enterClosing(c: ConnectionCore, reason: CloseReason, now: number): void {
  if (c.state === 'closing' || c.terminated) return;
  c.state = 'closing';
  c.closeReason = reason;
  c.closePending = true;
  // RFC 9000 §10.2: "the closing and draining states SHOULD persist for at least three times the
  // current PTO interval".
  c.closeDeadline = now + 3 * c.pto();
  c.emitClosed({
    errorCode: reason.errorCode,
    reason: reason.reason,
    app: reason.app,
    byPeer: false,
    cause: 'close',
  });
}

/** The peer closed (RFC 9000 §10.2.2): enter the draining state; nothing more is sent. */
export function enterDraining(c: ConnectionCore, reason: CloseReason, now: number): void {
  if (c.terminated) return;
  const wasClosing = c.state === 'closing';
  c.state = 'draining';
  c.closePending = false;
  c.closeDeadline =
    wasClosing && c.closeDeadline !== undefined ? c.closeDeadline : now + 3 * c.pto();
  c.emitClosed({
    errorCode: reason.errorCode,
    reason: reason.reason,
    app: reason.app,
    byPeer: true,
    cause: 'close',
  });
}

/** A datagram arrived while closing: answer with CONNECTION_CLOSE again, rate-limited (§10.2.1). */
export function onPacketWhileClosing(c: ConnectionCore, now: number): void {
  if (c.state !== 'closing') return;
  // At most one CONNECTION_CLOSE per smoothed RTT, however fast packets arrive.
  if (now - c.lastCloseSentAt >= c.rtt.smoothed) c.closePending = true;
}

/** The closing/draining period ended, or the idle timer fired. */
export function onCloseTimers(c: ConnectionCore, now: number): void {
  if (c.closeDeadline !== undefined && now >= c.closeDeadline) {
    c.state = 'closed';
    c.closeDeadline = undefined;
    return;
  }
  if (c.terminated || c.state === 'closing') return;
  if (c.idleDeadline !== undefined && now >= c.idleDeadline) {
    // RFC 9000 §10.1: the connection is silently closed and its state discarded.
    c.finish({
      errorCode: TransportErrorCode.NO_ERROR,
      reason: 'idle timeout',
      app: false,
      byPeer: false,
      cause: c.handshakeComplete ? 'idle-timeout' : 'handshake-timeout',
    });
  }
}

/** A stateless reset was recognised (RFC 9000 §10.3.1): enter draining, send nothing. */
export function onStatelessReset(c: ConnectionCore, now: number): void {
  if (c.terminated) return;
  c.state = 'draining';
  c.closePending = false;
  c.closeDeadline = now + 3 * c.pto();
  c.emitClosed({
    errorCode: TransportErrorCode.NO_ERROR,
    reason: 'stateless reset',
    app: false,
    byPeer: true,
    cause: 'stateless-reset',
  });
}

/**
 * The error boundary: a `TransportError` closes with its code and frame type; anything else is
 * an INTERNAL_ERROR (RFC 9000 §20.1) — a bug here must not leave the peer hanging.
 */
export function closeOnError(c: ConnectionCore, err: unknown, now: number): void {
  if (err instanceof TransportError) {
    enterClosing(
      c,
      { errorCode: err.code, frameType: err.frameType, reason: err.message, app: false },
      now,
    );
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  enterClosing(
    c,
    {
      errorCode: TransportErrorCode.INTERNAL_ERROR,
      frameType: 0,
      reason: `internal error: ${message}`,
      app: false,
    },
    now,
  );
}

/**
 * Keep-alive (RFC 9000 §10.1.2): when nothing was sent or received for the configured interval,
 * owe one ack-eliciting packet in the application space; the send path adds a PING when it has
 * nothing else ack-eliciting to carry. Sending it re-arms the timer.
 */
export function onKeepAlive(c: ConnectionCore, now: number): void {
  if (c.state !== 'established' || c.keepAliveDeadline === undefined) return;
  if (now < c.keepAliveDeadline) return;
  c.keepAliveDeadline = undefined;
  const app = c.spaces[PacketSpace.ApplicationData];
  app.probesOwed = Math.max(app.probesOwed, 1);
}

/**
 * One UDP tunnel (RFC 9298 §3.1, §5): relays between an accepted extended CONNECT session and a
 * connected UDP socket to the target.
 *
 *   client → target: HTTP Datagram Payload = Context ID (i) + UDP Proxying Payload; Context ID 0
 *     is a UDP payload, sent on the socket; other (unregistered) Context IDs are dropped (§4:
 *     "If an endpoint receives an HTTP Datagram with an unknown Context ID, it MUST drop it").
 *     QUIC DATAGRAM frames and DATAGRAM capsules arrive the same way (the session merges them).
 *   target → client: `0x00 || payload` as an HTTP datagram. When QUIC datagrams are not
 *     negotiated the session sends a DATAGRAM capsule instead (RFC 9297 §3.5); when the payload
 *     does not fit one QUIC DATAGRAM frame, `largeDatagrams` decides (see below).
 *
 * Bounds: datagrams handed to the kernel and not yet sent are capped (`queueLimit`, beyond it
 * they are dropped, RFC 9298 §7 "SHOULD NOT queue packets"); datagrams to the client go to the
 * connection's bounded DATAGRAM queue, and capsules are dropped once the stream's send backlog
 * is above `capsuleBacklogBytes`. Every drop is counted by reason.
 *
 * Oversized datagrams from the target: RFC 9298 §6.1 says a proxy SHOULD NOT fall back to a
 * DATAGRAM capsule when a UDP payload does not fit a QUIC DATAGRAM frame. Our QUIC starts at
 * 1200-byte packets and grows them by path MTU discovery (up to 1452 by default), so a 1200-byte
 * payload fits once the path is known to carry more (`maxDatagramPayload`); before that, or on
 * paths that do not, `largeDatagrams: 'capsule'` (the default) keeps such tunnels working over
 * the stream (counted in `capsuleFallbacks`), `'drop'` follows the SHOULD NOT.
 *
 * Lifetime: the socket is closed exactly once, whichever comes first: the session ends (client
 * FIN or reset, connection close), the tunnel idles out (no datagram either way for
 * `idleTimeoutMs`; we end our side with a FIN), the socket reports an error (ICMP unreachable:
 * RFC 9298 §3.1 "MUST close the request stream", reset with H3_CONNECT_ERROR), a protocol error
 * (H3_DATAGRAM_ERROR), or the proxy shuts down (FIN).
 */
import { CapsuleType } from '../../capsule/types.js';
import { H3ErrorCode } from '../../http3/errors.js';
import { H3UsageError } from '../../http3/session/index.js';
import { DatagramTooLargeError } from '../../quic/api.js';
import type { Clock, ScheduledTimer } from '../../util/clock.js';
import { decodeVarint, type VarintResult } from '../../wire/varint.js';
import type { TunnelSocket, UdpTarget } from './udp-socket.js';

/** The parts of an extended CONNECT session a tunnel uses (`ServerConnectSession` fits). */
export interface TunnelSession {
  /** True when the stream carries capsules (RFC 9297 §3.2). */
  readonly capsuleMode: boolean;
  /** Bytes queued on the stream that the transport has not accepted yet. */
  readonly bufferedAmount: number;
  /** Settles when the session is over; never rejects. */
  readonly closed: Promise<{ kind: 'end' | 'reset' | 'connection'; code?: number }>;
  /** Set once the session is over. */
  readonly closeInfo: unknown;
  /** Largest HTTP datagram payload that fits one QUIC DATAGRAM frame now (0: none). */
  readonly maxDatagramPayload?: number;
  /** Sends an HTTP datagram (capsule when QUIC datagrams are unavailable). */
  sendDatagram(payload: Uint8Array): boolean;
  /** Sends a capsule on the stream. */
  sendCapsule(type: number, value: Uint8Array): boolean;
  /** Every received HTTP datagram payload (a view valid during the call). */
  onDatagram(cb: (payload: Uint8Array) => void): () => void;
  /** Ends our side (FIN). */
  close(): void;
  /** Resets the stream with an HTTP/3 error code. */
  abort(code?: number): void;
}

/** Why a datagram was dropped (stable codes for metrics). */
export type DropReason =
  /** An HTTP datagram without a complete Context ID. */
  | 'malformed'
  /** A Context ID other than 0 (none is registered). */
  | 'unknown_context'
  /** Too many datagrams waiting for the kernel. */
  | 'queue_full'
  /** The socket refused the datagram (EMSGSIZE, ENOBUFS...). */
  | 'send_error'
  /** The connection's DATAGRAM queue was full. */
  | 'datagram_queue_full'
  /** The stream's send backlog is above the capsule cap. */
  | 'capsule_backlog'
  /** Too large for a QUIC DATAGRAM frame and `largeDatagrams` is 'drop' (or no capsules). */
  | 'too_large'
  /** Neither QUIC datagrams nor capsules are available on this session. */
  | 'no_datagrams';

/** Why a tunnel closed. */
export type TunnelCloseReason =
  | 'client'
  | 'connection'
  | 'idle'
  | 'socket_error'
  | 'protocol_error'
  | 'shutdown';

/** Per-tunnel counters (plain fields: updated per datagram). */
export class TunnelCounters {
  datagramsToTarget = 0;
  bytesToTarget = 0;
  datagramsToClient = 0;
  bytesToClient = 0;
  /** Of `datagramsToClient`, those too large for a QUIC DATAGRAM frame, sent as capsules. */
  capsuleFallbacks = 0;
  readonly drops = new Map<DropReason, number>();

  drop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }
}

/** Options of {@link UdpTunnel}. */
export interface TunnelOptions {
  /** Close after this long without a datagram either way (ms). */
  idleTimeoutMs: number;
  /** Datagrams handed to the socket and not yet sent, at most. */
  queueLimit: number;
  /** Stream send backlog (bytes) above which capsules to the client are dropped. */
  capsuleBacklogBytes: number;
  /** What to do with a target datagram too large for a QUIC DATAGRAM frame. */
  largeDatagrams: 'capsule' | 'drop';
  /** Time and timers (the runtime's, or virtual time in tests). */
  clock: Clock;
  /** After our FIN, how long the client gets to end its side before the stream is reset (ms). */
  closeGraceMs?: number;
  /** Called once when the tunnel closes (after the socket is closed). */
  onClose?: (tunnel: UdpTunnel, reason: TunnelCloseReason, error?: Error) => void;
}

// RFC 9298 §5: "it is not possible to encode UDP payloads longer than 65527 bytes".
const MAX_UDP_PAYLOAD = 65_527;

/** Scratch for `0x00 || payload`; the session copies it (QUIC datagram or capsule encoding). */
const SCRATCH = new Uint8Array(1 + MAX_UDP_PAYLOAD);
const VARINT: VarintResult = { value: 0, next: 0 };

export class UdpTunnel {
  /** The target the socket is connected to. */
  readonly target: UdpTarget;
  /** Counters since the tunnel opened. */
  readonly counters = new TunnelCounters();
  readonly #session: TunnelSession;
  readonly #socket: TunnelSocket;
  readonly #opts: TunnelOptions;
  #lastActivity: number;
  #pending = 0;
  #closed = false;
  #closeReason: TunnelCloseReason | undefined;
  #idleTimer: ScheduledTimer | undefined;
  #unsubscribe: () => void;
  readonly #onSent = (err: Error | null): void => {
    this.#pending--;
    if (err !== null) this.#sendFailed(err);
  };
  readonly #onIdleTimer = (): void => this.#checkIdle();

  constructor(
    session: TunnelSession,
    socket: TunnelSocket,
    target: UdpTarget,
    options: TunnelOptions,
  ) {
    this.#session = session;
    this.#socket = socket;
    this.target = target;
    this.#opts = options;
    this.#lastActivity = options.clock.now();
    socket.onMessage((msg) => this.#fromTarget(msg));
    socket.onError((err) => this.close('socket_error', err));
    this.#unsubscribe = session.onDatagram((payload) => this.#fromClient(payload));
    void session.closed.then((info) =>
      this.close(info.kind === 'connection' ? 'connection' : 'client'),
    );
    this.#armIdle(options.idleTimeoutMs);
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Why it closed, once it has. */
  get closeReason(): TunnelCloseReason | undefined {
    return this.#closeReason;
  }

  /** Datagrams handed to the socket and not yet sent. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Largest target datagram that rides one QUIC DATAGRAM frame to the client now (path MTU
   * discovery moves it); larger ones follow `largeDatagrams`. 0 when QUIC datagrams are not in
   * use.
   */
  get maxDatagramPayload(): number {
    // Less the Context ID 0 (one byte, RFC 9298 §5).
    return Math.max(0, (this.#session.maxDatagramPayload ?? 0) - 1);
  }

  /** Closes the socket and ends the session as `reason` asks; idempotent. */
  close(reason: TunnelCloseReason, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#idleTimer?.cancel();
    this.#idleTimer = undefined;
    this.#unsubscribe();
    this.#socket.close();
    const s = this.#session;
    if (s.closeInfo === undefined) {
      if (reason === 'socket_error') s.abort(H3ErrorCode.H3_CONNECT_ERROR);
      else if (reason === 'protocol_error') s.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
      else {
        // RFC 9298 §3.1: closing the socket "MUST close the request stream": a clean FIN.
        s.close();
        this.#graceAbort(s);
      }
    }
    this.#opts.onClose?.(this, reason, error);
  }

  #graceAbort(s: TunnelSession): void {
    if (s.closeInfo !== undefined) return;
    const t = this.#opts.clock.schedule(this.#opts.closeGraceMs ?? 10_000, () => {
      if (s.closeInfo === undefined) s.abort(H3ErrorCode.H3_NO_ERROR);
    });
    void s.closed.then(() => t.cancel());
  }

  #fromClient(payload: Uint8Array): void {
    if (this.#closed) return;
    const c = this.counters;
    // RFC 9298 §5: Context ID (i), then the UDP Proxying Payload.
    let offset: number;
    if (payload.length > 0 && payload[0] === 0) {
      offset = 1; // 1-byte varint 0: the common case
    } else {
      try {
        decodeVarint(payload, 0, payload.length, VARINT);
      } catch {
        c.drop(payload.length === 0 ? 'malformed' : 'unknown_context');
        return;
      }
      if (VARINT.value !== 0) {
        c.drop('unknown_context');
        return;
      }
      offset = VARINT.next; // a non-minimal encoding of 0 is still Context ID 0
    }
    const length = payload.length - offset;
    if (length > MAX_UDP_PAYLOAD) {
      // RFC 9298 §5: "An endpoint that receives an HTTP Datagram using Context ID zero whose UDP
      // Proxying Payload field is longer than 65527 MUST abort the corresponding stream."
      c.drop('too_large');
      this.close('protocol_error');
      return;
    }
    this.#lastActivity = this.#opts.clock.now();
    if (this.#pending >= this.#opts.queueLimit) {
      c.drop('queue_full');
      return;
    }
    this.#pending++;
    c.datagramsToTarget++;
    c.bytesToTarget += length;
    // The view dies with this callback; the kernel reads the bytes later.
    this.#socket.send(payload.slice(offset), this.#onSent);
  }

  #fromTarget(msg: Uint8Array): void {
    if (this.#closed) return;
    const c = this.counters;
    this.#lastActivity = this.#opts.clock.now();
    const n = msg.length + 1;
    SCRATCH[0] = 0; // Context ID 0 (RFC 9298 §5)
    SCRATCH.set(msg, 1);
    const out = SCRATCH.subarray(0, n);
    const s = this.#session;
    if (s.capsuleMode && s.bufferedAmount > this.#opts.capsuleBacklogBytes) {
      // The stream is backed up: capsules would only queue behind it (and a QUIC datagram
      // would starve the stream further).
      c.drop('capsule_backlog');
      return;
    }
    let sent: boolean;
    try {
      sent = s.sendDatagram(out);
    } catch (err) {
      if (err instanceof DatagramTooLargeError) {
        if (this.#opts.largeDatagrams === 'drop' || !s.capsuleMode) {
          c.drop('too_large');
          return;
        }
        // RFC 9297 §3.5: the same HTTP datagram, reliably, in a DATAGRAM capsule.
        s.sendCapsule(CapsuleType.DATAGRAM, out);
        c.capsuleFallbacks++;
        sent = true;
      } else if (err instanceof H3UsageError) {
        c.drop('no_datagrams');
        return;
      } else {
        throw err;
      }
    }
    if (!sent) {
      c.drop('datagram_queue_full');
      return;
    }
    c.datagramsToClient++;
    c.bytesToClient += msg.length;
  }

  #sendFailed(err: Error): void {
    const code = (err as { code?: unknown }).code;
    // ICMP unreachable on a connected socket: the socket is no longer usable (RFC 9298 §3.1).
    if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
      this.close('socket_error', err);
      return;
    }
    this.counters.drop('send_error');
  }

  #armIdle(delay: number): void {
    this.#idleTimer = this.#opts.clock.schedule(delay, this.#onIdleTimer);
  }

  /** Re-armed lazily: traffic only moves a timestamp, the timer checks it when it fires. */
  #checkIdle(): void {
    this.#idleTimer = undefined;
    if (this.#closed) return;
    const idle = this.#opts.clock.now() - this.#lastActivity;
    if (idle >= this.#opts.idleTimeoutMs) {
      this.close('idle');
      return;
    }
    this.#armIdle(this.#opts.idleTimeoutMs - idle);
  }
}

/**
 * What every connect-udp relay shares, whatever its mode: the session's types, the counters, the
 * path of a UDP payload to the client, and the lifetime (idle timeout, close once, FIN then a
 * grace period before a reset).
 *
 * To the client: an HTTP datagram (`Context ID || payload`) rides a QUIC DATAGRAM frame, or a
 * DATAGRAM capsule when QUIC datagrams are not negotiated (RFC 9297 §3.5). Too large for a frame:
 * `largeDatagrams: 'capsule'` sends the capsule anyway (counted in `capsuleFallbacks`), `'drop'`
 * follows RFC 9298 §6.1's SHOULD NOT. Above `capsuleBacklogBytes` of unsent stream bytes,
 * capsules are dropped rather than queued.
 *
 * Lifetime: `close` runs once, whichever comes first: the session ends (client FIN or reset,
 * connection close), the relay idles out (no datagram either way for `idleTimeoutMs`; we end
 * our side with a FIN), a socket error, a protocol error (H3_DATAGRAM_ERROR), overload
 * (H3_EXCESSIVE_LOAD), or the proxy shuts down (FIN).
 */
import { type Capsule, CapsuleType } from '../../capsule/types.js';
import { H3ErrorCode } from '../../http3/errors.js';
import { H3UsageError } from '../../http3/session/index.js';
import { DatagramTooLargeError } from '../../quic/api.js';
import type { Clock, ScheduledTimer } from '../../util/clock.js';

/** The parts of an extended CONNECT session a relay uses (`ServerConnectSession` fits). */
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
  /** Every received capsule of a registered type other than DATAGRAM (a copy). */
  onCapsule?(cb: (capsule: Capsule) => void): () => void;
  /** Ends our side (FIN). */
  close(): void;
  /** Resets the stream with an HTTP/3 error code. */
  abort(code?: number): void;
}

/** Why a datagram was dropped (stable codes for metrics). */
export type DropReason =
  /** An HTTP datagram without a complete Context ID, or a payload that does not parse. */
  | 'malformed'
  /** A Context ID that is not registered. */
  | 'unknown_context'
  /** A Context ID that was closed (connect-udp-listen §3.3: discarded silently). */
  | 'closed_context'
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
  | 'no_datagrams'
  /** Bind: a destination the target policy denies. */
  | 'destination_denied'
  /** Bind: a sender the target policy denies. */
  | 'source_denied'
  /** Bind: a sender with no context to carry it (the firewall property). */
  | 'no_context'
  /** Bind: an address family the tunnel has no socket for. */
  | 'family_unavailable'
  /** QUIC-aware: a forwarded packet from another 4-tuple than the client's. */
  | 'wrong_path'
  /** QUIC-aware: our own forwarded packet came back to us (a loop). */
  | 'loop'
  /** QUIC-aware: a forwarded packet the transform refused (too short, long header). */
  | 'transform_refused';

/** Why a relay closed. */
export type TunnelCloseReason =
  | 'client'
  | 'connection'
  | 'idle'
  | 'socket_error'
  | 'protocol_error'
  | 'overload'
  | 'internal_error'
  | 'shutdown';

/** Per-relay counters (plain fields: updated per datagram). */
export class TunnelCounters {
  datagramsToTarget = 0;
  bytesToTarget = 0;
  datagramsToClient = 0;
  bytesToClient = 0;
  /** Of `datagramsToClient`, those too large for a QUIC DATAGRAM frame, sent as capsules. */
  capsuleFallbacks = 0;
  /** QUIC-aware: of the datagrams each way, those relayed in forwarded mode. */
  forwardedToTarget = 0;
  forwardedToClient = 0;
  readonly drops = new Map<DropReason, number>();

  drop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }
}

/** Options every relay takes. */
export interface RelayOptions {
  /** Close after this long without a datagram either way (ms). */
  idleTimeoutMs: number;
  /** Datagrams handed to the socket(s) and not yet sent, at most. */
  queueLimit: number;
  /** Stream send backlog (bytes) above which capsules to the client are dropped. */
  capsuleBacklogBytes: number;
  /** What to do with a datagram too large for a QUIC DATAGRAM frame. */
  largeDatagrams: 'capsule' | 'drop';
  /** Time and timers (the runtime's, or virtual time in tests). */
  clock: Clock;
  /** After our FIN, how long the client gets to end its side before the stream is reset (ms). */
  closeGraceMs?: number;
  /** Called once when the relay closes (after its sockets are closed). */
  onClose?: (relay: SessionRelay, reason: TunnelCloseReason, error?: Error) => void;
}

// RFC 9298 §5: "it is not possible to encode UDP payloads longer than 65527 bytes".
export const MAX_UDP_PAYLOAD = 65_527;

export abstract class SessionRelay {
  /** Counters since the relay opened. */
  readonly counters = new TunnelCounters();
  protected readonly session: TunnelSession;
  protected readonly options: RelayOptions;
  /** Datagrams handed to a socket and not yet sent. */
  protected sending = 0;
  #lastActivity: number;
  #closed = false;
  #closeReason: TunnelCloseReason | undefined;
  #idleTimer: ScheduledTimer | undefined;
  readonly #offs: Array<() => void> = [];
  readonly #onIdleTimer = (): void => this.#checkIdle();

  constructor(session: TunnelSession, options: RelayOptions) {
    this.session = session;
    this.options = options;
    this.#lastActivity = options.clock.now();
  }

  /** Subscribes to the session; subclasses call it last in their constructor. */
  protected attach(): void {
    const s = this.session;
    this.#offs.push(s.onDatagram((payload) => this.fromClient(payload)));
    if (s.onCapsule !== undefined) {
      this.#offs.push(
        s.onCapsule((c) => {
          try {
            this.onCapsule(c);
          } catch (err) {
            // A bug of ours must cost this tunnel only, and say so (H3_INTERNAL_ERROR).
            this.close('internal_error', err as Error);
          }
        }),
      );
    }
    void s.closed.then((info) => this.close(info.kind === 'connection' ? 'connection' : 'client'));
    this.#armIdle(this.options.idleTimeoutMs);
  }

  /** An HTTP datagram from the client (a view valid during the call). */
  protected abstract fromClient(payload: Uint8Array): void;

  /** A capsule from the client; relays without capsules of their own ignore them. */
  protected onCapsule(_capsule: Capsule): void {}

  /** Releases the relay's sockets (called once, by `close`). */
  protected abstract closeSockets(): void;

  /** True once closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Why it closed, once it has. */
  get closeReason(): TunnelCloseReason | undefined {
    return this.#closeReason;
  }

  /** Datagrams handed to a socket and not yet sent. */
  get pending(): number {
    return this.sending;
  }

  /** Closes the sockets and ends the session as `reason` asks; idempotent. */
  close(reason: TunnelCloseReason, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#idleTimer?.cancel();
    this.#idleTimer = undefined;
    for (const off of this.#offs) off();
    this.closeSockets();
    const s = this.session;
    if (s.closeInfo === undefined) {
      if (reason === 'socket_error') s.abort(H3ErrorCode.H3_CONNECT_ERROR);
      else if (reason === 'protocol_error') s.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
      else if (reason === 'overload') s.abort(H3ErrorCode.H3_EXCESSIVE_LOAD);
      else if (reason === 'internal_error') s.abort(H3ErrorCode.H3_INTERNAL_ERROR);
      else {
        // RFC 9298 §3.1: closing the socket "MUST close the request stream": a clean FIN.
        s.close();
        this.#graceAbort(s);
      }
    }
    this.options.onClose?.(this, reason, error);
  }

  /**
   * Accounts a datagram of `length` bytes about to be handed to a socket toward a target: true
   * when it may go (counted, and `sending` raised: the send callback lowers it), false when too
   * many wait for the kernel (dropped and counted, RFC 9298 §7 "SHOULD NOT queue packets").
   */
  protected admitToTarget(length: number): boolean {
    this.touch();
    const c = this.counters;
    if (this.sending >= this.options.queueLimit) {
      c.drop('queue_full');
      return false;
    }
    this.sending++;
    c.datagramsToTarget++;
    c.bytesToTarget += length;
    return true;
  }

  /** Traffic either way: the idle timer checks this timestamp when it fires. */
  protected touch(): void {
    this.#lastActivity = this.options.clock.now();
  }

  /**
   * Sends `out` (a whole HTTP datagram payload, Context ID first) carrying `udpBytes` of UDP
   * payload to the client, counting what happens (see module header). `out` may be scratch: the
   * session copies it.
   */
  protected toClient(out: Uint8Array, udpBytes: number): void {
    const c = this.counters;
    const s = this.session;
    if (s.capsuleMode && s.bufferedAmount > this.options.capsuleBacklogBytes) {
      // The stream is backed up: capsules would only queue behind it (and a QUIC datagram
      // would starve the stream further).
      c.drop('capsule_backlog');
      return;
    }
    let sent = false;
    // Too large for a QUIC DATAGRAM frame: known beforehand, so no error is built per datagram
    // (the catch covers a limit that moved meanwhile).
    const max = s.maxDatagramPayload ?? 0;
    let tooLarge = max > 0 && out.length > max;
    if (!tooLarge) {
      try {
        sent = s.sendDatagram(out);
      } catch (err) {
        if (err instanceof DatagramTooLargeError) tooLarge = true;
        else if (err instanceof H3UsageError) {
          c.drop('no_datagrams');
          return;
        } else throw err;
      }
    }
    if (tooLarge) {
      if (this.options.largeDatagrams === 'drop' || !s.capsuleMode) {
        c.drop('too_large');
        return;
      }
      // RFC 9297 §3.5: the same HTTP datagram, reliably, in a DATAGRAM capsule.
      s.sendCapsule(CapsuleType.DATAGRAM, out);
      c.capsuleFallbacks++;
      sent = true;
    }
    if (!sent) {
      c.drop('datagram_queue_full');
      return;
    }
    c.datagramsToClient++;
    c.bytesToClient += udpBytes;
  }

  #graceAbort(s: TunnelSession): void {
    if (s.closeInfo !== undefined) return;
    const t = this.options.clock.schedule(this.options.closeGraceMs ?? 10_000, () => {
      if (s.closeInfo === undefined) s.abort(H3ErrorCode.H3_NO_ERROR);
    });
    void s.closed.then(() => t.cancel());
  }

  #armIdle(delay: number): void {
    this.#idleTimer = this.options.clock.schedule(delay, this.#onIdleTimer);
  }

  /** Re-armed lazily: traffic only moves a timestamp, the timer checks it when it fires. */
  #checkIdle(): void {
    this.#idleTimer = undefined;
    if (this.#closed) return;
    const idle = this.options.clock.now() - this.#lastActivity;
    if (idle >= this.options.idleTimeoutMs) {
      this.close('idle');
      return;
    }
    this.#armIdle(this.options.idleTimeoutMs - idle);
  }
}

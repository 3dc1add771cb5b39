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
import { decodeVarint, type VarintResult } from '../../wire/varint.js';
import {
  MAX_UDP_PAYLOAD,
  type RelayOptions,
  SessionRelay,
  type TunnelSession,
} from './relay-base.js';
import type { TunnelSocket, UdpTarget } from './udp-socket.js';

export {
  type DropReason,
  type TunnelCloseReason,
  TunnelCounters,
  type TunnelSession,
} from './relay-base.js';

/** Options of {@link UdpTunnel}. */
export type TunnelOptions = RelayOptions;

/** Scratch for `0x00 || payload`; the session copies it (QUIC datagram or capsule encoding). */
const SCRATCH = new Uint8Array(1 + MAX_UDP_PAYLOAD);
const VARINT: VarintResult = { value: 0, next: 0 };

export class UdpTunnel extends SessionRelay {
  /** The target the socket is connected to. */
  readonly target: UdpTarget;
  readonly #socket: TunnelSocket;
  readonly #onSent = (err: Error | null): void => {
    this.sending--;
    if (err !== null) this.#sendFailed(err);
  };

  constructor(
    session: TunnelSession,
    socket: TunnelSocket,
    target: UdpTarget,
    options: TunnelOptions,
  ) {
    super(session, options);
    this.#socket = socket;
    this.target = target;
    socket.onMessage((msg) => this.#fromTarget(msg));
    socket.onError((err) => this.close('socket_error', err));
    this.attach();
  }

  /**
   * Largest target datagram that rides one QUIC DATAGRAM frame to the client now (path MTU
   * discovery moves it); larger ones follow `largeDatagrams`. 0 when QUIC datagrams are not in
   * use.
   */
  get maxDatagramPayload(): number {
    // Less the Context ID 0 (one byte, RFC 9298 §5).
    return Math.max(0, (this.session.maxDatagramPayload ?? 0) - 1);
  }

  protected closeSockets(): void {
    this.#socket.close();
  }

  protected fromClient(payload: Uint8Array): void {
    if (this.isClosed) return;
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
    if (!this.admitToTarget(length)) return;
    // At once where the kernel takes it (no copy, no callback), else queued through `send`.
    const now = this.#socket.trySend?.(payload, offset, length) ?? false;
    if (now !== false) {
      this.#onSent(now === true ? null : now);
      return;
    }
    // The view dies with this callback; the kernel reads the bytes later.
    this.#socket.send(payload.slice(offset), this.#onSent);
  }

  #fromTarget(msg: Uint8Array): void {
    if (this.isClosed) return;
    this.touch();
    SCRATCH[0] = 0; // Context ID 0 (RFC 9298 §5)
    SCRATCH.set(msg, 1);
    this.toClient(SCRATCH.subarray(0, msg.length + 1), msg.length);
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
}

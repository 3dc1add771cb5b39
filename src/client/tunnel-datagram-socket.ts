/**
 * A {@link DatagramSocket} whose datagrams travel through a connect-udp tunnel: what lets our
 * QUIC stack (the `UdpEndpoint` adapter) run inside a tunnel. The tunnel is connected to one
 * target, so the destination of `send` is ignored, and every datagram received is reported as
 * coming from `remote`, the address the QUIC connection was opened to.
 *
 * The tunnel's datagram limit acts as the path MTU above QUIC's minimum: a datagram larger than
 * both 1200 bytes and what rides one QUIC DATAGRAM frame of the outer connection is dropped (and
 * counted), as a link drops what exceeds its MTU, so the inner connection's path MTU discovery
 * settles below it instead of its large packets travelling reliably as capsules. Up to 1200 bytes
 * always pass (as capsules when they must): QUIC needs them (RFC 9000 §14). When the outer
 * connection has no datagrams, everything goes as capsules: there is no limit to keep.
 *
 * The tunnel belongs to the caller: closing this socket only detaches from it.
 */
import type { DatagramSocket } from '../runtime/udp/datagram-socket.js';
import { MasqueError } from './errors.js';
import type { MasqueUdpSocket } from './udp-socket.js';

/** RFC 9000 §14: QUIC needs paths that carry 1200-byte UDP payloads. */
const QUIC_MIN_DATAGRAM = 1200;

export class TunnelDatagramSocket implements DatagramSocket {
  readonly #tunnel: MasqueUdpSocket;
  readonly #remote: string;
  #handler: ((data: Uint8Array, remote: string) => void) | undefined;
  #closed = false;
  #droppedTooLarge = 0;
  readonly #onMessage = (msg: Buffer): void => {
    if (!this.#closed) this.#handler?.(msg, this.#remote);
  };

  /** @param remote the label incoming datagrams carry ("ip:port") */
  constructor(tunnel: MasqueUdpSocket, remote: string) {
    this.#tunnel = tunnel;
    this.#remote = remote;
    tunnel.on('message', this.#onMessage);
  }

  /** Datagrams dropped because they exceed the tunnel's datagram limit (the inner path MTU). */
  get droppedTooLarge(): number {
    return this.#droppedTooLarge;
  }

  send(data: Uint8Array, _port: number, _host: string): void {
    if (this.#closed || this.#tunnel.isClosed) return;
    const limit = this.#tunnel.maxDatagramPayload;
    if (limit > 0 && data.length > Math.max(limit, QUIC_MIN_DATAGRAM)) {
      this.#droppedTooLarge++;
      return;
    }
    try {
      this.#tunnel.send(data);
    } catch (err) {
      // Like a UDP send: a closed tunnel or an oversized datagram is a drop, never a throw.
      if (!(err instanceof MasqueError)) throw err;
    }
  }

  onMessage(handler: (data: Uint8Array, remote: string) => void): void {
    this.#handler = handler;
  }

  address(): { host: string; port: number; family: 4 | 6 } {
    return { host: '0.0.0.0', port: 0, family: 4 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tunnel.off('message', this.#onMessage);
  }
}

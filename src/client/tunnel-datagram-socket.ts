/**
 * A {@link DatagramSocket} whose datagrams travel through a connect-udp tunnel: what lets our
 * QUIC stack (the `UdpEndpoint` adapter) run inside a tunnel. The tunnel is connected to one
 * target, so the destination of `send` is ignored, and every datagram received is reported as
 * coming from `remote`, the address the QUIC connection was opened to.
 *
 * The tunnel belongs to the caller: closing this socket only detaches from it.
 */
import type { DatagramSocket } from '../runtime/udp/datagram-socket.js';
import { MasqueError } from './errors.js';
import type { MasqueUdpSocket } from './udp-socket.js';

export class TunnelDatagramSocket implements DatagramSocket {
  readonly #tunnel: MasqueUdpSocket;
  readonly #remote: string;
  #handler: ((data: Uint8Array, remote: string) => void) | undefined;
  #closed = false;
  readonly #onMessage = (msg: Buffer): void => {
    if (!this.#closed) this.#handler?.(msg, this.#remote);
  };

  /** @param remote the label incoming datagrams carry ("ip:port") */
  constructor(tunnel: MasqueUdpSocket, remote: string) {
    this.#tunnel = tunnel;
    this.#remote = remote;
    tunnel.on('message', this.#onMessage);
  }

  send(data: Uint8Array, _port: number, _host: string): void {
    if (this.#closed || this.#tunnel.isClosed) return;
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

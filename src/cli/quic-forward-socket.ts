/**
 * `udp-forward --quic-aware`: a peer's tunnel as a QUIC-aware socket (quic-proxy), shaped like the
 * `MasqueUdpSocket` udp-forward drives, so an unmodified QUIC program on the local port gets
 * forwarded mode to its target.
 *
 * What it can handle: CIDs are learnt from the packets the program exchanges (`QuicAwareSocket`):
 * the long headers show both sides' first CIDs and their lengths; a CID either side switches to
 * later (announced in NEW_CONNECTION_ID, inside encryption) is registered when a short header
 * first carries it, and its packets are tunnelled until then. What it cannot: registering a CID
 * before the program uses it (§5.9.2), so port sharing stays off; and a program whose two sides
 * use zero-length CIDs gives nothing to register (everything is tunnelled).
 */
import { EventEmitter } from 'node:events';
import type { QuicAwareSocket } from '../client/quic-aware-socket.js';

export class QuicForwardSocket extends EventEmitter {
  readonly #sock: QuicAwareSocket;

  constructor(sock: QuicAwareSocket) {
    super();
    this.#sock = sock;
    sock.onMessage((data) =>
      this.emit('message', Buffer.from(data.buffer, data.byteOffset, data.length)),
    );
    void sock.closed.then(() => this.emit('close'));
  }

  /** The QUIC-aware socket (its `stats` count forwarded and tunnelled packets). */
  get quic(): QuicAwareSocket {
    return this.#sock;
  }

  get isClosed(): boolean {
    return this.#sock.isClosed;
  }

  get closed(): Promise<void> {
    return this.#sock.closed;
  }

  /** Never refuses: a packet that cannot leave is dropped like UDP (counted by the transport). */
  get dropped(): number {
    return 0;
  }

  send(msg: Uint8Array): boolean {
    this.#sock.send(msg, 0, '');
    return true;
  }

  close(): void {
    void this.#sock.close();
  }
}

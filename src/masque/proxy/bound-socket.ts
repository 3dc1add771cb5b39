/**
 * The UDP socket of a bound tunnel (connect-udp-listen §"Proxy Behavior"): *unconnected*, on an
 * ephemeral port of one egress address, sending to whichever peer each datagram names and
 * hearing from any peer. Behind a small interface like `udp-socket.ts`, so tests can inject a
 * fake and count what is opened.
 *
 * Unlike a connected socket, an unconnected one hears no ICMP errors on Linux (no IP_RECVERR
 * from Node), so a failed send is counted and the tunnel goes on: one unreachable peer must not
 * end a tunnel that talks to many.
 */
import type { Socket } from 'node:dgram';
import { NodeSocketBase, type NodeUdpSocketOptions, openNodeSocket } from './node-socket.js';

/** The sender of a datagram a bound socket received. */
export interface BoundPeerInfo {
  /** IP literal as the kernel reports it (IPv6 compressed, lowercase, no zone for globals). */
  readonly address: string;
  readonly port: number;
}

/** One unconnected UDP socket of a bound tunnel. */
export interface BoundSocket {
  /** 4 or 6: a socket serves one family (IPv6 sockets are v6-only). */
  readonly family: 4 | 6;
  /** The local address and port it is bound to. */
  readonly address: string;
  readonly port: number;
  /**
   * Sends one datagram to `address`:`port` (an IP literal of this socket's family). `done` runs
   * once the kernel took it or failed; the bytes must not change until then.
   */
  send(data: Uint8Array, port: number, address: string, done: (err: Error | null) => void): void;
  /** Sets the receiver of datagrams (each a fresh Buffer the receiver may keep). */
  onMessage(handler: (data: Buffer, from: BoundPeerInfo) => void): void;
  /** Sets the receiver of socket errors. */
  onError(handler: (err: Error) => void): void;
  /** Closes the socket; idempotent. */
  close(): void;
}

/** Opens bound sockets. */
export interface BoundSocketFactory {
  /** Binds an unconnected socket to `address` (port 0: ephemeral); rejects when the OS refuses. */
  open(family: 4 | 6, address: string): Promise<BoundSocket>;
}

class NodeBoundSocket extends NodeSocketBase implements BoundSocket {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;

  constructor(socket: Socket, family: 4 | 6) {
    super(socket);
    this.family = family;
    const a = socket.address();
    this.address = a.address;
    this.port = a.port;
  }

  send(data: Uint8Array, port: number, address: string, done: (err: Error | null) => void): void {
    this.guardedSend(() => this.socket.send(data, port, address, done), done);
  }

  onMessage(handler: (data: Buffer, from: BoundPeerInfo) => void): void {
    this.setMessageHandler(handler);
  }
}

/** Unconnected `node:dgram` sockets with large buffers (a bound tunnel carries many peers). */
export function nodeBoundSocketFactory(options: NodeUdpSocketOptions = {}): BoundSocketFactory {
  return {
    open: async (family, address) =>
      new NodeBoundSocket(
        await openNodeSocket(family, options, (socket, done) =>
          socket.bind({ port: 0, address, exclusive: true }, done),
        ),
        family,
      ),
  };
}

/**
 * The UDP socket a tunnel opens to its target, behind a small interface so tests can inject a
 * fake (or count what is opened) and the proxy never touches `node:dgram` elsewhere.
 *
 * The Node implementation is a *connected* socket (RFC 9298 §3.1: "UDP proxies can use connected
 * UDP sockets ... to rely on the kernel to only send it UDP packets that match the correct
 * 5-tuple"), so no source check is needed here. A connected socket also hears ICMP errors
 * (port / host unreachable) as an `error` event, which the tunnel must answer by closing the
 * request stream (RFC 9298 §3.1 "MUST close the request stream").
 *
 * Not done: setting the IPv4 DF bit (RFC 9298 §3.1 "if possible"): Node offers no
 * IP_MTU_DISCOVER option; Linux's default (IP_PMTUDISC_WANT) sets DF on datagrams that fit the
 * route MTU.
 */
import { NodeSocketBase, type NodeUdpSocketOptions, openNodeSocket } from './node-socket.js';

export { DEFAULT_SOCKET_BUFFER_BYTES, type NodeUdpSocketOptions } from './node-socket.js';

/** Where a tunnel sends: one resolved address. */
export interface UdpTarget {
  /** IP literal, without brackets. */
  address: string;
  /** 4 or 6. */
  family: 4 | 6;
  /** 1..65535. */
  port: number;
}

/** A connected UDP socket to one target. */
export interface TunnelSocket {
  /**
   * Sends one datagram to the target. `done` runs once the kernel took it or failed; the bytes
   * must not change until then.
   */
  send(data: Uint8Array, done: (err: Error | null) => void): void;
  /** Sets the receiver of datagrams from the target (each a fresh Buffer the receiver may keep). */
  onMessage(handler: (data: Buffer) => void): void;
  /** Sets the receiver of socket errors (ICMP unreachable arrives as ECONNREFUSED). */
  onError(handler: (err: Error) => void): void;
  /** Local address, "ip:port". */
  readonly localAddress: string;
  /** Closes the socket; idempotent. */
  close(): void;
  /** SO_RCVBUF as the kernel reports it (Linux doubles what was asked), when known. */
  readonly recvBufferSize?: number;
}

/** Opens tunnel sockets. */
export interface UdpSocketFactory {
  /** Opens a socket connected to `target`; rejects when the OS refuses (no route, bad family). */
  open(target: UdpTarget): Promise<TunnelSocket>;
}

class NodeTunnelSocket extends NodeSocketBase implements TunnelSocket {
  get recvBufferSize(): number {
    return this.socket.getRecvBufferSize();
  }

  get localAddress(): string {
    const a = this.socket.address();
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  send(data: Uint8Array, done: (err: Error | null) => void): void {
    this.guardedSend(() => this.socket.send(data, done), done);
  }

  onMessage(handler: (data: Buffer) => void): void {
    this.setMessageHandler(handler);
  }
}

/** Connected `node:dgram` sockets, bound to the wildcard address of the target's family. */
export function nodeUdpSocketFactory(options: NodeUdpSocketOptions = {}): UdpSocketFactory {
  return {
    open: async (target) =>
      new NodeTunnelSocket(
        await openNodeSocket(target.family, options, (socket, done) =>
          socket.connect(target.port, target.address, done),
        ),
      ),
  };
}

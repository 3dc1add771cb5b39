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
import { createSocket, type Socket } from 'node:dgram';

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

/** Options of {@link nodeUdpSocketFactory}. */
export interface NodeUdpSocketOptions {
  /**
   * SO_RCVBUF in bytes. Default 4 MiB: a burst from the target must not overflow the kernel's
   * queue while the event loop is busy (the kernel caps it at net.core.rmem_max).
   */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes. Default 4 MiB (capped at net.core.wmem_max). */
  sendBufferSize?: number;
}

/** Default SO_RCVBUF / SO_SNDBUF of the UDP sockets we open. */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

class NodeTunnelSocket implements TunnelSocket {
  readonly #socket: Socket;
  #closed = false;
  #onError: (err: Error) => void = () => {};

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('error', (err) => {
      if (!this.#closed) this.#onError(err);
    });
  }

  get recvBufferSize(): number {
    return this.#socket.getRecvBufferSize();
  }

  get localAddress(): string {
    const a = this.#socket.address();
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  send(data: Uint8Array, done: (err: Error | null) => void): void {
    if (this.#closed) {
      done(new Error('socket closed'));
      return;
    }
    try {
      this.#socket.send(data, done);
    } catch (err) {
      done(err as Error);
    }
  }

  onMessage(handler: (data: Buffer) => void): void {
    this.#socket.removeAllListeners('message');
    this.#socket.on('message', handler);
  }

  onError(handler: (err: Error) => void): void {
    this.#onError = handler;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.removeAllListeners('message');
    try {
      this.#socket.close();
    } catch {
      // already closed by Node after an error: nothing to release
    }
  }
}

/** Connected `node:dgram` sockets, bound to the wildcard address of the target's family. */
export function nodeUdpSocketFactory(options: NodeUdpSocketOptions = {}): UdpSocketFactory {
  return {
    open: (target) =>
      new Promise<TunnelSocket>((resolve, reject) => {
        const socket = createSocket({
          type: target.family === 6 ? 'udp6' : 'udp4',
          ipv6Only: target.family === 6,
          recvBufferSize: options.recvBufferSize ?? DEFAULT_SOCKET_BUFFER_BYTES,
          sendBufferSize: options.sendBufferSize ?? DEFAULT_SOCKET_BUFFER_BYTES,
        });
        const fail = (err: Error): void => {
          try {
            socket.close();
          } catch {
            // the socket never opened
          }
          reject(err);
        };
        socket.once('error', fail);
        socket.connect(target.port, target.address, () => {
          socket.off('error', fail);
          resolve(new NodeTunnelSocket(socket));
        });
      }),
  };
}

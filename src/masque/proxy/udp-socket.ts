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
import type { Socket } from 'node:dgram';
import { constants } from 'node:os';
import { type NativeBinding, nativeBinding } from '../../crypto/native.js';
import { errnoName, socketFd } from '../../runtime/udp/datagram-socket.js';
import {
  DRAIN_SLOT,
  type DrainScratch,
  type DrainSink,
  drain,
  drainFunction,
} from '../../runtime/udp/drain.js';
import { NodeSocketBase, type NodeUdpSocketOptions, openNodeSocket } from './node-socket.js';

const osErrno = constants.errno;

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
  /**
   * Sends `data[offset .. offset + length)` at once if the kernel takes it now, without a
   * callback: true when it left (the bytes may be reused right away), false when it must go
   * through `send` instead (EAGAIN, sends still queued, no native addon), or the Error of a
   * failure `send` would have reported (ICMP unreachable as ECONNREFUSED...). Optional.
   */
  trySend?(data: Uint8Array, offset: number, length: number): boolean | Error;
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

/** Failures that mean "queue it" rather than "it failed": node's send then retries or reports. */
const RETRY_ERRNOS = new Set([osErrno.EAGAIN, osErrno.EWOULDBLOCK, osErrno.ENOBUFS, osErrno.EINTR]);

/** An errno as node reports it: an Error with `code`, `errno` and `syscall`. */
function errnoError(errno: number, syscall: string): Error {
  const name = errnoName(errno);
  return Object.assign(new Error(`${syscall} ${name}`), { code: name, errno: -errno, syscall });
}

class NodeTunnelSocket extends NodeSocketBase implements TunnelSocket, DrainSink {
  /** The addon's send and the socket's fd (Linux, addon loaded), or undefined. */
  readonly #native: { fd: number; send: NonNullable<NativeBinding['send']> } | undefined;
  /** The addon's recvmmsg, for the drain (drain.ts), or undefined. */
  readonly #recvmmsg: NativeBinding['recvmmsg'];
  #handler: (data: Buffer) => void = () => {};
  /** Sends handed to node and not yet called back: native sends wait behind them (order). */
  #queued = 0;
  readonly #onQueued = (): void => {
    this.#queued--;
  };

  constructor(socket: Socket, native: NativeBinding | undefined) {
    super(socket);
    const fd = native?.send === undefined ? undefined : socketFd(socket);
    this.#native =
      fd === undefined || native?.send === undefined ? undefined : { fd, send: native.send };
    this.#recvmmsg = fd === undefined ? undefined : drainFunction(native);
  }

  get recvBufferSize(): number {
    return this.socket.getRecvBufferSize();
  }

  get localAddress(): string {
    const a = this.socket.address();
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  send(data: Uint8Array, done: (err: Error | null) => void): void {
    if (this.#native !== undefined) {
      // Counted, so that native sends queue behind this one.
      this.#queued++;
      const inner = done;
      done = (err) => {
        this.#onQueued();
        inner(err);
      };
    }
    this.guardedSend(() => this.socket.send(data, done), done);
  }

  trySend(data: Uint8Array, offset: number, length: number): boolean | Error {
    const native = this.#native;
    if (native === undefined || this.#queued > 0 || this.closed) return false;
    const rc = native.send(native.fd, data, offset, length, null);
    if (rc >= 0) return true;
    if (RETRY_ERRNOS.has(-rc)) return false;
    return errnoError(-rc, 'send');
  }

  onMessage(handler: (data: Buffer) => void): void {
    const recvmmsg = this.#recvmmsg;
    const native = this.#native;
    if (recvmmsg === undefined || native === undefined) {
      this.setMessageHandler(handler);
      return;
    }
    this.#handler = handler;
    this.setMessageHandler((msg: Buffer) => {
      handler(msg);
      drain(native.fd, recvmmsg, this); // what waits behind it, in one system call
    });
  }

  get drainStopped(): boolean {
    return this.closed;
  }

  drained(s: DrainScratch, i: number, length: number): void {
    // A connected socket: the kernel delivers only the target's datagrams. Never cut (64 KiB
    // slots); a fresh Buffer the tunnel may keep.
    if (length >= 0)
      this.#handler(Buffer.from(s.data.subarray(i * DRAIN_SLOT, i * DRAIN_SLOT + length)));
  }

  drainFailed(errno: number): void {
    // ICMP unreachable read by our recvmmsg before node's reader: reported as node would.
    if (!RETRY_ERRNOS.has(errno)) this.reportError(errnoError(errno, 'recvmmsg'));
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
        nativeBinding(),
      ),
  };
}

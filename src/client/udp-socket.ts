/**
 * A UDP "socket" through a connect-udp tunnel (RFC 9298), shaped like `node:dgram`'s Socket
 * where that fits:
 *
 *   sock.on('message', (msg, rinfo) => ...);   // msg: Buffer, rinfo: the target
 *   sock.send(bytes);                          // one UDP payload to the target
 *   for await (const msg of sock) ...          // or iterate
 *   sock.close();                              // FIN; 'close' follows
 *
 * Datagrams go as HTTP datagrams with Context ID 0 (RFC 9298 §5): in QUIC DATAGRAM frames, or in
 * DATAGRAM capsules when QUIC datagrams are not negotiated or the payload does not fit one frame
 * (RFC 9297 §3.5; see the proxy's tunnel.ts for why the fallback is kept for large payloads).
 *
 * Errors: a reset of the tunnel's stream or the loss of the connection emits `error` (a
 * {@link MasqueError}) and then `close`; the proxy ending the tunnel cleanly (idle timeout,
 * shutdown) emits only `close`. Unlike `node:dgram`, an `error` without a listener is not
 * thrown: it is kept in {@link MasqueUdpSocket.error} and thrown by the async iterator.
 * There is no reconnection: that is the caller's decision.
 */
import { EventEmitter } from 'node:events';
import type { ProxyStatusEntry } from '../masque/headers/index.js';
import { AsyncQueue } from '../runtime/h3/async-queue.js';
import { decodeVarint, type VarintResult } from '../wire/varint.js';
import { DatagramOut } from './datagram-out.js';
import { MasqueError, MasqueErrorCode } from './errors.js';
import { closedError, closeWithGrace, endError, endQueue, failSend } from './tunnel-lifecycle.js';

/** The parts of an extended CONNECT session the socket uses (`ClientConnectSession` fits). */
export interface TunnelStream {
  readonly capsuleMode: boolean;
  readonly bufferedAmount: number;
  readonly closed: Promise<{ kind: 'end' | 'reset' | 'connection'; code?: number }>;
  readonly closeInfo: unknown;
  sendDatagram(payload: Uint8Array): boolean;
  sendCapsule(type: number, value: Uint8Array): boolean;
  onDatagram(cb: (payload: Uint8Array) => void): () => void;
  /** True when datagrams travel as QUIC DATAGRAM frames (else as DATAGRAM capsules). */
  readonly datagramsEnabled: boolean;
  /** Largest HTTP datagram payload that fits one QUIC DATAGRAM frame now (0: none). */
  readonly maxDatagramPayload?: number;
  /** False while the transport asks datagram senders to pause (connection-wide). */
  readonly datagramsWritable: boolean;
  /** Room for datagrams again after a refusal (connection-wide); returns an unsubscribe. */
  onDatagramsWritable(cb: () => void): () => void;
  /** Resolves when the stream's send backlog is at or below its high-water mark. */
  drained(): Promise<void>;
  close(): void;
  abort(code?: number): void;
}

/** Where datagrams come from, as `node:dgram` reports it. */
export interface RemoteInfo {
  /** The target host as requested (a name or an IP literal). */
  address: string;
  port: number;
  /** 'IPv4' or 'IPv6' for IP literals, 'name' for DNS names. */
  family: 'IPv4' | 'IPv6' | 'name';
  /** Payload size. */
  size: number;
}

/** Options of a {@link MasqueUdpSocket}. */
export interface MasqueUdpSocketOptions {
  /** Messages held for the async iterator before the oldest are dropped. Default 4096. */
  backlog?: number;
  /** Stream backlog (bytes) above which capsule sends are refused. Default 1 MiB. */
  capsuleBacklogBytes?: number;
  /** After `close()`, how long the proxy gets to end its side before the stream is reset. */
  closeGraceMs?: number;
  /**
   * Bytes queued for sending (QUIC datagram queue, or the stream for capsules) above which
   * `send` returns false: wait for `drain` before sending more. Default 256 KiB.
   */
  highWaterMark?: number;
}

// RFC 9298 §5: UDP payloads are at most 65527 bytes.
const MAX_UDP_PAYLOAD = 65_527;
const SCRATCH = new Uint8Array(1 + MAX_UDP_PAYLOAD);
const VARINT: VarintResult = { value: 0, next: 0 };
const encoder = new TextEncoder();

export interface MasqueUdpSocketEvents {
  message: [msg: Buffer, rinfo: RemoteInfo];
  error: [err: MasqueError];
  close: [];
  /** After `send` returned false: sending may resume. */
  drain: [];
}

export class MasqueUdpSocket
  extends EventEmitter<MasqueUdpSocketEvents>
  implements AsyncIterable<Buffer>
{
  /** The target as requested. */
  readonly target: { readonly host: string; readonly port: number };
  /** The proxy's Proxy-Status on the 2xx (its `nextHop` is the address it sends to). */
  readonly proxyStatus: readonly ProxyStatusEntry[];
  readonly #stream: TunnelStream;
  readonly #family: RemoteInfo['family'];
  readonly #opts: MasqueUdpSocketOptions;
  readonly #unsubscribe: () => void;
  #queue: AsyncQueue<Buffer> | undefined;
  #closing = false;
  #closed = false;
  readonly #out: DatagramOut;
  #error: MasqueError | undefined;
  #dropped = 0;
  #unknownContext = 0;

  constructor(
    stream: TunnelStream,
    target: { host: string; port: number },
    proxyStatus: readonly ProxyStatusEntry[] = [],
    options: MasqueUdpSocketOptions = {},
  ) {
    super();
    this.#stream = stream;
    this.target = target;
    this.proxyStatus = proxyStatus;
    this.#opts = options;
    this.#family = target.host.includes(':')
      ? 'IPv6'
      : /^[0-9.]+$/.test(target.host)
        ? 'IPv4'
        : 'name';
    this.#out = new DatagramOut(stream, options, () => {
      if (!this.#closed) this.emit('drain');
    });
    this.#unsubscribe = stream.onDatagram((p) => this.#onDatagram(p));
    void stream.closed.then((info) => this.#onClosed(info));
  }

  /** The `next-hop` the proxy reported (the address it sends to), when it did. */
  get nextHop(): string | undefined {
    return this.proxyStatus.find((e) => e.nextHop !== undefined)?.nextHop;
  }

  /** True once the tunnel is over. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Settles once the socket has closed (with or without an error: see `error`); never rejects.
   * Like `closed` on `MasqueClient`, sessions and WebTransport.
   */
  get closed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.once('close', () => resolve()));
  }

  /** The error that ended the tunnel, if one did. */
  get error(): MasqueError | undefined {
    return this.#error;
  }

  /** Messages dropped because the iterator's backlog was full, or sends refused. */
  get dropped(): number {
    return this.#dropped + this.#out.dropped;
  }

  /** Datagrams received with a Context ID other than 0 (dropped, RFC 9298 §4). */
  get unknownContextDrops(): number {
    return this.#unknownContext;
  }

  /** Bytes queued on the tunnel's stream (capsules) not yet taken by QUIC. */
  get bufferedAmount(): number {
    return this.#stream.bufferedAmount;
  }

  /**
   * Largest UDP payload that rides one QUIC DATAGRAM frame now; larger ones go as DATAGRAM
   * capsules. It grows as path MTU discovery confirms larger packets to the proxy (1200-byte
   * payloads fit once the path carries 1240-byte packets), and shrinks if the path does. 0 when
   * QUIC datagrams are not in use.
   */
  get maxDatagramPayload(): number {
    // Less the Context ID 0 (one byte, RFC 9298 §5).
    return Math.max(0, (this.#stream.maxDatagramPayload ?? 0) - 1);
  }

  /**
   * Sends one UDP payload to the target. Returns false when it was dropped locally (datagram
   * queue or stream backlog full), as UDP may drop.
   *
   * Errors take node:dgram's path: with `callback`, it is called with the error (or null once the
   * payload is handed over); without one, the error is emitted as `error` when there is a
   * listener, and thrown otherwise. MASQUE_CLOSED after the tunnel closed (its `cause` is the
   * error that ended the tunnel, if one did); MASQUE_PAYLOAD_TOO_LARGE above 65527 bytes.
   */
  send(data: Uint8Array | string, callback?: (err: MasqueError | null) => void): boolean {
    if (this.#closing || this.#closed) return failSend(this, closedError(this.#error), callback);
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (bytes.length > MAX_UDP_PAYLOAD) {
      return failSend(
        this,
        new MasqueError(
          MasqueErrorCode.PAYLOAD_TOO_LARGE,
          `a UDP payload is at most ${MAX_UDP_PAYLOAD} bytes, not ${bytes.length}`,
        ),
        callback,
      );
    }
    const ok = this.#send(bytes);
    if (callback !== undefined) process.nextTick(callback, null);
    return ok;
  }

  #send(bytes: Uint8Array): boolean {
    SCRATCH[0] = 0; // Context ID 0 (RFC 9298 §5)
    SCRATCH.set(bytes, 1);
    return this.#out.send(SCRATCH.subarray(0, bytes.length + 1));
  }

  /** Ends the tunnel (FIN on the stream); `close` is emitted once the proxy ended its side. */
  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    this.#unsubscribe();
    closeWithGrace(this.#stream, this.#opts.closeGraceMs ?? 5000);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#queue === undefined) {
      this.#queue = new AsyncQueue<Buffer>();
      if (this.#closed) endQueue(this.#queue, this.#error);
    }
    return this.#queue[Symbol.asyncIterator]();
  }

  #onDatagram(payload: Uint8Array): void {
    if (this.#closing || this.#closed) return;
    let offset = 1;
    if (payload.length === 0 || payload[0] !== 0) {
      try {
        decodeVarint(payload, 0, payload.length, VARINT);
      } catch {
        this.#unknownContext++;
        return;
      }
      if (VARINT.value !== 0) {
        // RFC 9298 §4: unknown Context IDs are dropped.
        this.#unknownContext++;
        return;
      }
      offset = VARINT.next;
    }
    const msg = Buffer.from(payload.subarray(offset)); // a copy: the view dies with this call
    if (this.listenerCount('message') > 0) {
      this.emit('message', msg, {
        address: this.target.host,
        port: this.target.port,
        family: this.#family,
        size: msg.length,
      });
    }
    const q = this.#queue;
    if (q !== undefined && !q.ended) {
      if (q.length >= (this.#opts.backlog ?? 4096)) {
        q.dropOldest();
        this.#dropped++;
      }
      q.push(msg);
    }
  }

  #onClosed(info: { kind: 'end' | 'reset' | 'connection'; code?: number }): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#out.dispose();
    if (!this.#closing) {
      this.#error = endError(info);
      if (this.#error !== undefined && this.listenerCount('error') > 0) {
        this.emit('error', this.#error);
      }
    }
    endQueue(this.#queue, this.#error);
    this.emit('close');
  }
}

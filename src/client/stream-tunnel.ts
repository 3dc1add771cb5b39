/**
 * A connect-udp tunnel whose data stream is a reliable byte stream (RFC 9297 §2): an HTTP/2
 * stream or an HTTP/1.1 connection after its 101. The stream carries capsules (§3.2) and HTTP
 * datagrams as DATAGRAM capsules (§3.5); to the SDK's sockets it looks like an HTTP/3
 * `ClientConnectSession` without QUIC datagrams. Each HTTP version says how the stream aborts
 * and how its close reads (`StreamEnds`).
 *
 * Backpressure: `datagramsWritable` is false while the stream's unsent bytes are above the
 * high-water mark; the sockets then drop and count (MasqueUdpSocket) or report `false` from
 * `send`, and `'drain'` follows the stream's own.
 */
import type { Duplex } from 'node:stream';
import { encodeCapsule } from '../capsule/capsules.js';
import { CapsuleError } from '../capsule/errors.js';
import { type Capsule, CapsuleType } from '../capsule/types.js';
import { H3ErrorCode } from '../http3/errors.js';
import { H2CapsuleReader } from '../runtime/h2/capsule-reader.js';
import type { CloseInfo } from '../runtime/tcp/capsule-stream-session.js';

const HIGH_WATER = 256 * 1024;

/** How a tunnel's stream aborts and how its close reads, per HTTP version. */
export interface StreamEnds {
  /** Ends the stream abruptly with an HTTP/3 code (mapped where the version can say it). */
  abort(code: number): void;
  /** How the stream ended, once it closed (`hadError`: a socket's 'close' argument). */
  closedAs(hadError: boolean): CloseInfo;
}

export class StreamClientTunnel {
  readonly capsuleMode = true;
  readonly datagramsEnabled = false;
  readonly maxDatagramPayload = 0;
  readonly status: number;
  readonly responseHeaders: Array<[string, string]>;
  readonly closed: Promise<CloseInfo>;
  #closeInfo: CloseInfo | undefined;
  #resolve!: (i: CloseInfo) => void;
  readonly #stream: Duplex;
  readonly #ends: StreamEnds;
  readonly #reader: H2CapsuleReader;

  /** `head`: data stream bytes that arrived with the response head. */
  constructor(
    stream: Duplex,
    status: number,
    responseHeaders: Array<[string, string]>,
    known: Iterable<readonly [number, number]>,
    ends: StreamEnds,
    head?: Uint8Array,
  ) {
    this.#stream = stream;
    this.#ends = ends;
    this.status = status;
    this.responseHeaders = responseHeaders;
    this.#reader = new H2CapsuleReader(known);
    this.closed = new Promise((r) => {
      this.#resolve = r;
    });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('end', () => {
      try {
        this.#reader.end();
      } catch (err) {
        if (!(err instanceof CapsuleError)) throw err;
        // RFC 9297 §3.3: a capsule cut short by the end of the stream makes it malformed.
        this.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
        return;
      }
      if (!stream.writableEnded) stream.end();
    });
    stream.on('error', () => {});
    stream.on('close', (hadError?: boolean) => this.#finish(ends.closedAs(hadError === true)));
    if (head !== undefined && head.length > 0) this.#onData(head);
  }

  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  get bufferedAmount(): number {
    return this.#stream.writableLength;
  }

  get datagramsWritable(): boolean {
    return this.#stream.writableLength < HIGH_WATER;
  }

  onDatagramsWritable(cb: () => void): () => void {
    this.#stream.on('drain', cb);
    return () => this.#stream.off('drain', cb);
  }

  drained(): Promise<void> {
    if (this.#stream.writableLength < HIGH_WATER || this.#closeInfo !== undefined) {
      return Promise.resolve();
    }
    return new Promise((r) => {
      const done = (): void => {
        this.#stream.off('drain', done);
        this.#stream.off('close', done);
        r();
      };
      this.#stream.on('drain', done);
      this.#stream.on('close', done);
    });
  }

  header(name: string): string | undefined {
    return this.responseHeaders.find(([n]) => n === name)?.[1];
  }

  sendDatagram(payload: Uint8Array): boolean {
    return this.sendCapsule(CapsuleType.DATAGRAM, payload);
  }

  sendCapsule(type: number | bigint, value: Uint8Array): boolean {
    if (this.#closeInfo !== undefined || this.#stream.writableEnded) return false;
    return this.#stream.write(encodeCapsule(type, value));
  }

  onDatagram(cb: (p: Uint8Array) => void): () => void {
    return this.#reader.onDatagram(cb);
  }

  onCapsule(cb: (c: Capsule) => void): () => void {
    return this.#reader.onCapsule(cb);
  }

  close(): void {
    if (this.#closeInfo !== undefined) return;
    if (!this.#stream.writableEnded) this.#stream.end();
  }

  abort(code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    if (this.#closeInfo !== undefined) return;
    this.#ends.abort(code);
    this.#finish({ kind: 'reset', code });
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closeInfo !== undefined) return;
    try {
      this.#reader.push(chunk);
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      this.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
    }
  }

  #finish(info: CloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    this.#resolve(info);
  }
}

/**
 * A connect-udp request over HTTP/2 (RFC 8441 extended CONNECT; RFC 9298 §3.3-3.4), as the
 * connect-udp handler sees any request (`ConnectUdpRequest`): the same admission, strategies,
 * limits and metrics as over HTTP/3. node:http2 does the HTTP/2; this adapter carries the
 * Capsule Protocol on the stream (RFC 9297 §3.2), HTTP datagrams as DATAGRAM capsules (§3.5:
 * HTTP/2 has no unreliable datagrams), and maps HTTP/3 error codes to HTTP/2 ones.
 *
 * Backpressure: `bufferedAmount` is the stream's unsent bytes (`writableLength`), which the
 * relay compares with its capsule cap before queueing, so a slow client costs dropped datagrams
 * (counted), not unbounded memory.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { encodeCapsule } from '../../capsule/capsules.js';
import { CapsuleError } from '../../capsule/errors.js';
import { type Capsule, CapsuleType } from '../../capsule/types.js';
import { H3ErrorCode } from '../../http3/errors.js';
import { H2CapsuleReader } from './capsule-reader.js';
import { H2ErrorCode, h2CodeOf } from './error-codes.js';

type CloseInfo = { kind: 'end' | 'reset' | 'connection'; code?: number };

export class H2ConnectUdpSession {
  readonly headers: Array<[string, string]>;
  readonly remoteAddress: string;
  readonly capsuleMode = true;
  readonly transport = 'h2' as const;
  /** HTTP/2 has no QUIC DATAGRAM frames: every datagram is a capsule. */
  readonly maxDatagramPayload = 0;
  readonly closed: Promise<CloseInfo>;
  #closeInfo: CloseInfo | undefined;
  #resolve!: (info: CloseInfo) => void;
  readonly #stream: ServerHttp2Stream;
  /** Capsules and datagrams in; what arrives before the relay subscribes is held, bounded. */
  readonly #reader: H2CapsuleReader;
  #answered = false;

  constructor(
    stream: ServerHttp2Stream,
    headers: Record<string, string | string[] | undefined>,
    remoteAddress: string,
    knownCapsules: Iterable<readonly [number, number]>,
  ) {
    this.#stream = stream;
    this.remoteAddress = remoteAddress;
    this.headers = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) this.headers.push([name, v]);
    }
    this.#reader = new H2CapsuleReader(knownCapsules);
    this.closed = new Promise((resolve) => {
      this.#resolve = resolve;
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
      // The client ended its side: ours ends too (the tunnel is over).
      if (this.#answered && !stream.writableEnded) stream.end();
    });
    stream.on('error', () => {});
    stream.on('close', () => {
      const code = stream.rstCode;
      this.#finish(
        code === undefined || code === H2ErrorCode.NO_ERROR
          ? { kind: 'end' }
          : { kind: 'reset', code },
      );
    });
  }

  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  get bufferedAmount(): number {
    return this.#stream.writableLength;
  }

  accept(headers: Array<[string, string]> = []): void {
    if (this.#answered || this.#closeInfo !== undefined) return;
    this.#answered = true;
    const out: Record<string, string | string[]> = { ':status': '200', 'capsule-protocol': '?1' };
    for (const [n, v] of headers) add(out, n, v);
    this.#stream.respond(out);
  }

  reject(status: number, headers: Array<[string, string]> = []): void {
    if (this.#answered || this.#closeInfo !== undefined) return;
    this.#answered = true;
    const out: Record<string, string | string[]> = { ':status': String(status) };
    for (const [n, v] of headers) add(out, n, v);
    this.#stream.respond(out, { endStream: true });
    this.#finish({ kind: 'end' });
  }

  header(name: string): string | undefined {
    return this.headers.find(([n]) => n === name)?.[1];
  }

  sendDatagram(payload: Uint8Array): boolean {
    return this.sendCapsule(CapsuleType.DATAGRAM, payload);
  }

  sendCapsule(type: number, value: Uint8Array): boolean {
    if (this.#closeInfo !== undefined || this.#stream.writableEnded || !this.#answered)
      return false;
    this.#stream.write(encodeCapsule(type, value));
    return true;
  }

  onDatagram(cb: (payload: Uint8Array) => void): () => void {
    return this.#reader.onDatagram(cb);
  }

  onCapsule(cb: (c: Capsule) => void): () => void {
    return this.#reader.onCapsule(cb);
  }

  close(): void {
    if (this.#closeInfo !== undefined) return;
    if (!this.#answered) {
      this.abort(H3ErrorCode.H3_REQUEST_REJECTED);
      return;
    }
    if (!this.#stream.writableEnded) this.#stream.end();
  }

  abort(code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    if (this.#closeInfo !== undefined) return;
    this.#stream.close(h2CodeOf(code));
    this.#finish({ kind: 'reset', code });
  }

  #onData(chunk: Buffer): void {
    if (this.#closeInfo !== undefined) return;
    try {
      this.#reader.push(chunk);
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      // RFC 9297 §3.3: a malformed capsule stream aborts the stream.
      this.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
    }
  }

  #finish(info: CloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    this.#resolve(info);
  }
}

function add(out: Record<string, string | string[]>, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else out[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
}

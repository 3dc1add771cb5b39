/**
 * The proxy's side of a connect-udp tunnel whose data stream is a reliable byte stream (RFC 9297
 * §2: an HTTP/2 stream, or an HTTP/1.1 connection after 101) carrying the Capsule Protocol
 * (§3.2), HTTP datagrams as DATAGRAM capsules (§3.5). It is what the connect-udp handler sees of
 * any request (`ConnectUdpRequest`, in capsule mode): the request's header section (HTTP/3 shaped:
 * pseudo-header fields included), the capsule reader, the close promise and the rule that a
 * malformed capsule stream aborts the tunnel (§3.3). Each HTTP version's adapter answers the
 * request and ends or aborts the stream in its own terms.
 *
 * Backpressure: `bufferedAmount` is the stream's unsent bytes (`writableLength`), which the relay
 * compares with its capsule cap before queueing, so a slow client costs dropped datagrams
 * (counted), not unbounded memory.
 */
import type { Writable } from 'node:stream';
import { encodeCapsule } from '../../capsule/capsules.js';
import { CapsuleError } from '../../capsule/errors.js';
import { type Capsule, CapsuleType } from '../../capsule/types.js';
import { H3ErrorCode } from '../../http3/errors.js';
import { H2CapsuleReader } from '../h2/capsule-reader.js';

/** How a tunnel's stream ended: cleanly, reset (HTTP/3 code), or with its connection. */
export type CloseInfo = { kind: 'end' | 'reset' | 'connection'; code?: number };

export abstract class CapsuleStreamSession {
  /** The request header section, as the handler reads it (`:method`, `:protocol`, ...). */
  readonly headers: Array<[string, string]>;
  readonly remoteAddress: string;
  readonly capsuleMode = true;
  /** No QUIC DATAGRAM frames under TCP: every datagram is a capsule. */
  readonly maxDatagramPayload = 0;
  readonly closed: Promise<CloseInfo>;
  /** The HTTP version carrying the tunnel. */
  abstract readonly transport: 'h2' | 'h1';
  #closeInfo: CloseInfo | undefined;
  #resolve!: (info: CloseInfo) => void;
  readonly #out: Writable;
  /** Capsules and datagrams in; what arrives before the relay subscribes is held, bounded. */
  readonly #reader: H2CapsuleReader;
  #answered = false;

  protected constructor(
    out: Writable,
    headers: Array<[string, string]>,
    remoteAddress: string,
    knownCapsules: Iterable<readonly [number, number]>,
  ) {
    this.#out = out;
    this.headers = headers;
    this.remoteAddress = remoteAddress;
    this.#reader = new H2CapsuleReader(knownCapsules);
    this.closed = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  get bufferedAmount(): number {
    return this.#out.writableLength;
  }

  header(name: string): string | undefined {
    return this.headers.find(([n]) => n === name)?.[1];
  }

  /** Answers 2xx / 101 with `capsule-protocol: ?1` and `headers`; the data stream starts. */
  accept(headers: Array<[string, string]> = []): void {
    if (this.#answered || this.#closeInfo !== undefined) return;
    this.#answered = true;
    this.sendAccept(headers);
  }

  /** Answers a final non-2xx status and ends the request. */
  reject(status: number, headers: Array<[string, string]> = []): void {
    if (this.#answered || this.#closeInfo !== undefined) return;
    this.#answered = true;
    this.sendReject(status, headers);
    this.finish({ kind: 'end' });
  }

  sendDatagram(payload: Uint8Array): boolean {
    return this.sendCapsule(CapsuleType.DATAGRAM, payload);
  }

  sendCapsule(type: number, value: Uint8Array): boolean {
    if (this.#closeInfo !== undefined || this.#out.writableEnded || !this.#answered) return false;
    this.#out.write(encodeCapsule(type, value));
    return true;
  }

  onDatagram(cb: (payload: Uint8Array) => void): () => void {
    return this.#reader.onDatagram(cb);
  }

  onCapsule(cb: (c: Capsule) => void): () => void {
    return this.#reader.onCapsule(cb);
  }

  /** Ends our side cleanly (an unanswered request is refused instead). */
  close(): void {
    if (this.#closeInfo !== undefined) return;
    if (!this.#answered) {
      this.abort(H3ErrorCode.H3_REQUEST_REJECTED);
      return;
    }
    if (!this.#out.writableEnded) this.#out.end();
  }

  /** Aborts the tunnel with an HTTP/3 error code (mapped by the adapter). */
  abort(code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    if (this.#closeInfo !== undefined) return;
    this.resetStream(code);
    this.finish({ kind: 'reset', code });
  }

  /** Writes the success response. */
  protected abstract sendAccept(headers: Array<[string, string]>): void;
  /** Writes a refusal and ends the stream. */
  protected abstract sendReject(status: number, headers: Array<[string, string]>): void;
  /** Ends the stream abruptly, saying `code` (HTTP/3) where the HTTP version can. */
  protected abstract resetStream(code: number): void;

  /** Bytes of the data stream from the client. */
  protected received(chunk: Uint8Array): void {
    if (this.#closeInfo !== undefined) return;
    try {
      this.#reader.push(chunk);
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      // RFC 9297 §3.3: a malformed capsule stream is a malformed message; the tunnel is aborted.
      this.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
    }
  }

  /** The client ended its side of the data stream cleanly. */
  protected receivedEnd(): void {
    if (this.#closeInfo !== undefined) return;
    try {
      this.#reader.end();
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      // RFC 9297 §3.3: a capsule cut short by the end of the stream makes it malformed.
      this.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
      return;
    }
    // The client ended its side: ours ends too (the tunnel is over).
    if (this.#answered && !this.#out.writableEnded) this.#out.end();
  }

  protected finish(info: CloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    this.#resolve(info);
  }
}

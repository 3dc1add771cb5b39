/**
 * The SDK's connection to a proxy over HTTP/2 (TCP + TLS, ALPN h2), for networks that block UDP:
 * extended CONNECT (RFC 8441) once the proxy's SETTINGS allow it, connect-udp streams carrying
 * capsules (RFC 9297 §3.2) and HTTP datagrams as DATAGRAM capsules (§3.5). node:http2 does the
 * HTTP/2. The streams look to the SDK's sockets like HTTP/3 sessions without QUIC datagrams.
 *
 * Backpressure: `datagramsWritable` is false while the stream's unsent bytes are above the
 * high-water mark; the sockets then drop and count (MasqueUdpSocket) or report `false` from
 * `send`, and `'drain'` follows the stream's own.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import { encodeCapsule } from '../capsule/capsules.js';
import { CapsuleError } from '../capsule/errors.js';
import { type Capsule, CapsuleType } from '../capsule/types.js';
import { H3ErrorCode } from '../http3/errors.js';
import type { QuicCloseInfo } from '../quic/api.js';
import { H2CapsuleReader } from '../runtime/h2/capsule-reader.js';
import { H2ErrorCode, h2CodeOf, h3CodeOf } from '../runtime/h2/error-codes.js';
import { H3HttpError } from '../runtime/h3/errors.js';
import { type HeadersInit, toFields } from '../runtime/h3/headers.js';

const HIGH_WATER = 256 * 1024;

type CloseInfo = { kind: 'end' | 'reset' | 'connection'; code?: number };

/** One connect-udp stream over HTTP/2, shaped like `ClientConnectSession`. */
export class H2ClientTunnel {
  readonly capsuleMode = true;
  readonly datagramsEnabled = false;
  readonly maxDatagramPayload = 0;
  readonly status: number;
  readonly responseHeaders: Array<[string, string]>;
  readonly closed: Promise<CloseInfo>;
  #closeInfo: CloseInfo | undefined;
  #resolve!: (i: CloseInfo) => void;
  readonly #stream: ClientHttp2Stream;
  readonly #reader: H2CapsuleReader;

  constructor(
    stream: ClientHttp2Stream,
    status: number,
    responseHeaders: Array<[string, string]>,
    known: Iterable<readonly [number, number]>,
  ) {
    this.#stream = stream;
    this.status = status;
    this.responseHeaders = responseHeaders;
    this.#reader = new H2CapsuleReader(known);
    this.closed = new Promise((r) => {
      this.#resolve = r;
    });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('end', () => {
      if (!stream.writableEnded) stream.end();
    });
    stream.on('error', () => {});
    stream.on('close', () => {
      const code = stream.rstCode;
      this.#finish(
        code === undefined || code === H2ErrorCode.NO_ERROR
          ? { kind: 'end' }
          : { kind: 'reset', code: h3CodeOf(code) },
      );
    });
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
    this.#stream.close(h2CodeOf(code));
    this.#finish({ kind: 'reset', code });
  }

  #onData(chunk: Buffer): void {
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

/** Options of {@link H2Link.connect}. */
export interface H2LinkOptions {
  readonly ca?: string[];
  readonly insecure?: true;
  readonly serverName?: string;
  readonly connectTimeout: number;
}

/** A connection to the proxy over HTTP/2, offering what the SDK asks of an HTTP/3 one. */
export class H2Link {
  readonly datagramsEnabled = false;
  readonly closed: Promise<QuicCloseInfo>;
  readonly #session: ClientHttp2Session;
  readonly #authority: string;
  #maxStreams: number | undefined;

  private constructor(session: ClientHttp2Session, authority: string) {
    this.#session = session;
    this.#authority = authority;
    this.#maxStreams = session.remoteSettings.maxConcurrentStreams;
    this.closed = new Promise((resolve) => {
      session.once('close', () =>
        resolve({ errorCode: 0, reason: 'HTTP/2 session closed' } as QuicCloseInfo),
      );
    });
    session.on('error', () => {});
  }

  /** Opens TLS + HTTP/2 to `url` and waits for SETTINGS allowing extended CONNECT. */
  static async connect(url: URL, opts: H2LinkOptions): Promise<H2Link> {
    const session = connect(url.origin, {
      ca: opts.ca,
      rejectUnauthorized: opts.insecure !== true,
      servername: opts.serverName ?? url.hostname.replace(/^\[|\]$/g, ''),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new H3HttpError(
                'TIMEOUT',
                `no HTTP/2 session with ${url.host} within ${opts.connectTimeout} ms`,
              ),
            ),
          opts.connectTimeout,
        );
        session.once('remoteSettings', () => {
          clearTimeout(timer);
          resolve();
        });
        session.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    } catch (err) {
      session.destroy();
      throw err;
    }
    return new H2Link(session, url.host);
  }

  get peerSettings(): { readonly enableConnectProtocol: boolean } {
    return { enableConnectProtocol: this.#session.remoteSettings.enableConnectProtocol === true };
  }

  get peerMaxStreamsBidi(): number | undefined {
    return this.#maxStreams;
  }

  /** Extended CONNECT (RFC 8441 §4); rejects with CONNECT_REFUSED on a non-2xx answer. */
  async connect(
    protocol: string,
    path: string,
    headers?: HeadersInit,
    options: { authority?: string; knownCapsules?: Iterable<readonly [number, number]> } = {},
  ): Promise<H2ClientTunnel> {
    const h: Record<string, string | string[]> = {
      ':method': 'CONNECT',
      ':protocol': protocol,
      ':scheme': 'https',
      ':authority': options.authority ?? this.#authority,
      ':path': path,
      'capsule-protocol': '?1',
    };
    for (const [n, v] of toFields(headers)) {
      const prev = h[n];
      h[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const stream = this.#session.request(h, { endStream: false });
    stream.on('error', () => {});
    const response = await new Promise<Record<string, string | string[] | number | undefined>>(
      (resolve, reject) => {
        stream.once('response', (r) =>
          resolve(r as Record<string, string | string[] | number | undefined>),
        );
        stream.once('close', () =>
          reject(
            new H3HttpError(
              'STREAM_RESET',
              `extended CONNECT ended before a response (HTTP/2 code ${stream.rstCode})`,
            ),
          ),
        );
      },
    );
    const fields: Array<[string, string]> = [];
    for (const [n, v] of Object.entries(response)) {
      if (v === undefined || n.startsWith(':')) continue;
      for (const x of Array.isArray(v) ? v : [v]) fields.push([n, String(x)]);
    }
    const status = Number(response[':status']);
    if (status < 200 || status > 299) {
      stream.close(0x8);
      throw new H3HttpError('CONNECT_REFUSED', `extended CONNECT refused with ${status}`, {
        status,
        headers: fields,
      });
    }
    return new H2ClientTunnel(stream, status, fields, options.knownCapsules ?? []);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (this.#session.closed || this.#session.destroyed) resolve();
      else this.#session.close(() => resolve());
      setTimeout(() => {
        this.#session.destroy();
        resolve();
      }, 500).unref();
    });
  }
}

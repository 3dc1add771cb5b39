/**
 * The SDK's connection to a proxy over HTTP/2 (TCP + TLS, ALPN h2), for networks that block UDP:
 * extended CONNECT (RFC 8441) once the proxy's SETTINGS allow it, connect-udp streams carrying
 * capsules (RFC 9297 §3.2) and HTTP datagrams as DATAGRAM capsules (§3.5). node:http2 does the
 * HTTP/2. The streams look to the SDK's sockets like HTTP/3 sessions without QUIC datagrams.
 *
 * Backpressure: see `StreamClientTunnel`.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { QuicCloseInfo } from '../quic/api.js';
import { H2ErrorCode, h2CodeOf, h3CodeOf } from '../runtime/h2/error-codes.js';
import { H3HttpError } from '../runtime/h3/errors.js';
import { type HeadersInit, toFields } from '../runtime/h3/headers.js';
import { StreamClientTunnel } from './stream-tunnel.js';

/** One connect-udp stream over HTTP/2, shaped like `ClientConnectSession`. */
export class H2ClientTunnel extends StreamClientTunnel {
  constructor(
    stream: ClientHttp2Stream,
    status: number,
    responseHeaders: Array<[string, string]>,
    known: Iterable<readonly [number, number]>,
  ) {
    super(stream, status, responseHeaders, known, {
      abort: (code) => stream.close(h2CodeOf(code)),
      closedAs: () => {
        const code = stream.rstCode;
        return code === undefined || code === H2ErrorCode.NO_ERROR
          ? { kind: 'end' }
          : { kind: 'reset', code: h3CodeOf(code) };
      },
    });
  }
}

/** Options of {@link H2Link.connect}. */
export interface H2LinkOptions {
  readonly ca?: string[];
  readonly insecure?: true;
  readonly serverName?: string;
  readonly connectTimeout: number;
  /** A TLS connection to the proxy that already chose ALPN h2 (`auto`): used instead of a new one. */
  readonly socket?: TLSSocket;
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
    const socket = opts.socket;
    const session = connect(url.origin, {
      ca: opts.ca,
      rejectUnauthorized: opts.insecure !== true,
      servername: opts.serverName ?? url.hostname.replace(/^\[|\]$/g, ''),
      ...(socket === undefined ? {} : { createConnection: () => socket }),
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

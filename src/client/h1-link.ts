/**
 * The SDK's way to a proxy over HTTP/1.1 (TCP + TLS, ALPN http/1.1), for networks that block UDP
 * and pass only HTTP/1.1: each tunnel is one TLS connection whose request upgrades it (RFC 9298
 * §3.3: `GET` with `Connection: Upgrade`, `Upgrade: connect-udp`); after the 101 (§3.4) the
 * connection is the tunnel's data stream (RFC 9297 §2), capsules both ways. node:http writes the
 * request and reads the response. An HTTP/1.1 upgrade consumes its connection, so there is no
 * shared session: `connect` opens one TLS connection to check the proxy is there and speaks
 * HTTP/1.1, and keeps it for the first tunnel.
 */
import { type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { H3ErrorCode } from '../http3/errors.js';
import type { QuicCloseInfo } from '../quic/api.js';
import { H3HttpError } from '../runtime/h3/errors.js';
import { type HeadersInit, toFields } from '../runtime/h3/headers.js';
import { StreamClientTunnel } from './stream-tunnel.js';
import { dialTls } from './tls-dial.js';

/** Options of {@link H1Link.connect}. */
export interface H1LinkOptions {
  readonly ca?: string[];
  readonly insecure?: true;
  readonly serverName?: string;
  readonly connectTimeout: number;
}

/** Comma-separated members, trimmed and lowercased (RFC 9110 §5.6.1). */
function members(v: string | string[] | undefined): string[] {
  const all = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return all.flatMap((x) => x.split(',').map((m) => m.trim().toLowerCase()));
}

/** Why a 101 does not meet RFC 9298 §3.4 / RFC 9297 §3.2, or undefined when it does. */
export function badSwitch(res: IncomingMessage, protocol: string): string | undefined {
  if (res.statusCode !== 101) return `status ${res.statusCode}`;
  if (!members(res.headers.connection).includes('upgrade')) return 'no Connection: Upgrade';
  const upgrade: string[] = [];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'upgrade') upgrade.push(raw[i + 1] as string);
  }
  // §3.4: "a single Upgrade header field with value connect-udp".
  if (upgrade.length !== 1 || upgrade[0]?.trim().toLowerCase() !== protocol) {
    return `Upgrade is ${JSON.stringify(upgrade)}, not ${protocol}`;
  }
  // RFC 9297 §3.2: no content fields on a message that starts the Capsule Protocol.
  for (const f of ['content-length', 'content-type', 'transfer-encoding']) {
    if (res.headers[f] !== undefined) return `${f} on a 101`;
  }
  return undefined;
}

/** HTTP/1.1 to the proxy, offering what the SDK asks of an HTTP/3 connection. */
export class H1Link {
  readonly datagramsEnabled = false;
  /** HTTP/1.1 has no SETTINGS: Upgrade needs no permission (RFC 9298 §3.3). */
  readonly peerSettings = { enableConnectProtocol: true } as const;
  /** One connection per tunnel: no stream limit of the proxy's applies. */
  readonly peerMaxStreamsBidi = undefined;
  readonly closed: Promise<QuicCloseInfo>;
  readonly #url: URL;
  readonly #opts: H1LinkOptions;
  readonly #sockets = new Set<Socket>();
  #spare: TLSSocket | undefined;
  #done = false;
  #resolveClosed!: (i: QuicCloseInfo) => void;

  private constructor(url: URL, opts: H1LinkOptions, spare: TLSSocket) {
    this.#url = url;
    this.#opts = opts;
    this.closed = new Promise((r) => {
      this.#resolveClosed = r;
    });
    this.#keep(spare);
    this.#spare = spare;
    spare.once('close', () => {
      if (this.#spare === spare) this.#spare = undefined;
    });
  }

  /** Opens one TLS connection (ALPN http/1.1) to `url`, kept for the first tunnel. */
  static async connect(url: URL, opts: H1LinkOptions): Promise<H1Link> {
    const socket = await dial(url, opts);
    return new H1Link(url, opts, socket);
  }

  /** A link whose first connection is `socket`, already connected with ALPN http/1.1. */
  static fromSocket(url: URL, opts: H1LinkOptions, socket: TLSSocket): H1Link {
    return new H1Link(url, opts, socket);
  }

  /**
   * The upgrade request (RFC 9298 §3.3) on a connection of its own; rejects with CONNECT_REFUSED
   * on any other answer than a 101 that meets §3.4 (the connection is then closed, as §3.4 says).
   */
  async connect(
    protocol: string,
    path: string,
    headers?: HeadersInit,
    options: { authority?: string; knownCapsules?: Iterable<readonly [number, number]> } = {},
  ): Promise<StreamClientTunnel> {
    if (this.#done) throw new H3HttpError('CLIENT_CLOSED', 'the HTTP/1.1 link is closed');
    let socket = this.#spare;
    this.#spare = undefined;
    if (socket === undefined || socket.destroyed)
      socket = this.#keep(await dial(this.#url, this.#opts));
    const fields: Record<string, string | string[]> = {
      Host: options.authority ?? this.#url.host,
      Connection: 'Upgrade',
      Upgrade: protocol,
      'Capsule-Protocol': '?1',
    };
    for (const [n, v] of toFields(headers)) {
      const prev = fields[n];
      fields[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const conn = socket;
    return await new Promise<StreamClientTunnel>((resolve, reject) => {
      const req = request({ method: 'GET', path, headers: fields, createConnection: () => conn });
      req.on('upgrade', (res: IncomingMessage, up: Duplex, head: Buffer) => {
        const bad = badSwitch(res, protocol);
        if (bad !== undefined) {
          up.destroy();
          reject(new H3HttpError('CONNECT_REFUSED', `the proxy's 101 is not valid: ${bad}`));
          return;
        }
        resolve(
          new StreamClientTunnel(
            up,
            101,
            fieldsOf(res),
            options.knownCapsules ?? [],
            {
              // HTTP/1.1 has no stream reset: an abort closes the connection.
              abort: () => up.destroy(),
              closedAs: (hadError) => (hadError ? { kind: 'connection' } : { kind: 'end' }),
            },
            head,
          ),
        );
      });
      req.on('response', (res: IncomingMessage) => {
        res.resume();
        conn.destroy();
        const status = res.statusCode ?? 0;
        reject(
          new H3HttpError('CONNECT_REFUSED', `HTTP/1.1 upgrade refused with ${status}`, {
            status,
            headers: fieldsOf(res),
          }),
        );
      });
      req.on('error', (err) =>
        reject(
          new H3HttpError('CONNECTION_CLOSED', `HTTP/1.1 upgrade failed: ${err.message}`, {
            h3Code: H3ErrorCode.H3_REQUEST_INCOMPLETE,
            cause: err,
          }),
        ),
      );
      req.end();
    });
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const s of this.#sockets) s.destroy();
    this.#resolveClosed({ errorCode: 0, reason: 'HTTP/1.1 link closed' } as QuicCloseInfo);
  }

  #keep(socket: TLSSocket): TLSSocket {
    socket.on('error', () => {}); // 'close' follows; the request or tunnel reports it
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    return socket;
  }
}

function fieldsOf(res: IncomingMessage): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    out.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
  }
  return out;
}

/** TLS to the proxy with ALPN http/1.1; fails if the proxy picks another protocol. */
function dial(url: URL, opts: H1LinkOptions): Promise<TLSSocket> {
  return dialTls(url, opts, ['http/1.1']);
}

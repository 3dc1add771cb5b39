/**
 * The proxy's TCP listener for networks that block UDP: TLS with ALPN (RFC 7301) choosing the
 * HTTP version per connection, on the same port number as the UDP listener by default and with
 * the same certificate. `h2` goes to HTTP/2 (extended CONNECT, RFC 8441); `http/1.1`, or no ALPN
 * at all (HTTP/1.1 is TLS's default, RFC 9112 §1), goes to HTTP/1.1 (Upgrade, RFC 9298 §3.3) when
 * it is on. Each side turns connect-udp requests into sessions for the one connect-udp handler.
 */
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { H1ConnectUdpSession } from '../h1/h1-connect-session.js';
import { createH1Server, type H1Refusal } from '../h1/h1-server.js';
import type { H2ConnectUdpSession } from '../h2/h2-connect-session.js';
import { createH2Server } from '../h2/h2-listener.js';

export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  /** Serve HTTP/1.1 beside HTTP/2. */
  readonly http1: boolean;
  /** Serve HTTP/2 (default true); false leaves HTTP/1.1 alone (a proxy behind a TLS box that speaks only it). */
  readonly h2?: boolean;
  /** The UDP port HTTP/3 is served on (Alt-Svc). */
  readonly h3Port: number;
  /** Capsule types the connect-udp strategies need delivered. */
  readonly knownCapsules: Iterable<readonly [number, number]>;
  readonly onConnectUdp: (session: H2ConnectUdpSession | H1ConnectUdpSession) => void;
  /** HTTP/1.1 connect-udp requests refused for their framing (RFC 9298 §3.3): answer fields. */
  readonly onRefused: (r: H1Refusal) => Array<[string, string]>;
  /**
   * TCP connections held at once, in total and per source address (the UDP listener's limits,
   * issue 10): one more is closed as soon as it is accepted, before any TLS, and counted.
   */
  readonly maxConnections: number;
  readonly maxConnectionsPerSource: number;
  /** A TLS handshake not done within this many ms is abandoned (default 10,000). */
  readonly handshakeTimeoutMs?: number;
  readonly logger: Logger;
}

/** TCP connections the listener closed at once, by reason. */
export interface TcpRefusals {
  /** Over `maxConnections`. */
  readonly total: number;
  /** Over `maxConnectionsPerSource`. */
  readonly perSource: number;
  /** TLS handshakes that failed or timed out. */
  readonly handshake: number;
}

export interface TcpListener {
  readonly port: number;
  /** Connect-udp requests received over HTTP/2. */
  readonly requests: number;
  /** Connect-udp requests received over HTTP/1.1. */
  readonly requestsH1: number;
  /** TCP connections open now. */
  readonly connections: number;
  readonly refusals: TcpRefusals;
  /** Presents this certificate to new connections (reload, renewal); throws if it is unusable. */
  setCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

/** "ip:port" ("[ip]:port" for IPv6) of a connection's peer. */
export function remoteOf(sock: Socket): string {
  return sock.remoteFamily === 'IPv6'
    ? `[${sock.remoteAddress}]:${sock.remotePort}`
    : `${sock.remoteAddress}:${sock.remotePort}`;
}

export async function listenTcp(opts: TcpListenerOptions): Promise<TcpListener> {
  const h2 = createH2Server({
    h3Port: opts.h3Port,
    knownCapsules: opts.knownCapsules,
    onConnectUdp: opts.onConnectUdp,
    remoteOf,
    logger: opts.logger,
  });
  const h1 = opts.http1
    ? createH1Server({
        h3Port: opts.h3Port,
        knownCapsules: opts.knownCapsules,
        onConnectUdp: opts.onConnectUdp,
        onRefused: opts.onRefused,
        remoteOf,
      })
    : undefined;
  const sockets = new Set<TLSSocket>();
  const alpn = [...(opts.h2 === false ? [] : ['h2']), ...(h1 === undefined ? [] : ['http/1.1'])];
  const server = createServer({
    cert: opts.certPem,
    key: opts.keyPem,
    ALPNProtocols: alpn,
    handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
  });
  // Admission before TLS: a connection over a limit costs an accept and a close, no handshake.
  const perSource = new Map<string, number>();
  let open = 0;
  const refusals = { total: 0, perSource: 0, handshake: 0 };
  server.on('connection', (raw: Socket) => {
    const source = raw.remoteAddress ?? '';
    const held = perSource.get(source) ?? 0;
    if (open >= opts.maxConnections || held >= opts.maxConnectionsPerSource) {
      if (open >= opts.maxConnections) refusals.total++;
      else refusals.perSource++;
      raw.destroy();
      return;
    }
    open++;
    perSource.set(source, held + 1);
    raw.once('close', () => {
      open--;
      const n = (perSource.get(source) ?? 1) - 1;
      if (n === 0) perSource.delete(source);
      else perSource.set(source, n);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const chosen = socket.alpnProtocol;
    if (chosen === 'h2' && opts.h2 !== false) h2.accept(socket);
    else if (h1 !== undefined && (chosen === 'http/1.1' || chosen === false)) h1.accept(socket);
    else socket.destroy();
  });
  server.on('tlsClientError', (err) => {
    refusals.handshake++;
    opts.logger.debug({ err }, 'TLS handshake failed');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get requests() {
      return h2.requests;
    },
    get requestsH1() {
      return h1?.requests ?? 0;
    },
    get connections() {
      return open;
    },
    refusals,
    setCertificate(certPem: string, keyPem: string) {
      server.setSecureContext({ cert: certPem, key: keyPem });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open connections keep the server alive: HTTP/2 sessions end with GOAWAY, idle
        // HTTP/1.1 ones at once; what still runs (tunnels the handler did not end) is cut.
        h2.close();
        h1?.close();
        const cut = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 1000);
        cut.unref();
      }),
  };
}

/**
 * The proxy's TCP listener for networks that block UDP: HTTP/2 over TLS (ALPN h2), with extended
 * CONNECT enabled (RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL), on the same port number as the
 * UDP listener by default. connect-udp requests (`:protocol connect-udp`) become
 * `H2ConnectUdpSession`s for the connect-udp handler; anything else gets 404 with `Alt-Svc`
 * advertising HTTP/3 on the UDP port (RFC 7838), so a client that can use UDP moves there.
 * node:http2 does the HTTP/2 (frames, HPACK, flow control).
 */
import {
  createSecureServer,
  type Http2SecureServer,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { H2ConnectUdpSession } from './h2-connect-session.js';

export interface H2ListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  /** The UDP port HTTP/3 is served on (Alt-Svc). */
  readonly h3Port: number;
  /** Capsule types the connect-udp strategies need delivered. */
  readonly knownCapsules: Iterable<readonly [number, number]>;
  readonly onConnectUdp: (session: H2ConnectUdpSession) => void;
  readonly logger: Logger;
}

export interface H2Listener {
  readonly port: number;
  /** Connect-udp requests received over HTTP/2. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function listenH2(opts: H2ListenerOptions): Promise<H2Listener> {
  const server: Http2SecureServer = createSecureServer({
    cert: opts.certPem,
    key: opts.keyPem,
    allowHTTP1: false,
    settings: { enableConnectProtocol: true },
  });
  const known = [...opts.knownCapsules];
  let requests = 0;
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    if (headers[':method'] === 'CONNECT' && headers[':protocol'] === 'connect-udp') {
      requests++;
      const sock = stream.session?.socket;
      const remote =
        sock === undefined
          ? 'unknown'
          : sock.remoteFamily === 'IPv6'
            ? `[${sock.remoteAddress}]:${sock.remotePort}`
            : `${sock.remoteAddress}:${sock.remotePort}`;
      opts.onConnectUdp(new H2ConnectUdpSession(stream, headers, remote, known));
      return;
    }
    stream.on('error', () => {});
    stream.respond(
      { ':status': 404, 'alt-svc': `h3=":${opts.h3Port}"; ma=86400` },
      { endStream: true },
    );
  });
  server.on('sessionError', (err) => opts.logger.debug({ err }, 'HTTP/2 session error'));
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
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open sessions keep the server alive: end them (GOAWAY, then close).
        for (const s of sessions) s.close();
      }),
  };
}

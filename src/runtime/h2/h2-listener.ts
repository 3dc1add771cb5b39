/**
 * HTTP/2 on the proxy's TCP listener (ALPN h2), with extended CONNECT enabled (RFC 8441 §3:
 * SETTINGS_ENABLE_CONNECT_PROTOCOL). connect-udp requests (`:protocol connect-udp`) become
 * `H2ConnectUdpSession`s for the connect-udp handler; anything else gets 404 with `Alt-Svc`
 * advertising HTTP/3 on the UDP port (RFC 7838), so a client that can use UDP moves there.
 * node:http2 does the HTTP/2 (frames, HPACK, flow control); the TLS is the listener's.
 */
import { createServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { H2ConnectUdpSession } from './h2-connect-session.js';

export interface H2ServerOptions {
  /** The UDP port HTTP/3 is served on (Alt-Svc). */
  readonly h3Port: number;
  /** Capsule types the connect-udp strategies need delivered. */
  readonly knownCapsules: Iterable<readonly [number, number]>;
  readonly onConnectUdp: (session: H2ConnectUdpSession) => void;
  /** "ip:port" of a connection, for the handler and the logs. */
  readonly remoteOf: (socket: Socket) => string;
  readonly logger: Logger;
}

/** The HTTP/2 side of the TCP listener: hand it TLS sockets with {@link H2Server.accept}. */
export interface H2Server {
  accept(socket: Socket): void;
  /** Connect-udp requests received over HTTP/2. */
  readonly requests: number;
  /** Ends every session (GOAWAY, then close once its streams are done). */
  close(): void;
}

export function createH2Server(opts: H2ServerOptions): H2Server {
  const server = createServer({ settings: { enableConnectProtocol: true } });
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
      const remote = sock === undefined ? 'unknown' : opts.remoteOf(sock as Socket);
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
  return {
    accept: (socket) => server.emit('connection', socket),
    get requests() {
      return requests;
    },
    close: () => {
      for (const s of sessions) s.close();
    },
  };
}

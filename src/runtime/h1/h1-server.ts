/**
 * HTTP/1.1 on the proxy's TCP listener (ALPN http/1.1, or no ALPN): node:http parses the
 * requests; connect-udp upgrade requests (RFC 9298 §3.3) become `H1ConnectUdpSession`s for the
 * connect-udp handler, each taking its connection (RFC 9297 §2: after the 101 every byte is the
 * data stream). Malformed connect-udp requests get 400 with Proxy-Status and the connection ends;
 * anything else gets 404 with `Alt-Svc` advertising HTTP/3 on the UDP port (RFC 7838), as over
 * HTTP/2. Over-long heads are node's to refuse (431, `maxHeaderSize`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { H1ConnectUdpSession } from './h1-connect-session.js';
import { classifyH1Request, type H1Classification } from './h1-request.js';
import { responseHead } from './response-head.js';

/** A connect-udp request refused for its HTTP/1.1 framing, before the handler saw it. */
export interface H1Refusal {
  readonly client: string;
  readonly path: string | undefined;
  readonly status: number;
  readonly reason: string;
}

export interface H1ServerOptions {
  /** The UDP port HTTP/3 is served on (Alt-Svc). */
  readonly h3Port: number;
  /** Capsule types the connect-udp strategies need delivered. */
  readonly knownCapsules: Iterable<readonly [number, number]>;
  readonly onConnectUdp: (session: H1ConnectUdpSession) => void;
  /**
   * Counted and logged like the handler's refusals; returns the fields to answer with
   * (Proxy-Status).
   */
  readonly onRefused: (r: H1Refusal) => Array<[string, string]>;
  /** "ip:port" of a connection, for the handler and the logs. */
  readonly remoteOf: (socket: Socket) => string;
}

/** The HTTP/1.1 side of the TCP listener: hand it TLS sockets with {@link H1Server.accept}. */
export interface H1Server {
  accept(socket: Socket): void;
  /** Connect-udp requests handed to the handler. */
  readonly requests: number;
  /** Ends idle keep-alive connections and refuses new requests (tunnels end with the handler). */
  close(): void;
}

/** A connection that sends nothing this long before its upgrade is closed (node's `timeout`). */
const IDLE_BEFORE_UPGRADE_MS = 30_000;

export function createH1Server(opts: H1ServerOptions): H1Server {
  const server: Server = createServer();
  // The server never listens (the TCP listener hands it sockets), so node's headersTimeout
  // checker does not run: an inactivity timeout bounds slow or silent connections instead.
  server.setTimeout(IDLE_BEFORE_UPGRADE_MS);
  const known = [...opts.knownCapsules];
  const altSvc = `h3=":${opts.h3Port}"; ma=86400`;
  let requests = 0;
  let closing = false;

  const refusal = (
    c: H1Classification & { kind: 'malformed' },
    client: string,
  ): Array<[string, string]> => [
    ...opts.onRefused({ client, path: c.path, status: 400, reason: c.reason }),
    ['Content-Length', '0'],
    ['Connection', 'close'],
  ];
  const notFound: Array<[string, string]> = [
    ['Alt-Svc', altSvc],
    ['Content-Length', '0'],
    ['Connection', 'close'],
  ];

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    // A tunnel's idleness is its relay's to judge (RFC 9298 §3.1, at least two minutes).
    (socket as Socket).setTimeout(0);
    const client = opts.remoteOf(req.socket);
    const c = classifyH1Request(req);
    if (c.kind === 'connect-udp' && !closing) {
      requests++;
      opts.onConnectUdp(new H1ConnectUdpSession(socket, c.headers, head, client, known));
      return;
    }
    if (c.kind === 'malformed') socket.end(responseHead(400, refusal(c, client)));
    else if (c.kind === 'other') socket.end(responseHead(404, notFound));
    else
      socket.end(
        responseHead(503, [
          ['Content-Length', '0'],
          ['Connection', 'close'],
        ]),
      );
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const c = classifyH1Request(req);
    // Without `Connection: upgrade` node does not treat it as an upgrade: the classifier sees the
    // Upgrade token and calls it malformed (RFC 9298 §3.3).
    const fields =
      c.kind === 'malformed'
        ? refusal(c, opts.remoteOf(req.socket))
        : [['Alt-Svc', altSvc] as [string, string], ['Content-Length', '0'] as [string, string]];
    res.writeHead(c.kind === 'malformed' ? 400 : 404, fields);
    res.end();
  });

  // Plain CONNECT (RFC 9110 §9.3.6, TCP tunnels) is not served here.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    socket.end(responseHead(404, notFound));
  });

  return {
    accept: (socket) => server.emit('connection', socket),
    get requests() {
      return requests;
    },
    close: () => {
      closing = true;
      server.closeIdleConnections();
    },
  };
}

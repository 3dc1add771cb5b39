/**
 * Our H3Server set up for the external-peer tests (`ours-h3-*.test.ts`), serving the same
 * routes as quic-go's `h3server` so every peer can be pointed at either:
 * - `GET /` and `GET /index.html`: a small HTML page ({@link OURS_INDEX_HTML});
 * - `GET /hello`: {@link OURS_HELLO_BODY} as text/plain;
 * - `POST /echo`: the request body back (application/octet-stream);
 * - `GET /bytes/N` (or `/N` under `/bytes`): `quicGoPattern(0, N)`, written with back-pressure;
 * - anything else: 404.
 * Every request is recorded (method, path, authority, body size and hash) so a test can prove
 * the server itself saw it over HTTP/3.
 */
import { createHash } from 'node:crypto';
import { H3Server, type H3ServerOptions } from '../../src/runtime/server/index.js';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import { quicGoPattern } from './quic-go-peer.js';

/** Body of our `GET /hello`. */
export const OURS_HELLO_BODY = 'hello from masque';

/** Body of our `GET /` (a page a browser can run scripts in). */
export const OURS_INDEX_HTML =
  '<!doctype html><html><head><title>masque h3</title></head>' +
  '<body><p id="who">served by masque over HTTP/3</p></body></html>\n';

/** Largest `POST /echo` body and `GET /bytes/N` we accept (16 MiB). */
export const OURS_MAX_BODY = 16 * 1024 * 1024;

/** One request as our handler saw it. */
export interface SeenRequest {
  /** `:method`. */
  method: string;
  /** `:path`. */
  path: string;
  /** `:authority`. */
  authority: string;
  /** `:scheme`. */
  scheme: string;
  /** Request stream ID (QUIC): client-initiated bidirectional, so a multiple of 4. */
  streamId: number;
  /** Request body length. */
  bodyBytes: number;
  /** Hex SHA-256 of the request body. */
  bodySha256: string;
  /** Status we answered. */
  status: number;
  /** `user-agent`, when sent. */
  userAgent?: string;
}

/** A running server plus what it saw. */
export interface OursH3Server {
  /** The server. */
  server: H3Server;
  /** Its certificate (ECDSA P-256: Chromium refuses Ed25519). */
  cert: DevCert;
  /** Bound UDP port. */
  port: number;
  /** Requests handled so far, in completion order. */
  seen: SeenRequest[];
  /** Closes the server (idempotent). */
  close(): Promise<void>;
}

/** Hex SHA-256. */
export const sha256Hex = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

/** Starts our H3Server on 127.0.0.1 with the routes above. */
export async function startOursH3Server(
  options: Partial<H3ServerOptions> & { cert?: DevCert } = {},
): Promise<OursH3Server> {
  const { cert: given, ...rest } = options;
  const cert = given ?? generateDevCert({ keyType: 'ecdsa-p256' });
  const server = await H3Server.listen({
    listen: '127.0.0.1:0',
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    maxBodySize: OURS_MAX_BODY,
    ...rest,
  });
  const seen: SeenRequest[] = [];
  server.onRequest(async (req, res) => {
    const body = await req.bytes(OURS_MAX_BODY);
    const path = req.path ?? '';
    const record = (status: number): void => {
      const ua = req.header('user-agent');
      seen.push({
        method: req.method,
        path,
        authority: req.authority ?? '',
        scheme: req.scheme ?? '',
        streamId: req.streamId,
        bodyBytes: body.length,
        bodySha256: sha256Hex(body),
        status,
        ...(ua === undefined ? {} : { userAgent: ua }),
      });
    };
    const route = path.split('?')[0];
    if (req.method === 'GET' && (route === '/' || route === '/index.html')) {
      record(200);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(OURS_INDEX_HTML);
      return;
    }
    if (req.method === 'GET' && route === '/hello') {
      record(200);
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': String(OURS_HELLO_BODY.length),
      });
      res.end(OURS_HELLO_BODY);
      return;
    }
    if (req.method === 'POST' && route === '/echo') {
      record(200);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
      });
      res.end(body);
      return;
    }
    const m = /^\/bytes\/(\d+)$/.exec(route);
    if (req.method === 'GET' && m) {
      const n = Number(m[1]);
      if (n > OURS_MAX_BODY) {
        record(400);
        res.writeHead(400);
        res.end('bad length\n');
        return;
      }
      record(200);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(n),
      });
      const data = quicGoPattern(0, n);
      const chunk = 64 * 1024;
      for (let off = 0; off < n; off += chunk) {
        if (!res.write(data.subarray(off, Math.min(n, off + chunk)))) await res.drained();
      }
      res.end();
      return;
    }
    record(404);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    cert,
    port: server.port,
    seen,
    close: () => {
      closing ??= server.close({ timeout: 500 });
      return closing;
    },
  };
}

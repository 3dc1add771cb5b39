/**
 * TLS to the proxy over TCP, for the HTTP/2 and HTTP/1.1 transports: one connection offering the
 * given ALPN protocols (RFC 7301), resolved once the handshake is done. With both offered
 * (`transport: 'auto'` after HTTP/3 lost the race) the proxy's choice decides which HTTP the
 * connection then speaks. No ALPN from the proxy counts as HTTP/1.1, TLS's default.
 */
import { isIP } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { H3HttpError } from '../runtime/h3/errors.js';

export interface TlsDialOptions {
  readonly ca?: string[];
  readonly insecure?: true;
  readonly serverName?: string;
  readonly connectTimeout: number;
}

/** The protocol the proxy chose (`false`, no ALPN, read as http/1.1). */
export function alpnOf(socket: TLSSocket): string {
  return socket.alpnProtocol === false ? 'http/1.1' : (socket.alpnProtocol ?? 'http/1.1');
}

/** Connects; rejects when the proxy chooses none of `alpn`, or on timeout. */
export function dialTls(
  url: URL,
  opts: TlsDialOptions,
  alpn: readonly string[],
): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // RFC 6066 §3: no IP literals in SNI.
  const servername = opts.serverName ?? (isIP(host) === 0 ? host : undefined);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port: url.port === '' ? 443 : Number(url.port),
      ...(servername === undefined ? {} : { servername }),
      ca: opts.ca,
      rejectUnauthorized: opts.insecure !== true,
      ALPNProtocols: [...alpn],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new H3HttpError(
          'TIMEOUT',
          `no TLS connection with ${url.host} within ${opts.connectTimeout} ms`,
        ),
      );
    }, opts.connectTimeout);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chosen = alpnOf(socket);
      if (!alpn.includes(chosen)) {
        socket.destroy();
        reject(new Error(`the proxy chose ALPN ${chosen}, not ${alpn.join(' or ')}`));
        return;
      }
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

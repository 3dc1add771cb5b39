/**
 * `masque interop server`: one command that starts a proxy with every mode and wire profile on,
 * and the targets interop cases need beyond it, on loopback unless told otherwise:
 *   - a UDP echo (IPv4 and, when the host has it, IPv6),
 *   - a reflector (a datagram naming "ip:port" is answered "ok" from the reflector's port, and
 *     makes it send "reflected" from its second port to that address: a peer the client never
 *     dialled, for bind),
 *   - an HTTP/3 server answering `GET /hello` (QUIC-aware cases),
 * and prints a card: the template, the drafts and codepoints served, the targets, and the exact
 * `masque interop client` command to run against it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type Logger, pino } from 'pino';
import { type RunningProxy, startProxy } from '../app/proxy-server.js';
import { parseConfig } from '../config/load.js';
import { H3Server } from '../runtime/server/server.js';
import { type DevCert, generateDevCert } from '../tls/certs/dev-cert.js';
import { hostPort } from './types.js';

export interface InteropServerOptions {
  /** The proxy's address. Default 127.0.0.1:4433. */
  listen?: string;
  /** Address the targets bind to. Default 127.0.0.1 (loopback only). */
  targetHost?: string;
  /** The proxy's certificate; default a development certificate for localhost. */
  cert?: DevCert;
  /** Where the proxy logs (its access log and refusals: what a peer's failing case left). Default silent. */
  logger?: Logger;
}

export interface InteropServer {
  readonly proxy: RunningProxy;
  readonly cert: DevCert;
  readonly echo: string;
  readonly echo6: string | undefined;
  readonly reflector: string;
  readonly h3Target: string;
  /** The card, as printed. */
  readonly card: string;
  close(): Promise<void>;
}

function bindUdp(type: 'udp4' | 'udp6', host: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket({ type, ipv6Only: type === 'udp6' });
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(0, host, () => resolve(s));
  });
}

const fmt = (host: string, port: number): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

export async function startInteropServer(opts: InteropServerOptions = {}): Promise<InteropServer> {
  const host = opts.targetHost ?? '127.0.0.1';
  const cert = opts.cert ?? generateDevCert({ keyType: 'ecdsa-p256' });
  const sockets: Socket[] = [];
  const echo = (await bindUdp('udp4', host)) as Socket;
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  sockets.push(echo);
  const echo6 = await bindUdp('udp6', '::1');
  echo6?.on('message', (m, r) => echo6.send(m, r.port, r.address));
  if (echo6 !== undefined) sockets.push(echo6);
  const reflector = (await bindUdp('udp4', host)) as Socket;
  const second = (await bindUdp('udp4', host)) as Socket;
  sockets.push(reflector, second);
  reflector.on('message', (m, r) => {
    try {
      const to = hostPort(m.toString());
      // "ok" back from this port (the sender reached us), "reflected" from the second one.
      reflector.send('ok', r.port, r.address);
      second.send('reflected', to.port, to.host);
    } catch {
      // not an address: ignored
    }
  });
  const h3 = await H3Server.listen({
    listen: `${host}:0`,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
  });
  h3.onRequest((req, res) => {
    if (req.path === '/hello') res.end('hello from the masque interop server');
    else res.writeHead(404).end();
  });
  const proxy = await startProxy(
    parseConfig({
      listen: opts.listen ?? '127.0.0.1:4433',
      targets: { allowSpecial: true },
      bind: { compressAfter: 16, wire: 'auto' },
      quicAware: {
        profiles: ['draft-09', 'draft-08', 'draft-07'],
        transforms: ['scramble-dt', 'identity'],
      },
      logLevel: 'info',
    }),
    {
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      logger: opts.logger ?? pino({ level: 'silent' }),
    },
  );
  const e4 = fmt(host, echo.address().port);
  const e6 = echo6 === undefined ? undefined : fmt('::1', echo6.address().port);
  const refl = fmt(host, reflector.address().port);
  const h3t = fmt(host, h3.port);
  const card = [
    'masque interop server',
    `  proxy template   ${proxy.template}`,
    '  connect-udp      RFC 9298; HTTP datagrams and DATAGRAM capsules (RFC 9297)',
    '  bind             draft-ietf-masque-connect-udp-listen: COMPRESSION_ASSIGN/ACK/CLOSE 0x11-0x13,',
    '                   legacy 0x1C0FE323/0x1C0FE324; proxy-side compression after 16 datagrams',
    '  QUIC-aware       draft-ietf-masque-quic-proxy profiles draft-09 (0xffe800-0xffe809),',
    '                   draft-08 (0xffe700-0xffe707), draft-07 (0xffe600-0xffe607); transforms',
    '                   scramble-dt, identity; port sharing',
    `  UDP echo         ${e4}${e6 === undefined ? '' : `, ${e6}`}`,
    `  reflector        ${refl} (send it "ip:port": "ok" back, and "reflected" from ${fmt(host, second.address().port)} to that address)`,
    `  HTTP/3 target    ${h3t} (GET /hello)`,
    '  run the cases:',
    `    masque interop client --proxy '${proxy.template}' --insecure --echo ${e4}${e6 === undefined ? '' : ` --echo6 ${e6}`} --reflector ${refl} --h3-target ${h3t}`,
    '',
  ].join('\n');
  return {
    proxy,
    cert,
    echo: e4,
    echo6: e6,
    reflector: refl,
    h3Target: h3t,
    card,
    async close() {
      await proxy.close({ timeout: 500 });
      await h3.close();
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/**
 * Shared loopback fixtures for the HTTP/3 end-to-end tests: one development certificate, a
 * server and a client factory that register everything they open for `closeAll()` (call it in
 * afterEach), and small helpers.
 */
import { createHash } from 'node:crypto';
import { H3Client, type H3ClientOptions } from '../../../src/runtime/client/index.js';
import { H3Server, type H3ServerOptions } from '../../../src/runtime/server/index.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { systemRandom } from '../../../src/util/random.js';

export const CERT = generateDevCert({ random: systemRandom });

const open: Array<() => Promise<void>> = [];

/** Closes every server and client opened since the last call (afterEach). */
export async function closeAll(): Promise<void> {
  for (const close of open.splice(0).reverse()) await close();
}

export async function startServer(options: Partial<H3ServerOptions> = {}): Promise<H3Server> {
  const server = await H3Server.listen({
    listen: '127.0.0.1:0',
    certPem: CERT.certPem,
    keyPem: CERT.keyPem,
    ...options,
  });
  open.push(() => server.close({ timeout: 200 }));
  return server;
}

export async function connectClient(
  server: H3Server,
  options: H3ClientOptions = {},
  host = '127.0.0.1',
): Promise<H3Client> {
  const client = await H3Client.connect(
    { host, port: server.port },
    { ca: [CERT.certPem], noSystemRoots: true, serverName: 'localhost', ...options },
  );
  open.push(() => client.close({ timeout: 200 }));
  return client;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic bytes: a cheap LCG keyed by `seed` (not random, just unique per request). */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export { ipv6Available } from '../../support/ipv6.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 5 ms until true or `ms` elapse. */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/**
 * Stateless reset across a crash (RFC 9000 §10.3): `masque proxy` keys its resets from a file
 * kept beside the development certificate, so after kill -9 and a restart on the same port, a
 * client's next packet draws a reset it recognises, instead of silence until its idle timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasqueClient } from 'masque';
import { afterEach, describe, expect, it } from 'vitest';
import { echoServer } from '../masque/proxy/loopback.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts `masque proxy` in its own process; resolves with its template once it listens. */
function startProxyProcess(
  port: number,
  cache: string,
): Promise<{ child: ChildProcess; template: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      'proxy',
      '--listen',
      `127.0.0.1:${port}`,
      '--allow-target',
      '127.0.0.0/8',
    ],
    { env: { ...process.env, MASQUE_CACHE_DIR: cache, MASQUE_LOG: 'silent' }, stdio: 'pipe' },
  );
  cleanup.push(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URI template: +(\S+)/.exec(out);
      if (m !== null) resolve({ child, template: m[1] });
    });
    child.once('exit', (code) =>
      reject(new Error(`proxy exited (${code}) before listening: ${out}`)),
    );
  });
}

describe('masque proxy after kill -9 and a restart', () => {
  it('clients learn of the restart from a stateless reset keyed by the cached key file', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'masque-restart-'));
    cleanup.push(() => rmSync(cache, { recursive: true, force: true }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freeUdpPort();
    const first = await startProxyProcess(port, cache);
    const keyFile = join(cache, 'stateless-reset.key');
    expect(readFileSync(keyFile).length).toBe(32);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const client = await MasqueClient.connect(first.template, {
      ca: [readFileSync(join(cache, 'dev-cert.pem'), 'utf8')],
    });
    cleanup.push(() => client.close());
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    const echoed = new Promise((resolve) => sock.once('message', resolve));
    sock.send('before');
    await echoed;

    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    await startProxyProcess(port, cache);
    expect(readFileSync(keyFile).length).toBe(32); // reused, not replaced

    sock.on('error', () => {}); // the tunnel ends with the connection
    sock.send('after');
    // Without the shared key the client would wait out its 30 s idle timeout (and the test its
    // own 30 s limit); with it, the reset answers the very next packet.
    const info = await client.closed;
    expect(info.cause).toBe('stateless-reset');
  });
});

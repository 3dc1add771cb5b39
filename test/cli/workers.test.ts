/**
 * `masque proxy --workers N` (issue 13, "every core"; src/cli/workers.ts), run as an operator
 * runs it. On Node >= 22.12: two worker processes serve one UDP port (SO_REUSEPORT), the
 * tunnels of 24 clients (each its own UDP source port) are spread over both and all echo, the
 * primary's /metrics sums both workers, SIGHUP reaches every worker, SIGTERM stops them all. On
 * older Node (20: `dgram` has no reusePort) the proxy refuses to start with a message that says
 * why. CI runs this file on both: `npm test` on Node 20, `npm run test:node24`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasqueClient } from 'masque';
import { afterEach, describe, expect, it } from 'vitest';
import { generateDevCert } from '../../src/tls/certs/index.js';
import { echoServer } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const [MAJOR, MINOR] = process.versions.node.split('.').map(Number);
const REUSE_PORT = MAJOR > 22 || (MAJOR === 22 && MINOR >= 12);
const CLIENTS = 24;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type LogLine = Record<string, unknown>;

async function start(args: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'masque-workers-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const cert = generateDevCert();
  await writeFile(join(dir, 'cert.pem'), cert.certPem);
  await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  const config = join(dir, 'proxy.json');
  await writeFile(
    config,
    JSON.stringify({
      listen: '127.0.0.1:0',
      certificate: { cert: 'cert.pem', key: 'key.pem' },
      targets: { allow: ['127.0.0.0/8'] },
      metrics: { listen: '127.0.0.1:0' },
      shutdownGraceMs: 0,
    }),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'proxy', '--config', config, ...args],
    { env: { ...process.env, MASQUE_CACHE_DIR: join(dir, 'cache'), MASQUE_LOG: 'info' } },
  );
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: LogLine[] = [];
  let err = '';
  let allErr = '';
  let out = '';
  child.stderr?.on('data', (d: Buffer) => {
    allErr += d.toString();
    err += d.toString();
    for (let nl = err.indexOf('\n'); nl >= 0; nl = err.indexOf('\n')) {
      const line = err.slice(0, nl);
      err = err.slice(nl + 1);
      if (line.startsWith('{')) logs.push(JSON.parse(line));
    }
  });
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((r) =>
    child.once('exit', (code) => r({ code, stderr: allErr })),
  );
  return { child, cert, logs, exit, stdout: () => out };
}

describe('masque proxy --workers', () => {
  // One test for either runtime, so that neither run reports a skip.
  it(REUSE_PORT
    ? 'two workers share the port: every tunnel echoes, both serve some, /metrics sums them, SIGHUP and SIGTERM reach both'
    : 'refuses on a Node without SO_REUSEPORT for UDP, saying why', async () => {
    const p = await start(['--workers', '2']);
    if (!REUSE_PORT) {
      const { code, stderr } = await p.exit;
      expect(code).not.toBe(0);
      expect(stderr).toContain('needs Node >= 22.12');
      expect(stderr).toContain(`this is Node ${process.versions.node}`);
      return;
    }
    await waitFor(() => /metrics: +http:\/\/(\S+)\/metrics/.test(p.stdout()), {
      timeoutMs: 30_000,
      what: 'the banner',
    });
    const template = /URI template: +(\S+)/.exec(p.stdout())?.[1] as string;
    const metricsUrl = `http://${/metrics: +http:\/\/(\S+)\/metrics/.exec(p.stdout())?.[1]}/metrics`;
    const echo = await echoServer();
    cleanup.push(() => echo.close());

    // Each client is its own UDP socket: its 4-tuple picks the worker.
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        MasqueClient.connect(template, { ca: [p.cert.certPem] }),
      ),
    );
    cleanup.push(() => Promise.all(clients.map((c) => c.close())));
    const echoed = await Promise.all(
      clients.map(async (c, i) => {
        const sock = await c.connectUdp('127.0.0.1', echo.port);
        const back = new Promise<string>((r) => sock.once('message', (m) => r(String(m))));
        sock.send(Buffer.from(`hello ${i}`));
        return back;
      }),
    );
    expect(echoed).toEqual(clients.map((_, i) => `hello ${i}`));

    // Which worker served each tunnel: the access log's `worker` field.
    await waitFor(() => p.logs.filter((l) => l.msg === 'tunnel open').length >= CLIENTS, {
      what: 'an access-log line per tunnel',
    });
    const opened = p.logs.filter((l) => l.msg === 'tunnel open');
    const workers = new Set(opened.map((l) => l.worker));
    // 24 source ports all hashed to one of two sockets: probability 2^-23.
    expect([...workers].sort()).toEqual([1, 2]);

    // Each worker flushes its tunnel counters once a second; the primary sums the workers'.
    let text = '';
    const total = (): number =>
      Number(/^masque_tunnels_opened_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
    await waitFor(
      async () => {
        text = await (await fetch(metricsUrl)).text();
        return total() === CLIENTS;
      },
      { intervalMs: 200, what: `masque_tunnels_opened_total ${CLIENTS} on the primary` },
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}:\n${text
          .split('\n')
          .filter((l) => l.includes('tunnels'))
          .join('\n')}`,
      );
    });

    p.child.kill('SIGHUP');
    await waitFor(
      () =>
        new Set(
          p.logs
            .filter((l) => String(l.msg).startsWith('configuration reloaded'))
            .map((l) => l.worker),
        ).size === 2,
      { what: 'a reload in each worker' },
    );

    p.child.kill('SIGTERM');
    const { code } = await p.exit;
    expect(code).toBe(0);
    expect(
      p.logs
        .filter((l) => l.msg === 'proxy stopped')
        .map((l) => l.worker)
        .sort(),
    ).toEqual([1, 2]);
  }, 90_000);
});

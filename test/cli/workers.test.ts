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
import { startRelay } from '../quic/e2e/relay.js';
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

async function start(args: string[], env: NodeJS.ProcessEnv = {}) {
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
    { env: { ...process.env, MASQUE_CACHE_DIR: join(dir, 'cache'), MASQUE_LOG: 'info', ...env } },
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

  // One test for either runtime, so that neither run reports a skip.
  it(REUSE_PORT
    ? 'steering by connection ID: clients whose address changes 4 times keep their tunnels; by address alone they lose them'
    : 'refuses --workers on a Node without SO_REUSEPORT before steering anything', async () => {
    if (!REUSE_PORT) {
      const { code, stderr } = await (await start(['--workers', '2'])).exit;
      expect(code).not.toBe(0);
      expect(stderr).toContain('needs Node >= 22.12');
      return;
    }
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    // With the native addon the kernel steers by CID; MASQUE_NATIVE=0 leaves the 4-tuple hash.
    const steered = await rebindingClients({ MASQUE_NATIVE: undefined }, echo.port, true);
    expect(steered).toMatchObject({ steering: 'by connection ID', survivors: STEERED_CLIENTS });
    // Worker 1 killed and started again: the group's order changed twice; worker 2's clients
    // still reach it after another rebinding, worker 1's are reset by its successor.
    expect(steered.afterRespawn?.survivors).toEqual(steered.afterRespawn?.onWorker2);
    const unsteered = await rebindingClients({ MASQUE_NATIVE: '0' }, echo.port);
    expect(unsteered.steering).toBe('by address only');
    // Each rebinding moves a client to either worker: all 24 staying put has probability 2^-24.
    expect(unsteered.survivors).toBeLessThan(STEERED_CLIENTS);
  }, 120_000);
});

const STEERED_CLIENTS = 10;
const REBINDS = 4;

/**
 * `masque proxy --workers 2` with `env`; STEERED_CLIENTS clients, each behind a NAT of its own
 * (a relay on 127.0.0.(2+i) at the proxy's port, found through `lookup`), open a tunnel to the
 * echo server; then every NAT takes a new source port REBINDS times, a datagram echoed after each.
 * Returns the banner's steering line and how many clients echoed every time. With `respawn`,
 * worker 1 is then killed, and once its successor steers, every NAT rebinds once more: returns
 * which clients were on worker 2 and which echoed.
 */
async function rebindingClients(env: NodeJS.ProcessEnv, echoPort: number, respawn = false) {
  const p = await start(['--workers', '2'], env);
  await waitFor(() => /steering: +(.*)$/m.test(p.stdout()), {
    timeoutMs: 30_000,
    what: 'the banner',
  });
  const steering = /steering: +(by [A-Za-z ]+?) ?[(:]/m.exec(p.stdout())?.[1];
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(p.stdout())?.[1]);
  const template = String(/URI template: +(\S+)/.exec(p.stdout())?.[1]).replace(
    '127.0.0.1',
    'localhost',
  );
  const relays = await Promise.all(
    Array.from({ length: STEERED_CLIENTS }, (_, i) =>
      startRelay({ target: `127.0.0.1:${port}`, listen: { host: `127.0.0.${2 + i}`, port } }),
    ),
  );
  const clients = await Promise.all(
    relays.map((r) =>
      MasqueClient.connect(template, {
        ca: [p.cert.certPem],
        lookup: async () => [{ address: r.address.split(':')[0], family: 4 }],
      }),
    ),
  );
  const firstBack = relays.map((r) => r.backAddress());
  try {
    const sockets = await Promise.all(clients.map((c) => c.connectUdp('127.0.0.1', echoPort)));
    const alive = sockets.map(() => true);
    const echoes = (round: number) =>
      Promise.all(
        sockets.map(async (s, i) => {
          if (alive[i]) alive[i] = await echoOnce(s, `round ${round} client ${i}`);
        }),
      );
    await echoes(0);
    expect(alive.every(Boolean)).toBe(true);
    for (let round = 1; round <= REBINDS; round++) {
      await Promise.all(relays.map((r) => r.rebind()));
      await echoes(round);
    }
    const survivors = alive.filter(Boolean).length;
    if (!respawn) return { steering, survivors };
    // Which worker holds each client: its tunnel's access-log line, by the NAT's first port.
    const opened = p.logs.filter((l) => l.msg === 'tunnel open');
    const onWorker2 = firstBack
      .map((back, i) => (opened.find((l) => l.client === back)?.worker === 2 ? i : -1))
      .filter((i) => i >= 0);
    expect(firstBack.filter((b) => opened.some((l) => l.client === b))).toHaveLength(
      STEERED_CLIENTS,
    );
    const steers = (): number =>
      p.logs.filter((l) => l.worker === 1 && String(l.msg).startsWith('the kernel steers')).length;
    const pid = p.logs.find((l) => l.worker === 1)?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => steers() === 2, { timeoutMs: 30_000, what: 'worker 1 again, steered' });
    await Promise.all(relays.map((r) => r.rebind()));
    const echoed = await Promise.all(sockets.map((s, i) => echoOnce(s, `respawn ${i}`)));
    return {
      steering,
      survivors,
      afterRespawn: { onWorker2, survivors: echoed.flatMap((ok, i) => (ok ? [i] : [])) },
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(relays.map((r) => r.close()));
    p.child.kill('SIGTERM');
    await p.exit;
  }
}

/**
 * Sends `text` every 100 ms until it comes back (true), or the tunnel ends or 3 s pass (false):
 * a client reset by the worker that does not hold its connection ends at once.
 */
async function echoOnce(
  socket: Awaited<ReturnType<MasqueClient['connectUdp']>>,
  text: string,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      clearInterval(timer);
      clearTimeout(limit);
      socket.off('message', onMessage);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      resolve(ok);
    };
    const onMessage = (m: Buffer): void => {
      if (String(m) === text) done(true);
    };
    const onEnd = (): void => done(false);
    socket.on('message', onMessage);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
    const send = (): void => {
      socket.send(Buffer.from(text));
    };
    const timer = setInterval(send, 100);
    const limit = setTimeout(() => done(false), 3000);
    send();
  });
}

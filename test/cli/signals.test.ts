/**
 * `masque proxy` as an operator runs it, in its own process: SIGHUP reloads the configuration
 * and the certificate while a tunnel carries datagrams throughout (new settings apply to new
 * tunnels; a bad file is refused and the proxy keeps running); SIGTERM drains (new tunnels get
 * 503, the proxy stops once the last tunnel ends); a second signal stops at once.
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
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type LogLine = Record<string, unknown>;

interface ProxyProcess {
  child: ChildProcess;
  template: string;
  /** stderr's JSON log lines so far. */
  logs: LogLine[];
  exit: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `masque proxy --config FILE` in its own process; resolves once it listens. */
async function startProxyProcess(config: string, cache: string): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'proxy', '--config', config], {
    env: { ...process.env, MASQUE_CACHE_DIR: cache, MASQUE_LOG: 'info' },
    stdio: 'pipe',
  });
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: LogLine[] = [];
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    let nl = err.indexOf('\n');
    while (nl >= 0) {
      const line = err.slice(0, nl);
      err = err.slice(nl + 1);
      if (line.startsWith('{')) logs.push(JSON.parse(line));
      nl = err.indexOf('\n');
    }
  });
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const template = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URI template: +(\S+)/.exec(out);
      if (m !== null) resolve(m[1]);
    });
    void exit.then(({ code }) => reject(new Error(`proxy exited (${code}): ${out} ${err}`)));
  });
  return { child, template, logs, exit };
}

async function setUp(settings: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'masque-signals-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  const cert = generateDevCert();
  await writeFile(join(dir, 'cert.pem'), cert.certPem);
  await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  const config = join(dir, 'proxy.json');
  const base = {
    listen: '127.0.0.1:0',
    certificate: { cert: 'cert.pem', key: 'key.pem' },
    targets: { allow: ['127.0.0.0/8'] },
    ...settings,
  };
  await writeFile(config, JSON.stringify(base));
  const proxy = await startProxyProcess(config, join(dir, 'cache'));
  const client = await MasqueClient.connect(proxy.template, { ca: [cert.certPem] });
  cleanup.push(() => client.close());
  return { dir, echo, cert, config, base, proxy, client };
}

/**
 * Pings through `sock` one datagram at a time, each awaited, until stopped: every ping must come
 * back (loopback loses nothing; a dropped tunnel would).
 */
function pinger(sock: {
  send(b: Uint8Array): boolean;
  on(e: 'message', cb: (m: Uint8Array) => void): unknown;
}) {
  let answered = 0;
  let stopped = false;
  let waiting: ((m: string) => void) | undefined;
  sock.on('message', (m) => waiting?.(Buffer.from(m).toString()));
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const back = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`ping ${i} lost`)), 5000);
        waiting = (m) => {
          clearTimeout(timer);
          resolve(m);
        };
        sock.send(Buffer.from(`ping ${i}`));
      });
      expect(back).toBe(`ping ${i}`);
      answered++;
    }
  })();
  return {
    get answered() {
      return answered;
    },
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

describe('masque proxy signals', () => {
  it('SIGHUP reloads the configuration and certificate; a tunnel carries datagrams throughout; a bad file is refused', async () => {
    const { dir, echo, config, base, proxy, client } = await setUp({});
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    const pings = pinger(sock);
    await waitFor(() => pings.answered >= 5, { what: 'pings before the reload' });

    // A new rule for new tunnels, a new certificate, and a setting that takes a restart.
    const next = generateDevCert();
    await writeFile(join(dir, 'cert2.pem'), next.certPem);
    await writeFile(join(dir, 'key2.pem'), next.keyPem, { mode: 0o600 });
    await writeFile(
      config,
      JSON.stringify({
        ...base,
        certificate: { cert: 'cert2.pem', key: 'key2.pem' },
        targets: { allow: ['127.0.0.0/8'], deny: [`127.0.0.1/32:${echo.port}`] },
        limits: { tunnelIdleTimeoutMs: 300_000 },
      }),
    );
    proxy.child.kill('SIGHUP');
    await waitFor(() => proxy.logs.some((l) => l.msg === 'configuration reloaded'), {
      what: 'the reload line',
    });
    const line = proxy.logs.find((l) => l.msg === 'configuration reloaded') as LogLine;
    expect(line.reloaded).toEqual(expect.arrayContaining(['targets', 'certificate']));
    expect(line.restartNeeded).toEqual(['limits.tunnelIdleTimeoutMs']);
    const atReload = pings.answered;
    await waitFor(() => pings.answered >= atReload + 5, { what: 'pings after the reload' });
    // New tunnels follow the new rules; new handshakes present the new certificate.
    await expect(client.connectUdp('127.0.0.1', echo.port)).rejects.toMatchObject({
      status: 502,
    });
    const fresh = await MasqueClient.connect(proxy.template, { ca: [next.certPem] });
    cleanup.push(() => fresh.close());

    // A file that does not parse: refused, logged, nothing changes, the tunnel goes on.
    await writeFile(config, '{ "listen": ');
    proxy.child.kill('SIGHUP');
    await waitFor(
      () =>
        proxy.logs.some(
          (l) => l.msg === 'configuration not reloaded: the running configuration stays',
        ),
      {
        what: 'the refusal line',
      },
    );
    const refused = proxy.logs.find((l) =>
      String(l.msg).startsWith('configuration not reloaded'),
    ) as LogLine;
    expect((refused.problems as string[])[0]).toContain('not valid JSON');
    const atRefusal = pings.answered;
    await waitFor(() => pings.answered >= atRefusal + 5, { what: 'pings after the refusal' });
    await pings.stop();
    expect(proxy.child.exitCode).toBe(null);
    expect(proxy.logs.filter((l) => l.event === 'close')).toEqual([]);
  });

  it('SIGTERM drains: new tunnels get 503, the proxy exits 0 once the last tunnel ends', async () => {
    const { echo, proxy, client } = await setUp({ shutdownGraceMs: 60_000 });
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    const pings = pinger(sock);
    await waitFor(() => pings.answered >= 2, { what: 'pings' });
    proxy.child.kill('SIGTERM');
    await waitFor(() => proxy.logs.some((l) => l.msg === 'draining'), { what: 'draining' });
    await expect(client.connectUdp('127.0.0.1', echo.port)).rejects.toMatchObject({
      status: 503,
    });
    // The running tunnel still works while draining.
    const atDrain = pings.answered;
    await waitFor(() => pings.answered >= atDrain + 3, { what: 'pings while draining' });
    await pings.stop();
    sock.close();
    expect(await proxy.exit).toEqual({ code: 0, signal: null });
  });

  it('a second SIGTERM stops at once, whatever the grace', async () => {
    const { echo, proxy, client } = await setUp({ shutdownGraceMs: 600_000 });
    await client.connectUdp('127.0.0.1', echo.port);
    proxy.child.kill('SIGTERM');
    await waitFor(() => proxy.logs.some((l) => l.msg === 'draining'), { what: 'draining' });
    proxy.child.kill('SIGTERM');
    expect(await proxy.exit).toEqual({ code: 130, signal: null });
  });
});

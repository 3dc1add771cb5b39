/**
 * `masque udp-bind`, run in-process against a running proxy: the public address on stdout (a line,
 * or JSON), each remote peer presented to the local application as a local port of its own,
 * replies through that port going back to the peer from the public address, --max-peers evicting
 * the least recently used, and --firewall letting only the named peers through.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { type CliResult, runCli } from '../../src/cli/program.js';
import { startTestProxy, testCert } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let caFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-udp-bind-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, testCert.certPem);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Udp {
  socket: Socket;
  port: number;
  got: Array<{ data: string; port: number }>;
}

async function udp(): Promise<Udp> {
  const socket = createSocket('udp4');
  const got: Udp['got'] = [];
  socket.on('message', (m, r) => got.push({ data: m.toString(), port: r.port }));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, got };
}

function io(): CliIO & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => {
      o.out += t;
    },
    stderr: (t: string) => {
      o.err += t;
    },
    env: {},
  };
  return o;
}

async function start(extra: string[]) {
  const { proxy } = await startTestProxy({ bind: { compressAfter: 0 } });
  cleanup.push(() => proxy.close({ timeout: 500 }));
  const app = await udp();
  const x = io();
  const result: CliResult = await runCli(
    [
      'udp-bind',
      '--proxy',
      proxy.template,
      '--ca',
      caFile,
      '--local',
      `127.0.0.1:${app.port}`,
      ...extra,
    ],
    x,
  );
  if (!('running' in result)) throw new Error(`udp-bind exited: ${x.err}`);
  cleanup.push(() => result.running.close());
  return { proxy, app, io: x, running: result.running };
}

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

describe('masque udp-bind', () => {
  it('prints the public address; each peer is a local port of its own; replies go back', async () => {
    const { app, io: x, running } = await start(['--json']);
    const first = JSON.parse(x.out.split('\n')[0]);
    expect(first.local).toBe(`127.0.0.1:${app.port}`);
    const pub: string = first.public.find((a: string) => a.startsWith('127.0.0.1:'));
    expect(pub).toMatch(/^127\.0\.0\.1:\d+$/);
    const a = await udp();
    const b = await udp();
    a.socket.send('from a', portOf(pub), '127.0.0.1');
    b.socket.send('from b', portOf(pub), '127.0.0.1');
    await waitFor(() => app.got.length === 2);
    const repA = app.got.find((g) => g.data === 'from a')?.port;
    const repB = app.got.find((g) => g.data === 'from b')?.port;
    expect(repA).toBeDefined();
    expect(repB).toBeDefined();
    expect(repA).not.toBe(repB);
    // Each new peer gets a JSON line with its local address.
    await waitFor(() => x.out.trim().split('\n').length === 3);
    const lines = x.out
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual({ peer: `127.0.0.1:${a.port}`, local: `127.0.0.1:${repA}` });
    // The app answers each peer through its representative.
    app.socket.send('to a', repA ?? 0, '127.0.0.1');
    app.socket.send('to b', repB ?? 0, '127.0.0.1');
    await waitFor(() => a.got.length === 1 && b.got.length === 1);
    expect(a.got[0]).toEqual({ data: 'to a', port: portOf(pub) });
    expect(b.got[0]).toEqual({ data: 'to b', port: portOf(pub) });
    expect(running.status()).toMatchObject({ fromPeers: 2, toPeers: 2, peersOpen: 2 });
    // A stranger writing to a representative is not relayed.
    const stranger = await udp();
    stranger.socket.send('x', repA ?? 0, '127.0.0.1');
    await waitFor(() => running.status().foreignDropped === 1);
    expect(a.got).toHaveLength(1);
  });

  it('the human form: one line with the public addresses', async () => {
    const { io: x } = await start([]);
    expect(x.out).toMatch(
      /^udp-bind: 127\.0\.0\.1:\d+( \[::1\]:\d+)? -> 127\.0\.0\.1:\d+ through https:/,
    );
    expect(x.out.trim().split('\n')).toHaveLength(1);
  });

  it('--max-peers closes the least recently used peer for a newcomer', async () => {
    const { app, io: x, running } = await start(['--json', '--max-peers', '1']);
    const pub = portOf(JSON.parse(x.out.split('\n')[0]).public[0]);
    const a = await udp();
    const b = await udp();
    a.socket.send('a', pub, '127.0.0.1');
    await waitFor(() => app.got.length === 1);
    b.socket.send('b', pub, '127.0.0.1');
    await waitFor(() => app.got.length === 2);
    expect(running.status()).toMatchObject({ peersOpen: 1, peersEvicted: 1, peersOpened: 2 });
    // a comes back: a new representative (a new local port).
    a.socket.send('a again', pub, '127.0.0.1');
    await waitFor(() => app.got.length === 3);
    expect(app.got[2].port).not.toBe(app.got[0].port);
  });

  it('--firewall with --peer: the named peer has a local port from the start, strangers get nothing', async () => {
    const a = await udp();
    const b = await udp();
    const {
      app,
      io: x,
      proxy,
    } = await start(['--json', '--firewall', '--peer', `127.0.0.1:${a.port}`]);
    const first = JSON.parse(x.out.split('\n')[0]);
    expect(first.peers).toHaveLength(1);
    expect(first.peers[0].peer).toBe(`127.0.0.1:${a.port}`);
    const rep = portOf(first.peers[0].local);
    const pub = portOf(first.public[0]);
    // The app speaks first, to the named peer.
    app.socket.send('hello a', rep, '127.0.0.1');
    await waitFor(() => a.got.length === 1);
    expect(a.got[0]).toEqual({ data: 'hello a', port: pub });
    b.socket.send('from b', pub, '127.0.0.1');
    await waitFor(() => (proxy.handler.stats().drops.no_context ?? 0) === 1);
    a.socket.send('from a', pub, '127.0.0.1');
    await waitFor(() => app.got.length === 1);
    expect(app.got).toEqual([{ data: 'from a', port: rep }]);
  });

  it('exits 1 with a message when the proxy does not offer bind', async () => {
    const { proxy } = await startTestProxy({ bind: { enabled: false } });
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const x = io();
    const result = await runCli(
      ['udp-bind', '--proxy', proxy.template, '--ca', caFile, '--local', '127.0.0.1:9'],
      x,
    );
    expect(result).toEqual({ exitCode: 1 });
    expect(x.err).toMatch(/does not offer bind/);
  });

  it('as its own process: relays both ways and exits 0 on SIGTERM', async () => {
    const { proxy } = await startTestProxy();
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const app = await udp();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'udp-bind',
        '--proxy',
        proxy.template,
        '--ca',
        caFile,
        '--local',
        `127.0.0.1:${app.port}`,
        '--json',
      ],
      { env: { ...process.env, MASQUE_LOG: 'silent' }, stdio: 'pipe' },
    );
    cleanup.push(async () => child.kill('SIGKILL'));
    const first = await new Promise<{ public: string[] }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
      });
      child.once('exit', (code) => reject(new Error(`udp-bind exited (${code}): ${out}`)));
    });
    const pub = portOf(first.public[0]);
    const peer = await udp();
    peer.socket.send('ping', pub, '127.0.0.1');
    await waitFor(() => app.got.length === 1);
    app.socket.send('pong', app.got[0].port, '127.0.0.1');
    await waitFor(() => peer.got.length === 1);
    expect(peer.got[0]).toEqual({ data: 'pong', port: pub });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

/**
 * `masque udp-forward --transport h1` and `masque udp-bind --transport h1`, run in-process
 * against a running proxy: the local port's datagrams cross the proxy over HTTP/1.1 Upgrade
 * tunnels (RFC 9298 §3.3), as `--transport h2` does over HTTP/2.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { type CliResult, runCli } from '../../src/cli/program.js';
import { echoServer, startTestProxy, testCert } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

let caFile: string;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-cli-h1-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, testCert.certPem);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

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

async function udp(): Promise<Socket & { got: Array<{ data: string; port: number }> }> {
  const s = Object.assign(createSocket('udp4'), {
    got: [] as Array<{ data: string; port: number }>,
  });
  s.on('message', (m, r) => s.got.push({ data: m.toString(), port: r.port }));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

async function run(args: string[]) {
  const x = io();
  const result: CliResult = await runCli(args, x);
  if (!('running' in result)) throw new Error(`${args[0]} exited: ${x.err}`);
  cleanup.push(() => result.running.close());
  return x;
}

const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

describe('the CLI over HTTP/1.1', () => {
  it('udp-forward --transport h1 carries a local port through the proxy', async () => {
    const { proxy } = await startTestProxy();
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(async () => echo.close());
    const x = await run([
      'udp-forward',
      '--proxy',
      proxy.template,
      '--ca',
      caFile,
      '--listen',
      '127.0.0.1:0',
      '--target',
      `127.0.0.1:${echo.port}`,
      '--transport',
      'h1',
    ]);
    const local = /udp-forward: (\S+) ->/.exec(x.out)?.[1] as string;
    const app = await udp();
    await waitFor(() => {
      app.send('over h1', portOf(local), '127.0.0.1');
      return app.got.length > 0;
    });
    expect(app.got[0]?.data).toBe('over h1');
    expect(proxy.handler.stats().tunnelsActive).toBe(1);
    expect(await proxy.metrics.metricsText()).toContain(
      'masque_tunnels_by_transport_total{transport="h1"} 1',
    );
  });

  it('udp-bind --transport h1: a peer reaches the local app through the bound port', async () => {
    const { proxy } = await startTestProxy({ bind: { compressAfter: 0 } });
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const app = await udp();
    app.on('message', (m, r) => app.send(`re ${m}`, r.port, r.address));
    const x = await run([
      'udp-bind',
      '--proxy',
      proxy.template,
      '--ca',
      caFile,
      '--local',
      `127.0.0.1:${app.address().port}`,
      '--transport',
      'h1',
      '--json',
    ]);
    const pub = portOf(JSON.parse(x.out.split('\n')[0] as string).public[0]);
    const peer = await udp();
    await waitFor(() => {
      peer.send('hello', pub, '127.0.0.1');
      return peer.got.length > 0;
    });
    expect(peer.got[0]?.data).toBe('re hello');
    expect(await proxy.metrics.metricsText()).toContain(
      'masque_tunnels_by_transport_total{transport="h1"} 1',
    );
  });

  it('--transport names h1 among the choices', async () => {
    const x = io();
    const result = await runCli(
      ['udp-forward', '--proxy', 'https://x', '--target', '1.2.3.4:5', '--transport', 'h9'],
      x,
    );
    expect('running' in result).toBe(false);
    expect(x.err).toContain('expected h3, h2, h1 or auto');
  });
});

/**
 * The `masque` command line, run in-process: the default command starts the proxy and prints how
 * to reach it; `udp-forward` carries a local UDP port through it; configuration problems exit 1
 * with one line per problem.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { type CliResult, runCli } from '../../src/cli/program.js';
import { parseHostPort, proxyTemplate } from '../../src/cli/udp-forward.js';
import { echoServer } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const running: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of running.splice(0).reverse()) await c();
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
    env: { MASQUE_CACHE_DIR: join(dir, 'cache') },
    logger: pino({ level: 'silent' }),
  };
  return o;
}

async function run(argv: string[], x = io()): Promise<{ result: CliResult; io: typeof x }> {
  const result = await runCli(argv, x);
  if ('running' in result) running.push(() => result.running.close());
  return { result, io: x };
}

function bindClient(): Promise<Socket> {
  const s = createSocket('udp4');
  running.push(() => new Promise<void>((r) => s.close(() => r())));
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

function ask(s: Socket, to: string, text: string): Promise<string> {
  const { host, port } = parseHostPort(to);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), 5000);
    s.once('message', (m) => {
      clearTimeout(timer);
      resolve(m.toString());
    });
    s.send(text, port, host);
  });
}

describe('masque proxy (the default command)', () => {
  it('starts without a subcommand, prints the template, the SPKI pin and an example', async () => {
    const { result, io: x } = await run([
      '--listen',
      '127.0.0.1:0',
      '--allow-target',
      '127.0.0.0/8',
    ]);
    expect('running' in result).toBe(true);
    expect(x.out).toMatch(/masque proxy listening on 127\.0\.0\.1:\d+/);
    expect(x.out).toMatch(
      /URI template: +https:\/\/127\.0\.0\.1:\d+\/\.well-known\/masque\/udp\/\{target_host\}\/\{target_port\}\//,
    );
    expect(x.out).toMatch(/SPKI sha256: +[A-Za-z0-9+/]{43}=/);
    expect(x.out).toContain('npx masque udp-forward --proxy');
    expect(x.out).toContain(`--ca ${join(dir, 'cache', 'dev-cert.pem')}`);
    expect(await readFile(join(dir, 'cache', 'dev-cert.pem'), 'utf8')).toContain(
      'BEGIN CERTIFICATE',
    );
  });

  it('reuses the cached development certificate on the next start', async () => {
    const a = await run(['proxy', '--listen', '127.0.0.1:0']);
    const pin = /SPKI sha256: +(\S+)/.exec(a.io.out)?.[1];
    const b = await run(['proxy', '--listen', '127.0.0.1:0']);
    expect(/SPKI sha256: +(\S+)/.exec(b.io.out)?.[1]).toBe(pin);
    expect(b.io.out).toContain('Private and loopback targets are refused by default');
  });

  it('reports every configuration problem and exits 1', async () => {
    const { result, io: x } = await run([
      '--listen',
      'nowhere',
      '--allow-target',
      '300.1.2.3/8',
      '--log-level',
      'loud',
    ]);
    expect(result).toEqual({ exitCode: 1 });
    expect(x.err).toContain('listen: "nowhere" is not host:port');
    expect(x.err).toContain('targets.allow[0]:');
    expect(x.err).toContain('logLevel: must be one of');
  });

  it('validates a configuration file; flags add to it', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ listen: '127.0.0.1:0', colour: 'blue' }));
    const r1 = await run(['proxy', '--config', bad]);
    expect(r1.result).toEqual({ exitCode: 1 });
    expect(r1.io.err).toContain('unknown field "colour"');
    const good = join(dir, 'good.json');
    await writeFile(
      good,
      JSON.stringify({ listen: '127.0.0.1:0', targets: { deny: ['127.0.0.9/32'] } }),
    );
    const r2 = await run(['proxy', '--config', good, '--allow-target', '127.0.0.0/8']);
    expect('running' in r2.result).toBe(true);
    const r3 = await run(['proxy', '--config', join(dir, 'missing.json')]);
    expect(r3.result).toEqual({ exitCode: 1 });
    expect(r3.io.err).toContain('cannot read the file');
  });

  it('--help exits 0', async () => {
    const { result, io: x } = await run(['--help']);
    expect(result).toEqual({ exitCode: 0 });
    expect(x.out).toContain('udp-forward');
  });
});

describe('masque udp-forward', () => {
  it('carries a local UDP port through the proxy, one tunnel per local peer, idle-closed', async () => {
    const echo = await echoServer();
    running.push(() => echo.close());
    const p = await run(['--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8']);
    const template = /URI template: +(\S+)/.exec(p.io.out)?.[1] as string;
    const f = await run([
      'udp-forward',
      '--proxy',
      template,
      '--listen',
      '127.0.0.1:0',
      '--target',
      `127.0.0.1:${echo.port}`,
      '--ca',
      join(dir, 'cache', 'dev-cert.pem'),
      '--idle',
      '300',
    ]);
    expect('running' in f.result).toBe(true);
    const local = /udp-forward: (\S+) ->/.exec(f.io.out)?.[1] as string;
    const a = await bindClient();
    const b = await bindClient();
    expect(await ask(a, local, 'from a')).toBe('from a');
    expect(await ask(b, local, 'from b')).toBe('from b');
    expect(await ask(a, local, 'again a')).toBe('again a');
    expect(echo.received).toBe(3);
    if (!('running' in f.result && 'running' in p.result)) throw new Error('not running');
    const fwd = f.result.running;
    const proxy = p.result.running;
    expect(fwd.status().tunnels).toBe(2);
    expect(proxy.status().sockets).toBe(2);
    // --idle 300: both tunnels idle out; wait for that rather than for a fixed time.
    await waitFor(
      () =>
        fwd.status().tunnels === 0 && proxy.status().tunnels === 0 && proxy.status().sockets === 0,
      { what: 'idle tunnels closed' },
    );
    expect(fwd.status().tunnels).toBe(0);
    expect(proxy.status()).toMatchObject({ tunnels: 0, sockets: 0 });
    // Idle tunnels are gone; a new datagram opens a new one.
    expect(await ask(a, local, 'after idle')).toBe('after idle');
    expect(f.io.err).toBe('');
  });

  it('--max-udp-payload 1452 (the PMTU ceiling) on both ends carries a 1300-byte datagram; --qlog-dir writes qlog; bad values exit 1', async () => {
    const echo = await echoServer();
    running.push(() => echo.close());
    const qlogDir = join(dir, 'qlog');
    const p = await run([
      '--listen',
      '127.0.0.1:0',
      '--allow-target',
      '127.0.0.0/8',
      '--max-udp-payload',
      '1452',
      '--qlog-dir',
      qlogDir,
    ]);
    const template = /URI template: +(\S+)/.exec(p.io.out)?.[1] as string;
    const f = await run([
      'udp-forward',
      '--proxy',
      template,
      '--listen',
      '127.0.0.1:0',
      '--target',
      `127.0.0.1:${echo.port}`,
      '--ca',
      join(dir, 'cache', 'dev-cert.pem'),
      '--max-udp-payload',
      '1452',
    ]);
    const local = /udp-forward: (\S+) ->/.exec(f.io.out)?.[1] as string;
    const a = await bindClient();
    const big = 'x'.repeat(1300);
    expect(await ask(a, local, big)).toBe(big);
    expect(readdirSync(qlogDir).some((f) => f.endsWith('.sqlog'))).toBe(true);
    const bad = await run(['--listen', '127.0.0.1:0', '--max-udp-payload', '70000']);
    expect(bad.result).toEqual({ exitCode: 1 });
    expect(bad.io.err).toContain('must be an integer from 1200 to 65527');
  });

  it('--no-ack-frequency: the proxy never asks its clients for fewer ACKs (its qlog shows none sent)', async () => {
    const echo = await echoServer();
    running.push(() => echo.close());
    /** Frame types the proxy sent, once every connection's qlog was closed. */
    const sentFrames = async (flags: string[]): Promise<string> => {
      const qlogDir = await mkdtemp(join(dir, 'qlog-'));
      const p = await run([
        '--listen',
        '127.0.0.1:0',
        '--allow-target',
        '127.0.0.0/8',
        '--qlog-dir',
        qlogDir,
        ...flags,
      ]);
      const template = /URI template: +(\S+)/.exec(p.io.out)?.[1] as string;
      const f = await run([
        'udp-forward',
        '--proxy',
        template,
        '--listen',
        '127.0.0.1:0',
        '--target',
        `127.0.0.1:${echo.port}`,
        '--ca',
        join(dir, 'cache', 'dev-cert.pem'),
      ]);
      const local = /udp-forward: (\S+) ->/.exec(f.io.out)?.[1] as string;
      const a = await bindClient();
      for (let i = 0; i < 20; i++) expect(await ask(a, local, `n${i}`)).toBe(`n${i}`);
      if (!('running' in f.result) || !('running' in p.result)) throw new Error('not running');
      await f.result.running.close();
      await p.result.running.close();
      const text = async (): Promise<string> => {
        let all = '';
        for (const file of readdirSync(qlogDir)) all += await readFile(join(qlogDir, file), 'utf8');
        return all;
      };
      let content = '';
      await waitFor(
        async () => {
          content = await text();
          return content.includes('connection_closed');
        },
        { what: 'the qlog of the closed connection' },
      );
      return content;
    };
    const sentAckFrequency = (qlog: string): boolean =>
      qlog
        .split('\u001e')
        .some((r) => r.includes('transport:packet_sent') && r.includes('"ack_frequency"'));
    expect(sentAckFrequency(await sentFrames([]))).toBe(true);
    expect(sentAckFrequency(await sentFrames(['--no-ack-frequency']))).toBe(false);
  });

  it('udp-forward --datagrams capsule carries datagrams as capsules; a bad mode exits 1', async () => {
    const echo = await echoServer();
    running.push(() => echo.close());
    const p = await run(['--listen', '127.0.0.1:0', '--allow-target', '127.0.0.0/8']);
    const template = /URI template: +(\S+)/.exec(p.io.out)?.[1] as string;
    const args = [
      'udp-forward',
      '--proxy',
      template,
      '--listen',
      '127.0.0.1:0',
      '--target',
      `127.0.0.1:${echo.port}`,
      '--ca',
      join(dir, 'cache', 'dev-cert.pem'),
    ];
    const f = await run([...args, '--datagrams', 'capsule']);
    const local = /udp-forward: (\S+) ->/.exec(f.io.out)?.[1] as string;
    const a = await bindClient();
    expect(await ask(a, local, 'as a capsule')).toBe('as a capsule');
    // The counters are printed on exit (and every --stats-interval ms).
    if (!('running' in f.result)) throw new Error('not running');
    await f.result.running.close();
    expect(f.io.err).toMatch(
      /udp-forward: in 1 datagrams\/12 bytes; out 1\/12; tunnels 0 open, 1 opened/,
    );
    expect(f.io.err).toContain('drops 0');
    const bad = await run([...args, '--datagrams', 'quic']);
    expect(bad.result).toEqual({ exitCode: 1 });
    expect(bad.io.err).toContain('expected auto or capsule');
  });

  it('a refused target is reported on stderr', async () => {
    const p = await run(['--listen', '127.0.0.1:0']);
    const template = /URI template: +(\S+)/.exec(p.io.out)?.[1] as string;
    const f = await run([
      'udp-forward',
      '--proxy',
      template,
      '--listen',
      '127.0.0.1:0',
      '--target',
      '127.0.0.1:9',
      '--insecure',
    ]);
    const local = /udp-forward: (\S+) ->/.exec(f.io.out)?.[1] as string;
    const a = await bindClient();
    const { host, port } = parseHostPort(local);
    a.send('x', port, host);
    await waitFor(() => f.io.err.includes('MASQUE_PROXY_REFUSED'), {
      what: 'the refusal on stderr',
    });
    expect(f.io.err).toContain('MASQUE_PROXY_REFUSED');
    expect(f.io.err).toContain('502');
  });

  it('an unreachable proxy fails at start with exit code 1', async () => {
    const { result, io: x } = await run([
      'udp-forward',
      '--proxy',
      'https://127.0.0.1:9',
      '--target',
      '127.0.0.1:53',
      '--listen',
      '127.0.0.1:0',
      '--insecure',
      '--timeout',
      '500',
    ]);
    expect(result).toEqual({ exitCode: 1 });
    expect(x.err).toMatch(/masque: .*500 ms/);
  });

  it('parses its arguments', () => {
    expect(parseHostPort('[::1]:53')).toEqual({ host: '::1', port: 53 });
    expect(parseHostPort('dns.example:853')).toEqual({ host: 'dns.example', port: 853 });
    expect(() => parseHostPort('::1:53')).toThrow(RangeError);
    expect(() => parseHostPort('h:0')).toThrow(RangeError);
    expect(proxyTemplate('https://proxy.example:4433')).toBe(
      'https://proxy.example:4433/.well-known/masque/udp/{target_host}/{target_port}/',
    );
  });
});

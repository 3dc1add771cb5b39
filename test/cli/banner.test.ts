/**
 * The proxy's banner is something to paste: its `npx masque udp-forward` command, run by a shell
 * exactly as printed (with the credential the banner asks for in the environment), reaches the
 * proxy, trusts its certificate and authenticates; `npm start`'s script prints the version.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { waitFor } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function io(cache: string): CliIO & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => {
      o.out += t;
    },
    stderr: (t: string) => {
      o.err += t;
    },
    env: { MASQUE_CACHE_DIR: cache },
    logger: pino({ level: 'silent' }),
  };
  return o;
}

/** The banner's command lines: the optional `export`, then the command and its continuation. */
function bannerCommand(out: string): string {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.trimStart().startsWith('npx masque udp-forward'));
  expect(at).toBeGreaterThan(0);
  return [
    lines[at - 1].trimStart().startsWith('export ') ? lines[at - 1] : '',
    lines[at],
    lines[at + 1],
  ]
    .join('\n')
    .trim();
}

describe('the banner', () => {
  it('npm start prints the version with --version (building dist/ first when it is stale)', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'scripts', 'start.mjs'), '--version'],
      { cwd: ROOT },
    );
    expect(stdout.trim()).toBe(pkg.version);
  }, 120_000);

  it('its udp-forward command, pasted into a shell with MASQUE_BEARER set, authenticates to the proxy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'masque-banner-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const config = join(dir, 'proxy.json');
    await writeFile(
      config,
      JSON.stringify({ listen: '127.0.0.1:0', auth: { mode: 'bearer', tokens: ['s3cret-token'] } }),
    );
    const x = io(join(dir, 'cache'));
    const r = await runCli(['proxy', '--config', config], x);
    if (!('running' in r)) throw new Error(`proxy did not start: ${x.err}`);
    cleanup.push(() => r.running.close());
    expect(x.out).not.toContain('s3cret-token');
    expect(x.out).not.toContain('5353');
    const command = bannerCommand(x.out);
    expect(command).toContain(`export MASQUE_BEARER='<one of auth.tokens>'`);
    // What the operator does: put a real token in place of the placeholder, paste the rest.
    const pasted = command.replace('<one of auth.tokens>', 's3cret-token');
    // Build dist/ if a source is newer (npx runs the built bin).
    await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--version']);
    // Its own process group, so that stopping it stops npx's child (udp-forward) too: killing
    // bash alone would leave udp-forward holding port 8053.
    const child: ChildProcess = spawn('bash', ['-c', `exec 2>&1\n${pasted}`], {
      cwd: ROOT,
      env: { ...process.env, MASQUE_BEARER: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    cleanup.push(
      () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          process.kill(-(child.pid as number), 'SIGTERM');
        }),
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const started = 'udp-forward: 127.0.0.1:8053 -> 9.9.9.9:53';
    await waitFor(
      () => {
        if (out.includes(started)) return true;
        if (child.exitCode !== null) throw new Error(`the pasted command exited: ${out}`);
        return false;
      },
      { what: 'udp-forward started', timeoutMs: 60_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it printed: ${out}`);
    });
    // A datagram opens a tunnel: authenticated, it gets past admission (opened, or refused for
    // the target's reachability on a machine without a route to 9.9.9.9), never 407.
    const peer = createSocket('udp4');
    cleanup.push(() => new Promise<void>((done) => peer.close(() => done())));
    peer.send('hello', 8053, '127.0.0.1');
    await waitFor(() => r.running.status().tunnelsOpened + r.running.status().refused > 0, {
      what: 'the tunnel request at the proxy',
    });
    expect(r.running.status().authRefused).toBe(0);
    expect(out).not.toContain('407');
  }, 120_000);
});

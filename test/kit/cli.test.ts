/**
 * `masque interop server` and `masque interop client` through the CLI entry point (in-process):
 * the server's card gives the client command, which, run as printed, passes every case and exits
 * 0; `--json` and `--markdown` print the matrix; an unknown case name is a usage error.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { type CliResult, runCli } from '../../src/cli/program.js';

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r();
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
    logger: pino({ level: 'silent' }),
  };
  return o;
}

async function run(argv: string[]): Promise<{ result: CliResult; out: string; err: string }> {
  const x = io();
  const result = await runCli(argv, x);
  if ('running' in result) running.push(() => result.running.close());
  return { result, out: x.out, err: x.err };
}

/** The client command the card prints, as argv (single-quoted template unquoted). */
function clientArgv(card: string): string[] {
  const line = card.split('\n').find((l) => l.trim().startsWith('masque interop client')) as string;
  return (line.trim().match(/'[^']*'|\S+/g) as string[])
    .slice(1)
    .map((a) => a.replace(/^'|'$/g, ''));
}

describe('masque interop', () => {
  it('the card of `interop server` gives a client command that passes every case', async () => {
    const server = await run(['interop', 'server', '--listen', '127.0.0.1:0']);
    expect('running' in server.result).toBe(true);
    expect(server.out).toContain('masque interop client');
    const argv = clientArgv(server.out);
    const client = await run([
      ...argv,
      '--cases',
      'udp-small,bind-compressed,quic-forwarded-scramble',
    ]);
    expect(client.result, client.err + client.out).toEqual({ exitCode: 0 });
    expect(client.out).toMatch(/3 passed, 0 failed, 0 unsupported/);
    const json = await run([...argv, '--cases', 'udp-small', '--json']);
    expect(JSON.parse(json.out.trim())).toMatchObject({ name: 'udp-small', status: 'pass' });
    const md = await run([...argv, '--cases', 'udp-1200', '--markdown']);
    expect(md.out).toContain('| udp-1200 | ✅ pass |');
  }, 60_000);

  it('a failing case exits 1; an unknown case name is refused', async () => {
    const server = await run(['interop', 'server', '--listen', '127.0.0.1:0']);
    const argv = clientArgv(server.out);
    // An echo target that does not exist: the echo case fails.
    const i = argv.indexOf('--echo');
    argv[i + 1] = '127.0.0.1:9';
    const failing = await run([...argv, '--cases', 'udp-small', '--timeout', '500']);
    expect(failing.result).toEqual({ exitCode: 1 });
    expect(failing.out).toMatch(/0 passed, 1 failed/);
    const unknown = await run([...argv, '--cases', 'nope']);
    expect(unknown.result).toEqual({ exitCode: 1 });
    expect(unknown.err).toContain('unknown case "nope"');
  }, 60_000);

  it('--list names every case', async () => {
    const { result, out } = await run(['interop', 'client', '--list']);
    expect(result).toEqual({ exitCode: 0 });
    expect(out).toContain('bind-firewall');
    expect(out).toContain('quic-profile-07');
  });
});

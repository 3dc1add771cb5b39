/**
 * Input that is wrong says so, naming what to fix: numbers that are not numbers, a misspelt
 * command, a certificate file that is not there, a log level that does not exist, a proxy that
 * does not answer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { type CliResult, runCli } from '../../src/cli/program.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-bad-input-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
const running: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of running.splice(0).reverse()) await c();
});

async function run(argv: string[], logger = true): Promise<{ result: CliResult; err: string }> {
  let err = '';
  const io: CliIO = {
    stdout: () => {},
    stderr: (t) => {
      err += t;
    },
    env: { MASQUE_CACHE_DIR: join(dir, 'cache') },
    ...(logger ? { logger: pino({ level: 'silent' }) } : {}),
  };
  const result = await runCli(argv, io);
  if ('running' in result) running.push(() => result.running.close());
  return { result, err };
}

const FORWARD = ['udp-forward', '--proxy', 'https://127.0.0.1:9', '--target', '127.0.0.1:53'];

describe('wrong input', () => {
  it('udp-forward --idle abc names the option and what it takes', async () => {
    const { result, err } = await run([...FORWARD, '--idle', 'abc']);
    expect(result).toEqual({ exitCode: 1 });
    expect(err).toContain("option '--idle <ms>' argument 'abc' is invalid. must be a whole number");
  });

  it('udp-forward --timeout abc (and 0, and 1.5) names the option', async () => {
    for (const bad of ['abc', '0', '1.5', '-3']) {
      const { result, err } = await run([...FORWARD, '--timeout', bad]);
      expect(result).toEqual({ exitCode: 1 });
      expect(err).toContain(`option '--timeout <ms>' argument '${bad}' is invalid`);
      expect(err).not.toContain('NaN');
    }
  });

  it('udp-bind --compress-after x names the option', async () => {
    const { result, err } = await run([
      'udp-bind',
      '--proxy',
      'https://127.0.0.1:9',
      '--local',
      '127.0.0.1:9000',
      '--compress-after',
      'x',
    ]);
    expect(result).toEqual({ exitCode: 1 });
    expect(err).toContain("option '--compress-after <n>' argument 'x' is invalid");
  });

  it('a misspelt command is named, with the closest command', async () => {
    const { result, err } = await run(['udp-foward', '--proxy', 'https://127.0.0.1:9']);
    expect(result).toEqual({ exitCode: 1 });
    expect(err).toBe(
      "masque: unknown command 'udp-foward' (did you mean udp-forward?); the commands are proxy, udp-forward, udp-bind, interop (masque --help)\n",
    );
    expect((await run(['serve'])).err).toContain("unknown command 'serve';");
  });

  it('a missing certificate file names the configuration field and the path', async () => {
    const config = join(dir, 'certs.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        certificate: { cert: 'missing-cert.pem', key: 'missing-key.pem' },
      }),
    );
    const { result, err } = await run(['proxy', '--config', config]);
    expect(result).toEqual({ exitCode: 1 });
    expect(err).toContain(`certificate.cert: cannot read ${join(dir, 'missing-cert.pem')}: ENOENT`);
    expect(err).toContain(`certificate.key: cannot read ${join(dir, 'missing-key.pem')}`);
  });

  it('a key that does not match its certificate names both files', async () => {
    const { generateDevCert } = await import('../../src/tls/certs/index.js');
    await writeFile(join(dir, 'a-cert.pem'), generateDevCert().certPem);
    await writeFile(join(dir, 'b-key.pem'), generateDevCert().keyPem);
    const config = join(dir, 'mismatch.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        certificate: { cert: 'a-cert.pem', key: 'b-key.pem' },
      }),
    );
    const { result, err } = await run(['proxy', '--config', config]);
    expect(result).toEqual({ exitCode: 1 });
    expect(err).toContain(
      `certificate (${join(dir, 'a-cert.pem')}, ${join(dir, 'b-key.pem')}): private key does not match the certificate`,
    );
  });

  it('MASQUE_LOG=bogus says which variable and the levels there are', async () => {
    const saved = process.env.MASQUE_LOG;
    process.env.MASQUE_LOG = 'bogus';
    try {
      const { result, err } = await run(['proxy', '--listen', '127.0.0.1:0'], false);
      expect(result).toEqual({ exitCode: 1 });
      expect(err).toBe(
        'masque: invalid configuration:\nMASQUE_LOG: "bogus" is not a log level; use one of fatal, error, warn, info, debug, trace, silent\n',
      );
    } finally {
      if (saved === undefined) delete process.env.MASQUE_LOG;
      else process.env.MASQUE_LOG = saved;
    }
  });

  it('an unreachable proxy is named with its address', async () => {
    const { result, err } = await run([
      ...FORWARD,
      '--listen',
      '127.0.0.1:0',
      '--insecure',
      '--timeout',
      '300',
    ]);
    expect(result).toEqual({ exitCode: 1 });
    expect(err).toContain('no HTTP/3 session with 127.0.0.1:9 within 300 ms');
  });
});

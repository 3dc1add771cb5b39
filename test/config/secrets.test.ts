/**
 * Secrets given as literals, `{ "file" }` or `{ "env" }` (src/config/secrets.ts): each form, each
 * mistake's message with its field, every mistake at once, the warning for a secret file others
 * may read, and a reload that picks up a rotated secret file.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyCommand, runProxy } from '../../src/cli/proxy-command.js';
import { ConfigError, configWarnings, parseConfig } from '../../src/config/index.js';

/** `${NAME}` as the configuration writes it (not a template placeholder here). */
const ref = (name: string) => ['$', '{', name, '}'].join('');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a secret file with `mode`; returns its path. */
async function secretFile(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

function problems(value: unknown, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parseConfig(value, { env, baseDir: dir });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const bearer = (token: unknown) => ({ auth: { mode: 'bearer', tokens: [token] } });

describe('secrets in the configuration', () => {
  it('takes a literal as before', () => {
    const c = parseConfig(bearer('lit3ral'), { env: {} });
    expect(c.auth).toMatchObject({ tokens: ['lit3ral'] });
  });

  it('reads { "file" }, less exactly one trailing newline', async () => {
    const path = await secretFile('tok', 'fr0m-file\n');
    expect(parseConfig(bearer({ file: path }), { env: {} }).auth).toMatchObject({
      tokens: ['fr0m-file'],
    });
    const pw = await secretFile('pw', 'pass word\r\n\n');
    const c = parseConfig(
      { auth: { mode: 'basic', users: [{ user: 'u', password: { file: pw } }] } },
      { env: {} },
    );
    expect(c.auth).toMatchObject({ users: [{ user: 'u', password: 'pass word\r\n' }] });
  });

  it('resolves a relative file against the configuration directory and expands an environment variable', async () => {
    await mkdir(join(dir, 'creds'), { recursive: true });
    await secretFile('creds/bearer', 'cr3d');
    expect(
      parseConfig(bearer({ file: 'creds/bearer' }), { env: {}, baseDir: dir }).auth,
    ).toMatchObject({ tokens: ['cr3d'] });
    const env = { CREDENTIALS_DIRECTORY: join(dir, 'creds') };
    expect(
      parseConfig(bearer({ file: `${ref('CREDENTIALS_DIRECTORY')}/bearer` }), { env }).auth,
    ).toMatchObject({ tokens: ['cr3d'] });
  });

  it('reads { "env" } (the QUIC-LB key too)', () => {
    const c = parseConfig(
      {
        ...bearer({ env: 'MASQUE_BEARER' }),
        quicAware: {
          quicLb: { configId: 0, serverId: '0102', nonceLength: 14, key: { env: 'LB_KEY' } },
        },
      },
      { env: { MASQUE_BEARER: 'fr0m-env', LB_KEY: '00112233445566778899aabbccddeeff' } },
    );
    expect(c.auth).toMatchObject({ tokens: ['fr0m-env'] });
    expect(c.quicAware.quicLb?.key).toBe('00112233445566778899aabbccddeeff');
  });

  it('names the field of each mistake, all at once', async () => {
    const empty = await secretFile('empty', '\n');
    const missing = join(dir, 'nope');
    const p = problems(
      {
        auth: {
          mode: 'bearer',
          tokens: [
            { env: 'UNSET' },
            { env: 'EMPTY' },
            { file: missing },
            { file: empty },
            { file: `${ref('NOT_THERE')}/x` },
            { path: '/x' },
            { env: '1BAD' },
          ],
        },
        limits: { tunnelsTotal: 0 },
      },
      { EMPTY: '' },
    );
    expect(p).toEqual([
      'auth.tokens[0]: the environment variable UNSET is not set',
      'auth.tokens[1]: the environment variable EMPTY is empty',
      expect.stringMatching(
        new RegExp(`^auth\\.tokens\\[2\\]: cannot read the secret file ${missing}: ENOENT`),
      ),
      `auth.tokens[3]: the secret file ${empty} is empty`,
      `auth.tokens[4]: the file path "${ref('NOT_THERE')}/x" uses ${ref('NOT_THERE')}, which is not set in the environment`,
      'auth.tokens[5]: must be a string, { "file": "PATH" } or { "env": "NAME" }',
      'auth.tokens[6]: "1BAD" is not an environment variable name',
      'limits.tunnelsTotal: must be at least 1 (tunnels)',
    ]);
  });

  it('reports an unreadable password once, not also as a missing one', () => {
    expect(
      problems({ auth: { mode: 'basic', users: [{ user: 'u', password: { env: 'UNSET' } }] } }),
    ).toEqual(['auth.users[0].password: the environment variable UNSET is not set']);
  });

  it('validates a secret from a file like a literal, saying where it came from', async () => {
    const path = await secretFile('bad-token', 'not a token68\n');
    expect(problems(bearer({ file: path }))).toEqual([
      `auth.tokens[0] (from file ${path}): not a token68 (RFC 6750 §2.1)`,
    ]);
    expect(problems(bearer({ env: 'T' }), { T: 'sp ace' })).toEqual([
      'auth.tokens[0] (from environment variable T): not a token68 (RFC 6750 §2.1)',
    ]);
  });

  it('warns of a secret file the group or others may read, not of a 0600 one', async () => {
    const open = await secretFile('open', 'tok', 0o644);
    const group = await secretFile('group', 'tok', 0o640);
    const tight = await secretFile('tight', 'tok', 0o600);
    const warnings = (path: string) =>
      configWarnings(parseConfig(bearer({ file: path }), { env: {} }));
    expect(warnings(open)).toContain(
      `auth.tokens[0]: the secret file ${open} is readable by every user (mode 0644); chmod 600 it`,
    );
    expect(warnings(group)).toContain(
      `auth.tokens[0]: the secret file ${group} is readable by its group (mode 0640); chmod 600 it`,
    );
    expect(warnings(tight).filter((w) => w.includes('secret file'))).toEqual([]);
    // The stateless reset key is a secret file too.
    expect(configWarnings(parseConfig({ statelessResetKeyFile: open }, { env: {} }))).toContain(
      `statelessResetKeyFile: the secret file ${open} is readable by every user (mode 0644); chmod 600 it`,
    );
    expect(
      configWarnings(parseConfig({ statelessResetKeyFile: tight }, { env: {} })).filter((w) =>
        w.includes('secret file'),
      ),
    ).toEqual([]);
  });

  it('reads the secret file again on reload: the rotated token is the one accepted', async () => {
    const token = await secretFile('rotating', 'f1rst\n');
    const config = join(dir, 'proxy.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        http2: { enabled: false },
        ...bearer({ file: 'rotating' }),
      }),
    );
    const cmd = (await runProxy(
      { config, allowTarget: [], denyTarget: [] },
      {
        stdout: () => {},
        stderr: () => {},
        env: { MASQUE_CACHE_DIR: join(dir, 'cache') },
        logger: pino({ level: 'silent' }),
      },
    )) as ProxyCommand;
    try {
      const check = (t: string) =>
        cmd.proxy.handler.authenticate([['proxy-authorization', `Bearer ${t}`]]).ok;
      expect(check('f1rst')).toBe(true);
      await writeFile(token, 's3cond\n');
      const outcome = await cmd.reload();
      expect(outcome?.applied).toContain('auth');
      expect(check('s3cond')).toBe(true);
      expect(check('f1rst')).toBe(false);
      // A secret that can no longer be read is refused; the running one stays.
      await rm(token);
      expect(await cmd.reload()).toBeUndefined();
      expect(check('s3cond')).toBe(true);
    } finally {
      await cmd.close();
    }
  });
});

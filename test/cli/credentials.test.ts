/** Client credentials from flags, files and the environment, in that order. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentials } from '../../src/cli/credentials.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-cred-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('clientCredentials', () => {
  it('takes the flag, then the file (first line), then MASQUE_BEARER / MASQUE_BASIC', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'from-file\nsecond line\n', { mode: 0o600 });
    const env = { MASQUE_BEARER: 'from-env', MASQUE_BASIC: 'u:p' };
    expect(await clientCredentials({ bearer: 'flag' }, env)).toEqual({ bearer: 'flag' });
    expect(await clientCredentials({ bearerFile: file }, env)).toEqual({ bearer: 'from-file' });
    expect(await clientCredentials({}, env)).toEqual({ bearer: 'from-env' });
    expect(await clientCredentials({}, { MASQUE_BASIC: 'u:p:q' })).toEqual({
      username: 'u',
      password: 'p:q',
    });
    expect(await clientCredentials({}, {})).toBeUndefined();
  });

  it('says which flag or variable is wrong', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    await expect(clientCredentials({ bearerFile: empty }, {})).rejects.toThrow(
      `--bearer-file ${empty}: the file is empty`,
    );
    await expect(clientCredentials({ bearerFile: join(dir, 'nope') }, {})).rejects.toThrow(
      /--bearer-file .*nope: cannot read it/,
    );
    await expect(clientCredentials({}, { MASQUE_BASIC: 'nocolon' })).rejects.toThrow(
      'MASQUE_BASIC takes user:password',
    );
  });
});

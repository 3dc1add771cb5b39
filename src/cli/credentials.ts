/**
 * Proxy credentials of the client commands (`udp-forward`, `udp-bind`), from the first of: the
 * flag (`--bearer`, `--basic`), a file (`--bearer-file`, `--basic-file`: its first line), the
 * environment (`MASQUE_BEARER`, `MASQUE_BASIC`). Files and the environment keep secrets out of
 * the process list and the shell history; the proxy's banner suggests `MASQUE_BEARER`.
 */
import { readFile } from 'node:fs/promises';
import type { MasqueAuth } from '../client/client.js';

/** The credential flags of a client command. */
export interface CredentialFlags {
  bearer?: string;
  bearerFile?: string;
  basic?: string;
  basicFile?: string;
}

async function firstLine(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RangeError(`${flag} ${file}: cannot read it (${(err as Error).message})`);
  }
  const line = text.split(/\r?\n/, 1)[0].trim();
  if (line === '') throw new RangeError(`${flag} ${file}: the file is empty`);
  return line;
}

function basicPair(text: string, from: string): MasqueAuth {
  const colon = text.indexOf(':');
  if (colon < 0) throw new RangeError(`${from} takes user:password`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The credential the flags and the environment give, if any; throws RangeError. */
export async function clientCredentials(
  o: CredentialFlags,
  env: NodeJS.ProcessEnv,
): Promise<MasqueAuth | undefined> {
  if (o.bearer !== undefined) {
    if (o.bearer === '') throw new RangeError('--bearer is empty');
    return { bearer: o.bearer };
  }
  if (o.bearerFile !== undefined) return { bearer: await firstLine(o.bearerFile, '--bearer-file') };
  if (o.basic !== undefined) return basicPair(o.basic, '--basic');
  if (o.basicFile !== undefined) {
    return basicPair(await firstLine(o.basicFile, '--basic-file'), '--basic-file');
  }
  if (env.MASQUE_BEARER !== undefined && env.MASQUE_BEARER !== '') {
    return { bearer: env.MASQUE_BEARER };
  }
  if (env.MASQUE_BASIC !== undefined && env.MASQUE_BASIC !== '') {
    return basicPair(env.MASQUE_BASIC, 'MASQUE_BASIC');
  }
  return undefined;
}

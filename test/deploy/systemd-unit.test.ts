/**
 * deploy/masque.service passes `systemd-analyze verify` without a warning about it (an unknown
 * key or a bad value is only a warning, exit code 0: the test reads stderr too), with ExecStart
 * pointed at this checkout, and with the commented LoadCredential= line turned on; and it says
 * what the proxy needs (the command the package installs, reload by SIGHUP, a stop timeout above
 * the drain grace).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = join(ROOT, 'deploy', 'masque.service');

let dir: string;
let unit: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masque-unit-'));
  unit = await readFile(UNIT, 'utf8');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `systemd-analyze verify` of `text` saved as masque.service: its exit code and stderr. */
async function verify(text: string): Promise<{ code: number; stderr: string }> {
  const file = join(dir, 'masque.service');
  await writeFile(file, text);
  try {
    const r = await promisify(execFile)('systemd-analyze', ['verify', file]);
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? String(err) };
  }
}

/** The unit with its install paths replaced by this machine's node and this checkout. */
function here(text: string): string {
  return text.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/masque', ROOT);
}

/** `Key=value` lines of the unit (the last one of each key). */
function settings(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m !== null) out.set(m[1], m[2]);
  }
  return out;
}

describe('deploy/masque.service', () => {
  it('passes systemd-analyze verify with no warning about it', async () => {
    const r = await verify(here(unit));
    expect(r.stderr.split('\n').filter((l) => l.includes('masque.service'))).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('also with LoadCredential= turned on', async () => {
    const on = here(unit).replace(/^#LoadCredential=/m, 'LoadCredential=');
    expect(on).toMatch(/^LoadCredential=bearer:/m);
    const r = await verify(on);
    expect(r.stderr.split('\n').filter((l) => l.includes('masque.service'))).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('the check catches a broken unit (a misspelt key, a missing binary)', async () => {
    const typo = await verify(here(unit).replace('ProtectSystem=strict', 'ProtectSytem=strict'));
    expect(typo.stderr).toMatch(/Unknown key.*ProtectSytem/);
    const missing = await verify(unit.replaceAll('/usr/bin/node', join(dir, 'no-node')));
    expect(missing.code).not.toBe(0);
  });

  it('runs the installed command, reloads by SIGHUP, and outlasts the default drain', async () => {
    const s = settings(unit);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    expect(s.get('ExecStart')).toBe(
      `/usr/bin/node /opt/masque/${pkg.bin.masque} proxy --config %E/masque/proxy.json`,
    );
    expect(s.get('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(s.get('KillSignal')).toBe('SIGTERM');
    // The default grace plus the 3 s HTTP/3 drain fits in the stop timeout.
    const graceMs = parseConfig({}, { env: {} }).shutdownGraceMs;
    expect(Number(s.get('TimeoutStopSec')) * 1000).toBeGreaterThan(graceMs + 3000);
    // 4433 needs no privilege: no capability is granted.
    expect(parseConfig({}, { env: {} }).listen.port).toBeGreaterThan(1023);
    expect(s.get('AmbientCapabilities')).toBe('');
    expect(s.get('CapabilityBoundingSet')).toBe('');
  });
});

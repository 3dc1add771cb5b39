/**
 * What `npm pack` ships: the built library and command, its types, README, LICENSE, the
 * systemd unit (deploy/masque.service) and the native addon's sources with the script that
 * builds them at install; no tests, benches, Go sources, TypeScript sources or source maps.
 * (The list comes from `files` in package.json; dist/ is built by `npm ci` through the
 * `prepare` script.) The unpacked tarball builds the addon and its dist/ code loads it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/crypto/native.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NATIVE_SOURCES = ['native/binding.gyp', 'native/masque_native.c', 'scripts/build-native.mjs'];
const run = promisify(execFile);

describe('the npm package', () => {
  it('ships what users need and nothing else', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts'],
      { cwd: ROOT },
    );
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/src/http3-api.js',
        'dist/src/cli/main.js',
        'deploy/masque.service',
        ...NATIVE_SOURCES,
      ]),
    );
    const stray = files.filter(
      (f) =>
        !['LICENSE', 'README.md', 'package.json', 'deploy/masque.service'].includes(f) &&
        !NATIVE_SOURCES.includes(f) &&
        !/^dist\/(src|transforms)\/.*\.(js|d\.ts)$/.test(f),
    );
    expect(stray).toEqual([]);
    expect(await readFile(`${ROOT}/LICENSE`, 'utf8')).toContain('Apache License\n');
  }, 60_000);

  // Without a toolchain only MASQUE_NATIVE=0 runs tolerate a missing addon (native.test.ts).
  it.skipIf(loadNativeAddon() === undefined && process.env['MASQUE_NATIVE'] === '0')(
    'builds the native addon from the tarball, and its dist/ loads it from the package root',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'masque-pack-'));
      try {
        const { stdout } = await run(
          'npm',
          ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
          {
            cwd: ROOT,
          },
        );
        const tarball = join(dir, JSON.parse(stdout)[0].filename as string);
        await run('tar', ['-xzf', tarball, '-C', dir]);
        const pkg = join(dir, 'package');
        // The install script as npm runs it, with this Node's local headers (no download).
        const { MASQUE_NATIVE: _, ...env } = process.env;
        const built = await run(process.execPath, ['scripts/build-native.mjs'], { cwd: pkg, env });
        expect(built.stderr).toMatch(/^masque: native accelerator built \(OpenSSL 3\./);
        const probe =
          "const m = await import('./dist/src/crypto/native.js');" +
          'console.log(m.cryptoBackend(), m.nativeLoadError() ?? "");';
        const loaded = await run(process.execPath, ['--input-type=module', '-e', probe], {
          cwd: pkg,
          env,
        });
        expect(loaded.stdout.trim()).toBe('native');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

/**
 * What `npm pack` ships: the built library and command, its types, README, LICENSE and the
 * systemd unit (deploy/masque.service); no tests, benches, Go sources, TypeScript sources or
 * source maps. (The list comes from `files` in
 * package.json; dist/ is built by `npm ci` through the `prepare` script.)
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
      ]),
    );
    const stray = files.filter(
      (f) =>
        !['LICENSE', 'README.md', 'package.json', 'deploy/masque.service'].includes(f) &&
        !/^dist\/(src|transforms)\/.*\.(js|d\.ts)$/.test(f),
    );
    expect(stray).toEqual([]);
    expect(await readFile(`${ROOT}/LICENSE`, 'utf8')).toContain('Apache License\n');
  }, 60_000);
});

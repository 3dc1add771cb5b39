/**
 * Installing the checkout again costs nothing: `npx masque`'s first run in a directory installs the
 * checkout into npm's cache, which runs its `install` (scripts/build-native.mjs) and `prepare`
 * (scripts/build.mjs) scripts. With everything built they must neither rebuild (a TypeScript build
 * and a C compile took the first paste of the banner's command past 30 s on a loaded machine) nor
 * rewrite dist/ or the addon under processes using them; and the command they build stays
 * executable.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const mtime = (p: string) => statSync(join(ROOT, p)).mtimeMs;

describe('install scripts on a built checkout', () => {
  it('prepare (scripts/build.mjs) leaves an up-to-date dist/ alone', async () => {
    await run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }); // builds if a source is newer
    const before = mtime('dist/src/cli/main.js');
    const again = await run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
    expect(again.stderr).toBe('');
    expect(mtime('dist/src/cli/main.js')).toBe(before);
    // The bin stays executable (tsc writes 0644; npx runs it without relinking when its cache
    // already holds this directory: "masque: Permission denied" on a fresh build before).
    expect(statSync(join(ROOT, 'dist/src/cli/main.js')).mode & 0o111).toBe(0o111);
  }, 120_000);

  it('install (scripts/build-native.mjs) keeps an addon newer than its sources', async () => {
    const env = { ...process.env, MASQUE_NATIVE: undefined, MASQUE_NATIVE_REBUILD: undefined };
    await run(process.execPath, ['scripts/build-native.mjs'], { cwd: ROOT, env });
    const addon = 'native/build/Release/masque_native.node';
    const before = mtime(addon); // the machines we test on have a compiler: the addon exists
    const again = await run(process.execPath, ['scripts/build-native.mjs'], { cwd: ROOT, env });
    expect(again.stderr).toMatch(/^masque: native accelerator up to date \(OpenSSL /);
    expect(mtime(addon)).toBe(before);
  }, 120_000);
});

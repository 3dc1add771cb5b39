#!/usr/bin/env node
// Builds dist/ with TypeScript when a source is newer than the build, and only then. Run by the
// `prepare` script (so `npm ci` on a fresh clone builds once, and installing the checkout again,
// as `npx masque` does into npm's cache on its first run in a directory, costs nothing and does
// not rewrite dist/ under running processes) and by `npm start` (scripts/start.mjs) before it runs
// the command line. `npm run build` always builds.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const entry = join(root, 'dist', 'src', 'cli', 'main.js');

/** The newest modification time under `path` (0 when it does not exist). */
function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

/** Whether a file under src/, transforms/ or a tsconfig is newer than the built entry point. */
export function stale() {
  const built = statSync(entry, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(
    ...['src', 'transforms', 'tsconfig.json', 'tsconfig.build.json'].map((p) => newest(join(root, p))),
  );
  return sources > built;
}

/**
 * Builds dist/ when {@link stale}; exits the process with tsc's status when the build fails. The
 * command's entry point (package.json `bin`) is left executable either way: tsc writes files
 * 0644, and npm makes a bin executable only when it links it, which `npx masque` skips when its
 * cache already holds a link to this directory.
 */
export function buildIfStale() {
  if (stale()) build();
  if (existsSync(entry)) chmodSync(entry, 0o755);
}

function build() {
  process.stderr.write('masque: building dist/ (sources changed since the last build)...\n');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    process.stderr.write('masque: the build failed (is `npm ci` done?)\n');
    process.exit(r.status ?? 1);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildIfStale();
}

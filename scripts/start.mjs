#!/usr/bin/env node
// `npm start`: runs the built command line (dist/), building it first only when a source file is
// newer than the build (`npm ci` already built it through the `prepare` script), so a start after
// set-up takes a fraction of a second instead of a full TypeScript build every time.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

const built = statSync(entry, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(
  ...['src', 'transforms', 'tsconfig.json', 'tsconfig.build.json'].map((p) => newest(join(root, p))),
);
if (sources > built) {
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
await import(pathToFileURL(entry).href);

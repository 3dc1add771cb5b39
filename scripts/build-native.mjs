#!/usr/bin/env node
/**
 * Builds the optional native accelerator (native/, issue 13) with node-gyp. Run by package.json's
 * `install` script, so `npm ci` in the repository and an install from the tarball both build it.
 *
 * It NEVER fails the install: when anything is missing (node-gyp, a C compiler, make, python3,
 * Node's headers) or the build fails, it prints one line saying the pure-JS path will be used and
 * exits 0; src/crypto/native.ts then finds no addon and node:crypto runs. It never downloads:
 * node-gyp is the one npm bundles (or a local one) and the headers are the local ones
 * (`--nodedir`, from npm's `nodedir` config or the running Node's prefix); without local headers
 * it does not build at all. The full build log goes to native/build/build-native.log.
 *
 * An addon newer than its sources (native/binding.gyp, native/*.c, this script) that loads is kept
 * as it is: installing the checkout again (as `npx masque` does into npm's cache on its first run
 * in a directory) neither waits for a compiler nor replaces the file under running processes.
 *
 * Environment: MASQUE_NATIVE=0 skips the build; MASQUE_NATIVE_REBUILD=1 builds even when the addon
 * is up to date; MASQUE_NODE_GYP names a node-gyp.js to use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'masque_native.node');

function done(line) {
  console.error(`masque: ${line}`);
  process.exit(0);
}

function fallback(reason) {
  done(`native accelerator not built (${reason}); the pure-JS node:crypto path will be used`);
}

/** node-gyp's entry script: an explicit one, npm's bundled copy, or a local dependency. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.MASQUE_NODE_GYP) return process.env.MASQUE_NODE_GYP;
  // npm exports its bundled node-gyp to scripts as npm_config_node_gyp.
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    candidates.push(
      join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    );
  }
  // The npm on PATH (bin/npm links to npm's bin/npm-cli.js), e.g. when another Node runs this.
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      const cli = realpathSync(join(dir, 'npm'));
      candidates.push(join(dirname(cli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch {
      // no npm here
    }
  }
  const prefix = dirname(dirname(process.execPath));
  for (const lib of ['lib/node_modules', 'node_modules']) {
    candidates.push(join(prefix, lib, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a local dependency
  }
  return candidates.find((c) => existsSync(c));
}

/** A directory holding include/node/node_api.h, so node-gyp needs no download. */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))];
  return candidates.find((d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')));
}

/** The line of a failed build worth showing: the first error, else the last line. */
function reasonOf(output) {
  const lines = output.split('\n').map((l) => l.trim());
  const error =
    lines.find((l) => /\berror\b/i.test(l) && !l.startsWith('gyp ERR! stack')) ??
    lines.filter((l) => l.length > 0).pop();
  return error ? error.slice(0, 160) : 'no output';
}

/** The addon's OpenSSL version when it is newer than its sources and loads, else undefined. */
function upToDate() {
  const built = statSync(addon, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return undefined;
  const sources = [
    join(nativeDir, 'binding.gyp'),
    fileURLToPath(import.meta.url),
    ...readdirSync(nativeDir)
      .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
      .map((f) => join(nativeDir, f)),
  ];
  if (sources.some((f) => (statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) > built)) {
    return undefined;
  }
  try {
    return String(createRequire(import.meta.url)(addon).openssl);
  } catch {
    return undefined;
  }
}

function main() {
  if (process.env.MASQUE_NATIVE === '0') fallback('MASQUE_NATIVE=0');
  if (!existsSync(join(nativeDir, 'binding.gyp'))) fallback('native/ sources missing');
  if (process.env.MASQUE_NATIVE_REBUILD !== '1') {
    const openssl = upToDate();
    if (openssl !== undefined) done(`native accelerator up to date (${openssl})`);
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp || !existsSync(nodeGyp)) fallback('node-gyp not found');
  const nodeDir = findNodeDir();
  if (!nodeDir) fallback('no local Node headers (include/node/node_api.h)');
  const result = spawnSync(
    process.execPath,
    [nodeGyp, 'rebuild', '--release', '--directory', nativeDir, `--nodedir=${nodeDir}`],
    { cwd: nativeDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
  );
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  try {
    mkdirSync(join(nativeDir, 'build'), { recursive: true });
    writeFileSync(join(nativeDir, 'build', 'build-native.log'), output);
  } catch {
    // the log is a convenience
  }
  if (result.error) fallback(`node-gyp did not run: ${result.error.message}`);
  if (result.status !== 0) fallback(`build failed: ${reasonOf(output)}`);
  if (!existsSync(addon)) fallback('build produced no masque_native.node');
  try {
    const binding = createRequire(import.meta.url)(addon);
    done(`native accelerator built (${binding.openssl})`);
  } catch (err) {
    fallback(`built addon does not load: ${err instanceof Error ? err.message : String(err)}`);
  }
}

try {
  main();
} catch (err) {
  fallback(`unexpected: ${err instanceof Error ? err.message : String(err)}`);
}

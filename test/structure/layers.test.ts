/**
 * The shape of `src/`, read from its import statements:
 * - no cycle between top-level folders (each layer depends one way on the ones below it);
 * - the sans-IO protocol folders import no socket, timer or DNS module and call no timer or
 *   clock: time and randomness are passed in (the Node runtime lives in `src/runtime`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, importsOf } from './imports.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Top-level folder of a file under src/ ('' for src/index.ts and other root files). */
function layerOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0] : '';
}

const files = sourceFiles(SRC).map((file) => ({
  file,
  rel: relative(SRC, file),
  text: readFileSync(file, 'utf8'),
}));

/** Folder-level edges: "from -> to" with one example import each. */
function folderEdges(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const { file, rel, text } of files) {
    const from = layerOf(file);
    if (from === '') continue;
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) continue;
      const to = layerOf(normalize(join(dirname(file), spec)));
      if (to === from || to === '') continue;
      const m = edges.get(from) ?? new Map<string, string>();
      edges.set(from, m);
      if (!m.has(to)) m.set(to, `${rel} imports ${spec}`);
    }
  }
  return edges;
}

/** Folders that hold protocol logic only: they take time and randomness in. */
const SANS_IO = ['wire', 'crypto', 'tls', 'quic', 'qpack', 'http3', 'capsule', 'fields', 'sim'];
/** Node modules a sans-IO folder may use (hashing, ciphers, address syntax and the root store are not I/O). */
const ALLOWED_NODE = new Set(['node:crypto', 'node:net', 'node:tls']);
/** Files allowed more node:* modules, which ones, and why. */
const NODE_EXEMPT: Record<string, { modules: string[]; why: string }> = {
  'crypto/native.ts': {
    modules: ['node:fs', 'node:module', 'node:path', 'node:url'],
    why: 'finds and loads the optional native crypto addon once, at module load (issue 13)',
  },
};
/** Files exempt from the clock rule, and why. */
const CLOCK_EXEMPT: Record<string, string> = {
  'tls/certs/dev-cert.ts': 'a tool: dates a development certificate from the moment it is made',
};
const TIMERS =
  /\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|performance\.now)\(/;

describe('src/ layering', () => {
  it('has no import cycle between top-level folders', () => {
    const edges = folderEdges();
    const cycles = findCycles(new Map([...edges].map(([k, v]) => [k, [...v.keys()]])));
    const explained = cycles.map((cycle) =>
      cycle
        .map(
          (from, i) =>
            `${from} -> ${cycle[(i + 1) % cycle.length]} (${edges.get(from)?.get(cycle[(i + 1) % cycle.length])})`,
        )
        .join('; '),
    );
    expect(explained).toEqual([]);
  });

  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c']]);
    expect(
      importsOf("import x from '../a.js';\nexport { y } from './b.js';\nawait import('./c.js');"),
    ).toEqual(['../a.js', './b.js', './c.js']);
  });

  it('keeps the protocol folders sans-IO: no sockets, timers or clocks', () => {
    const problems: string[] = [];
    for (const { file, rel, text } of files) {
      if (!SANS_IO.includes(layerOf(file))) continue;
      for (const spec of importsOf(text)) {
        if (
          spec.startsWith('node:') &&
          !ALLOWED_NODE.has(spec) &&
          !NODE_EXEMPT[rel]?.modules.includes(spec)
        ) {
          problems.push(`${rel}: ${spec}`);
        }
        if (spec.includes('/runtime/')) problems.push(`${rel}: ${spec}`);
      }
      // Comments may mention the clock; code may not call it.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const m = TIMERS.exec(code);
      if (m !== null && CLOCK_EXEMPT[rel] === undefined) problems.push(`${rel}: ${m[1]}`);
    }
    expect(problems).toEqual([]);
  });

  it('keeps http3/ free of every node:* module', () => {
    const offenders = files
      .filter(({ file }) => layerOf(file) === 'http3')
      .flatMap(({ rel, text }) =>
        importsOf(text)
          .filter((s) => s.startsWith('node:'))
          .map((s) => `${rel}: ${s}`),
      );
    expect(offenders).toEqual([]);
  });
});

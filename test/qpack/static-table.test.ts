import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  STATIC_TABLE,
  STATIC_TABLE_SIZE,
  staticEntry,
  staticIndexOf,
  staticNameIndexOf,
} from '../../src/qpack/index.js';

// RFC 9204 Appendix A, copied from the RFC into the repository (see the fixture's header line).
const SPEC = fileURLToPath(
  new URL('../fixtures/rfc9204-appendix-a-static-table.txt', import.meta.url),
);

describe('QPACK static table (RFC 9204 Appendix A)', () => {
  it('has 99 entries with the RFC entries at known indices', () => {
    expect(STATIC_TABLE_SIZE).toBe(99);
    expect(staticEntry(0)).toEqual([':authority', '']);
    expect(staticEntry(1)).toEqual([':path', '/']);
    expect(staticEntry(15)).toEqual([':method', 'CONNECT']);
    expect(staticEntry(25)).toEqual([':status', '200']);
    expect(staticEntry(85)).toEqual([
      'content-security-policy',
      "script-src 'none'; object-src 'none'; base-uri 'none'",
    ]);
    expect(staticEntry(98)).toEqual(['x-frame-options', 'sameorigin']);
    expect(staticEntry(99)).toBeUndefined();
    expect(staticEntry(-1)).toBeUndefined();
  });

  it('matches every row of Appendix A in the specification', () => {
    const md = readFileSync(SPEC, 'utf8');
    const table = md.split('| Index | Name')[1].split('{: title="Static Table"}')[0];
    const rows: Array<[string, string]> = [];
    for (const line of table.split('\n')) {
      const m = /^\|\s*(\d+)\s*\|\s*(\S+)\s*\|(.*)\|\s*$/.exec(line);
      if (m) rows.push([m[2], m[3].trim().replace(/\\(.)/g, '$1')]);
    }
    expect(rows).toEqual(STATIC_TABLE.map(([n, v]) => [n, v]));
  });

  it('finds exact pairs and names, preferring the smallest index', () => {
    expect(staticIndexOf(':method', 'GET')).toBe(17);
    expect(staticIndexOf(':method', 'get')).toBeUndefined();
    expect(staticIndexOf(':path', '/index.html')).toBeUndefined();
    expect(staticNameIndexOf(':method')).toBe(15);
    expect(staticNameIndexOf(':status')).toBe(24);
    expect(staticNameIndexOf('content-type')).toBe(44);
    expect(staticNameIndexOf('x-unknown')).toBeUndefined();
    for (let i = 0; i < STATIC_TABLE_SIZE; i++) {
      const [name, value] = STATIC_TABLE[i];
      expect(staticIndexOf(name, value)).toBe(i);
      expect(staticNameIndexOf(name)).toBeLessThanOrEqual(i);
    }
  });
});

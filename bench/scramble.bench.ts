/**
 * Forwarded-mode packet transforms on a 1200-byte short-header packet with a 20-byte CID: the
 * chosen scramble implementation (transforms/scramble.ts) against a per-packet
 * `createCipheriv('aes-128-ctr')` and @noble/ciphers, with a plain 1200-byte copy as baseline.
 */
import { IdentityTransform } from '../transforms/identity.js';
import { ScrambleTransform } from '../transforms/scramble.js';
import {
  ScrambleNoble,
  ScrambleNobleCached,
  ScramblePerPacketCtr,
} from '../transforms/scramble-variants.js';
import type { PacketTransform } from '../transforms/types.js';
import { type BenchRow, measure } from './harness.js';
import type { BenchModule } from './types.js';

const SIZE = 1200;
const CID = 20;

/** Deterministic filler so runs are comparable. */
function filled(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  b[0] &= 0x7f; // short header
  return b;
}

const key = filled(32, 7);

function inPlace(name: string, t: PacketTransform, dir: 'encode' | 'decode'): BenchRow {
  const pkt = filled(SIZE, 1);
  const row =
    dir === 'encode'
      ? measure(name, () => t.encode(pkt, CID))
      : measure(name, () => t.decode(pkt, CID));
  row.note = `${((SIZE * 8) / row.nsPerOp).toFixed(2)} Gbit/s`;
  return row;
}

/** [label, implementation, direction]; every scramble row uses the same key and packet. */
const CASES: Array<[string, () => PacketTransform, 'encode' | 'decode']> = [
  ['identity encode (in place)', () => new IdentityTransform(), 'encode'],
  [
    `scramble-dt encode (chosen: ${new ScrambleTransform(key).native ? 'native addon' : 'node:crypto, long-lived ECB'})`,
    () => new ScrambleTransform(key),
    'encode',
  ],
  [
    `scramble-dt decode (chosen: ${new ScrambleTransform(key).native ? 'native addon' : 'node:crypto, long-lived ECB'})`,
    () => new ScrambleTransform(key),
    'decode',
  ],
  [
    'scramble-dt encode, node:crypto long-lived ECB',
    () => new ScrambleTransform(key, false),
    'encode',
  ],
  [
    'scramble-dt decode, node:crypto long-lived ECB',
    () => new ScrambleTransform(key, false),
    'decode',
  ],
  ['scramble-dt encode, createCipheriv per packet', () => new ScramblePerPacketCtr(key), 'encode'],
  ['scramble-dt encode, noble ctr/ecb per packet', () => new ScrambleNoble(key), 'encode'],
  ['scramble-dt encode, noble cached key schedule', () => new ScrambleNobleCached(key), 'encode'],
];

const bench: BenchModule = {
  title: `Packet transforms (${SIZE} B packet, ${CID} B CID, in place)`,
  baseline: `Buffer.copy ${SIZE} B`,
  run(): BenchRow[] {
    const src = Buffer.from(filled(SIZE, 2));
    const dst = Buffer.alloc(SIZE);
    const rows: BenchRow[] = [measure(`Buffer.copy ${SIZE} B`, () => src.copy(dst))];
    for (const [label, make, dir] of CASES) rows.push(inPlace(label, make(), dir));
    return rows;
  },
};

export default bench;

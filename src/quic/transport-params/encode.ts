/**
 * Encoding of our transport parameters (RFC 9000 §18), optionally with reserved "grease"
 * parameters (§18.1) so that peers keep ignoring unknown identifiers.
 */
import { ByteWriter, CodecError, VARINT_MAX } from '../../wire/index.js';
import { PARAMS, paramSpec } from './registry.js';
import type { TransportParameters } from './types.js';

export interface GreaseOptions {
  /** Source of randomness (identifiers, value sizes, values, positions). */
  readonly random: (n: number) => Uint8Array;
  /** Number of grease parameters to add (default 1). */
  readonly count?: number;
  /** Largest grease value in bytes (default 16). */
  readonly maxValueLength?: number;
}

export interface EncodeTransportParametersOptions {
  /**
   * Identifiers to write first, in this order (for instance the `order` of a decoded set); the
   * others follow in ascending identifier order, then unknown parameters in list order.
   */
  readonly order?: readonly (number | bigint)[];
  /** Adds reserved parameters with random identifiers and values at random positions. */
  readonly grease?: GreaseOptions;
}

interface Entry {
  readonly id: bigint;
  readonly write: (w: ByteWriter) => void;
}

/** Largest N with 31 * N + 27 <= 2^62 - 1. */
const GREASE_N_MAX = (VARINT_MAX - 27n) / 31n;

function randomBig(random: (n: number) => Uint8Array, bytes: number): bigint {
  const b = random(bytes);
  let v = 0n;
  for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(b[i] ?? 0);
  return v;
}

/** Encodes `params` (absent fields are not written). Throws `CodecError` for invalid values. */
export function encodeTransportParameters(
  params: TransportParameters,
  options: EncodeTransportParametersOptions = {},
): Uint8Array {
  const fields = params as unknown as Record<string, unknown>;
  const entries: Entry[] = [];
  const ids = new Set<bigint>();
  const add = (id: bigint, write: (w: ByteWriter) => void): void => {
    if (ids.has(id)) throw new CodecError('MALFORMED', `parameter 0x${id.toString(16)} twice`);
    ids.add(id);
    entries.push({ id, write });
  };

  for (const spec of PARAMS) {
    const value = fields[spec.key];
    if (value === undefined || value === false) continue;
    add(BigInt(spec.id), (w) => {
      spec.encode(w, value as never, spec.name);
    });
  }
  for (const { id, value } of params.unknown ?? []) {
    if (paramSpec(id) !== undefined) {
      throw new CodecError('MALFORMED', `unknown-list entry 0x${id.toString(16)} is a known id`);
    }
    add(id, (w) => {
      w.bytes(value);
    });
  }

  const ordered = applyOrder(entries, options.order ?? []);
  const grease = options.grease;
  if (grease) {
    const count = grease.count ?? 1;
    const maxLen = grease.maxValueLength ?? 16;
    for (let i = 0; i < count; i++) {
      let n = randomBig(grease.random, 8) % (GREASE_N_MAX + 1n);
      // On a clash take the next reserved identifier: terminates even with constant randomness.
      while (ids.has(31n * n + 27n)) n = n === GREASE_N_MAX ? 0n : n + 1n;
      const id = 31n * n + 27n;
      ids.add(id);
      const value = grease.random(Number(randomBig(grease.random, 1)) % (maxLen + 1));
      const at = Number(randomBig(grease.random, 2)) % (ordered.length + 1);
      ordered.splice(at, 0, { id, write: (w) => void w.bytes(value) });
    }
  }

  const w = new ByteWriter(128);
  for (const e of ordered) w.varint(e.id).lengthPrefixed('varint', e.write);
  return w.toBytes();
}

function applyOrder(entries: Entry[], order: readonly (number | bigint)[]): Entry[] {
  if (order.length === 0) return entries;
  const byId = new Map(entries.map((e) => [e.id, e]));
  const out: Entry[] = [];
  for (const raw of order) {
    const e = byId.get(BigInt(raw));
    if (e === undefined) continue;
    byId.delete(e.id);
    out.push(e);
  }
  for (const e of entries) if (byId.has(e.id)) out.push(e);
  return out;
}

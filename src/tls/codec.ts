/**
 * TLS presentation-language vectors (RFC 9846 §3.4) on top of the shared byte reader/writer:
 * `opaque x<min..max>` with a 1-, 2- or 3-byte length prefix. A declared length outside the
 * vector's range is a syntax error, so readers throw `decode_error` (RFC 9846 §6: "contain an
 * out-of-range length"); writers throw `internal_error` instead of emitting such a vector.
 */
import type { ByteReader, ByteWriter } from '../wire/index.js';
import { TlsAlertError } from './alert.js';

/** Width of a vector's length prefix, in bytes. */
export type PrefixWidth = 1 | 2 | 3;

const KIND = { 1: 'u8', 2: 'u16', 3: 'u24' } as const;

function readLength(r: ByteReader, width: PrefixWidth): number {
  return width === 1 ? r.u8() : width === 2 ? r.u16() : r.u24();
}

function checkRead(len: number, min: number, max: number, what: string): void {
  if (len < min || len > max) {
    throw new TlsAlertError('decode_error', `${what}: length ${len} outside ${min}..${max}`);
  }
}

function checkWrite(len: number, min: number, max: number, what: string): void {
  if (len < min || len > max) {
    throw new TlsAlertError('internal_error', `${what}: length ${len} outside ${min}..${max}`);
  }
}

/** `opaque x<min..max>`: a zero-copy view of the vector's bytes. */
export function readOpaque(
  r: ByteReader,
  width: PrefixWidth,
  min: number,
  max: number,
  what: string,
): Uint8Array {
  const len = readLength(r, width);
  checkRead(len, min, max, what);
  return r.bytes(len);
}

export function writeOpaque(
  w: ByteWriter,
  width: PrefixWidth,
  bytes: Uint8Array,
  min: number,
  max: number,
  what: string,
): void {
  checkWrite(bytes.length, min, max, what);
  w.lengthPrefixed(KIND[width], (x) => x.bytes(bytes));
}

/**
 * `T x<min..max>` where `max`/`min` count bytes: reads items with `item` until the vector is
 * consumed exactly (an item overrunning the vector is a decode_error).
 */
export function readList<T>(
  r: ByteReader,
  width: PrefixWidth,
  min: number,
  max: number,
  what: string,
  item: (r: ByteReader) => T,
): T[] {
  const len = readLength(r, width);
  checkRead(len, min, max, what);
  const sub = r.sub(len, what);
  const out: T[] = [];
  while (!sub.done) out.push(item(sub));
  return out;
}

export function writeList<T>(
  w: ByteWriter,
  width: PrefixWidth,
  items: readonly T[],
  min: number,
  max: number,
  what: string,
  item: (w: ByteWriter, value: T) => void,
): void {
  const start = w.position;
  w.lengthPrefixed(KIND[width], (x) => {
    for (const v of items) item(x, v);
  });
  checkWrite(w.position - start - width, min, max, what);
}

/** A vector of uint16 values (cipher suites, groups, schemes, versions). */
export function readU16List(
  r: ByteReader,
  width: PrefixWidth,
  min: number,
  max: number,
  what: string,
): number[] {
  const len = readLength(r, width);
  checkRead(len, min, max, what);
  if (len % 2 !== 0) throw new TlsAlertError('decode_error', `${what}: odd length ${len}`);
  const out: number[] = [];
  for (let i = 0; i < len; i += 2) out.push(r.u16());
  return out;
}

export function writeU16List(
  w: ByteWriter,
  width: PrefixWidth,
  values: readonly number[],
  min: number,
  max: number,
  what: string,
): void {
  for (const v of values) checkU16(v, what);
  writeList(w, width, values, min, max, what, (x, v) => x.u16(v));
}

/** A vector of uint8 values (compression methods, PSK modes). */
export function readU8List(
  r: ByteReader,
  width: PrefixWidth,
  min: number,
  max: number,
  what: string,
): number[] {
  return Array.from(readOpaque(r, width, min, max, what));
}

export function writeU8List(
  w: ByteWriter,
  width: PrefixWidth,
  values: readonly number[],
  min: number,
  max: number,
  what: string,
): void {
  for (const v of values) checkUint(v, 0xff, what);
  writeOpaque(w, width, Uint8Array.from(values), min, max, what);
}

/** Throws internal_error unless `v` is an integer in 0..0xffff. */
export function checkU16(v: number, what: string): void {
  checkUint(v, 0xffff, what);
}

/** Throws internal_error unless `v` is an integer in 0..max. */
export function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new TlsAlertError('internal_error', `${what}: ${v} is not an integer in 0..${max}`);
  }
}

/** The error for a value whose shape does not fit the message it is encoded in. */
export function shapeError(kind: string, ctx: string, field: string): TlsAlertError {
  return new TlsAlertError('internal_error', `${kind} in ${ctx} needs the '${field}' form`);
}

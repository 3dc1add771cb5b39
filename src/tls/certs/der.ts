/**
 * A minimal ASN.1 DER encoder (ITU-T X.690 §8, §10), just enough to write an X.509 v3
 * certificate (RFC 5280 §4.1). Every value is encoded eagerly to bytes; constructed values take
 * their already-encoded children.
 *
 *   TLV: tag (1 byte: class 2 bits | constructed 1 bit | number 5 bits), length, contents
 *   length < 128:  0lllllll          length >= 128: 1nnnnnnn + n big-endian length bytes
 */
import { concatBytes } from '../../wire/index.js';

/** Universal tags used here (X.680 §8.6). */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** DER length octets (definite form, minimal). */
function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One TLV with the given tag byte and contents. */
export function tlv(tag: number, contents: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), encodeLength(contents.length), contents);
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(Tag.sequence, concatBytes(...items));
}

/** SET of already-encoded elements (DER sorts SET OF; callers here pass one element). */
export function set(...items: Uint8Array[]): Uint8Array {
  return tlv(Tag.set, concatBytes(...items));
}

/** Context-specific tag `[n]`: constructed (EXPLICIT wrapper) or primitive (IMPLICIT). */
export function contextTag(n: number, contents: Uint8Array, constructed: boolean): Uint8Array {
  // class context-specific = 10xxxxxx; constructed bit = 0x20.
  return tlv(0x80 | (constructed ? 0x20 : 0) | n, contents);
}

/** BOOLEAN (DER: TRUE is 0xff). */
export function boolean(v: boolean): Uint8Array {
  return tlv(Tag.boolean, Uint8Array.of(v ? 0xff : 0));
}

/** NULL. */
export function nullValue(): Uint8Array {
  return tlv(Tag.null, new Uint8Array(0));
}

/**
 * INTEGER from unsigned big-endian magnitude bytes: leading zeros stripped, and a 0x00 prepended
 * when the top bit is set so the value stays positive (X.690 §8.3.2 minimal two's complement).
 */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let body = magnitude.subarray(i);
  if (body.length === 0) body = Uint8Array.of(0);
  if (body[0] & 0x80) body = concatBytes(Uint8Array.of(0), body);
  return tlv(Tag.integer, body);
}

/** INTEGER from a small non-negative number. */
export function smallInteger(n: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Uint8Array.from(bytes));
}

/** OBJECT IDENTIFIER from dotted text (X.690 §8.19: first two arcs packed, base-128 arcs). */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => Number.parseInt(s, 10));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) {
    throw new RangeError(`bad OID ${dotted}`);
  }
  const out: number[] = [];
  const push = (v: number): void => {
    const group: number[] = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | (v & 0x7f));
    out.push(...group);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return tlv(Tag.oid, Uint8Array.from(out));
}

/** BIT STRING of whole bytes (0 unused bits): keys and signatures. */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.bitString, concatBytes(Uint8Array.of(0), bytes));
}

/**
 * BIT STRING of named bits (bit 0 = most significant bit of the first byte), with trailing zero
 * bits removed as DER requires for named bit lists (X.690 §11.2.2).
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(Tag.bitString, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return tlv(Tag.bitString, concatBytes(Uint8Array.of(unused), bytes));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.octetString, bytes);
}

/** UTF8String. */
export function utf8String(s: string): Uint8Array {
  return tlv(Tag.utf8String, new TextEncoder().encode(s));
}

/**
 * Time as RFC 5280 §4.1.2.5 requires: UTCTime (YYMMDDHHMMSSZ) for years 1950..2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ) otherwise; seconds precision, always UTC.
 */
export function time(ms: number): Uint8Array {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
  if (y >= 1950 && y < 2050) return tlv(Tag.utcTime, ascii(`${p2(y % 100)}${rest}`));
  return tlv(Tag.generalizedTime, ascii(`${String(y).padStart(4, '0')}${rest}`));
}

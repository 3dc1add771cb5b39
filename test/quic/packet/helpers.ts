/** Shared test helpers for the packet layer. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { CodecError, fromHex } from '../../../src/wire/index.js';

/** The CodecError code thrown by `fn`, or undefined when it returns. Any other error fails. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err.code;
    throw err;
  }
  return undefined;
}

/** Asserts that every proper prefix of `bytes` makes `parse` throw TRUNCATED. */
export function expectAllPrefixesTruncated(
  bytes: Uint8Array,
  parse: (prefix: Uint8Array) => unknown,
  from = 0,
): void {
  for (let n = from; n < bytes.length; n++) {
    expect(
      codeOf(() => parse(bytes.slice(0, n))),
      `prefix of ${n} bytes`,
    ).toBe('TRUNCATED');
  }
}

/** Applies a header protection mask the way RFC 9001 §5.4.1 describes, in place. */
export function applyMask(
  packet: Uint8Array,
  pnOffset: number,
  pnLength: number,
  protectedBits: number,
  maskHex: string,
): void {
  const mask = fromHex(maskHex);
  packet[0] ^= mask[0] & protectedBits;
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i] ^= mask[1 + i];
}

/** A connection ID of 0-20 bytes. */
export const cidV1 = fc.uint8Array({ minLength: 0, maxLength: 20 });

/** Any byte string, biased towards QUIC-looking first bytes. */
export const packetish = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 80 }),
  fc
    .tuple(
      fc.constantFrom(0xc0, 0xc3, 0xd0, 0xe1, 0xf0, 0xff, 0x80, 0x40, 0x43),
      fc.constantFrom([0, 0, 0, 1], [0, 0, 0, 0], [0x1a, 0x2a, 0x3a, 0x4a], [0xff, 0, 0, 0x1d]),
      fc.uint8Array({ minLength: 0, maxLength: 60 }),
    )
    .map(([b, v, rest]) => Uint8Array.from([b, ...v, ...rest])),
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom([0, 0, 0, 1], [0, 0, 0, 0], [0x1a, 0x2a, 0x3a, 0x4a]),
      fc.uint8Array({ maxLength: 21 }),
      fc.uint8Array({ maxLength: 21 }),
      fc.uint8Array({ maxLength: 3 }),
      fc.integer({ min: 0, max: 80 }),
      fc.uint8Array({ maxLength: 60 }),
    )
    .map(([b, v, dcid, scid, token, length, rest]) =>
      Uint8Array.from([
        b,
        ...v,
        dcid.length,
        ...dcid,
        scid.length,
        ...scid,
        token.length,
        ...token,
        0x40 | (length >> 8),
        length & 0xff,
        ...rest,
      ]),
    ),
);

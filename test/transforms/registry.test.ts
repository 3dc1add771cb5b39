import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/wire/index.js';
import { IdentityTransform } from '../../transforms/identity.js';
import {
  createTransform,
  isSupportedTransform,
  negotiateTransform,
  RESERVED_SCRAMBLE_NAME,
  supportedTransforms,
  transformNeedsKey,
} from '../../transforms/registry.js';
import { ScrambleTransform } from '../../transforms/scramble.js';
import { TransformError } from '../../transforms/types.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof TransformError) return e.code;
    throw e;
  }
}

const KEY = new Uint8Array(32).fill(9);

describe('transform registry', () => {
  it('registers identity and scramble-dt, and leaves the reserved "scramble" name unregistered', () => {
    expect(supportedTransforms()).toEqual(['scramble-dt', 'identity']);
    expect(createTransform('scramble-dt', { key: KEY })).toBeInstanceOf(ScrambleTransform);
    expect(createTransform('identity')).toBeInstanceOf(IdentityTransform);
    expect(createTransform('scramble-dt', { key: KEY }).name).toBe('scramble-dt');
    expect(RESERVED_SCRAMBLE_NAME).toBe('scramble');
    expect(isSupportedTransform('scramble')).toBe(false);
    expect(codeOf(() => createTransform('scramble', { key: KEY }))).toBe('UNKNOWN_TRANSFORM');
    expect(codeOf(() => createTransform('rot13'))).toBe('UNKNOWN_TRANSFORM');
    expect(transformNeedsKey('scramble-dt')).toBe(true);
    expect(transformNeedsKey('identity')).toBe(false);
  });

  it('scramble-dt without a 32-byte key is BAD_KEY', () => {
    expect(codeOf(() => createTransform('scramble-dt'))).toBe('BAD_KEY');
    expect(codeOf(() => createTransform('scramble-dt', { key: new Uint8Array(16) }))).toBe(
      'BAD_KEY',
    );
  });

  it('negotiation follows the client preference among what we support', () => {
    expect(negotiateTransform(['scramble', 'scramble-dt', 'identity'])).toBe('scramble-dt');
    expect(negotiateTransform(['identity', 'scramble-dt'])).toBe('identity');
    expect(negotiateTransform(['foo', 'identity'])).toBe('identity');
    expect(negotiateTransform([])).toBeUndefined();
    expect(negotiateTransform(['scramble'])).toBeUndefined();
    // Policy: a proxy that refuses identity.
    expect(negotiateTransform(['identity'], ['scramble-dt'])).toBeUndefined();
    expect(negotiateTransform(['identity', 'scramble-dt'], ['scramble-dt'])).toBe('scramble-dt');
    // A policy list cannot select something we do not implement.
    expect(negotiateTransform(['scramble'], ['scramble'])).toBeUndefined();
  });

  it('negotiation result is always in both lists and is the first such client entry', () => {
    const name = fc.constantFrom('identity', 'scramble-dt', 'scramble', 'x');
    fc.assert(
      fc.property(
        fc.array(name, { maxLength: 6 }),
        fc.subarray(['scramble-dt', 'identity']),
        (acc, sup) => {
          const got = negotiateTransform(acc, sup);
          const expected = acc.find((n) => sup.includes(n));
          expect(got).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('identity transform', () => {
  const t = new IdentityTransform();

  it('leaves the Appendix A packet unchanged, in place and into a buffer', () => {
    const hex =
      '500123456789abcdef0123456789abcdef012345671ba3bed7043a21632023048def32f4f8f260c290490413d24ea6';
    const p = fromHex(hex);
    t.encode(p, 20);
    expect(toHex(p)).toBe(hex);
    const out = new Uint8Array(p.length);
    t.decode(p, 20, out);
    expect(toHex(out)).toBe(hex);
  });

  it('needs at least the first byte and the CID; rejects long headers', () => {
    for (let cidLen = 0; cidLen <= 20; cidLen++) {
      expect(t.minPacketLength(cidLen)).toBe(1 + cidLen);
      expect(codeOf(() => t.encode(new Uint8Array(cidLen), cidLen))).toBe('PACKET_TOO_SHORT');
      expect(codeOf(() => t.encode(new Uint8Array(cidLen + 1), cidLen))).toBeUndefined();
    }
    expect(codeOf(() => t.encode(fromHex('c000000000'), 4))).toBe('NOT_SHORT_HEADER');
    expect(codeOf(() => t.encode(new Uint8Array(5), 4, new Uint8Array(4)))).toBe(
      'OUTPUT_TOO_SMALL',
    );
  });
});
